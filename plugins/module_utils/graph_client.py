# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Graph over HTTPS: one request path with retries, paging and error mapping."""

import json
import uuid

from ansible_collections.m365.mail_oauth.plugins.module_utils import signin
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import TokenProvider, sign_in_credentials, decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, GraphError
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import (
    SSL_ERRORS, host_port, make_session, unreachable_message, unreachable_reason)
from ansible_collections.m365.mail_oauth.plugins.module_utils.retry import RETRY_STATUSES, Backoff, connect_backoff, parse_retry_after

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

try:
    import requests
except ImportError:  # pragma: no cover - the module wrapper reports it
    requests = None

# Answers that mean "the object this run just created has not reached the
# replica that served the request yet" (Graph is eventually consistent).
REPLICATION_CODES = frozenset([
    'Request_ResourceNotFound', 'NoBackingApplicationObject', 'ResourceNotFound', 'Request_BadRequest',
])
REPLICATION_MESSAGES = ('does not exist', 'not found', 'does not reference a valid application object',
                        'invalid object identifier')

HINTS = {
    'Authorization_RequestDenied': 'the identity the collection runs as lacks the Graph application permission %s '
                                   '(with admin consent; docs/permissions.md lists what each playbook needs)',
    'InvalidAuthenticationToken': 'the access token is not valid for Microsoft Graph (expired, or issued for another resource)',
    'Authentication_ExpiredToken': 'the access token has expired',
}


def odata_string(value):
    """A string literal for an OData key or $filter: quoted, with quotes doubled."""
    return "'%s'" % value.replace("'", "''")


def key_path(collection, key, value):
    """collection(key='value'), URL-encoded, for alternate-key addressing such as uniqueName or appId."""
    return '%s(%s=%s)' % (collection, key, quote(odata_string(value), safe="'"))


def needed_permission(method, path):
    """The least Graph application permission that allows this call, for the message when it was denied."""
    path = path.lstrip('/')
    if 'oauth2PermissionGrants' in path:
        return 'DelegatedPermissionGrant.ReadWrite.All'
    if 'appRoleAssignedTo' in path and method != 'GET':
        return 'AppRoleAssignment.ReadWrite.All'
    if path.startswith('roleManagement'):
        return 'RoleManagement.Read.Directory' if method == 'GET' else 'RoleManagement.ReadWrite.Directory'
    if path.startswith('organization'):
        return 'Organization.Read.All (or Application.Read.All)'
    if path.startswith('users'):
        return 'User.Read.All'
    return 'Application.Read.All (Application.ReadWrite.All to change anything)' if method == 'GET' else 'Application.ReadWrite.All'


def _graph_error(method, url, status, payload, reason=None, request_id=None, claims=None):
    """A GraphError that says what failed and, for known codes, what to do.

    claims: the token's, when it is a person's: a refusal then names the scope or the directory role the person lacks."""
    error = (payload or {}).get('error') or {} if isinstance(payload, dict) else {}
    # The specific reason is sometimes only in details (NoBackingApplicationObject under Request_BadRequest).
    details = [d.get('code') for d in error.get('details') or [] if d.get('code')]
    code = details[0] if details and error.get('code') in (None, 'Request_BadRequest') else error.get('code')
    message = error.get('message') or reason
    request_id = (error.get('innerError') or {}).get('request-id') or request_id
    path = url.split('/v1.0', 1)[-1].split('?', 1)[0]
    msg = 'Graph %s %s failed: %s %s: %s' % (method, path, status, code or '', message)
    if code == 'Authorization_RequestDenied' and signin.is_delegated(claims):
        msg += ' (%s)' % signin.explain_denied(claims, needed_permission(method, path))
    elif code == 'Authorization_RequestDenied':
        msg += ' (%s)' % (HINTS[code] % needed_permission(method, path))
    elif code in HINTS:
        msg += ' (%s)' % HINTS[code]
    if request_id:
        msg += ' [request-id %s]' % request_id
    return GraphError(msg, status=status, code=code, request_id=request_id, method=method, url=url)


def _error_from_response(method, url, response, claims=None):
    try:
        payload = response.json()
    except ValueError:
        payload = None
    return _graph_error(method, url, response.status_code, payload, response.reason, response.headers.get('request-id'), claims)


def is_replication_delay(error):
    if error.status == 404:
        return True
    if error.status != 400:
        return False
    lowered = (error.msg or '').lower()
    return error.code in REPLICATION_CODES and any(m in lowered for m in REPLICATION_MESSAGES)


