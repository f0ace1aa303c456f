"""XOAUTH2 strings, redaction of server answers, and the login clients' handling of answers (scripted servers)."""

import base64
import socket
import ssl
import threading

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils import mail_login
from ansible_collections.m365.mail_oauth.plugins.module_utils.mail_login import (
    LoginResult, redact, tls_context, xoauth2_base64, xoauth2_string)

TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln'


def test_xoauth2_string_is_the_documented_format():
    assert xoauth2_string('user@contoso.com', TOKEN) == 'user=user@contoso.com\x01auth=Bearer %s\x01\x01' % TOKEN


def test_xoauth2_base64_round_trips():
    encoded = xoauth2_base64('a@b.c', 'tok')
    assert base64.b64decode(encoded) == b'user=a@b.c\x01auth=Bearer tok\x01\x01'
    assert encoded.startswith('dXNlcj')


@pytest.mark.parametrize('user', ['', 'two words@x', 'a\x01b@x', 'a\r\n@x'])
def test_xoauth2_rejects_users_that_would_break_the_string(user):
    with pytest.raises(ValueError):
        xoauth2_string(user, TOKEN)


def test_redact_removes_secrets_normalises_space_and_truncates():
    encoded = xoauth2_base64('a@b.c', TOKEN)
    assert redact(b'NO echo %s and %s\r\n' % (TOKEN.encode(), encoded.encode()), (TOKEN, encoded)) == 'NO echo ******** and ********'
    long = redact('x' * 1000, ())
    assert len(long) == mail_login.ANSWER_LIMIT + 3 and long.endswith('...')


def test_failures_are_classified():
    assert mail_login._failure('connect', ConnectionRefusedError(111, 'Connection refused'), ()).kind == 'connect'
    assert mail_login._failure('connect', socket.timeout('timed out'), ()).kind == 'connect'
    assert mail_login._failure('starttls', ssl.SSLError('bad'), ()).kind == 'tls'
    assert mail_login._failure('authenticate', RuntimeError('odd %s' % TOKEN), (TOKEN,)).answer == 'odd ********'


def test_tls_context_without_validation_checks_nothing():
    context = tls_context(validate_certs=False)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert tls_context().verify_mode == ssl.CERT_REQUIRED


def test_login_result_dict():
    assert LoginResult(False, 'authenticate', 'NO', 'auth', 535).as_dict() == dict(
        ok=False, stage='authenticate', answer='NO', failure='auth', code=535)


class ScriptedSMTP(threading.Thread):
    """A plain-text SMTP server that answers from a script (no TLS: STARTTLS is refused on purpose)."""

    def __init__(self, lines):
        super(ScriptedSMTP, self).__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.lines = lines
        self.received = []

    def run(self):
        conn = self.sock.accept()[0]
        with conn:
            reader = conn.makefile('rb')
            conn.sendall(b'220 test ESMTP\r\n')
            for answer in self.lines:
                line = reader.readline()
                if not line:
                    return
                self.received.append(line)
                conn.sendall(answer)


def test_smtp_without_starttls_is_a_protocol_failure_and_sends_no_mail_command():
    server = ScriptedSMTP([b'250-test\r\n250 AUTH XOAUTH2\r\n', b'221 bye\r\n'])
    server.start()
    result = mail_login.check_smtp('127.0.0.1', server.port, 'a@b.c', TOKEN, tls_context(), 5)
    server.join(5)
    assert not result.ok and result.kind == 'protocol' and 'STARTTLS' in result.answer
    assert not any(line.upper().startswith((b'MAIL', b'RCPT', b'DATA', b'AUTH')) for line in server.received)


def test_closed_port_is_unreachable():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    for check in (mail_login.check_imap, mail_login.check_pop, mail_login.check_smtp):
        result = check('127.0.0.1', port, 'a@b.c', TOKEN, tls_context(), 5)
        assert not result.ok and result.kind == 'connect' and result.stage == 'connect', check
