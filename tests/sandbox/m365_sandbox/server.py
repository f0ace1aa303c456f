"""The sandbox process: the `Sandbox` object (directory, token service, faults,
settings, extra listeners) and its HTTPS front door.

Seam for other listeners (the WinRM emulator): append a callable
`start(sandbox) -> stop` to `Sandbox.listeners` before `start()`. It runs
after the HTTPS server is up and before sandbox.json is written, may put its
connection details into `sandbox.info` (e.g. `sandbox.info['winrm']`), and can
use `sandbox.directory` (under `sandbox.directory.lock`), `sandbox.verify_token`
and `sandbox.faults`.
"""

import base64
import json
import os
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import control, graph_batch, pki
from .directory import Directory, TenantSeed
from .exchange import rest as exchange_rest
from .exchange.host import ExchangeHost
from .faults import Faults
from .graph_api import GraphApi
from .objects import new_guid, new_secret_text
from .odata import GraphError, error_body
from .tokens import TokenError, TokenService
from .tokens import error_body as token_error_body

ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'
FAULT_ERRORS = {
    429: ('Request_ThrottledTemporarily', 'Your request is throttled temporarily. Please try after %s seconds.'),
    500: ('Service_InternalServerError', 'Encountered an internal server error.'),
    502: ('BadGateway', 'The server received an invalid response from an upstream server.'),
    503: ('Service_ServiceUnavailable', 'Service is temporarily unavailable. Please try again after %s seconds.'),
    504: ('GatewayTimeout', 'The server did not receive a timely response from an upstream server.'),
}


