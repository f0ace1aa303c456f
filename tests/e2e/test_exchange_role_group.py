"""exchange_role_group through ansible-playbook, winrm and the emulated Exchange host: create, rerun, check mode and diff,
other members removed, a member Exchange does not know, a role outside the allow-list, absent."""

from exchange_play import exchange_state, exchange_stats, mail_app, run_exchange

GROUP = 'mail-oauth-test-group'
ROLES = ['Mail Recipients', 'Role Management', 'View-Only Configuration']


def _group_task(members, roles=None, **extra):
    args = dict({'name': GROUP, 'roles': roles or ROLES, 'members': [m['app_id'] for m in members]}, **extra)
    return [{'name': 'group', 'm365.mail_oauth.exchange_role_group': args}]


def _sp_tasks(*apps):
    return [{'name': 'sp%d' % i, 'm365.mail_oauth.exchange_service_principal': {'app_id': a['app_id']}} for i, a in enumerate(apps)]


def _groups(tenant):
    return [(g['Name'], g['Roles'], sorted(g['Members'])) for g in exchange_state(tenant)['role_groups']]


def test_create_rerun_check_diff_other_members_and_absent(tenant, tmp_path):
    app, other = mail_app(tenant, 'admin-app'), mail_app(tenant, 'other-app')
    assert run_exchange(tmp_path, tenant, _sp_tasks(app, other), 'rg-sps').rc == 0
    check = run_exchange(tmp_path, tenant, _group_task([app]), 'rg-check', check=True, diff=True)
    assert check.rc == 0 and check.changed == 1, check
    assert check.results()['group']['localhost']['actions'] == ['new_role_group', 'add_role_group_member']
    assert _groups(tenant) == []
    tenant.control('POST', 'exchange/stats/reset')

    create = run_exchange(tmp_path, tenant, _group_task([app]), 'rg-create', diff=True)
    assert create.rc == 0 and create.changed == 1, create
    result = create.results()['group']['localhost']
    assert result['diff'] == {'before': {'role_group': {}},
                              'after': {'role_group': {'name': GROUP, 'roles': ROLES, 'members': [app['sp_object_id']]}}}
    assert _groups(tenant) == [(GROUP, ROLES, [app['sp_object_id']])]
    stats = exchange_stats(tenant)['exchange']
    assert stats['connections'] == 1 and stats['round_trips'] == 1  # one connection reads, creates and adds

    rerun = run_exchange(tmp_path, tenant, _group_task([app]), 'rg-rerun')
    assert rerun.rc == 0 and rerun.changed == 0, rerun

    # Someone added another app by hand: it goes (check mode says so first and changes nothing).
    tenant.control('POST', 'tenants/%s/exchange/role_groups' % tenant.tenant(0)['tenant_id'],
                   {'Name': GROUP, 'Roles': ROLES, 'Members': [app['sp_object_id'], other['sp_object_id']]})
    check = run_exchange(tmp_path, tenant, _group_task([app]), 'rg-check-other', check=True, diff=True)
    assert check.rc == 0 and check.changed == 1, check
    assert check.results()['group']['localhost']['actions'] == ['remove_role_group_member']
    assert len(_groups(tenant)[0][2]) == 2
    fixed = run_exchange(tmp_path, tenant, _group_task([app]), 'rg-remove-other')
    assert fixed.rc == 0 and fixed.changed == 1, fixed
    assert _groups(tenant) == [(GROUP, ROLES, [app['sp_object_id']])]

    gone = run_exchange(tmp_path, tenant, [{'name': 'group', 'm365.mail_oauth.exchange_role_group': {'name': GROUP, 'state': 'absent'}}],
                        'rg-absent', diff=True)
    assert gone.rc == 0 and gone.changed == 1, gone
    assert gone.results()['group']['localhost']['roles'] == ROLES and _groups(tenant) == []
    again = run_exchange(tmp_path, tenant, [{'name': 'group', 'm365.mail_oauth.exchange_role_group': {'name': GROUP, 'state': 'absent'}}],
                         'rg-absent-again')
    assert again.rc == 0 and again.changed == 0, again


def test_a_member_exchange_does_not_know_fails_naming_it_and_the_fix(tenant, tmp_path):
    app = mail_app(tenant, 'not-in-exchange')
    run = run_exchange(tmp_path, tenant, _group_task([app]), 'rg-unknown-member')
    assert run.rc != 0
    assert app['app_id'] in run.output and 'exchange_service_principal' in run.output, run.output
    assert 'Traceback' not in run.output
    # The group is there; the next run, once the service principal exists, adds the member.
    assert _groups(tenant) == [(GROUP, ROLES, [])]
    assert run_exchange(tmp_path, tenant, _sp_tasks(app) + _group_task([app]), 'rg-after-sp').rc == 0
    assert _groups(tenant) == [(GROUP, ROLES, [app['sp_object_id']])]


