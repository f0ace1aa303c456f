"""exchange_service_principal and mailbox_permission through ansible-playbook, winrm, and the emulated Exchange host."""

from exchange_play import exchange_state, exchange_stats, full_access_holders, mail_app, run_exchange


def _mailboxes(sandbox, *numbers):
    return ['user%d@%s' % (n, sandbox.tenant(0)['domain']) for n in numbers]


def _setup_tasks(app, mailboxes, **extra):
    return [
        {'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}},
        {'name': 'perm', 'm365.mail_oauth.mailbox_permission': dict({'app_id': app['app_id'], 'mailboxes': mailboxes}, **extra)},
    ]


def test_create_rerun_check_and_diff(tenant, tmp_path):
    app = mail_app(tenant)
    wanted = _mailboxes(tenant, 1, 2, 3)
    check = run_exchange(tmp_path, tenant, _setup_tasks(app, wanted), 'ex-check-first', check=True, diff=True)
    assert check.rc == 0, check
    assert exchange_state(tenant)['service_principals'] == []
    sp_check = check.results()['sp']['localhost']
    assert sp_check['changed'] and sp_check['actions'] == ['new_service_principal']
    stats = exchange_stats(tenant)['exchange']
    assert stats['connections'] == 2 and stats['cmdlets'].get('New-ServicePrincipal', 0) == 0
    tenant.control('POST', 'exchange/stats/reset')

    create = run_exchange(tmp_path, tenant, _setup_tasks(app, wanted), 'ex-create', diff=True)
    assert create.rc == 0, create
    assert create.changed == 2
    results = create.results()
    assert results['perm']['localhost']['added'] == {'FullAccess': wanted}
    assert results['perm']['localhost']['diff']['after'][wanted[0]] == ['FullAccess']
    state = exchange_state(tenant)
    assert state['service_principals'] == [{'Identity': app['sp_object_id'], 'DisplayName': 'mail-reader', 'AppId': app['app_id'],
                                            'ObjectId': app['sp_object_id']}]
    assert full_access_holders(state, app['sp_object_id']) == wanted
    stats = exchange_stats(tenant)['exchange']
    assert stats['connections'] == 2 and stats['round_trips'] == 2 and stats['disconnections'] == 2
    assert stats['cmdlets']['Add-MailboxPermission'] == 3

    rerun = run_exchange(tmp_path, tenant, _setup_tasks(app, wanted), 'ex-rerun')
    assert rerun.rc == 0 and rerun.changed == 0, rerun
    assert exchange_stats(tenant)['exchange']['cmdlets']['Add-MailboxPermission'] == 3

    more = _mailboxes(tenant, 1, 2, 3, 4)
    check = run_exchange(tmp_path, tenant, _setup_tasks(app, more, exclusive=True), 'ex-check-more', check=True, diff=True)
    assert check.rc == 0 and check.changed == 1, check
    assert check.results()['perm']['localhost']['added'] == {'FullAccess': more[3:]}
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == wanted
    assert 'user4@' in check.stdout  # the diff names the mailbox


def test_exclusive_removes_access_elsewhere_and_send_as(tenant, tmp_path):
    app = mail_app(tenant)
    assert run_exchange(tmp_path, tenant, _setup_tasks(app, _mailboxes(tenant, 1, 2, 3), access_rights=['FullAccess', 'SendAs']),
                        'ex-grant').rc == 0
    keep = _mailboxes(tenant, 2)
    run = run_exchange(tmp_path, tenant, _setup_tasks(app, keep, exclusive=True, access_rights=['FullAccess', 'SendAs']), 'ex-exclusive',
                       diff=True)
    assert run.rc == 0, run
    perm = run.results()['perm']['localhost']
    assert sorted(perm['removed']['FullAccess']) == _mailboxes(tenant, 1, 3)
    assert sorted(perm['removed']['SendAs']) == _mailboxes(tenant, 1, 3)
    state = exchange_state(tenant)
    assert full_access_holders(state, app['sp_object_id']) == keep
    assert [m for m, v in state['mailboxes'].items() if app['sp_object_id'] in v['send_as']] == keep
    again = run_exchange(tmp_path, tenant, _setup_tasks(app, keep, exclusive=True, access_rights=['FullAccess', 'SendAs']), 'ex-excl-again')
    assert again.rc == 0 and again.changed == 0, again


def test_application_object_id_is_caught_before_exchange(tenant, tmp_path):
    app = mail_app(tenant)
    tasks = [{'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id'], 'object_id': app['app_object_id']}}]
    run = run_exchange(tmp_path, tenant, tasks, 'ex-wrong-id')
    assert run.rc != 0
    msg = run.results()['sp']['localhost']['msg']
    assert app['app_object_id'] in msg and app['sp_object_id'] in msg and 'application registration' in msg
    stats = exchange_stats(tenant)
    assert stats['exchange']['round_trips'] == 0 and stats['winrm'].get('bootstraps', 0) == 0


