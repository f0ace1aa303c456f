import json

import requests

from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import _error_from_response, is_replication_delay


def response(status, body, headers=None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()  # pylint: disable=protected-access
    resp.headers.update(headers or {})
    return resp


def test_no_backing_application_object_in_details_is_replication_delay():
    msg = "The appId 'x' of the service principal does not reference a valid application object."
    error = _error_from_response('POST', 'https://graph/v1.0/servicePrincipals', response(400, {'error': {
        'code': 'Request_BadRequest', 'message': msg, 'details': [{'code': 'NoBackingApplicationObject', 'message': msg}],
        'innerError': {'request-id': 'r-1'}}}))
    assert error.code == 'NoBackingApplicationObject'
    assert is_replication_delay(error)
    assert '[request-id r-1]' in error.msg and 'POST /servicePrincipals' in error.msg


def test_permission_denied_has_a_hint_and_is_not_retried_as_replication():
    error = _error_from_response('GET', 'https://graph/v1.0/applications', response(403, {'error': {
        'code': 'Authorization_RequestDenied', 'message': 'Insufficient privileges to complete the operation.'}}))
    assert 'Application.ReadWrite.All' in error.msg
    assert not is_replication_delay(error)


def test_other_bad_request_is_not_replication():
    error = _error_from_response('POST', 'https://graph/v1.0/x', response(400, {'error': {
        'code': 'Request_BadRequest', 'message': 'Permission being assigned already exists on the object'}}))
    assert not is_replication_delay(error)
