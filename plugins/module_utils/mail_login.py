# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SASL XOAUTH2 logins over IMAP, POP and SMTP that change nothing and never send mail.

Each check returns a LoginResult instead of raising, so that one mailbox or
protocol failing never hides the answers of the others.
"""

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl

PROTOCOLS = ('imap', 'pop', 'smtp')
DEFAULT_PORTS = {'imap': 993, 'pop': 995, 'smtp': 587}
ANSWER_LIMIT = 400


def xoauth2_string(user, token):
    """The raw SASL XOAUTH2 initial response (before base64)."""
    if not user or any(c in user for c in '\x01\r\n\t '):
        raise ValueError('mailbox %r cannot be used in an XOAUTH2 login' % (user,))
    return 'user=%s\x01auth=Bearer %s\x01\x01' % (user, token)


def xoauth2_base64(user, token):
    return base64.b64encode(xoauth2_string(user, token).encode('utf-8')).decode('ascii')


def redact(text, secrets):
    """Server answers are untrusted text: make sure no secret travels back inside one."""
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, '********')
    text = ' '.join(text.split())
    return text[:ANSWER_LIMIT] + ('...' if len(text) > ANSWER_LIMIT else '')


class LoginResult:
    """What one login attempt gave: ok, or the failing stage with the server's answer."""

    # kind of failure: auth (the server refused the token), connect, tls, protocol (unexpected answer or no XOAUTH2)
    def __init__(self, ok, stage, answer='', kind=None, code=None):
        self.ok = ok
        self.stage = stage
        self.answer = answer
        self.kind = kind
        self.code = code

    def as_dict(self):
        return dict(ok=self.ok, stage=self.stage, answer=self.answer, failure=self.kind, code=self.code)


def _failure(stage, exc, secrets):
    if isinstance(exc, ssl.SSLCertVerificationError):
        return LoginResult(False, stage, redact(exc.verify_message or exc, secrets), 'tls')
    if isinstance(exc, ssl.SSLError):
        return LoginResult(False, stage, redact(exc, secrets), 'tls')
    if isinstance(exc, (socket.timeout, OSError)):
        return LoginResult(False, stage, redact('%s: %s' % (type(exc).__name__, exc), secrets), 'connect')
    return LoginResult(False, stage, redact(exc, secrets), 'protocol')


def _goodbye(client, method, fallback=None):
    """End the session politely (LOGOUT, QUIT); a server that does not answer any more is just dropped (fallback)."""
    if client is None:
        return
    try:
        getattr(client, method)()
    except Exception:  # pylint: disable=broad-except
        if fallback:
            getattr(client, fallback)()


class _Responder:
    """XOAUTH2 answers: the credentials once, then empty lines (how a client acknowledges an error challenge)."""

    def __init__(self, raw):
        self.raw = raw
        self.sent = False

    def __call__(self, _challenge=None):
        if self.sent:
            return b''
        self.sent = True
        return self.raw


class _Attempt:
    """One login: the secrets every answer is cleaned of, the stage it reached (named in the result), the client to close."""

    def __init__(self, user, token):
        self.raw = xoauth2_string(user, token).encode('utf-8')
        self.b64 = base64.b64encode(self.raw).decode('ascii')
        self.secrets = (token, self.b64)
        self.stage = 'connect'
        self.client = None

    def fail(self, answer, kind, code=None):
        return LoginResult(False, self.stage, redact(answer, self.secrets), kind, code)


def _attempt(steps, user, token, goodbye, fallback=None, library_error=(), access_stage=None):
    """Run one protocol's steps. The library's own error is 'access' at access_stage (the login worked, the mailbox did
    not) and 'protocol' before it; any other error is classified by _failure. The session always ends politely."""
    attempt = _Attempt(user, token)
    try:
        return steps(attempt)
    except library_error as exc:  # pylint: disable=catching-non-exception
        return attempt.fail(exc.args[0] if exc.args else exc, 'access' if attempt.stage == access_stage else 'protocol')
    except Exception as exc:  # pylint: disable=broad-except
        return _failure(attempt.stage, exc, attempt.secrets)
    finally:
        _goodbye(attempt.client, goodbye, fallback)


