"""OData pieces of Graph: the error envelope, $select, $filter, paging."""

import base64
import copy
import datetime
import re
import urllib.parse

MAX_TOP = 999


class GraphError(Exception):
    """An error Graph would answer; turned into the Graph error envelope."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def error_body(code, message, request_id, client_request_id, details=None):
    error = {'code': code, 'message': message}
    if details:
        error['details'] = details
    error['innerError'] = {
        'date': now_iso(),
        'request-id': request_id,
        'client-request-id': client_request_id,
    }
    return {'error': error}


def not_found(key):
    return GraphError(404, 'Request_ResourceNotFound',
                      "Resource '%s' does not exist or one of its queried reference-property objects are not present." % key)


def bad_request(message, code='Request_BadRequest', details=None):
    return GraphError(400, code, message, details)


def parse_select(query, spec):
    raw = query.get('$select')
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(',') if name.strip()]
    for name in names:
        if name not in spec.properties:
            raise bad_request("Could not find a property named '%s' on type 'microsoft.graph.%s'." % (name, spec.name))
    return names


def project(obj, spec, select):
    """Shape an object for output: the default or selected properties.

    keyCredentials[].key is only sent when keyCredentials was selected
    explicitly, as Graph does.
    """
    names = select if select is not None else spec.default_properties()
    out = {}
    for name in names:
        value = copy.deepcopy(obj.get(name))
        if name == 'keyCredentials' and value and select is None:
            for cred in value:
                cred['key'] = None
        if name == 'passwordCredentials' and value:
            for cred in value:
                cred['secretText'] = None
        out[name] = value
    if 'id' not in out and 'id' in obj:
        # Graph always sends the key of a selected entity.
        out = dict({'id': obj['id']}, **out)
    return out


_EQ = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false|null|[0-9a-fA-F-]{36}))\s*$")
_STARTSWITH = re.compile(r"^\s*startswith\(\s*([A-Za-z][A-Za-z0-9]*)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$")
_LITERALS = {'true': True, 'false': False, 'null': None}


def parse_filter(query, spec):
    """Return a predicate for `$filter`: `eq` and `startswith` clauses joined by `and`."""
    raw = query.get('$filter')
    if raw is None:
        return None
    clauses = []
    for part in re.split(r'\s+and\s+', raw.strip()):
        match = _EQ.match(part)
        if match:
            name, quoted, literal = match.groups()
            value = quoted.replace("''", "'") if quoted is not None else _LITERALS.get(literal, literal)
            clauses.append((name, 'eq', value))
            continue
        match = _STARTSWITH.match(part)
        if match:
            clauses.append((match.group(1), 'startswith', match.group(2).replace("''", "'")))
            continue
        raise bad_request('Invalid filter clause: %s' % part, code='BadRequest')
    for name, _op, _value in clauses:
        if name not in spec.filterable:
            raise GraphError(400, 'Request_UnsupportedQuery',
                             "Unsupported or invalid query filter clause specified for property '%s' of resource '%s'."
                             % (name, spec.name[0].upper() + spec.name[1:]))

    def predicate(obj):
        for name, op, value in clauses:
            have = obj.get(name)
            if op == 'eq':
                if isinstance(have, str) and isinstance(value, str):
                    # Directory string comparisons are case-insensitive.
                    if have.lower() != value.lower():
                        return False
                elif have != value:
                    return False
            elif not (isinstance(have, str) and have.lower().startswith(value.lower())):
                return False
        return True

    return predicate


def parse_top(query, default_page_size):
    raw = query.get('$top')
    if raw is None:
        return default_page_size
    try:
        top = int(raw)
    except ValueError:
        raise bad_request("Invalid page size specified: '%s'. Must be between 1 and %d inclusive." % (raw, MAX_TOP)) from None
    if top < 1 or top > MAX_TOP:
        raise bad_request("Invalid page size specified: '%s'. Must be between 1 and %d inclusive." % (raw, MAX_TOP))
    return top


def encode_skiptoken(offset):
    return base64.urlsafe_b64encode(('RFNwdAIAAQAAA:%d' % offset).encode('ascii')).decode('ascii').rstrip('=')


def decode_skiptoken(token):
    try:
        padded = token + '=' * (-len(token) % 4)
        return int(base64.urlsafe_b64decode(padded.encode('ascii')).decode('ascii').rsplit(':', 1)[1])
    except (ValueError, IndexError):
        raise bad_request("Invalid value '%s' for query parameter $skiptoken." % token, code='Directory_ExpiredPageToken') from None


def page(items, query, page_size, self_url):
    """Cut one page from `items`; return (page_items, next_link or None)."""
    top = parse_top(query, page_size)
    offset = decode_skiptoken(query['$skiptoken']) if '$skiptoken' in query else 0
    chunk = items[offset:offset + top]
    next_link = None
    if offset + top < len(items):
        params = [(k, v) for k, v in query.items() if k != '$skiptoken']
        if '$top' not in query:
            params.append(('$top', str(top)))
        params.append(('$skiptoken', encode_skiptoken(offset + top)))
        next_link = self_url + '?' + urllib.parse.urlencode(params, safe="$',()")
    return chunk, next_link
