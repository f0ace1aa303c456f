"""Bad input fails with a message naming the option and the fix: no traceback, nothing changed."""

import pytest

from playbook import play, run_playbook, sandbox_auth

GOOD_APP = 'bad-input-target'

CASES = [
    # (name, module, options, without module_defaults auth, words the message must contain)
    ('unknown permission', 'api_permission', {'unique_name': GOOD_APP, 'application_permissions': ['IMAP.AccesAsApp']},
     False, ['application_permissions', "'IMAP.AccesAsApp'", 'IMAP.AccessAsApp, POP.AccessAsApp']),
    ('malformed tenant', 'azure_app_registration', {'unique_name': 'x1', 'display_name': 'x', 'tenant_id': 'contoso!'},
     False, ['tenant_id', 'GUID']),
    ('short guid tenant', 'azure_app_registration', {'unique_name': 'x1', 'display_name': 'x',
                                                     'tenant_id': '6f1c2a4e-0000-4000-8000-00000000001'}, False, ['tenant_id', 'GUID']),
    ('negative lifetime', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'expires_in_days': -5},
     False, ['expires_in_days', 'positive']),
    ('lifetime inside rotation window', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'expires_in_days': 10,
                                                       'rotate_before_days': 30}, False, ['rotate_before_days', 'expires_in_days']),
    ('both lifetimes', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'expires_in_days': 5,
                                      'end_date_time': '2030-01-01T00:00:00Z'}, False, ['expires_in_days', 'end_date_time']),
    ('secret and certificate', 'azure_app_registration', {'unique_name': 'x2', 'display_name': 'x',
                                                          'client_certificate_path': '/nonexistent.pem'},
     False, ['mutually exclusive', 'client_secret', 'client_certificate_path']),
    ('missing credentials', 'azure_app_registration', {'unique_name': 'x3', 'display_name': 'x'}, True,
     ['no credentials', 'client_secret', 'AZURE_CLIENT_SECRET']),
    ('bad unique_name', 'azure_app_registration', {'unique_name': 'has space; rm -rf', 'display_name': 'x'}, False,
     ['unique_name', 'letters']),
    ('create without display name', 'azure_app_registration', {'unique_name': 'needs-a-name'}, False, ['display_name', 'required']),
    ('unknown app', 'app_secret', {'unique_name': 'never-created', 'display_name': 's'}, False,
     ['never-created', 'azure_app_registration']),
    ('dest in missing directory', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'dest': '/nonexistent/dir/s.json'},
     False, ['dest', 'does not exist']),
    ('return_secret without no_log', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'return_secret': True},
     False, ['return_secret', 'no_log']),
    ('unknown cloud', 'azure_app_registration', {'unique_name': 'x4', 'display_name': 'x', 'cloud': 'mars'}, False,
     ['cloud', 'global']),
    ('wrong admin secret', 'azure_app_registration', {'unique_name': 'x5', 'display_name': 'x', 'client_secret': 'not-the-admin-secret-123'},
     False, ['AADSTS7000215', 'client_secret']),
    ('malformed app_id', 'api_permission', {'app_id': 'not-a-guid', 'application_permissions': ['IMAP.AccessAsApp']}, False,
     ['app_id', 'GUID']),
    ('absent without what', 'api_permission', {'unique_name': GOOD_APP, 'state': 'absent'}, False,
     ['application_permissions', 'absent']),
    ('unreadable certificate', 'app_secret', {'unique_name': GOOD_APP, 'type': 'certificate', 'certificate_path': '/nonexistent.pem'},
     False, ['certificate_path', 'cannot be read']),
]


def test_bad_inputs_fail_clearly_and_change_nothing(tenant, auth, tmp_path):
    setup = [{'name': 'setup', 'm365.mail_oauth.azure_app_registration': {'unique_name': GOOD_APP, 'display_name': 'target'}}]
    assert run_playbook(tmp_path, play(setup), 'bad-setup', extra_vars=auth).rc == 0
    before = tenant.state(tenant.tenant(0)['tenant_id'])
    auth_free = dict((k, v) for k, v in sandbox_auth(tenant).items() if k in ('authority_url', 'graph_url', 'ca_path'))
    tasks = []
    for name, module, options, no_auth, _words in CASES:
        opts = dict(options)
        if no_auth:
            # No module_defaults for this one: only endpoints, no identity at all.
            opts.update(auth_free)
            module_name = 'm365.mail_oauth.' + module
            tasks.append({'name': name, 'module_defaults': {'group/m365.mail_oauth.graph': {}}, module_name: opts,
                          'ignore_errors': True})
        else:
            tasks.append({'name': name, 'm365.mail_oauth.' + module: opts, 'ignore_errors': True})
    run = run_playbook(tmp_path, play(tasks), 'bad-inputs', extra_vars=auth, env={'AZURE_CLIENT_SECRET': '', 'AZURE_SECRET': ''})
    assert 'Traceback' not in run.output, run
    results = run.results()
    problems = []
    for name, _module, _options, _no_auth, words in CASES:
        result = results[name]['localhost']
        msg = result.get('msg', '')
        if not result.get('failed') or not all(w in msg for w in words):
            problems.append('%s: failed=%s msg=%r' % (name, result.get('failed'), msg))
        # ansible-core 2.19 marks a clean fail_json with exception '(traceback unavailable)'.
        if result.get('exception', '(traceback unavailable)') != '(traceback unavailable)' or result.get('module_stdout', '').strip():
            problems.append('%s: crashed: %s' % (name, result.get('exception') or result.get('module_stdout')))
    assert not problems, '\n'.join(problems)
    assert tenant.state(tenant.tenant(0)['tenant_id']) == before


@pytest.mark.parametrize('unused', [None])
def test_case_count(unused):
    assert len(CASES) >= 15
