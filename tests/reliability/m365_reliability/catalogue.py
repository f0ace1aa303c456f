"""The bad-input catalogue: every module, the Exchange actions and the role, each case with the words its error must contain.

Graph module cases run as one playbook (ignore_errors, results from the results file), the pattern of
tests/e2e/test_entra_bad_input.py whose 18 cases are included; Exchange action cases as one play delegated to
the emulated Windows host; role cases as one provision.yml run with one inventory host per case.
"""

from test_entra_bad_input import CASES as ENTRA_CASES
from test_entra_bad_input import GOOD_APP

INJECTIONS = ["'; Remove-Mailbox x; '", '$(whoami)', '`whoami`', '"; Set-CASMailbox -Identity x -ImapEnabled $false; "',
              "o'brien@%(domain)s", 'a;b|c&d']

# (name, module, options, words)
GRAPH_CASES = [(name, module, options, words, no_auth) for name, module, options, no_auth, words in ENTRA_CASES] + [
    (name, module, options, words, False) for name, module, options, words in [
        ('tenant id with a quote', 'azure_app_registration', {'unique_name': 'x6', 'display_name': 'x', 'tenant_id': "x'; DROP"},
         ['tenant_id']),
        ('unique_name with $()', 'azure_app_registration', {'unique_name': '$(whoami)', 'display_name': 'x'}, ['unique_name']),
        ('unique_name with a newline', 'azure_app_registration', {'unique_name': 'a\nb', 'display_name': 'x'}, ['unique_name']),
        ('service_principal of the wrong type', 'azure_app_registration',
         {'unique_name': 'x7', 'display_name': 'x', 'service_principal': 'maybe'}, ['service_principal']),
        ('unknown audience', 'azure_app_registration', {'unique_name': 'x8', 'display_name': 'x', 'sign_in_audience': 'Everyone'},
         ['sign_in_audience']),
        ('unknown state', 'azure_app_registration', {'unique_name': 'x9', 'display_name': 'x', 'state': 'gone'}, ['state']),
        ('retry_timeout not a number', 'azure_app_registration', {'unique_name': 'x10', 'display_name': 'x', 'retry_timeout': 'soon'},
         ['retry_timeout']),
        ('validate_certs of the wrong type', 'azure_app_registration', {'unique_name': 'x11', 'display_name': 'x',
                                                                        'validate_certs': 'perhaps'}, ['validate_certs']),
        ('lifetime not a number', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'expires_in_days': 'ten'}, ['expires_in_days']),
        ('unknown dest_format', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'dest_format': 'xml'}, ['dest_format']),
        ('negative grace days', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'remove_old_grace_days': -1},
         ['remove_old_grace_days']),
        ('certificate type without certificate', 'app_secret', {'unique_name': GOOD_APP, 'type': 'certificate'}, ['certificate_path']),
        ('unreadable vault password file', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'dest': '/tmp/rel-never.json',
                                                          'vault_password_file': '/nonexistent/vault-pass'}, ['vault_password_file']),
        ('both vault passwords', 'app_secret', {'unique_name': GOOD_APP, 'display_name': 's', 'vault_password': 'vault-Pass-5583',
                                                'vault_password_file': '/tmp/x'}, ['mutually exclusive', 'vault_password']),
        ('secret without display name', 'app_secret', {'unique_name': GOOD_APP}, ['display_name']),
        ('permissions of the wrong type', 'api_permission', {'unique_name': GOOD_APP, 'application_permissions': {'IMAP': 1}},
         ['application_permissions']),
        ('unknown delegated permission', 'api_permission', {'unique_name': GOOD_APP, 'resource': 'Microsoft Graph',
                                                            'delegated_permissions': ['Mail.Bogus']}, ['delegated_permissions', 'Mail.Bogus']),
        ('unknown resource', 'api_permission', {'unique_name': GOOD_APP, 'resource': 'Mars Mail', 'application_permissions': ['IMAP.AccessAsApp']},
         ['resource', 'Mars Mail']),
        ('permission with $()', 'api_permission', {'unique_name': GOOD_APP, 'application_permissions': ['$(whoami)']},
         ['application_permissions', '$(whoami)']),
        ('unknown cloud on api_permission', 'api_permission', {'unique_name': GOOD_APP, 'cloud': 'moon',
                                                               'application_permissions': ['IMAP.AccessAsApp']}, ['cloud']),
        ('check without client id', 'mail_oauth_check', {'tenant_id': '6f1c2a4e-0000-4000-8000-000000000001', 'mailboxes': ['a@b.com'],
                                                         'client_secret': 'x'}, ['client_id']),
        ('check with unknown protocol', 'mail_oauth_check', {'tenant_id': '6f1c2a4e-0000-4000-8000-000000000001', 'client_id':
                                                             '6f1c2a4e-0000-4000-8000-000000000002', 'client_secret': 'x',
                                                             'mailboxes': ['a@b.com'], 'protocols': ['ftp']}, ['protocols']),
    ]]