class GraphClient:
    """A thin client: the modules speak Graph's own paths and JSON, this adds the plumbing."""

    def __init__(self, token_provider, cloud, session, retry_timeout=300, request_timeout=60,
                 api_version='v1.0', backoff_factory=None, announce=None, connect_backoff_factory=None):
        self.tokens = token_provider
        self.cloud = cloud
        self.session = session
        self.base = '%s/%s' % (cloud.graph, api_version)
        self.request_timeout = request_timeout
        # announce(text): a long wait says what it waits for (a warning), instead of a silent pause.
        self.backoff_factory = backoff_factory or (lambda: Backoff(retry_timeout, announce=announce))
        self.connect_backoff_factory = connect_backoff_factory or connect_backoff
        self.calls = 0
        # The bearer token last sent, to explain a refusal of a person's call by its claims.
        self._last_token = None

    def _claims(self):
        """The last token's claims when the calls run as a person, else None (an app's refusal reads as before)."""
        if not self.tokens.credentials.delegated or not self._last_token:
            return None
        return decode_jwt_claims(self._last_token)

    def _url(self, path):
        return path if path.startswith('https://') or path.startswith('http://') else self.base + '/' + path.lstrip('/')

    def _send(self, method, url, body, params, headers):
        self._last_token = self.tokens.token(self.cloud.graph_resource)
        all_headers = {
            'Authorization': 'Bearer ' + self._last_token,
            'Accept': 'application/json',
            'client-request-id': str(uuid.uuid4()),
        }
        if body is not None:
            all_headers['Content-Type'] = 'application/json'
        all_headers.update(headers or {})
        self.calls += 1
        return self.session.request(method, url, params=params, headers=all_headers, timeout=self.request_timeout,
                                    data=None if body is None else json.dumps(body))

    def request(self, method, path, body=None, params=None, headers=None, retry_missing=False):
        """Send one request; returns (status, parsed body or None).

        Throttling and transient server errors are retried until the deadline,
        honouring Retry-After. With retry_missing, 404 and the replication-delay
        400s are retried too: set it only for objects known to exist (created by
        this run), or a real "missing" would wait for the whole deadline.
        """
        url = self._url(path)
        backoff = self.backoff_factory()
        connect = None
        while True:
            try:
                response = self._send(method, url, body, params, headers)
            except SSL_ERRORS as exc:
                raise GraphError('TLS verification of %s failed: %s; set ca_path to the CA that signed the Graph endpoint '
                                 '(validate_certs=false only for tests)' % (self.cloud.graph, exc), method=method, url=url)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                unreachable = unreachable_reason(exc)
                if unreachable:
                    # Seconds, not retry_timeout: nothing listening, or no such name, is a setting to fix.
                    connect = connect or self.connect_backoff_factory()
                    if connect.wait():
                        continue
                    raise GraphError(unreachable_message('Graph %s %s' % (method, path), url, unreachable, connect.attempt,
                                                         connect.elapsed), method=method, url=url, code=unreachable)
                if backoff.wait(reason='no answer from %s (%s)' % (host_port(url), type(exc).__name__)):
                    continue
                raise GraphError('Graph %s %s: no answer from %s: %s' % (method, path, self.cloud.graph, exc), method=method, url=url)
            if response.status_code < 400:
                return response.status_code, (response.json() if response.content else None)
            error = _error_from_response(method, url, response, self._claims())
            retryable = response.status_code in RETRY_STATUSES or (retry_missing and is_replication_delay(error))
            if retryable and backoff.wait(parse_retry_after(response.headers.get('Retry-After')), reason=_wait_reason(method, path, error)):
                continue
            raise error

    def get(self, path, params=None, missing_ok=False, retry_missing=False):
        try:
            return self.request('GET', path, params=params, retry_missing=retry_missing)[1]
        except GraphError as exc:
            if missing_ok and exc.not_found:
                return None
            raise

    def list(self, path, params=None):
        """Every item of a collection, following @odata.nextLink."""
        return self._rest_of_pages(self.request('GET', path, params=params)[1]).get('value', [])

    def post(self, path, body, retry_missing=False):
        return self.request('POST', path, body=body, retry_missing=retry_missing)[1]

    def patch(self, path, body, headers=None, retry_missing=False):
        return self.request('PATCH', path, body=body, headers=headers, retry_missing=retry_missing)

    def delete(self, path, missing_ok=True):
        try:
            self.request('DELETE', path)
            return True
        except GraphError as exc:
            if missing_ok and exc.not_found:
                return False
            raise

    def batch_get(self, requests, retry_missing=False):
        """Several GETs in one $batch call: [(path, params)] -> [body or None when missing], in order.

        One HTTP round trip instead of one per read. Items Graph answers with
        throttling or a transient error are sent again (only those), after the
        longest Retry-After among them; a missing object is None unless
        retry_missing asks to wait for it.
        """
        results = [None] * len(requests)
        pending = list(range(len(requests)))
        backoff = self.backoff_factory()
        while pending:
            body = {'requests': [{'id': str(i), 'method': 'GET', 'url': _relative_url(*requests[i])} for i in pending[:BATCH_LIMIT]]}
            answers = dict((a['id'], a) for a in self.request('POST', '$batch', body=body)[1]['responses'])
            retry, waits, first = [], [], None
            for index in pending[:BATCH_LIMIT]:
                answer = answers[str(index)]
                status = answer['status']
                if status < 400:
                    results[index] = self._rest_of_pages(answer.get('body'))
                    continue
                error = _error_from_item(requests[index][0], answer, self._claims())
                if status in RETRY_STATUSES or (retry_missing and is_replication_delay(error)):
                    retry.append(index)
                    first = first or error  # what the wait announces, and the error if it runs out
                    waits.append(parse_retry_after((answer.get('headers') or {}).get('Retry-After')))
                elif not error.not_found:
                    raise error
            pending = retry + pending[BATCH_LIMIT:]
            if retry:
                if not backoff.wait(max((w for w in waits if w is not None), default=None),
                                    reason=_wait_reason('GET', requests[retry[0]][0], first)):
                    raise first
        return results

    def _rest_of_pages(self, page):
        """A collection page with the items of every following page (@odata.nextLink) added; other bodies unchanged."""
        if not page or '@odata.nextLink' not in page:
            return page
        items = list(page.get('value', []))
        while page.get('@odata.nextLink'):
            page = self.request('GET', page['@odata.nextLink'])[1]
            items.extend(page.get('value', []))
        return {'value': items}


