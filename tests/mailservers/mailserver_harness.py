"""Real Dovecot (IMAP, POP3) and Postfix (submission) instances for the XOAUTH2 tests.

Each instance runs from a private config dir as a normal foreground process on
loopback ports, with TLS from a throwaway CA made here. Dovecot validates the
sandbox's JWTs locally (signature with the sandbox signing key, expiry,
audience), checks the protocol's role (exchange_roles.lua) and a per-mailbox
allow-list standing in for FullAccess; for SMTP, an app without Entra's
SMTP.SendAsApp may instead send as a mailbox its RBAC for Applications scope
covers (exchange_rbac.lua, allow_smtp_rbac). Postfix asks Dovecot's auth listener
for SMTP AUTH; a second Postfix answers every AUTH with Exchange's
"535 5.7.139" (SMTP AUTH disabled for the tenant).

    with MailServers(signing_kid, signing_public_key_path) as servers:
        servers.trust_client(app_id)          # Dovecot keys are per azp claim
        servers.allow(['user1@tenant1.onmicrosoft.com'])
        servers.allow_smtp_rbac({app_id: ['user2@tenant1.onmicrosoft.com']})   # SMTP only, apps without Entra SMTP.SendAsApp
        servers.imap_port, servers.pop_port, servers.smtp_port, servers.smtp_disabled_port, servers.ca_path

A missing Dovecot or Postfix raises MailServerError: the tests fail, they do not skip.
"""

import datetime
import ipaddress
import os
import pwd
import grp
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
DOVECOT = '/usr/sbin/dovecot'
POSTFIX = '/usr/sbin/postfix'
# Exchange checks this audience; the sandbox issues it for scope https://outlook.office365.com/.default.
EXCHANGE_AUDIENCE = 'https://outlook.office365.com'
# The lua passdbs and what they load: Exchange's RBAC for SMTP, its role check, and their shared token reader.
LUA_SCRIPTS = ('exchange_rbac.lua', 'exchange_roles.lua', 'exchange_token.lua')
RBAC_LIST = 'rbac_smtp.list'
INSTALL_HINT = 'run tests/mailservers/install.sh as root (make test does) to install dovecot-imapd, dovecot-pop3d and postfix'


class MailServerError(RuntimeError):
    """A mail server is missing or did not come up."""


def require_mail_servers():
    missing = [path for path in (DOVECOT, POSTFIX) if not os.access(path, os.X_OK)]
    if missing:
        raise MailServerError('%s not installed: %s' % (', '.join(missing), INSTALL_HINT))
    if os.geteuid() != 0:
        raise MailServerError('the mail server tests start Postfix, which needs root')


def shared_tmp():
    """A temporary folder every user can enter: TMPDIR when each of its parents lets others through, else /tmp."""
    path = os.path.realpath(tempfile.gettempdir())
    probe = path
    while True:
        if not os.stat(probe).st_mode & 0o001:
            return '/tmp'
        parent = os.path.dirname(probe)
        if parent == probe:
            return path
        probe = parent


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=20.0, process=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise MailServerError('server exited with %s before listening on %d:\n%s' % (process.returncode, port, _tail(log)))
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise MailServerError('nothing listens on 127.0.0.1:%d after %.0f s:\n%s' % (port, timeout, _tail(log)))


def _tail(path, lines=40):
    if not path or not os.path.exists(path):
        return ''
    with open(path, errors='replace', encoding='utf-8') as handle:
        return ''.join(handle.readlines()[-lines:])


def _fill(template, target, **values):
    with open(os.path.join(HERE, template), encoding='utf-8') as handle:
        text = handle.read()
    for key, value in values.items():
        text = text.replace('@%s@' % key, str(value))
    with open(target, 'w', encoding='utf-8') as handle:
        handle.write(text)


def make_tls(directory, names=('localhost',), ips=('127.0.0.1',)):
    """A throwaway CA (ca.pem) and a server certificate for loopback (server.pem, server.key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'm365.mail_oauth test mail CA')])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = dict(ca=os.path.join(directory, 'ca.pem'), cert=os.path.join(directory, 'server.pem'),
                 key=os.path.join(directory, 'server.key'))
    with open(paths['ca'], 'wb') as handle:
        handle.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths['cert'], 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths['key'], 'wb') as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(paths['key'], 0o600)
    return paths


class _Process:
    """A server started as a foreground child process, stopped by its pid."""

    def __init__(self, name, log):
        self.name = name
        self.log = log
        self.process = None

    def spawn(self, args):
        with open(self.log + '.stdout', 'ab') as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def stop(self, timeout=10):
        """SIGTERM to the server's own process group (its session started with it), SIGKILL if it lingers."""
        if self.process is None:
            return
        _signal_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        if not _wait_gone(self.process.pid, timeout):
            _signal_group(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(5)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pgid, timeout):
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _group_alive(pgid)


