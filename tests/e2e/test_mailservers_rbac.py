"""The sandbox's SMTP login honours RBAC for Applications (issue 24): real Postfix and Dovecot, real XOAUTH2.

An app whose Exchange service principal holds "Application SMTP.SendAsApp" with a mailbox in scope may send as it
without FullAccess and without Entra's SMTP.SendAsApp; IMAP and POP still need FullAccess; an app that also holds the
Entra permission goes through the mailbox permission check again (tests/sandbox/README.md, "SMTP login decision").
The decision is taken by tests/mailservers/exchange_rbac.lua from the list the harness writes; the mirror test checks
that the sandbox's Exchange state reaches that list. Tokens are signed here with a throwaway key. About 5 s.
"""

import base64
import imaplib
import os
import smtplib
import ssl
import sys
import tempfile
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from playbook import REPO

sys.path.insert(0, os.path.join(REPO, 'tests', 'mailservers'))
sys.path.insert(0, os.path.join(REPO, 'tests', 'sandbox'))
from exchange_mirror import ExchangeMirror  # noqa: E402  pylint: disable=wrong-import-position
from mailserver_harness import MailServers  # noqa: E402  pylint: disable=wrong-import-position
from m365_sandbox.exchange import ExchangeOrg  # noqa: E402  pylint: disable=wrong-import-position
from m365_sandbox.exchange.cmdlets import invoke  # noqa: E402  pylint: disable=wrong-import-position

AUDIENCE = 'https://outlook.office365.com'
KID = 'rbac-kid'
SENDER = str(uuid.uuid4())
OTHER_APP = str(uuid.uuid4())
DOMAIN = 'contoso.example'
IN_SCOPE, OUT_OF_SCOPE, FULL_ACCESS = ('%s@%s' % (name, DOMAIN) for name in ('printer', 'ceo', 'shared'))


@pytest.fixture(scope='module')
def signing():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    folder = tempfile.mkdtemp(prefix='m365-rbac-key-')
    public = os.path.join(folder, 'signing.pem')
    with open(public, 'wb') as handle:
        handle.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    yield key, public


@pytest.fixture(scope='module')
def servers(signing):
    with MailServers(KID, signing[1]) as running:
        for app in (SENDER, OTHER_APP):
            running.trust_client(app)
        yield running


@pytest.fixture
def scoped(servers):
    """The send-only app's scope covers IN_SCOPE; FullAccess (for any app with the role) covers FULL_ACCESS only."""
    servers.allow([FULL_ACCESS])
    servers.allow_smtp_rbac({SENDER: [IN_SCOPE]})
    yield servers
    servers.allow([])
    servers.allow_smtp_rbac({})


def _token(key, app_id, roles=()):
    now = int(time.time())
    claims = {'aud': AUDIENCE, 'iss': 'https://sts.windows.net/tenant/', 'azp': app_id, 'appid': app_id, 'sub': app_id,
              'oid': app_id, 'iat': now - 5, 'nbf': now - 5, 'exp': now + 600}
    if roles:
        # Entra ID leaves the roles claim out of a token of an app without application permissions.
        claims['roles'] = list(roles)
    return jwt.encode(claims, key, algorithm='RS256', headers={'kid': KID})


def _xoauth2(mailbox, token):
    return 'user=%s\x01auth=Bearer %s\x01\x01' % (mailbox, token)


def smtp(servers, mailbox, token):
    """The SMTP AUTH XOAUTH2 answer code of Postfix (235 accepted, 535 refused)."""
    with smtplib.SMTP('localhost', servers.smtp_port, timeout=10) as client:
        client.starttls(context=ssl.create_default_context(cafile=servers.ca_path))
        client.ehlo()
        code, _text = client.docmd('AUTH', 'XOAUTH2 ' + base64.b64encode(_xoauth2(mailbox, token).encode()).decode())
        if code == 334:
            # XOAUTH2's failure: a 334 challenge carrying the error, answered with an empty line, then the final code.
            code, _text = client.docmd('')
        return code