# Graph refuses more requests than this in one $batch.
BATCH_LIMIT = 20


def _relative_url(path, params=None):
    query = '&'.join('%s=%s' % (quote(k, safe='$'), quote(str(v), safe="',()$= ")) for k, v in sorted((params or {}).items()))
    return '/' + path.lstrip('/') + ('?' + query if query else '')


def _wait_reason(method, path, error):
    """What a retry waits for, in the words the person running the playbook needs."""
    if error.status == 429:
        why = 'throttled by Microsoft Graph (429)'
    elif error.status in RETRY_STATUSES:
        why = 'Microsoft Graph answered %s (a transient service error)' % error.status
    else:
        why = 'the object was created moments ago and has not reached every Graph replica yet (%s %s)' % (error.status, error.code or '')
    return 'Graph %s %s: %s' % (method, path.split('?', 1)[0], why)


def _error_from_item(path, answer, claims=None):
    return _graph_error('GET', path, answer['status'], answer.get('body'), claims=claims)


def build_client(params, credentials, warn):
    """The Graph client for a task's Graph auth options (GRAPH_AUTH_SPEC): what the modules and the Exchange actions use.

    warn(msg) reports a warning (AnsibleModule.warn in a module, Display.warning in an action plugin).
    """
    retry_timeout = params.get('retry_timeout', 300)
    validate_certs = params.get('validate_certs', True)
    if not validate_certs:
        warn('validate_certs is false: the TLS certificates of the login and Graph endpoints are not verified')
    session = make_session(params.get('ca_path'), validate_certs)
    if retry_timeout < 0:
        raise ConfigError('retry_timeout must be 0 or more seconds, got %s' % retry_timeout)
    tokens = TokenProvider(credentials, session, retry_timeout=retry_timeout, announce=warn)
    return GraphClient(tokens, credentials.cloud, session, retry_timeout=retry_timeout,
                       request_timeout=params.get('request_timeout', 60), announce=warn)


class LazyGraph(object):
    """The credentials and the Graph client of a task's Graph auth options, each built on first use.

    GraphModule and the Exchange actions' ControllerGraph are this; protect_credentials is where each keeps the
    secrets out of its output.
    """

    def __init__(self, params, warn):
        self.params = params
        self._warn = warn
        self._credentials = None
        self._client = None

    def protect_credentials(self, credentials):
        """Called once, when the credentials have been read."""

    @property
    def credentials(self):
        if self._credentials is None:
            self._credentials = sign_in_credentials(self.params)
            self.protect_credentials(self._credentials)
        return self._credentials

    @property
    def client(self):
        if self._client is None:
            self._client = build_client(self.params, self.credentials, self._warn)
        return self._client

    @property
    def calls(self):
        """Graph requests sent so far."""
        return self._client.calls if self._client is not None else 0