# (name, action, options, words); {domain} and {app_id} are filled in.
EXCHANGE_CASES = [
    ('identity with a newline', 'mailbox_permission', {'mailboxes': ['user1@{domain}', 'evil\nRemove-Mailbox x']},
     ['malformed mailbox identity', 'mailboxes[1]', 'control characters']),
    ('identity with a wildcard', 'mailbox_permission', {'mailboxes': ['user*']}, ['mailboxes[0]', 'wildcard']),
    ('padded identity', 'mailbox_permission', {'mailboxes': [' user1@{domain}']}, ['mailboxes[0]', 'spaces']),
    ('empty identity', 'mailbox_permission', {'mailboxes': ['']}, ['mailboxes[0]', 'empty']),
    ('double @ identity', 'mailbox_permission', {'mailboxes': ['a@@{domain}']}, ['mailboxes[0]', 'e-mail']),
    ('empty list with exclusive', 'mailbox_permission', {'mailboxes': [], 'exclusive': True}, ['exclusive', 'empty mailbox list']),
    ('huge list', 'mailbox_permission', {'mailboxes_file': '{huge}'}, ['20001 mailboxes', 'split the list']),
    ('list of the wrong type', 'mailbox_permission', {'mailboxes': {'a': 1}}, ['mailboxes']),
    ('unknown access right', 'mailbox_permission', {'mailboxes': ['user1@{domain}'], 'access_rights': ['FullAcess']}, ['access_rights']),
    ('unknown missing policy', 'mailbox_permission', {'mailboxes': ['user1@{domain}'], 'missing': 'ignore'}, ['missing']),
    ('malformed app id', 'mailbox_permission', {'mailboxes': ['user1@{domain}'], 'app_id': 'not-a-guid'}, ['app_id', 'GUID']),
    ('both list options', 'mailbox_permission', {'mailboxes': ['user1@{domain}'], 'mailboxes_file': '/tmp/x.txt'},
     ['mutually exclusive', 'mailboxes_file']),
    ('unreadable mailbox file', 'mailbox_permission', {'mailboxes_file': '/nonexistent/boxes.txt'}, ['mailboxes_file', 'boxes.txt']),
    ('unknown Exchange auth', 'mailbox_permission', {'mailboxes': ['user1@{domain}'], 'exchange_auth': 'password'}, ['exchange_auth']),
    ('bad thumbprint', 'mailbox_permission', {'mailboxes': ['user1@{domain}'], 'exchange_auth': 'certificate_thumbprint',
                                              'exchange_certificate_thumbprint': "abc'; whoami"}, ['thumbprint']),
    ('bad min_version', 'exchange_service_principal', {'min_version': '3.x; whoami'}, ['min_version']),
    ('service principal object id malformed', 'exchange_service_principal', {'object_id': '$(whoami)'}, ['object_id']),
    ('unknown service principal state', 'exchange_service_principal', {'state': 'gone'}, ['state']),
    ('protocol switch of the wrong type', 'mailbox_protocols', {'mailboxes': ['user1@{domain}'], 'imap': 'maybe'}, ['imap']),
    ('unknown SMTP AUTH setting', 'mailbox_protocols', {'mailboxes': ['user1@{domain}'], 'smtp_client_auth': 'on'}, ['smtp_client_auth']),
    ('protocols with an identity with $()', 'mailbox_protocols', {'mailboxes': ['$(whoami)\n'], 'imap': True}, ['mailboxes[0]']),
]

# (name, role variables, words); every case also fails before any Graph call.
ROLE_CASES = [
    ('role: duplicated mailboxes', {'mailbox_access_mailboxes': ['a@x.com', 'A@x.com']}, ['mailbox_access_mailboxes', 'a@x.com']),
    ('role: exclusive with no mailboxes', {'mailbox_access_exclusive_mailboxes': True, 'mailbox_access_mailboxes': []},
     ['mailbox_access_exclusive_mailboxes']),
    ('role: no handover dest', {'mailbox_access_handover_dest': ''}, ['mailbox_access_handover_dest']),
    ('role: unknown protocol', {'mailbox_access_protocols': ['imap', 'ftp']}, ['mailbox_access_protocols']),
    ('role: no protocol', {'mailbox_access_protocols': []}, ['mailbox_access_protocols']),
    ('role: lifetime not a number', {'mailbox_access_secret_lifetime_days': 'soon'}, ['mailbox_access_secret_lifetime_days']),
    ('role: lifetime inside rotation window', {'mailbox_access_secret_lifetime_days': 10}, ['mailbox_access_secret_lifetime_days']),
    ('role: unknown cloud', {'mailbox_access_cloud': 'mars'}, ['mailbox_access_cloud']),
    ('role: unknown state', {'mailbox_access_state': 'gone'}, ['mailbox_access_state']),
    ('role: absent without confirmation', {'mailbox_access_state': 'absent'}, ['mailbox_access_deprovision_confirm']),
    ('role: certificate without path', {'mailbox_access_credential_type': 'certificate'}, ['mailbox_access_certificate_path']),
    ('role: mailboxes not a list', {'mailbox_access_mailboxes': {'a': 1}}, ['mailbox_access_mailboxes']),
    ('role: unreadable mailbox file', {'mailbox_access_mailboxes_file': '/nonexistent/boxes.txt'}, ['boxes.txt']),
]