class Sandbox:
    def __init__(self, state_dir, host='localhost', port=0, winrm_port=None, tenants=1, mailboxes=5,
                 latency=None, page_size=100, token_lifetime=3599):
        self.state_dir = os.path.abspath(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.host = host
        self.port = port
        self.winrm_port = winrm_port
        # device_code_*: what Microsoft's device authorization response gives (expires_in 900, interval 5); tests shorten them.
        self._default_settings = {'page_size': page_size, 'token_lifetime': token_lifetime, 'device_code_lifetime': 900,
                                  'device_code_interval': 5}
        self.settings = dict(self._default_settings)
        self.faults = Faults(latency)
        self._make_pki()
        # tenants: a count, or (tenant_id, domain, mailbox count) per tenant for tests that need fixed names.
        specs = tenants if isinstance(tenants, (list, tuple)) else [(None, None, mailboxes)] * tenants
        self.seeds = [self._make_seed(index, count, tenant_id, domain) for index, (tenant_id, domain, count) in enumerate(specs, 1)]
        # Only the holder of this value (like the App Service sandbox) may ask for the managed identity's tokens.
        self.identity_header = new_secret_text()
        self.directory = Directory(self.seeds)
        self.tokens = TokenService(self.directory, self.signing_key, self.signing_cert, None, self.settings)
        self.graph = GraphApi(self)
        # Exchange Online's REST side (exchange/rest.py); the WinRM emulator's Windows host talks to it through real pwsh.
        self.exchange = ExchangeHost(self.directory.tenant, self.verify_token, lock=self.directory.lock)
        self.directory.reset_hooks.append(lambda _tenant: self.exchange.reset())
        self.listeners = []
        self.info = {'winrm': None}
        self._stops = []
        self.httpd = None
        self._log_lock = threading.Lock()

    # Key material and seeds -------------------------------------------------

    def _path(self, name):
        return os.path.join(self.state_dir, name)

    def _make_pki(self):
        ca_key, ca_cert = pki.make_ca()
        hosts = [self.host] + [h for h in ('localhost', '127.0.0.1', '::1') if h != self.host]
        server_key, server_cert = pki.make_server_cert(ca_key, ca_cert, hosts)
        pki.write_public(self._path('ca.pem'), pki.cert_pem(ca_cert))
        pki.write_private(self._path('server.pem'), pki.cert_pem(server_cert) + pki.private_pem(server_key))
        self.signing_key, self.signing_cert = pki.make_client_cert('m365 sandbox token signing')
        pki.write_public(self._path('signing-public.pem'), pki.public_pem(self.signing_key))
        pki.write_public(self._path('signing-cert.pem'), pki.cert_pem(self.signing_cert))

    def _make_seed(self, index, mailboxes, tenant_id=None, domain=None):
        tenant_id = tenant_id or new_guid()
        key, cert = pki.make_client_cert('m365 sandbox admin')
        cert_path = self._path('admin-%s.pem' % tenant_id)
        pki.write_private(cert_path, pki.private_pem(key) + pki.cert_pem(cert))
        der = pki.cert_der(cert)
        seed = TenantSeed(
            index=index, tenant_id=tenant_id, domain=domain or 'tenant%d.onmicrosoft.com' % index,
            admin_client_id=new_guid(), admin_secret=new_secret_text(), admin_secret_key_id=new_guid(),
            admin_cert_b64=base64.b64encode(der).decode('ascii'), admin_cert_key_id=new_guid(),
            mailbox_count=mailboxes, certificate_path=cert_path, certificate_thumbprint=pki.sha1_thumbprint(der),
        )
        return seed

    def seed_for(self, tenant_id):
        return next(seed for seed in self.seeds if seed.tenant_id == tenant_id)

    # Shared services ---------------------------------------------------------

    @property
    def base_url(self):
        return 'https://%s:%d' % (self.host if ':' not in self.host else '[%s]' % self.host, self.port)

    graph_url = base_url
    authority_url = base_url

    def verify_token(self, token, audiences=None):
        """Claims of a valid sandbox token (raises tokens.InvalidToken)."""
        return self.tokens.verify_token(token, audiences)

    def reset(self):
        with self.directory.lock:
            self.directory.reset()
            self.tokens.reset_sessions()
            self.faults.reset()
            self.settings.clear()
            self.settings.update(self._default_settings)

    # Lifecycle ---------------------------------------------------------------

    def start(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._path('server.pem'))
        handler = type('BoundHandler', (Handler,), {'sandbox': self})
        self.httpd = QuietServer((self.host, self.port), handler)
        # The TLS handshake runs in the handler thread (Handler.setup), not in accept().
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self.tokens.base_url = self.base_url
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.2}, name='sandbox-https', daemon=True)
        thread.start()
        for start in self.listeners:
            self._stops.append(start(self))
        self._write_info()

    def stop(self):
        for stop in reversed(self._stops):
            if stop is not None:
                stop()
        self._stops = []
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        try:
            os.unlink(self._path('sandbox.json'))
        except FileNotFoundError:
            pass

    def _people(self, tenant_id):
        with self.directory.lock:
            return self.directory.tenant(tenant_id).people()

    def _write_info(self):
        self.info.update({
            'pid': os.getpid(),
            'base_url': self.base_url,
            'authority_url': self.authority_url,
            'graph_url': self.graph_url,
            'control_url': self.base_url + '/_sandbox',
            'ca_path': self._path('ca.pem'),
            'signing_kid': self.tokens.kid,
            'signing_public_key_path': self._path('signing-public.pem'),
            # The controller's managed identity, as Azure App Service / Functions expose it (IDENTITY_ENDPOINT/HEADER).
            'managed_identity': {'endpoint': self.base_url + '/msi/token', 'header': self.identity_header,
                                 'tenant_id': self.seeds[0].tenant_id, 'client_id': self.seeds[0].admin_client_id},
            'tenants': [
                {
                    'tenant_id': seed.tenant_id,
                    'domain': seed.domain,
                    'admin': {
                        'client_id': seed.admin_client_id,
                        'client_secret': seed.admin_secret,
                        'certificate_path': seed.certificate_path,
                        'certificate_thumbprint': seed.certificate_thumbprint,
                    },
                    'mailboxes': [u['userPrincipalName'] for u in self.directory.mailboxes(seed.tenant_id)],
                    # The people who may sign in (control API approves their device codes), with their directory roles.
                    'people': self._people(seed.tenant_id),
                }
                for seed in self.seeds
            ],
        })
        if self.winrm_port is not None and self.info.get('winrm') is None:
            self.info['winrm_port_requested'] = self.winrm_port
        tmp = self._path('sandbox.json.tmp')
        pki.write_private(tmp, json.dumps(self.info, indent=2).encode('utf-8'))
        os.replace(tmp, self._path('sandbox.json'))

    def log(self, line):
        with self._log_lock, open(self._path('access.log'), 'a', encoding='utf-8') as handle:
            handle.write(line + '\n')