def check_imap(host, port, user, token, context, timeout):
    """AUTHENTICATE XOAUTH2, SELECT INBOX (read-only), LOGOUT."""
    def steps(attempt):
        client = attempt.client = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
        attempt.stage = 'authenticate'
        if 'AUTH=XOAUTH2' not in client.capabilities:
            return LoginResult(False, attempt.stage, 'the server does not offer AUTH=XOAUTH2 (capabilities: %s)'
                               % ' '.join(client.capabilities), 'protocol')
        try:
            client.authenticate('XOAUTH2', _Responder(attempt.raw))
        except imaplib.IMAP4.error as exc:
            return attempt.fail(exc, 'auth')
        attempt.stage = 'select'
        typ, data = client.select('INBOX', readonly=True)
        if typ != 'OK':
            return attempt.fail(b' '.join(d for d in data if d), 'access')
        return LoginResult(True, attempt.stage, redact('SELECT INBOX: %s messages' % data[0].decode('ascii', 'replace'), attempt.secrets))
    return _attempt(steps, user, token, 'logout', library_error=imaplib.IMAP4.error, access_stage='select')


def check_pop(host, port, user, token, context, timeout):
    """AUTH XOAUTH2 (continuation form, as Exchange documents it), STAT, QUIT."""
    def steps(attempt):
        client = attempt.client = poplib.POP3_SSL(host, port, context=context, timeout=timeout)
        attempt.stage = 'authenticate'
        # poplib has no SASL helper; these are its own line primitives.
        client._putcmd('AUTH XOAUTH2')  # pylint: disable=protected-access
        line = client._getline()[0]  # pylint: disable=protected-access
        if not line.startswith(b'+'):
            return attempt.fail(line, 'protocol')
        client._putcmd(attempt.b64)  # pylint: disable=protected-access
        line = client._getline()[0]  # pylint: disable=protected-access
        if line.startswith(b'+ ') or line == b'+':
            # An error challenge (JSON); an empty line brings the final answer.
            client._putcmd('')  # pylint: disable=protected-access
            line = client._getline()[0]  # pylint: disable=protected-access
        if not line.startswith(b'+OK'):
            return attempt.fail(line, 'auth')
        attempt.stage = 'stat'
        count, size = client.stat()
        return LoginResult(True, attempt.stage, 'STAT: %d messages, %d bytes' % (count, size))
    return _attempt(steps, user, token, 'quit', library_error=poplib.error_proto, access_stage='stat')


def check_smtp(host, port, user, token, context, timeout):
    """EHLO, STARTTLS, EHLO, AUTH XOAUTH2, QUIT. No MAIL command is ever sent."""
    def steps(attempt):
        client = attempt.client = smtplib.SMTP(host, port, timeout=timeout)
        attempt.stage = 'starttls'
        client.ehlo()
        if not client.has_extn('starttls'):
            return LoginResult(False, attempt.stage, 'the server does not offer STARTTLS', 'protocol')
        code, answer = client.starttls(context=context)
        if code != 220:
            return attempt.fail('%d %s' % (code, answer.decode('utf-8', 'replace')), 'protocol', code)
        client.ehlo()
        attempt.stage = 'authenticate'
        mechanisms = (client.esmtp_features.get('auth') or '').upper().split()
        if 'XOAUTH2' not in mechanisms:
            return LoginResult(False, attempt.stage, 'the server offers AUTH %s, not XOAUTH2' % (' '.join(mechanisms) or 'nothing'),
                               'protocol')
        code, answer = client.docmd('AUTH', 'XOAUTH2 ' + attempt.b64)
        if code == 334:
            # An error challenge (JSON); an empty line brings the final answer.
            code, answer = client.docmd('')
        text = redact('%d %s' % (code, answer.decode('utf-8', 'replace')), attempt.secrets)
        if code != 235:
            return LoginResult(False, attempt.stage, text, 'auth', code)
        return LoginResult(True, attempt.stage, text, code=code)
    return _attempt(steps, user, token, 'quit', fallback='close')


LOGINS = {'imap': check_imap, 'pop': check_pop, 'smtp': check_smtp}


def tls_context(ca_path=None, validate_certs=True):
    """The TLS settings for the mail servers; ca_path replaces the system store, like the HTTP side's."""
    context = ssl.create_default_context(cafile=ca_path) if validate_certs else ssl.create_default_context()
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
