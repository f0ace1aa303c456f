"""Bad input across every module, the Exchange actions and the role: a clear error naming the option, no traceback, no change.

Injection attempts that are valid identities reach Exchange as data: looked up literally, reported missing, nothing run.
"""

import json

from exchange_play import AUTH_KEYS, exchange_play, exchange_state, exchange_stats, inventory as exchange_inventory, mail_app
from playbook import play, sandbox_auth
from roles import write_inventory

from m365_reliability import ledger
from m365_reliability.catalogue import EXCHANGE_CASES, GOOD_APP, GRAPH_CASES, INJECTIONS, ROLE_CASES
from m365_reliability.harness import PROVISION

MAX_BULK = 20000


def _problems(name, result, words):
    """Why a failed task's result is not a clear error (empty when it is)."""
    out = []
    msg = str(result.get('msg', ''))
    if not result.get('failed'):
        out.append('%s: did not fail' % name)
    missing = [w for w in words if w not in msg]
    if missing:
        out.append('%s: message lacks %s: %r' % (name, missing, msg[:400]))
    # ansible-core 2.19 marks a clean fail_json with exception '(traceback unavailable)'.
    if result.get('exception', '(traceback unavailable)') != '(traceback unavailable)' or 'Traceback' in msg:
        out.append('%s: traceback: %s' % (name, str(result.get('exception'))[:300]))
    return out


def _record(name, problems):
    ledger.record('bad_input', name, clear=not problems, problems=problems)
    return problems


def _remote_state(sandbox):
    """What a change would show in: objects with their credentials and grants, and the Exchange side."""
    state = sandbox.state(sandbox.tenant(0)['tenant_id'])
    return {
        'applications': sorted((a['id'], a['displayName'], len(a['passwordCredentials']), len(a['keyCredentials']),
                                str(a['requiredResourceAccess'])) for a in state['applications']),
        'servicePrincipals': sorted(sp['id'] for sp in state['servicePrincipals']),
        'appRoleAssignments': sorted(a['id'] for a in state['appRoleAssignments']),
        'oauth2PermissionGrants': sorted(str(g) for g in state['oauth2PermissionGrants']),
        'exchange': exchange_state(sandbox),
    }


def test_graph_module_inputs(rel, tmp_path):
    sandbox = rel.sandbox
    auth = {'m365_auth': sandbox_auth(sandbox)}
    setup = rel.run(tmp_path, play([{'name': 'setup', 'm365.mail_oauth.azure_app_registration': {
        'unique_name': GOOD_APP, 'display_name': 'target'}}]), 'rel-bad-setup', None, extra_vars=auth)
    assert setup.rc == 0, setup
    before = _remote_state(sandbox)
    endpoints = dict((k, v) for k, v in sandbox_auth(sandbox).items() if k in ('authority_url', 'graph_url', 'ca_path'))
    tasks = []
    for name, module, options, _words, no_auth in GRAPH_CASES:
        task = {'name': name, 'm365.mail_oauth.' + module: dict(options, **(endpoints if no_auth else {})), 'ignore_errors': True}
        if no_auth:
            task['module_defaults'] = {'group/m365.mail_oauth.graph': {}}
        tasks.append(task)
    run = rel.run(tmp_path, play(tasks), 'rel-bad-graph', None, extra_vars=auth, env={'AZURE_CLIENT_SECRET': '', 'AZURE_SECRET': ''})
    results = run.results()
    problems = []
    for name, _module, _options, words, _no_auth in GRAPH_CASES:
        problems += _record(name, _problems(name, results[name]['localhost'], words))
    assert not problems, '\n'.join(problems)
    assert _remote_state(sandbox) == before
    assert not run.leaks, run.leaks


def test_exchange_action_inputs(rel, tmp_path):
    sandbox = rel.sandbox
    app = mail_app(sandbox, 'rel-bad-exchange')
    domain = sandbox.tenant(0)['domain']
    huge = tmp_path / 'huge.txt'
    huge.write_text('\n'.join('u%d@%s' % (i, domain) for i in range(MAX_BULK + 1)) + '\n')
    before = _remote_state(sandbox)
    sandbox.control('POST', 'exchange/stats/reset')
    tasks = []
    for name, action, options, _words in EXCHANGE_CASES:
        filled = json.loads(json.dumps(options).replace('{domain}', domain).replace('{huge}', str(huge)))
        if action != 'mailbox_protocols':
            filled.setdefault('app_id', app['app_id'])
        tasks.append({'name': name, 'm365.mail_oauth.' + action: filled, 'ignore_errors': True})
    run = rel.run(tmp_path, exchange_play(tasks), 'rel-bad-exchange', exchange_inventory(tmp_path, sandbox),
                  extra_vars={'m365_auth': sandbox_auth(sandbox)})
    results = run.results()
    problems = []
    for name, _action, _options, words in EXCHANGE_CASES:
        problems += _record(name, _problems(name, results[name]['localhost'], words))
    assert not problems, '\n'.join(problems)
    assert _remote_state(sandbox) == before
    # Refused on the controller: not one WinRM command reached the Windows host.
    assert exchange_stats(sandbox)['winrm'].get('commands', 0) == 0, exchange_stats(sandbox)
    assert not run.leaks, run.leaks