def graph_response(sandbox, method, path, query, headers, body, route_prefix=''):
    """One Graph request, faults included: (status, body, headers). Used for plain requests and $batch items alike."""
    request_id = str(uuid.uuid4())
    client_request_id = headers.get('client-request-id') or request_id
    base_headers = {
        'request-id': request_id,
        'client-request-id': client_request_id,
        'x-ms-ags-diagnostic': json.dumps({'ServerInfo': {'DataCenter': 'Sandbox', 'Slice': 'E', 'Ring': '1', 'ScaleUnit': '000',
                                                          'RoleInstance': 'SANDBOX', 'ADSiteName': 'LOCAL'}}),
        'Strict-Transport-Security': 'max-age=31536000',
    }
    fault = sandbox.faults.injected('graph', method, urllib.parse.unquote(path))
    if fault:
        status, retry_after, _kind = fault
        code, message = FAULT_ERRORS.get(status, ('UnknownError', 'An error has occurred.'))
        extra = dict(base_headers)
        if retry_after is not None:
            extra['Retry-After'] = retry_after
        message = message % retry_after if '%s' in message else message
        sandbox.faults.count_graph(route_prefix + 'fault', status, batched=bool(route_prefix))
        return status, error_body(code, message, request_id, client_request_id), extra
    result, route = sandbox.graph.handle(method, path, query, headers, body)
    if isinstance(result, GraphError):
        sandbox.faults.count_graph(route_prefix + route, result.status, batched=bool(route_prefix))
        return result.status, error_body(result.code, result.message, request_id, client_request_id, result.details), \
            dict(base_headers, **result.headers)
    status, payload, extra = result
    sandbox.faults.count_graph(route_prefix + route, status, batched=bool(route_prefix))
    return status, payload, dict(base_headers, **extra)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients dropping connections or failing TLS are normal in tests.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError, OSError)):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'Microsoft-IIS/10.0'
    sys_version = ''
    sandbox = None  # set on the bound subclass
    timeout = 60

    def setup(self):
        self.request.settimeout(self.timeout)
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the client's delayed ACK
        # add ~40 ms to every answer on a kept-alive connection (the fake Exchange module makes thousands).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        self.sandbox.log('%s %s' % (time.strftime('%H:%M:%S'), format % args))

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PATCH(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        self._dispatch()

    def _read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    self.rfile.readline()
                    return b''.join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def _send(self, status, body=None, headers=None, content_type='application/json'):
        data = b'' if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode('utf-8'))
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        if status != 204:
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(data)))
        self.send_header('Cache-Control', 'no-cache')
        self.end_headers()
        if status != 204 and data:
            self.wfile.write(data)

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            if path.startswith('/v1.0/'):
                self._graph(path[len('/v1.0/'):], url.query, headers, body)
            elif path.startswith('/adminapi/'):
                self._exchange(path, url.query, headers, body)
            elif path.startswith('/_sandbox/'):
                self._control(path[len('/_sandbox/'):], body)
            else:
                self._login(path, headers, body)
        except Exception:  # pylint: disable=broad-exception-caught
            # A sandbox bug must show up as a 500 with a traceback in stderr.log, not as a dropped connection.
            traceback.print_exc()
            self._send(500, {'error': {'code': 'SandboxInternalError', 'message': 'sandbox bug, see stderr.log in the state dir'}})

    # Graph -------------------------------------------------------------------

    def _graph(self, path, query, headers, body):
        sandbox = self.sandbox
        delay = sandbox.faults.latency('graph')
        if delay:
            time.sleep(delay)
            sandbox.faults.count_latency('graph', delay)
        if path == '$batch' and self.command == 'POST':
            status, payload, extra = graph_batch.handle(sandbox, headers, body, graph_response)
        else:
            status, payload, extra = graph_response(sandbox, self.command, path, query, headers, body)
        self._send(status, payload, extra, content_type=ODATA_JSON)

    # Exchange Online (REST) ---------------------------------------------------

    def _exchange(self, path, query, headers, body):
        answer = exchange_rest.handle(self.sandbox, self.command, path, query, headers, body)
        if answer is exchange_rest.DROP:
            # The emulated lost connection: no answer at all.
            self.close_connection = True
            self.connection.close()
            return
        status, payload, extra = answer
        content_type = extra.pop('Content-Type', 'application/json;charset=utf-8')
        self._send(status, payload, extra, content_type=content_type)

    # Control -----------------------------------------------------------------

    def _control(self, path, raw):
        self.sandbox.faults.count_control()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self._send(400, {'error': 'body is not JSON'})
            return
        if not isinstance(body, dict):
            self._send(400, {'error': 'body must be a JSON object'})
            return
        status, payload = control.handle(self.sandbox, self.command, path, body)
        self._send(status, payload)

    # Login -------------------------------------------------------------------

    def _login(self, path, headers, raw):
        sandbox = self.sandbox
        parts = [p for p in path.split('/') if p]
        correlation_id = headers.get('client-request-id') or str(uuid.uuid4())
        delay = sandbox.faults.latency('token')
        if delay:
            time.sleep(delay)
            sandbox.faults.count_latency('token', delay)
        try:
            if len(parts) == 4 and parts[1:] == ['v2.0', '.well-known', 'openid-configuration'] and self.command == 'GET':
                self._send(200, sandbox.tokens.openid_configuration(parts[0]))
            elif len(parts) >= 3 and parts[1] == 'discovery' and parts[-1] == 'keys' and self.command == 'GET':
                self._send(200, sandbox.tokens.jwks())
            elif parts[1:] == ['oauth2', 'v2.0', 'token'] and self.command == 'POST':
                self._token(parts[0], raw, correlation_id)
            elif parts[1:] == ['oauth2', 'v2.0', 'devicecode'] and self.command == 'POST':
                form = dict(urllib.parse.parse_qsl(raw.decode('utf-8'), keep_blank_values=True))
                answer = sandbox.tokens.device_authorization(parts[0], form)
                sandbox.faults.count_token('devicecode', 200)
                self._send(200, answer, {'client-request-id': correlation_id})
            elif parts == ['msi', 'token'] and self.command == 'GET':
                self._managed_identity_token(headers)
            else:
                self._send(404, {'error': 'not_found', 'error_description': 'No sandbox route for %s %s' % (self.command, path)})
        except TokenError as exc:
            sandbox.faults.count_token('AADSTS%d' % exc.code, exc.status)
            self._send(exc.status, token_error_body(exc, correlation_id), {'client-request-id': correlation_id})

    def _managed_identity_token(self, headers):
        """App Service's managed identity endpoint: the identity is tenant 1's admin app (what the controller runs as)."""
        sandbox = self.sandbox
        if headers.get('x-identity-header') != sandbox.identity_header:
            self._send(401, {'statusCode': 401, 'message': 'X-IDENTITY-HEADER is missing or wrong'})
            return
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        seed = sandbox.seeds[0]
        with sandbox.directory.lock:
            tenant = sandbox.directory.tenant(seed.tenant_id)
            app = tenant.app_by('appId', seed.admin_client_id)
            try:
                token = sandbox.tokens.mint(tenant, app, query.get('resource') or '')
            except ValueError:
                self._send(500, {'statusCode': 500, 'message': 'unknown resource %s' % query.get('resource')})
                return
        sandbox.faults.count_token('managed_identity', 200)
        claims = json.loads(base64.urlsafe_b64decode(token.split('.')[1] + '==='))
        self._send(200, {'access_token': token, 'expires_on': str(claims['exp']), 'resource': query.get('resource'),
                         'token_type': 'Bearer', 'client_id': seed.admin_client_id})

    def _token(self, tenant_key, raw, correlation_id):
        sandbox = self.sandbox
        fault = sandbox.faults.injected('token', 'POST')
        if sandbox.faults.token_endpoint_down or fault:
            status, retry_after = (fault[0], fault[1]) if fault else (503, 5)
            exc = TokenError(status, 'temporarily_unavailable', 90033, 'AADSTS90033: A transient error has occurred. Please try again.')
            sandbox.faults.count_token('unavailable', status)
            extra = {'client-request-id': correlation_id}
            if retry_after is not None:
                extra['Retry-After'] = retry_after
            self._send(status, token_error_body(exc, correlation_id), extra)
            return
        form = dict(urllib.parse.parse_qsl(raw.decode('utf-8'), keep_blank_values=True))
        answer = sandbox.tokens.issue(tenant_key, form)
        sandbox.faults.count_token('issued', 200)
        self._send(200, answer, {'client-request-id': correlation_id})
