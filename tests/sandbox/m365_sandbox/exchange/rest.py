"""Exchange Online's REST endpoint as the v3 module uses it: POST /adminapi/beta/{tenant}/InvokeCommand.

Wire shape, status codes and headers follow shared/reference/exchange-online-rest.md
(cited per behaviour in tests/sandbox/README.md). Two routes are sandbox
stand-ins with no Microsoft counterpart, marked weak there:
POST /adminapi/beta/{tenant}/_sandbox/Connect stands for the start-up requests
the real module makes in Connect-ExchangeOnline (token check, connect faults,
the connections counter); .../_sandbox/Disconnect counts disconnections.

handle() answers (status, body, headers), or DROP to close the connection
without an answer.
"""

import json
import urllib.parse
import uuid

from . import cmdlets, role_groups
from .host import AUDIENCES, ServiceDenied
from .model import SERVER, CmdletError, user_not_found

ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'
COMMAND_HEADER = 'x-m365-sandbox-command'
AUDIENCE_HEADER = 'x-m365-sandbox-audience'
# Rows per page before @odata.nextLink (the module's default -PageSize is 1000).
PAGE_SIZE = 1000
DROP = object()
# The service answers 403 with a body of NUL bytes for a cmdlet the caller may not run (reference: medium).
FORBIDDEN_BODY = b'\x00' * 16


def _error(status, code, message, details=None):
    error = {'code': code, 'message': message}
    if details is not None:
        error['details'] = [{'code': 'Context', 'target': '', 'message': details}]
        error['innererror'] = {'message': details, 'type': 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException',
                               'stacktrace': '', 'internalexception': {'message': details, 'type': 'System.Management.Automation.RemoteException',
                                                                       'stacktrace': ''}}
    return status, {'error': error}


def _headers(request_id, extra=None):
    headers = {'request-id': request_id, 'X-CalculatedBETarget': SERVER, 'X-Content-Type-Options': 'nosniff'}
    headers.update(extra or {})
    return headers


def handle(sandbox, method, path, query, headers, body):
    host = sandbox.exchange
    request_id = str(uuid.uuid4())
    parts = [urllib.parse.unquote(p) for p in path.split('/') if p]
    # ['adminapi', version, tenant, action...]
    if len(parts) < 4 or parts[0] != 'adminapi':
        return 404, {'error': {'code': 'NotFound', 'message': 'No Exchange route for %s' % path}}, _headers(request_id)
    version, tenant_key, action = parts[1], parts[2], '/'.join(parts[3:])
    if version != 'beta':
        # Only beta answers; v1.0 gives 405 (reference: medium).
        return 405, {'error': {'code': 'MethodNotAllowed', 'message': 'The requested resource does not support http method %s.' % method}}, \
            _headers(request_id, {'Allow': ''})
    if method != 'POST':
        return 405, {'error': {'code': 'MethodNotAllowed', 'message': 'The requested resource does not support http method %s.' % method}}, \
            _headers(request_id, {'Allow': 'POST'})
    token = (headers.get('authorization') or '').partition(' ')[2].strip() \
        if (headers.get('authorization') or '').lower().startswith('bearer ') else ''
    audience = headers.get(AUDIENCE_HEADER) or AUDIENCES['O365Default']
    command_id = headers.get(COMMAND_HEADER)
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        return _error(400, 'BadRequest', 'Invalid Operation', '||The request body is not JSON.') + (_headers(request_id),)
    if action == '_sandbox/Connect':
        return _connect(host, tenant_key, token, audience, document, request_id)
    if action == '_sandbox/Disconnect':
        host.counters.add('disconnections')
        return 200, {'value': []}, _headers(request_id)
    if action != 'InvokeCommand':
        return 404, {'error': {'code': 'NotFound', 'message': 'No Exchange route for %s' % path}}, _headers(request_id)
    return _invoke(sandbox, host, tenant_key, token, audience, command_id, document, query, request_id)


def _connect(host, tenant_key, token, audience, document, request_id):
    host.latency('connect')
    with host.counters.lock:
        host.counters.connect_params.append(sorted(str(p) for p in document.get('Parameters') or []))
    try:
        if host.faults.connect_error:
            raise ServiceDenied(401, host.faults.connect_error)
        tenant, claims = host.check_token(token, tenant_key, audience)
        if not host.has_role(claims):
            raise ServiceDenied(401, host.role_message(claims))
    except ServiceDenied as exc:
        host.counters.add('connect_failures')
        return exc.status, {'error': {'code': 'Unauthorized', 'message': exc.message}}, _headers(request_id)
    host.counters.add('connections')
    answer = {'TenantId': tenant.tenant_id, 'Organization': tenant.domain}
    # An app whose Exchange role comes from role groups gets only their roles' cmdlets in its session (README, "Role groups").
    allowed = host.role_group_cmdlets(tenant, claims)
    if allowed is not None:
        answer['Cmdlets'] = sorted(allowed)
    return 200, answer, _headers(request_id)


