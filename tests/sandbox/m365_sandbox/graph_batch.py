"""JSON batching (POST /v1.0/$batch): up to 20 requests in one HTTP call, each answered on its own.

As in Graph, every item passes through the same routing, role checks and faults
as a plain request (an item can be throttled while the batch itself answers 200),
and items run in order when no dependsOn says otherwise.
"""

import json
import urllib.parse

from .odata import error_body

MAX_REQUESTS = 20


def _bad(message):
    return 400, error_body('BadRequest', message, None, None), {}


def handle(sandbox, headers, raw_body, respond):
    try:
        body = json.loads(raw_body or b'{}')
    except ValueError:
        return _bad('Invalid batch payload format.')
    requests = body.get('requests')
    if not isinstance(requests, list) or not requests:
        return _bad('Invalid batch payload format.')
    if len(requests) > MAX_REQUESTS:
        return _bad('Number of batch requests exceeds the maximum of %d.' % MAX_REQUESTS)
    ids = [str(item.get('id')) for item in requests]
    if len(set(ids)) != len(ids):
        return _bad('Batch request ids must be unique.')
    sandbox.faults.count_graph('POST /$batch', 200)
    responses = []
    for item, item_id in zip(requests, ids):
        url = urllib.parse.urlsplit(str(item.get('url') or ''))
        path = url.path.lstrip('/')
        if path.startswith('v1.0/'):
            path = path[len('v1.0/'):]
        item_headers = dict(headers)
        item_headers.update(dict((k.lower(), v) for k, v in (item.get('headers') or {}).items()))
        item_body = json.dumps(item['body']).encode('utf-8') if item.get('body') is not None else b''
        status, payload, extra = respond(sandbox, str(item.get('method') or 'GET').upper(), path, url.query, item_headers,
                                         item_body, route_prefix='batch ')
        kept = dict((k, str(v)) for k, v in extra.items() if k in ('Retry-After', 'Location', 'Content-Type'))
        answer = {'id': item_id, 'status': status, 'headers': kept}
        if payload is not None:
            answer['body'] = payload
        responses.append(answer)
    return 200, {'responses': responses}, {}