class Dovecot(_Process):
    """IMAPS, POP3S and an auth listener for Postfix, from a private config dir."""

    def __init__(self, directory, tls, signing_kid, signing_public_key_path, audience=EXCHANGE_AUDIENCE):
        super().__init__('dovecot', os.path.join(directory, 'dovecot.log'))
        self.dir = directory
        self.tls = tls
        self.kid = signing_kid
        with open(signing_public_key_path, encoding='utf-8') as handle:
            self.public_key = handle.read()
        self.audience = audience
        self.imap_port = free_port()
        self.pop_port = free_port()
        self.auth_port = free_port()
        self.config = os.path.join(directory, 'dovecot.conf')

    def write_config(self):
        for sub in ('run', 'state', 'mail', 'keys'):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        shutil.copy(self.tls['cert'], os.path.join(self.dir, 'server.pem'))
        shutil.copy(self.tls['key'], os.path.join(self.dir, 'server.key'))
        # Dovecot's auth process runs as its own user and reads the lua passdb when it starts: a copy here, where that
        # user can reach it, never the clone's file (a clone under root's home or any 0700 folder broke every login
        # with "Auth process broken").
        for script in LUA_SCRIPTS:
            shutil.copy(os.path.join(HERE, script), os.path.join(self.dir, script))
            os.chmod(os.path.join(self.dir, script), 0o644)
        mail_user = pwd.getpwnam('dovecot')
        os.chown(os.path.join(self.dir, 'mail'), mail_user.pw_uid, mail_user.pw_gid)
        _fill('dovecot.conf.in', self.config, DIR=self.dir, INSTANCE='m365-test-%d' % self.imap_port,
              INTERNAL_USER='dovecot', LOGIN_USER='dovenull', MAIL_UID=mail_user.pw_uid,
              MAIL_GID=grp.getgrgid(mail_user.pw_gid).gr_gid, IMAPS_PORT=self.imap_port, POP3S_PORT=self.pop_port,
              AUTH_PORT=self.auth_port)
        _fill('oauth2.conf.ext.in', os.path.join(self.dir, 'oauth2.conf.ext'), DIR=self.dir, AUDIENCE=self.audience)
        self.trust_client('default')
        if not os.path.exists(os.path.join(self.dir, 'fullaccess.passwd')):
            self.allow([])
        if not os.path.exists(os.path.join(self.dir, RBAC_LIST)):
            self.allow_smtp_rbac({})

    def trust_client(self, azp):
        """Dovecot looks the signing key up under the token's azp claim (the client app id)."""
        path = os.path.join(self.dir, 'keys', azp, 'RS256')
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, self.kid), 'w', encoding='utf-8') as handle:
            handle.write(self.public_key)

    def allow(self, mailboxes):
        """Replace the FullAccess allow-list; Dovecot rereads the file when it changes."""
        tmp = os.path.join(self.dir, 'fullaccess.passwd.tmp')
        with open(tmp, 'w', encoding='utf-8') as handle:
            for mailbox in mailboxes:
                # No password: the token was checked by the passdbs before this one.
                handle.write('%s::::::nopassword=y\n' % mailbox)
        os.replace(tmp, os.path.join(self.dir, 'fullaccess.passwd'))

    def allow_smtp_rbac(self, scopes):
        """Replace what RBAC for Applications lets apps send as over SMTP: {app id: [mailbox, ...]} (exchange_rbac.lua reads
        the file at every login)."""
        tmp = os.path.join(self.dir, RBAC_LIST + '.tmp')
        with open(tmp, 'w', encoding='utf-8') as handle:
            for app_id in sorted(scopes):
                for mailbox in sorted(scopes[app_id]):
                    handle.write('%s %s\n' % (app_id.lower(), mailbox.lower()))
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(self.dir, RBAC_LIST))

    def start(self):
        self.write_config()
        self.spawn([DOVECOT, '-F', '-c', self.config])
        for port in (self.imap_port, self.pop_port, self.auth_port):
            wait_for_port(port, process=self.process, log=self.log)


class Postfix(_Process):
    """A submission listener (STARTTLS required, SASL through Dovecot) from a private config dir."""

    def __init__(self, name, directory, tls, auth_port, auth_disabled=False):
        super().__init__('postfix-' + name, os.path.join(directory, 'maillog'))
        self.dir = directory
        # postfix-script expects the queue outside the config dir (it checks the config dir's files are root's).
        self.conf = os.path.join(directory, 'conf')
        self.instance = name
        self.tls = tls
        self.auth_port = auth_port
        self.auth_disabled = auth_disabled
        self.port = free_port()

    def write_config(self):
        for sub in ('queue', 'data', 'conf'):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        owner = pwd.getpwnam('postfix')
        os.chown(os.path.join(self.dir, 'data'), owner.pw_uid, owner.pw_gid)
        extra = ''
        if self.auth_disabled:
            for name in ('auth-disabled.regexp', 'auth-disabled-reply.regexp'):
                shutil.copy(os.path.join(HERE, name), os.path.join(self.conf, name))
            extra = ('smtpd_command_filter = regexp:%s/auth-disabled.regexp\n'
                     'smtpd_etrn_restrictions = check_client_access regexp:%s/auth-disabled-reply.regexp\n') % (self.conf, self.conf)
        _fill('postfix-main.cf.in', os.path.join(self.conf, 'main.cf'), DIR=self.dir, CERT=self.tls['cert'],
              KEY=self.tls['key'], AUTH_PORT=self.auth_port, EXTRA=extra)
        _fill('postfix-master.cf.in', os.path.join(self.conf, 'master.cf'), SUBMISSION_PORT=self.port, NAME=self.instance)

    def start(self):
        self.write_config()
        self.spawn([POSTFIX, '-c', self.conf, 'start-fg'])
        wait_for_port(self.port, process=self.process, log=self.log + '.stdout')

    def stop(self, timeout=10):
        # The master leaves the wrapper's process group, so it is stopped the Postfix way and then by its pid file.
        pid_file = os.path.join(self.dir, 'queue', 'pid', 'master.pid')
        master = None
        if os.path.exists(pid_file):
            with open(pid_file, encoding='ascii') as handle:
                master = int(handle.read().strip() or 0) or None
        if self.process is not None:
            subprocess.run([POSTFIX, '-c', self.conf, 'stop'], capture_output=True, timeout=30, check=False)
        if master is not None:
            deadline = time.monotonic() + timeout
            while _alive(master) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(master):
                os.kill(master, signal.SIGKILL)
        super().stop(timeout)