def _rows(objects):
    """Rows on the wire: collections carry an "X@odata.type" annotation (reference: strong for the shape)."""
    rows = []
    for obj in objects:
        row = {}
        for key, value in obj.items():
            if isinstance(value, (list, tuple)):
                row[key + '@odata.type'] = '#Collection(String)'
                value = list(value)
            row[key] = value
        rows.append(row)
    return rows


def _invoke(sandbox, host, tenant_key, token, audience, command_id, document, query, request_id):
    try:
        tenant, claims = host.check_token(token, tenant_key, audience)
    except ServiceDenied as exc:
        return exc.status, {'error': {'code': 'Unauthorized', 'message': exc.message}}, _headers(request_id)
    cmdlet_input = document.get('CmdletInput') if isinstance(document, dict) else None
    if not isinstance(cmdlet_input, dict) or not isinstance(cmdlet_input.get('CmdletName'), str):
        return _error(400, 'BadRequest', 'Invalid Operation', '||CmdletInput.CmdletName is required.') + (_headers(request_id),)
    name = cmdlet_input['CmdletName']
    params = cmdlet_input.get('Parameters') or {}
    if name not in cmdlets.CMDLETS or not host.has_role(claims) or not host.may_run(tenant, claims, name):
        return 403, FORBIDDEN_BODY, _headers(request_id)
    with host.counters.lock:
        host.counters.cmdlets[name] += 1
    if not host.enter(tenant.tenant_id):
        # No Microsoft page gives the number (weak); the wording is what community clients retry on (README).
        message = 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again.'
        headers = {'Retry-After': '1', 'Rate-Limit-Limit': str(host.faults.concurrency_limit), 'Rate-Limit-Remaining': '0'}
        return 429, {'error': {'code': 'TooManyRequests', 'message': message}}, _headers(request_id, headers)
    try:
        return _run(sandbox, host, tenant, tenant_key, name, params, command_id, query, request_id,
                    host.role_group_caller(tenant, claims))
    finally:
        host.leave(tenant.tenant_id)


def _run(sandbox, host, tenant, tenant_key, name, params, command_id, query, request_id, role_group_app=None):
    write = name in cmdlets.WRITES
    # Sleep outside the model lock: calls of other tasks (forks, tenants) wait on the service concurrently, as they do for real.
    host.latency('write' if write else 'read', name)
    if write and host.write_is_dropped(command_id):
        if host.faults.drop_mode == 'winrm' and host.drop_command is not None:
            host.drop_command(command_id)
        return DROP
    if host.throttled(name):
        retry_after = host.faults.throttle_retry_after
        with host.counters.lock:
            host.counters.throttled += 1
            host.counters.sleeps += retry_after
        # The body's wording is weak (no capture); status and headers follow the REST notes.
        message = 'Server Busy: the request was throttled (TooManyRequests, MicroDelay). Please retry after %s seconds.' % retry_after
        headers = {'Retry-After': str(retry_after), 'Rate-Limit-Limit': '10', 'Rate-Limit-Remaining': '0', 'Rate-Limit-Reset': str(retry_after)}
        return 429, {'error': {'code': 'TooManyRequests', 'message': message}}, _headers(request_id, headers)
    injected = host.injected_error(name, params)
    if injected:
        # A server error that is not the cmdlet's own (weak: the text of a real 500 is not known; the module raises it as
        # a plain error, as it does any answer that is not a success).
        status, message = injected
        return _error(status, 'InternalServerError', 'Error executing cmdlet',
                      '||%s' % (message or 'An internal server error occurred. Please try again later.')) + (_headers(request_id),)
    try:
        with host.lock:
            org = host.org_for(tenant)
            org.user_form = host.faults.unresolved_user_form
            user = host.unresolved(params)
            if user is not None:
                raise user_not_found(user, org.user_form)
            if role_group_app:
                role_groups.check_assignment(org, role_group_app, name, params)
            objects, warnings = cmdlets.invoke(org, name, params)
    except CmdletError as exc:
        if exc.status == 404:
            return _error(404, 'NotFound', 'Error executing cmdlet', exc.wire_message()) + (_headers(request_id),)
        return _error(400, 'BadRequest', 'Invalid Operation', exc.wire_message()) + (_headers(request_id),)
    except (KeyError, TypeError, ValueError) as exc:
        return _error(400, 'BadRequest', 'Invalid Operation', '||A parameter cannot be processed: %s' % exc) + (_headers(request_id),)
    if write:
        host.count_write(command_id)
    skip = int(dict(urllib.parse.parse_qsl(query or '')).get('$skiptoken') or 0)
    rows = _rows(objects)
    page = rows[skip:skip + PAGE_SIZE]
    answer = {
        '@odata.context': '%s/adminapi/beta/%s/$metadata#Collection(Exchange.GenericHashTable)' % (sandbox.base_url, tenant_key),
        'adminapi.warnings@odata.type': '#Collection(String)',
        '@adminapi.warnings': warnings if skip == 0 else [],
        'value': page,
    }
    if skip + PAGE_SIZE < len(rows):
        answer['@odata.nextLink'] = '%s/adminapi/beta/%s/InvokeCommand?%%24skiptoken=%d' % (sandbox.base_url, tenant_key, skip + PAGE_SIZE)
    return 200, answer, _headers(request_id, {'Content-Type': ODATA_JSON})