def imap(servers, mailbox, token):
    client = imaplib.IMAP4_SSL('localhost', servers.imap_port, ssl_context=ssl.create_default_context(cafile=servers.ca_path), timeout=10)
    try:
        return client.authenticate('XOAUTH2', lambda _challenge: _xoauth2(mailbox, token).encode())[0]
    except imaplib.IMAP4.error:
        return 'NO'
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def test_smtp_in_scope_without_fullaccess_or_entra_permission(scoped, signing):
    token = _token(signing[0], SENDER)
    assert smtp(scoped, IN_SCOPE, token) == 235, scoped.logs()
    assert smtp(scoped, OUT_OF_SCOPE, token) == 535
    # FullAccess alone does not let an app without the Entra role send: the role check still applies outside RBAC.
    assert smtp(scoped, FULL_ACCESS, token) == 535


def test_rbac_covers_smtp_only(scoped, signing):
    token = _token(signing[0], SENDER, ['IMAP.AccessAsApp'])
    assert imap(scoped, IN_SCOPE, token) != 'OK'
    assert imap(scoped, FULL_ACCESS, token) == 'OK', scoped.logs()


def test_entra_smtp_permission_brings_the_mailbox_check_back(scoped, signing):
    token = _token(signing[0], SENDER, ['SMTP.SendAsApp'])
    assert smtp(scoped, IN_SCOPE, token) == 535
    assert smtp(scoped, FULL_ACCESS, token) == 235, scoped.logs()


def test_a_scope_belongs_to_its_app_and_applies_at_once(scoped, signing):
    assert smtp(scoped, IN_SCOPE, _token(signing[0], OTHER_APP)) == 535
    scoped.allow_smtp_rbac({SENDER: [OUT_OF_SCOPE]})
    token = _token(signing[0], SENDER)
    assert (smtp(scoped, IN_SCOPE, token), smtp(scoped, OUT_OF_SCOPE, token)) == (535, 235)


class _Sandbox:
    """The three calls ExchangeMirror makes, answered from an in-process emulated Exchange (the real sandbox serves the
    same snapshot at GET /_sandbox/tenants/{tid}/exchange)."""

    tenants = [object()]

    def __init__(self, org, app_id):
        self.org, self.app_id = org, app_id

    def tenant(self, _index):
        return {'tenant_id': self.org.tenant_id}

    def state(self, _tenant_id):
        return {'applications': [{'uniqueName': 'send-only', 'appId': self.app_id}]}

    def control(self, _method, _path):
        return self.org.snapshot()


def test_the_mirror_carries_the_scope_from_the_emulated_exchange_to_the_login(servers, signing):
    org = ExchangeOrg('tid', DOMAIN, [IN_SCOPE, OUT_OF_SCOPE, FULL_ACCESS])
    invoke(org, 'New-ServicePrincipal', {'AppId': SENDER, 'ObjectId': str(uuid.uuid4()), 'DisplayName': 'printer'})
    invoke(org, 'New-ManagementScope', {'Name': 'printer', 'RecipientRestrictionFilter': "PrimarySmtpAddress -eq '%s'" % IN_SCOPE})
    invoke(org, 'New-ManagementRoleAssignment', {'Role': 'Application SMTP.SendAsApp', 'App': SENDER, 'CustomResourceScope': 'printer'})
    mirror = ExchangeMirror(_Sandbox(org, SENDER), servers, 'send-only')
    token = _token(signing[0], SENDER)
    try:
        mirror.sync()
        assert (smtp(servers, IN_SCOPE, token), smtp(servers, OUT_OF_SCOPE, token)) == (235, 535), servers.logs()
        invoke(org, 'Set-ManagementScope', {'Identity': 'printer', 'RecipientRestrictionFilter': "PrimarySmtpAddress -eq '%s'" % OUT_OF_SCOPE})
        mirror.sync()
        assert (smtp(servers, IN_SCOPE, token), smtp(servers, OUT_OF_SCOPE, token)) == (535, 235)
        invoke(org, 'Remove-ManagementRoleAssignment', {'Identity': 'Application SMTP.SendAsApp-printer'})
        mirror.sync()
        assert smtp(servers, OUT_OF_SCOPE, token) == 535
    finally:
        servers.allow_smtp_rbac({})