class MailServers:
    """Dovecot plus two Postfix instances (SMTP AUTH on, and off), sharing one throwaway CA."""

    def __init__(self, signing_kid, signing_public_key_path, state_dir=None, keep=False):
        require_mail_servers()
        # Dovecot's unprivileged processes (its auth, login and mail users) must reach every file they read, so the
        # whole instance lives in a fresh directory under a temporary folder every user can enter: not under pytest's
        # 0700 tmp dirs, nor the clone (root's home, any 0700 folder), nor a TMPDIR inside one.
        self.dir = state_dir or tempfile.mkdtemp(prefix='m365-mailservers-', dir=shared_tmp())
        os.chmod(self.dir, 0o755)
        self.keep = keep
        self.tls = make_tls(self.dir)
        self.ca_path = self.tls['ca']
        self.signing = (signing_kid, signing_public_key_path)
        self.dovecot = Dovecot(os.path.join(self.dir, 'dovecot'), self.tls, *self.signing)
        self.postfix = Postfix('submission', os.path.join(self.dir, 'postfix'), self.tls, self.dovecot.auth_port)
        self.postfix_disabled = Postfix('authoff', os.path.join(self.dir, 'postfix-authoff'), self.tls,
                                        self.dovecot.auth_port, auth_disabled=True)
        self._late = []
        self.startup_seconds = None

    @property
    def imap_port(self):
        return self.dovecot.imap_port

    @property
    def pop_port(self):
        return self.dovecot.pop_port

    @property
    def smtp_port(self):
        return self.postfix.port

    @property
    def smtp_disabled_port(self):
        return self.postfix_disabled.port

    @property
    def endpoints(self):
        """The options of mail_oauth_check (and the role's mailbox_access_verify_options) that point at these servers."""
        return {'imap_host': 'localhost', 'imap_port': self.imap_port, 'pop_host': 'localhost', 'pop_port': self.pop_port,
                'smtp_host': 'localhost', 'smtp_port': self.smtp_port, 'mail_ca_path': self.ca_path, 'login_timeout': 10}

    def start(self):
        started = time.monotonic()
        os.makedirs(self.dovecot.dir, exist_ok=True)
        os.chmod(self.dovecot.dir, 0o755)
        self.dovecot.start()
        try:
            self.postfix.start()
            self.postfix_disabled.start()
        except Exception:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self):
        for server in self._late + [self.postfix_disabled, self.postfix, self.dovecot]:
            server.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def trust_client(self, app_id):
        self.dovecot.trust_client(app_id)
        for late in self._late:
            late.trust_client(app_id)

    def allow(self, mailboxes):
        self.dovecot.allow(mailboxes)
        for late in self._late:
            late.allow(mailboxes)

    def allow_smtp_rbac(self, scopes):
        """{app id: [mailbox, ...]} an `Application SMTP.SendAsApp` assignment covers (SMTP only, see exchange_rbac.lua)."""
        self.dovecot.allow_smtp_rbac(scopes)
        for late in self._late:
            late.allow_smtp_rbac(scopes)

    def start_later(self, delay, mailboxes=(), clients=()):
        """A second Dovecot whose ports are known now but that listens only after delay seconds."""
        index = len(self._late)
        late = Dovecot(os.path.join(self.dir, 'dovecot-late-%d' % index), self.tls, *self.signing)
        os.makedirs(late.dir, exist_ok=True)
        os.chmod(late.dir, 0o755)
        late.write_config()
        late.allow(mailboxes)
        for client in clients:
            late.trust_client(client)
        self._late.append(late)
        timer = threading.Timer(delay, late.start)
        timer.daemon = True
        timer.start()
        return late

    def logs(self):
        """The servers' logs, for a failing test's report."""
        out = []
        for path in (self.dovecot.log, self.postfix.log, self.postfix_disabled.log):
            out.append('==> %s <==\n%s' % (path, _tail(path, 60)))
        return '\n'.join(out)


def tls_client_context(ca_path):
    return ssl.create_default_context(cafile=ca_path)