def test_injection_attempts_are_literal_identities(rel, tmp_path):
    sandbox = rel.sandbox
    app = mail_app(sandbox, 'rel-injection')
    domain = sandbox.tenant(0)['domain']
    identities = [i % {'domain': domain} if '%(domain)s' in i else i for i in INJECTIONS]
    extra_vars = {'m365_auth': sandbox_auth(sandbox)}
    setup = rel.run(tmp_path, exchange_play([{'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}}]),
                    'rel-injection-setup', exchange_inventory(tmp_path, sandbox), extra_vars=extra_vars)
    assert setup.rc == 0, setup
    before = _remote_state(sandbox)
    sandbox.control('POST', 'exchange/stats/reset')
    tasks = [{'name': 'perm', 'm365.mail_oauth.mailbox_permission': {'app_id': app['app_id'], 'mailboxes': identities, 'missing': 'warn'}},
             {'name': 'protocols', 'm365.mail_oauth.mailbox_protocols': {'mailboxes': identities, 'imap': True, 'missing': 'warn'}}]
    run = rel.run(tmp_path, exchange_play(tasks), 'rel-injection', exchange_inventory(tmp_path, sandbox), extra_vars=extra_vars)
    assert run.rc == 0 and run.changed == 0, run
    results = run.results()
    # Each identity came back from Exchange exactly as sent: looked up as a name, found nowhere.
    assert sorted(results['perm']['localhost']['missing']) == sorted(identities), results['perm']['localhost']
    cmdlets = exchange_stats(sandbox)['exchange']['cmdlets']
    assert set(cmdlets) <= {'Get-EXOMailbox', 'Get-Mailbox', 'Get-MailboxPermission', 'Get-RecipientPermission', 'Get-CASMailbox',
                            'Get-EXOCasMailbox', 'Get-TransportConfig', 'Get-ServicePrincipal'}, cmdlets
    assert _remote_state(sandbox) == before
    _record('injection attempts reach Exchange as literal identities', [])


def test_role_inputs(rel, tmp_path):
    sandbox = rel.sandbox
    path = tmp_path / 'inventory.json'
    write_inventory(path, sandbox, tmp_path, tenants=1, exchange=True)
    inventory = json.loads(path.read_text())
    base = inventory['tenants']['hosts'].pop('tenant1')
    hosts = {}
    for index, (name, overrides, _words) in enumerate(ROLE_CASES):
        hosts['bad%02d' % index] = dict(base, **overrides)
    inventory['tenants']['hosts'] = hosts
    path.write_text(json.dumps(inventory))
    sandbox.reset_stats()
    run = rel.run(tmp_path, PROVISION, 'rel-bad-role', path, extra_args=['-f', '4'])
    assert run.rc != 0
    problems = []
    for index, (name, _overrides, words) in enumerate(ROLE_CASES):
        host = 'bad%02d' % index
        failed = [r for task in run.results().values() for h, r in task.items() if h == host and r.get('failed')]
        problems += _record(name, _problems(name, failed[0], words) if failed else ['%s: did not fail' % name])
    assert not problems, '\n'.join(problems)
    stats = sandbox.stats()
    assert stats['graph_total'] == 0 and stats['token_total'] == 0, stats
    assert not run.leaks, run.leaks


def test_catalogue_size():
    assert len(GRAPH_CASES) + len(EXCHANGE_CASES) + len(ROLE_CASES) >= 50
    assert {m for _n, m, _o, _w, _a in GRAPH_CASES} >= {'azure_app_registration', 'app_secret', 'api_permission', 'mail_oauth_check'}
    assert {a for _n, a, _o, _w in EXCHANGE_CASES} == {'mailbox_permission', 'mailbox_protocols', 'exchange_service_principal'}
    assert AUTH_KEYS
