"""The mail server harness works from a clone Dovecot's own users cannot enter (root's home, any 0700 folder).

make demo (and every login test) failed there once Dovecot and Postfix were installed: Dovecot's auth process, which
runs as its own user, read the lua passdb from the clone and every login failed with "Auth process broken". Here the
harness is copied under a 0700 folder and loaded from there; a real XOAUTH2 IMAP login must succeed, and a mailbox
without the FullAccess stand-in must still be refused (so the login is really checked). About 5 s.
"""

import importlib.util
import imaplib
import os
import shutil
import ssl
import tempfile
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from playbook import REPO

AUDIENCE = 'https://outlook.office365.com'
KID = 'private-clone-kid'


@pytest.fixture
def private_clone():
    """tests/mailservers copied into <0700 folder>/clone, as a clone in root's home would have it."""
    outer = tempfile.mkdtemp(prefix='m365-private-', dir='/tmp')
    os.chmod(outer, 0o700)
    target = os.path.join(outer, 'clone', 'tests', 'mailservers')
    shutil.copytree(os.path.join(REPO, 'tests', 'mailservers'), target, ignore=shutil.ignore_patterns('__pycache__'))
    yield outer, target
    shutil.rmtree(outer, ignore_errors=True)


def _harness(path):
    spec = importlib.util.spec_from_file_location('private_clone_harness', os.path.join(path, 'mailserver_harness.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _token(key, app_id, roles):
    now = int(time.time())
    claims = {'aud': AUDIENCE, 'iss': 'https://sts.windows.net/tenant/', 'azp': app_id, 'appid': app_id, 'sub': app_id,
              'oid': app_id, 'roles': list(roles), 'iat': now - 5, 'nbf': now - 5, 'exp': now + 600}
    return jwt.encode(claims, key, algorithm='RS256', headers={'kid': KID})


def _imap_login(servers, mailbox, token):
    context = ssl.create_default_context(cafile=servers.ca_path)
    client = imaplib.IMAP4_SSL('localhost', servers.imap_port, ssl_context=context, timeout=10)
    try:
        xoauth2 = 'user=%s\x01auth=Bearer %s\x01\x01' % (mailbox, token)
        return client.authenticate('XOAUTH2', lambda _challenge: xoauth2.encode())[0]
    except imaplib.IMAP4.error as exc:
        return 'NO: %s' % exc
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def test_logins_work_from_a_clone_under_a_0700_folder(private_clone):
    outer, path = private_clone
    assert os.stat(outer).st_mode & 0o777 == 0o700
    harness = _harness(path)
    assert harness.HERE == path  # the copy, not the repository, is what runs
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = os.path.join(outer, 'signing.pem')
    with open(public, 'wb') as handle:
        handle.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    app_id = str(uuid.uuid4())
    token = _token(key, app_id, ['IMAP.AccessAsApp'])
    with harness.MailServers(KID, public) as servers:
        assert not servers.dir.startswith(outer)
        servers.trust_client(app_id)
        servers.allow(['user1@contoso.example'])
        answer = _imap_login(servers, 'user1@contoso.example', token)
        logs = servers.logs()
        assert answer == 'OK', '%s\n%s' % (answer, logs)
        assert 'Auth process broken' not in logs
        refused = _imap_login(servers, 'user2@contoso.example', token)
        assert refused != 'OK'
