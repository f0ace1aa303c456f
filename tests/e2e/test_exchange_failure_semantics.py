"""What an Exchange failure leaves, through ansible-playbook, winrm and the emulated Exchange host (issues 20 and 21).

- exclusive never removes access from a listed mailbox whose read failed (a transient 500): nothing is removed, the
  task fails naming it with Exchange's text, and the next run removes the rest;
- a principal Exchange cannot resolve as -User yet is reported as that, never as a missing mailbox (both answer forms);
- the role: one mistyped mailbox does not keep the others from FullAccess and protocols; the run fails at the end
  naming it (mailbox_access_missing=fail) or passes with a warning (warn).
"""

import os

import pytest

from exchange_play import exchange_state, full_access_holders, mail_app, run_exchange
from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory

PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')


def _mailboxes(sandbox, *numbers):
    return ['user%d@%s' % (n, sandbox.tenant(0)['domain']) for n in numbers]


def _tasks(app, mailboxes, **extra):
    return [
        {'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}, 'register': 'sp'},
        {'name': 'perm', 'm365.mail_oauth.mailbox_permission': dict({'app_id': app['app_id'], 'mailboxes': mailboxes}, **extra)},
    ]


def test_exclusive_with_a_failed_read_of_a_listed_mailbox_removes_nothing(tenant, tmp_path):
    app = mail_app(tenant)
    every = _mailboxes(tenant, 1, 2, 3)
    assert run_exchange(tmp_path, tenant, _tasks(app, every), 'fr-grant').rc == 0
    keep = every[:2]
    # The listed user1's read (the canonical name exclusive keeps) answers a transient 500.
    tenant.control('POST', 'exchange/faults', {'call_errors': [{'cmdlet': 'Get-Mailbox', 'identity': keep[0], 'status': 500,
                                                                'message': 'Transient failure in the backend, try again.'}]})
    run = run_exchange(tmp_path, tenant, _tasks(app, keep, exclusive=True), 'fr-exclusive')
    assert run.rc != 0, run
    perm = run.results()['perm']['localhost']
    assert keep[0] in perm['msg'] and 'Transient failure in the backend' in perm['msg'], perm['msg']
    assert perm['missing'] == [] and perm['removed'] == {}
    # Nothing removed: not from the listed mailbox, and not from user3 either (any found mailbox might be user1).
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == every

    tenant.control('POST', 'exchange/faults', {'call_errors': []})
    again = run_exchange(tmp_path, tenant, _tasks(app, keep, exclusive=True), 'fr-exclusive-again')
    assert again.rc == 0, again
    assert again.results()['perm']['localhost']['removed'] == {'FullAccess': every[2:]}
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == keep


@pytest.mark.parametrize('form', ['on_premises', 'object'])
def test_a_principal_exchange_cannot_resolve_is_reported_as_such(tenant, tmp_path, form):
    app = mail_app(tenant)
    wanted = _mailboxes(tenant, 1, 2)
    # Get-ServicePrincipal finds it, yet -User does not resolve: a service principal created moments ago.
    tenant.control('POST', 'exchange/faults', {'unresolved_users': [app['sp_object_id']], 'unresolved_user_form': form})
    tasks = _tasks(app, wanted, principal_created_this_run="{{ 'new_service_principal' in sp.actions }}")
    run = run_exchange(tmp_path, tenant, tasks, 'fr-unresolved-%s' % form)
    assert run.rc != 0, run
    perm = run.results()['perm']['localhost']
    assert 'does not know the service principal %s' % app['sp_object_id'] in perm['msg'] and 'rerun' in perm['msg'], perm['msg']
    assert perm['missing'] == [] and 'not found: ' not in perm['msg'] and 'missing=warn' not in perm['msg']
    tenant.control('POST', 'exchange/faults', {'unresolved_users': []})
    again = run_exchange(tmp_path, tenant, tasks, 'fr-unresolved-again-%s' % form)
    assert again.rc == 0, again
    assert full_access_holders(exchange_state(tenant), app['sp_object_id']) == wanted


def _role_state(sandbox):
    state = exchange_state(sandbox)
    principal = state['service_principals'][0]['ObjectId']
    return state, full_access_holders(state, principal)


@pytest.mark.parametrize('missing', ['fail', 'warn'])
def test_role_one_missing_mailbox_does_not_block_the_others(tenant, tmp_path, missing):
    real = tenant.tenant(0)['mailboxes'][:3]
    ghost = 'ghost@%s' % tenant.tenant(0)['domain']
    listed = real[:1] + [ghost] + real[1:]
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path, tenants=1, exchange=True,
                                mailbox_access_mailboxes=listed, mailbox_access_missing=missing)
    run = run_playbook(tmp_path, PROVISION, 'fr-role-missing-%s' % missing, inventory=inventory)
    state, holders = _role_state(tenant)
    assert holders == sorted(real), state
    for mailbox in real:
        # mailbox_access_protocols imap + smtp: POP off, SMTP AUTH on for the mailbox: the protocol task ran for each.
        cas = state['mailboxes'][mailbox]['cas']
        assert (cas['ImapEnabled'], cas['PopEnabled'], cas['SmtpClientAuthenticationDisabled']) == (True, False, False), (mailbox, cas)
    if missing == 'fail':
        assert run.rc != 0, run
        assert 'mailbox(es) not found in Exchange Online: %s' % ghost in run.stdout, run
        assert 'mailbox_access_missing=warn' in run.stdout
    else:
        assert run.rc == 0, run
        assert '[WARNING]' in run.output and ghost in run.output and 'not found' in run.output
