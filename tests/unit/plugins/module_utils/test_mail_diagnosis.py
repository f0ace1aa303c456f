"""Claim decoding and the failure table of mail_oauth_check."""

import base64
import json

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.mail_diagnosis import CAUSES, diagnose, token_facts

EXCHANGE = 'https://outlook.office365.com'
NOW = 1800000000
ALL_ROLES = ['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp']


def jwt(claims):
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip('=')
    return 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.%s.c2lnbmF0dXJl' % body


def facts(protocols=('imap', 'pop', 'smtp'), **claims):
    base = dict(aud=EXCHANGE, roles=ALL_ROLES, exp=NOW + 3599, appid='app', tid='tenant', oid='sp-object-id')
    base.update(claims)
    base = dict((k, v) for k, v in base.items() if v is not None)
    return token_facts(decode_jwt_claims(jwt(base)), EXCHANGE, list(protocols), NOW)


def failed(kind='auth', answer='[AUTHENTICATIONFAILED] Authentication failed.', mailbox='m@x'):
    return dict(ok=False, stage='authenticate', answer=answer, failure=kind,
                context=dict(mailbox=mailbox, host='outlook.office365.com', port=993))


def test_claims_decode_without_padding_and_report_what_matters():
    result = facts()
    assert result['aud'] == EXCHANGE and result['audience_ok'] and result['roles'] == ALL_ROLES
    assert result['expires_in'] == 3599 and result['expires_at'] == '2027-01-15T08:59:59Z' and not result['expired']
    assert result['service_principal_id'] == 'sp-object-id' and result['signature_checked'] is False
    assert result['problems'] == [] and result['missing_roles'] == []


def test_token_problems_in_order():
    assert facts(roles=None)['problems'] == ['consent_missing']
    assert facts(roles=None)['has_roles_claim'] is False
    assert facts(roles=['IMAP.AccessAsApp'])['problems'] == ['role_missing']
    assert facts(roles=['IMAP.AccessAsApp'], protocols=['imap'])['problems'] == []
    assert facts(aud='https://graph.microsoft.com', exp=NOW - 1)['problems'] == ['token_expired', 'wrong_audience']
    # A trailing slash in the audience is the same resource.
    assert facts(aud=EXCHANGE + '/')['audience_ok']


@pytest.mark.parametrize('claims, protocol, result, cause, retryable, words', [
    (dict(), 'imap', dict(ok=True, stage='select', answer='ok', failure=None), 'ok', False, 'logged in'),
    (dict(roles=None), 'imap', failed(), 'consent_missing', True, 'admin consent'),
    (dict(roles=['POP.AccessAsApp']), 'imap', failed(), 'role_missing', True, 'IMAP.AccessAsApp'),
    (dict(aud='https://graph.microsoft.com'), 'pop', failed(), 'wrong_audience', False, "'https://graph.microsoft.com'"),
    (dict(exp=NOW - 60), 'imap', failed(), 'token_expired', True, 'expired at'),
    (dict(), 'imap', failed(), 'access_denied', True, 'sp-object-id'),
    (dict(), 'imap', failed(answer='User is authenticated but not connected.'), 'not_connected', True, 'FullAccess'),
    (dict(), 'imap', failed(kind='access', answer='NO select'), 'not_connected', True, 'FullAccess'),
    (dict(), 'smtp', failed(answer='535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled'),
     'smtp_auth_disabled', False, 'SmtpClientAuthenticationDisabled'),
    # The server's explicit answer wins over what the token says.
    (dict(roles=None), 'smtp', failed(answer='535 5.7.139 disabled'), 'smtp_auth_disabled', False, '5.7.139'),
    (dict(), 'smtp', failed(kind='connect', answer='ConnectionRefusedError'), 'unreachable', True, 'cannot be reached'),
    (dict(), 'imap', failed(kind='tls', answer='certificate verify failed'), 'tls_error', False, 'mail_ca_path'),
    (dict(), 'smtp', failed(kind='protocol', answer='the server offers AUTH PLAIN, not XOAUTH2'), 'protocol_error', False, 'XOAUTH2'),
])
def test_diagnosis_table(claims, protocol, result, cause, retryable, words):
    got_cause, text, got_retryable = diagnose(protocol, result, facts(**claims))
    assert (got_cause, got_retryable) == (cause, retryable)
    assert words in text


def test_every_cause_template_uses_only_known_values():
    values = dict(protocol='IMAP', role='r', roles='none', aud='a', expected='e', expires_at='t', oid='o', answer='x',
                  mailbox='m', host='h', port=1)
    for text, _retryable in CAUSES.values():
        assert '{' not in text.format(**values)


def test_diagnosis_without_context_names_a_placeholder_mailbox():
    cause, text = diagnose('imap', dict(ok=False, stage='authenticate', answer='NO', failure='auth'), facts())[:2]
    assert cause == 'access_denied' and '<mailbox>' in text


def rbac_facts(protocols=('smtp',), **claims):
    base = dict(aud=EXCHANGE, exp=NOW + 3599, appid='app', tid='tenant', oid='sp-object-id')
    base.update(claims)
    base = dict((k, v) for k, v in base.items() if v is not None)
    return token_facts(decode_jwt_claims(jwt(base)), EXCHANGE, list(protocols), NOW, smtp_rbac=True)


def test_smtp_through_rbac_needs_no_role_in_the_token():
    # Learn (smtp-app-rbac-onboarding): no Entra permission for SMTP through RBAC; IMAP and POP still need theirs.
    assert rbac_facts()['problems'] == [] and rbac_facts()['missing_roles'] == []
    assert rbac_facts(protocols=('imap', 'smtp'))['problems'] == ['consent_missing']
    assert rbac_facts(protocols=('imap', 'smtp'), roles=['IMAP.AccessAsApp'])['missing_roles'] == []
    assert facts(roles=None, protocols=['smtp'])['problems'] == ['consent_missing']


def test_a_refused_smtp_login_through_rbac_is_out_of_scope_not_consent():
    cause, text, retryable = diagnose('smtp', failed(answer='535 5.7.3 Authentication unsuccessful', mailbox='ceo@x'), rbac_facts())
    assert (cause, retryable) == ('out_of_scope', True)
    assert 'management scope' in text and 'ceo@x' in text and 'Test-ServicePrincipalAuthorization' in text
    # IMAP in the same app keeps its own rules.
    assert diagnose('imap', failed(), rbac_facts(protocols=('imap', 'smtp'), roles=None))[0] == 'consent_missing'