def test_a_role_outside_the_allow_list_is_refused_before_exchange_is_asked(tenant, tmp_path):
    app = mail_app(tenant, 'broad')
    run = run_exchange(tmp_path, tenant, _group_task([app], roles=['Mail Recipients', 'Organization Management']), 'rg-bad-role')
    assert run.rc != 0 and 'roles' in run.output and 'Organization Management' in run.output, run.output
    assert 'Traceback' not in run.output
    assert exchange_stats(tenant)['exchange']['connections'] == 0


def test_a_member_that_is_not_an_app_id_is_refused_naming_the_option(tenant, tmp_path):
    run = run_exchange(tmp_path, tenant, [{'name': 'group', 'm365.mail_oauth.exchange_role_group': {
        'name': GROUP, 'roles': ROLES, 'members': ['helpdesk-app']}}], 'rg-bad-member')
    assert run.rc != 0 and 'members:' in run.output and 'helpdesk-app' in run.output, run.output
    assert 'Traceback' not in run.output and _groups(tenant) == []


SMTP = 'Application SMTP.SendAsApp'


def _delegating(tenant):
    return [(a['Role'], a['RoleAssignee'], a['RoleAssignmentDelegationType'])
            for a in exchange_state(tenant)['role_assignments'] if a['RoleAssigneeType'] == 'RoleGroup']


def test_delegating_roles_check_mode_create_rerun_repair_and_absent(tenant, tmp_path):
    app = mail_app(tenant, 'delegating-admin')
    assert run_exchange(tmp_path, tenant, _sp_tasks(app), 'rgd-sp').rc == 0
    task = _group_task([app], delegating_roles=[SMTP])
    check = run_exchange(tmp_path, tenant, task, 'rgd-check', check=True, diff=True)
    assert check.rc == 0 and check.changed == 1, check
    result = check.results()['group']['localhost']
    assert result['actions'] == ['new_role_group', 'add_role_group_member', 'new_delegating_role_assignment'], result
    assert _groups(tenant) == [] and _delegating(tenant) == []
    tenant.control('POST', 'exchange/stats/reset')

    create = run_exchange(tmp_path, tenant, task, 'rgd-create', diff=True)
    assert create.rc == 0 and create.changed == 1, create
    assert create.results()['group']['localhost']['diff']['after']['role_group']['delegating_roles'] == [SMTP]
    assert _delegating(tenant) == [(SMTP, GROUP, 'DelegatingOrgWide')]
    assert exchange_stats(tenant)['exchange']['round_trips'] == 1  # group, member and delegating assignment at once
    rerun = run_exchange(tmp_path, tenant, task, 'rgd-rerun')
    assert rerun.rc == 0 and rerun.changed == 0, rerun

    # The group made again by hand with other roles loses its assignments (Remove-RoleGroup); the repair makes it again.
    tenant.control('POST', 'tenants/%s/exchange/role_groups' % tenant.tenant(0)['tenant_id'],
                   {'Name': GROUP, 'Roles': ROLES[:2], 'Members': [app['sp_object_id']]})
    assert _delegating(tenant) == []
    repaired = run_exchange(tmp_path, tenant, task, 'rgd-repair')
    assert repaired.rc == 0 and repaired.changed == 1 and repaired.results()['group']['localhost']['recreated'], repaired
    assert _groups(tenant) == [(GROUP, ROLES, [app['sp_object_id']])] and _delegating(tenant) == [(SMTP, GROUP, 'DelegatingOrgWide')]

    # Without the option the assignment is neither read nor touched.
    plain = run_exchange(tmp_path, tenant, _group_task([app]), 'rgd-plain')
    assert plain.rc == 0 and plain.changed == 0 and _delegating(tenant) == [(SMTP, GROUP, 'DelegatingOrgWide')], plain

    gone = run_exchange(tmp_path, tenant, [{'name': 'group', 'm365.mail_oauth.exchange_role_group': {'name': GROUP, 'state': 'absent'}}],
                        'rgd-absent')
    assert gone.rc == 0 and gone.changed == 1, gone
    assert _groups(tenant) == [] and _delegating(tenant) == []


def test_a_delegating_role_that_is_no_application_role_is_refused_before_exchange_is_asked(tenant, tmp_path):
    app = mail_app(tenant, 'broad-delegating')
    run = run_exchange(tmp_path, tenant, _group_task([app], delegating_roles=['Role Management']), 'rgd-bad-role')
    assert run.rc != 0 and 'delegating_roles' in run.output and SMTP in run.output, run.output
    assert 'Traceback' not in run.output and exchange_stats(tenant)['exchange']['connections'] == 0
