"""The WinRM listener: HTTP + WS-Management, Basic and NTLM with message encryption.

pywinrm and Ansible's winrm connection talk to it unchanged:
Create shell, Command, Send (stdin), Receive, Signal, Delete.
"""

import base64
import collections
import http.server
import socket
import threading

from . import auth, soap
from .host_env import WindowsHostDisk
from .shell import Command, ShellHost

MAX_BODY = 64 * 1024 * 1024


class WinrmCounters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = collections.Counter()

    def bump(self, name, amount=1):
        with self.lock:
            self.values[name] += amount

    def as_dict(self):
        with self.lock:
            return dict(self.values)

    def reset(self):
        with self.lock:
            self.values.clear()


class WinrmHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'Microsoft-HTTPAPI/2.0'
    sys_version = ''

    def setup(self):
        super().setup()
        # Headers and body are separate writes: without TCP_NODELAY each answer waits ~40 ms for a delayed ACK.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.ntlm = None
        self.user = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.verbose:
            super().log_message(format, *args)

    # -- HTTP plumbing ------------------------------------------------------------
    def _send(self, status, body=b'', content_type='application/soap+xml;charset=UTF-8', headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _challenge(self, token=None):
        self.server.counters.bump('http_401')
        if token:
            headers = [('WWW-Authenticate', 'Negotiate ' + token)]
        else:
            headers = [('WWW-Authenticate', 'Negotiate'), ('WWW-Authenticate', 'Basic realm="WSMAN"')]
        self._send(401, headers=headers)

    def do_POST(self):  # pylint: disable=invalid-name
        length = int(self.headers.get('Content-Length') or 0)
        if length > MAX_BODY:
            self._send(413)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b''
        if self.path.split('?')[0].rstrip('/').lower() != '/wsman':
            self._send(404, content_type='text/plain')
            return
        self.server.counters.bump('http_requests')
        header = self.headers.get('Authorization') or ''
        scheme, _sep, value = header.partition(' ')
        scheme = scheme.lower()
        if scheme == 'basic':
            self.user = auth.check_basic(value, self.server.users)
            if self.user is None:
                self.server.counters.bump('auth_failures')
                self._challenge()
                return
            self.ntlm = None
        elif scheme in ('negotiate', 'ntlm'):
            if not self._ntlm_step(value):
                return
        elif self.user is None:
            self._challenge()
            return
        self._dispatch(body)

    def _ntlm_step(self, value):
        """Advance the handshake; True when the request is authenticated and should be served."""
        if self.ntlm is None or self.ntlm.complete:
            self.ntlm = auth.NtlmConnection()
            self.user = None
        try:
            out = self.ntlm.step(base64.b64decode(value.strip()))
        except Exception:  # pylint: disable=broad-except
            self.server.counters.bump('auth_failures')
            self.ntlm = None
            self._challenge()
            return False
        if not self.ntlm.complete:
            self._challenge(base64.b64encode(out).decode('ascii'))
            return False
        self.user = self.ntlm.user or 'ntlm'
        return True

    def _dispatch(self, body):
        encrypted = 'multipart/encrypted' in (self.headers.get('Content-Type') or '')
        if encrypted:
            if self.ntlm is None or not self.ntlm.complete:
                self._send(400, content_type='text/plain')
                return
            self.server.counters.bump('encrypted_requests')
            try:
                body = self.ntlm.decrypt(body)
            except Exception:  # pylint: disable=broad-except
                # pywinrm re-sends a payload sealed for another connection when
                # it cleans up after a timeout; real WinRM answers 400 too.
                self.server.counters.bump('decrypt_failures')
                self._send(400, content_type='text/plain')
                return
        elif self.ntlm is not None and body and not self.server.allow_unencrypted:
            self._send(400, content_type='text/plain')
            return
        if not body:
            # pywinrm's empty POST that only establishes the NTLM context.
            self._send(200)
            return
        answer = self.server.wsman.handle(body, self.server.endpoint)
        if answer is None:
            # The emulated connection drop: no answer at all.
            self.server.counters.bump('dropped_connections')
            self.close_connection = True
            self.connection.close()
            return
        status, reply = answer
        if encrypted:
            self._send(status, self.ntlm.encrypt(reply), content_type=auth.CONTENT_TYPE)
        else:
            self._send(status, reply)


class WsmanService:
    """The WS-Man operations over a ShellHost."""

    def __init__(self, shells, counters):
        self.shells = shells
        self.counters = counters

    def handle(self, body, endpoint):
        """(HTTP status, SOAP bytes), or None to drop the connection."""
        try:
            request = soap.Request(body)
        except Exception:  # pylint: disable=broad-except
            return 400, soap.fault(None, 2150858817, 'The WS-Management service cannot process the request: malformed XML.')
        self.counters.bump('wsman:' + request.action.rsplit('/', 1)[-1])
        if request.action == soap.ACTION_CREATE:
            shell = self.shells.create_shell()
            return 200, soap.create_response(request.message_id, shell.id, endpoint)
        shell = self.shells.shell(request.shell_id)
        if shell is None:
            return 500, soap.fault(request.message_id, soap.FAULT_SHELL_NOT_FOUND,
                                   'The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server.'
                                   % request.shell_id, subcode='w:InvalidSelectors')
        if request.action == soap.ACTION_DELETE:
            self.shells.delete_shell(shell.id)
            return 200, soap.envelope(soap.ACTION_DELETE + 'Response', request.message_id, '')
        if request.action == soap.ACTION_COMMAND:
            return self._command(request, shell)
        if request.action == soap.ACTION_SEND:
            return self._send(request, shell)
        if request.action == soap.ACTION_RECEIVE:
            return self._receive(request, shell)
        if request.action == soap.ACTION_SIGNAL:
            signal = request.find('rsp:Signal')
            if signal is not None:
                command = shell.commands.pop(signal.get('CommandId'), None)
                if command is not None:
                    self.shells.terminate(command)
            return 200, soap.empty_response(soap.ACTION_SIGNAL, request.message_id, 'SignalResponse')
        return 500, soap.fault(request.message_id, 2150858771, 'The WS-Management service does not support the action %s.' % request.action,
                               subcode='a:ActionNotSupported')

    def _command(self, request, shell):
        line = request.find('rsp:CommandLine')
        program = (line.findtext('rsp:Command', namespaces=soap.NS) or '').strip().strip('"') if line is not None else ''
        arguments = [(a.text or '') for a in line.findall('rsp:Arguments', soap.NS)] if line is not None else []
        command = Command(program, arguments)
        shell.commands[command.id] = command
        # With console-mode stdin and nothing to send, the program starts now.
        if request.options.get('WINRS_CONSOLEMODE_STDIN', 'TRUE').upper() == 'TRUE':
            command.stdin_closed = True
        return 200, soap.command_response(request.message_id, command.id)

    def _send(self, request, shell):
        for stream in request.body.iter('{%s}Stream' % soap.NS['rsp']):
            command = shell.commands.get(stream.get('CommandId'))
            if command is None:
                return 500, soap.fault(request.message_id, 2150858843, 'The command was not found.', subcode='w:InvalidSelectors')
            if stream.text:
                command.stdin.extend(base64.b64decode(stream.text))
            if (stream.get('End') or '').lower() == 'true':
                command.stdin_closed = True
                self.shells.start(command)
        return 200, soap.empty_response(soap.ACTION_SEND, request.message_id, 'SendResponse')

    def _receive(self, request, shell):
        stream = request.find('rsp:Receive/rsp:DesiredStream')
        command = shell.commands.get(stream.get('CommandId') if stream is not None else None)
        if command is None:
            return 500, soap.fault(request.message_id, 2150858843, 'The command was not found.', subcode='w:InvalidSelectors')
        # A caller that never closes stdin still gets its program run.
        self.shells.start(command)
        # Output goes out as the program writes it (State Running), the rest with the exit code once it ends.
        chunk, done = command.take(max(0.5, request.operation_timeout - 1.0))
        if chunk is None:
            return 500, soap.fault(request.message_id, soap.FAULT_OPERATION_TIMEOUT,
                                   'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.',
                                   subcode='w:TimedOut')
        if command.dropped:
            return None
        if not done:
            return 200, soap.receive_response(request.message_id, command.id, chunk, b'', None, done=False)
        self.counters.bump('round_trips')
        return 200, soap.receive_response(request.message_id, command.id, chunk, command.stderr, command.exit_code)


class WinrmServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_winrm(sandbox, host='127.0.0.1', port=0, users=None, verbose=False, allow_unencrypted=True):
    """Serve WinRM for a sandbox (server.Sandbox, started or not); returns stop() with the server attached as stop.server.

    Commands run in real pwsh against the sandbox's HTTPS side (the fake
    ExchangeOnlineManagement module calls its /adminapi REST endpoint), so
    the sandbox's HTTPS server must run: it is started here if it does not
    yet, and then stopped again by stop(). ``users`` maps user name
    (``DOMAIN\\user`` or ``user``) to password, for Basic and NTLM.
    """
    owns_https = getattr(sandbox, 'httpd', None) is None
    if owns_https:
        sandbox.start()
    users = dict(users or {'ansible': 'Passw0rd!'})
    auth.register_users(users)
    exchange_host = sandbox.exchange
    disk = WindowsHostDisk(sandbox)
    counters = WinrmCounters()
    shells = ShellHost(exchange_host, counters, disk)
    server = WinrmServer((host, port), WinrmHandler)
    server.users = users
    server.verbose = verbose
    server.allow_unencrypted = allow_unencrypted
    server.counters = counters
    server.exchange = exchange_host
    server.endpoint = 'http://%s:%d/wsman' % (host, server.server_address[1])
    server.wsman = WsmanService(shells, counters)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True, name='winrm-emulator')
    thread.start()

    def stop():
        shells.stop()
        server.shutdown()
        server.server_close()
        thread.join(5)
        if owns_https:
            sandbox.stop()

    # The sandbox's control API (exchange/control.py) and its reset reach the emulator through these.
    sandbox.winrm_counters = counters
    sandbox.windows_host = disk
    sandbox.info['windows_host'] = {'certificates': disk.certificates}
    hooks = getattr(sandbox.directory, 'reset_hooks', None)
    if hooks is not None:
        hooks.append(lambda _tenant: (counters.reset(), disk.reset()))

    stop.server = server
    stop.port = server.server_address[1]
    stop.exchange = exchange_host
    stop.counters = counters
    stop.disk = disk
    stop.shells = shells
    return stop