def test_wrong_ids_in_exchange_are_repaired(tenant, tmp_path):
    app = mail_app(tenant)
    # What the manual procedure often leaves behind: the application's object id registered in Exchange.
    tenant.control('POST', 'tenants/%s/exchange/service_principals' % tenant.tenant(0)['tenant_id'],
                   {'AppId': app['app_id'], 'ObjectId': app['app_object_id'], 'DisplayName': 'pasted by hand'})
    run = run_exchange(tmp_path, tenant, _setup_tasks(app, _mailboxes(tenant, 1))[:1], 'ex-repair', diff=True)
    assert run.rc == 0, run
    sp = run.results()['sp']['localhost']
    assert sp['recreated'] and sp['actions'] == ['remove_service_principal', 'new_service_principal']
    assert [(s['AppId'], s['ObjectId']) for s in exchange_state(tenant)['service_principals']] == [(app['app_id'], app['sp_object_id'])]
    assert exchange_stats(tenant)['exchange']['connections'] == 1


def test_missing_mailbox_fails_or_warns(tenant, tmp_path):
    app = mail_app(tenant)
    listed = _mailboxes(tenant, 1, 2) + ['ghost@' + tenant.tenant(0)['domain']]
    failed = run_exchange(tmp_path, tenant, _setup_tasks(app, listed), 'ex-missing-fail')
    assert failed.rc != 0
    perm = failed.results()['perm']['localhost']
    assert perm['missing'] == [listed[2]] and 'ghost@' in perm['msg'] and 'missing=warn' in perm['msg']
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == listed[:2]
    warned = run_exchange(tmp_path, tenant, _setup_tasks(app, listed, missing='warn'), 'ex-missing-warn')
    assert warned.rc == 0 and warned.changed == 0, warned
    assert any('ghost@' in w for w in warned.results()['perm']['localhost']['warnings'])


def test_dropped_connection_mid_write_then_rerun_converges(tenant, tmp_path):
    app = mail_app(tenant)
    wanted = _mailboxes(tenant, 1, 2, 3, 4, 5)
    assert run_exchange(tmp_path, tenant, _setup_tasks(app, [])[:1], 'ex-drop-sp').rc == 0
    tenant.control('POST', 'exchange/faults', {'drop_after_writes': 2, 'drop_mode': 'winrm'})
    dropped = run_exchange(tmp_path, tenant, _setup_tasks(app, wanted)[1:], 'ex-drop')
    assert dropped.rc != 0
    assert 'run again to converge' in dropped.stdout
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == wanted[:2]
    rerun = run_exchange(tmp_path, tenant, _setup_tasks(app, wanted)[1:], 'ex-drop-rerun')
    assert rerun.rc == 0, rerun
    assert rerun.results()['perm']['localhost']['added'] == {'FullAccess': wanted[2:]}
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == wanted


def test_a_principal_created_this_run_is_added_without_reading_the_mailboxes(tenant, tmp_path):
    """As the role runs it on a first provision: principal_created_this_run from exchange_service_principal's actions."""
    app = mail_app(tenant)
    wanted = _mailboxes(tenant, 1, 2, 3)
    ghost = 'ghost@%s' % tenant.tenant(0)['domain']
    new = "{{ 'new_service_principal' in sp.actions }}"
    tasks = [{'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}, 'register': 'sp'},
             {'name': 'perm', 'm365.mail_oauth.mailbox_permission': {'app_id': app['app_id'], 'mailboxes': wanted[:1] + [ghost] + wanted[1:],
                                                                     'missing': 'warn', 'principal_created_this_run': new}}]
    check = run_exchange(tmp_path, tenant, tasks, 'ex-new-check', check=True)
    assert check.rc == 0, check
    assert exchange_stats(tenant)['exchange']['cmdlets'].get('Add-MailboxPermission', 0) == 0
    tenant.control('POST', 'exchange/stats/reset')

    first = run_exchange(tmp_path, tenant, tasks, 'ex-new-first', diff=True)
    assert first.rc == 0, first
    perm = first.results()['perm']['localhost']
    assert perm['changed'] and perm['added'] == {'FullAccess': wanted} and perm['missing'] == [ghost]
    assert perm['diff']['before'][wanted[0]] == [] and perm['diff']['after'][wanted[0]] == ['FullAccess']
    cmdlets = exchange_stats(tenant)['exchange']['cmdlets']
    # No Get-MailboxPermission: the new principal's mailboxes were not read; every mailbox was tried, the ghost too.
    assert cmdlets.get('Get-MailboxPermission', 0) == 0 and cmdlets['Add-MailboxPermission'] == 4, cmdlets
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == wanted

    # The principal exists now: the rerun reads and changes nothing.
    rerun = run_exchange(tmp_path, tenant, tasks, 'ex-new-rerun')
    assert rerun.rc == 0 and rerun.changed == 0, rerun
    assert exchange_stats(tenant)['exchange']['cmdlets']['Add-MailboxPermission'] == 4
