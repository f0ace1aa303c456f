"""People who sign in: the device authorization grant, refresh tokens, delegated tokens, and how Graph, its role
management and Exchange's REST endpoint judge a person's token (scopes AND directory roles)."""

import threading
import time

import jwt
import msal
import pytest

from m365_sandbox import catalog
from m365_sandbox.client import SandboxError

GRAPH = 'https://graph.microsoft.com'
EXCHANGE = 'https://outlook.office365.com'
DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
AZ = catalog.AZURE_CLI_APP_ID
GA = catalog.DIRECTORY_ROLES['Global Administrator'][0]
EXO_ADMIN = catalog.DIRECTORY_ROLES['Exchange Administrator'][0]


def _claims(token):
    return jwt.decode(token, options={'verify_signature': False})


def _devicecode(seeded_sandbox, scope=GRAPH + '/.default offline_access openid profile', client_id=AZ):
    return seeded_sandbox.session().post('%s/oauth2/v2.0/devicecode' % seeded_sandbox.authority(), data={'client_id': client_id, 'scope': scope},
                                         timeout=30)


def _poll(seeded_sandbox, device_code, client_id=AZ):
    return seeded_sandbox.session().post('%s/oauth2/v2.0/token' % seeded_sandbox.authority(), timeout=30, data={
        'grant_type': DEVICE_GRANT, 'client_id': client_id, 'device_code': device_code})


def _error(response):
    body = response.json()
    return response.status_code, body['error'], body['error_codes'][0]


def test_device_authorization_response_has_microsofts_fields(seeded_sandbox):
    answer = _devicecode(seeded_sandbox)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {'user_code', 'device_code', 'verification_uri', 'expires_in', 'interval', 'message'}
    assert (body['expires_in'], body['interval']) == (900, 5)
    assert body['message'] == ('To sign in, use a web browser to open the page %s and enter the code %s to authenticate.'
                               % (body['verification_uri'], body['user_code']))
    assert seeded_sandbox.pending_user_codes() == [body['user_code']]


def test_polling_answers_pending_then_slow_down_then_the_tokens(seeded_sandbox):
    flow = _devicecode(seeded_sandbox).json()
    assert _error(_poll(seeded_sandbox, flow['device_code'])) == (400, 'authorization_pending', 70016)
    # Faster than `interval`: RFC 8628's slow_down.
    assert _error(_poll(seeded_sandbox, flow['device_code']))[:2] == (400, 'slow_down')
    seeded_sandbox.device_login(seeded_sandbox.global_admin())
    answer = _poll(seeded_sandbox, flow['device_code'])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert {'access_token', 'refresh_token', 'id_token', 'scope', 'expires_in'} <= set(tokens)
    claims = _claims(tokens['access_token'])
    person = seeded_sandbox.global_admin()
    assert (claims['aud'], claims['upn'], claims['tid'], claims['appid'], claims['idtyp']) == (
        GRAPH, person, seeded_sandbox.tenant()['tenant_id'], AZ, 'user')
    assert 'Application.ReadWrite.All' in claims['scp'].split() and 'roles' not in claims
    assert claims['wids'] == [GA]
    # A device code is redeemed once.
    assert _error(_poll(seeded_sandbox, flow['device_code']))[1] == 'bad_verification_code'


@pytest.mark.parametrize('outcome', ['declined', 'expired', 'blocked'])
def test_declined_expired_and_blocked_codes(seeded_sandbox, outcome):
    if outcome == 'expired':
        seeded_sandbox.config(device_code_lifetime=1)
    if outcome == 'blocked':
        seeded_sandbox.drift({'action': 'block_device_code'})
    flow = _devicecode(seeded_sandbox).json()
    if outcome == 'expired':
        time.sleep(1.2)
        with pytest.raises(SandboxError, match='no longer waiting'):
            seeded_sandbox.device_login(seeded_sandbox.global_admin(), user_code=flow['user_code'])
    else:
        seeded_sandbox.device_login(seeded_sandbox.global_admin(), approve=outcome != 'declined')
    expected = {'declined': ('authorization_declined', 70000), 'expired': ('expired_token', 70019),
                'blocked': ('invalid_grant', 53003)}[outcome]
    assert _error(_poll(seeded_sandbox, flow['device_code']))[1:] == expected


def test_msal_device_flow_then_refresh_for_exchange(seeded_sandbox):
    """msal's own PublicClientApplication against the sandbox: the prompt, the wait, the approval, a silent Exchange token."""
    seeded_sandbox.config(device_code_interval=1)
    app = msal.PublicClientApplication(AZ, authority=seeded_sandbox.authority(), http_client=seeded_sandbox.session(), instance_discovery=False)
    flow = app.initiate_device_flow(scopes=[GRAPH + '/.default'])
    assert flow['message'].startswith('To sign in, use a web browser to open the page')
    result = {}
    waiter = threading.Thread(target=lambda: result.update(app.acquire_token_by_device_flow(flow)))
    waiter.start()
    time.sleep(1.5)
    assert not result
    seeded_sandbox.device_login(seeded_sandbox.global_admin(), user_code=flow['user_code'])
    waiter.join(30)
    assert 'access_token' in result, result
    account = app.get_accounts()[0]
    assert account['username'] == seeded_sandbox.global_admin()
    exchange = app.acquire_token_silent([EXCHANGE + '/.default'], account=account)
    assert exchange and _claims(exchange['access_token'])['aud'] == EXCHANGE
    assert _claims(exchange['access_token'])['upn'] == seeded_sandbox.global_admin()


def _graph(seeded_sandbox, token, method, path, body=None):
    return seeded_sandbox.session().request(method, '%s/v1.0/%s' % (seeded_sandbox.graph_url, path), json=body, timeout=30,
                                            headers={'Authorization': 'Bearer ' + token})


def test_graph_needs_the_scope_and_the_role(seeded_sandbox):
    seeded_sandbox.add_person('helpdesk@' + seeded_sandbox.tenant()['domain'])
    seeded_sandbox.add_person('apps@' + seeded_sandbox.tenant()['domain'], roles=['Application Administrator'])
    scoped = ['Application.ReadWrite.All']
    no_role = seeded_sandbox.person_token('helpdesk@' + seeded_sandbox.tenant()['domain'], scoped)
    app_admin = seeded_sandbox.person_token('apps@' + seeded_sandbox.tenant()['domain'], scoped)
    no_scope = seeded_sandbox.person_token(seeded_sandbox.global_admin(), ['User.Read'])
    body = {'displayName': 'made by a person'}
    for token in (no_role, no_scope):
        answer = _graph(seeded_sandbox, token, 'POST', 'applications', body)
        assert answer.status_code == 403 and answer.json()['error']['code'] == 'Authorization_RequestDenied'
    assert _graph(seeded_sandbox, no_role, 'GET', 'applications').status_code == 200
    assert _graph(seeded_sandbox, app_admin, 'POST', 'applications', body).status_code == 201
    # Admin consent to Microsoft Graph's own application permissions needs Privileged Role Administrator (or Global).
    state = seeded_sandbox.state(seeded_sandbox.tenant()['tenant_id'])
    graph_sp = next(sp for sp in state['servicePrincipals'] if sp['appId'] == catalog.GRAPH_APP_ID)
    admin_sp = next(sp for sp in state['servicePrincipals'] if sp['appId'] == seeded_sandbox.tenant()['admin']['client_id'])
    role = catalog.GRAPH_ROLES['Organization.Read.All'][0]
    grant = {'principalId': admin_sp['id'], 'resourceId': graph_sp['id'], 'appRoleId': role}
    assign = ['AppRoleAssignment.ReadWrite.All', 'Application.Read.All']
    answer = _graph(seeded_sandbox, seeded_sandbox.person_token('apps@' + seeded_sandbox.tenant()['domain'], assign), 'POST',
                    'servicePrincipals/%s/appRoleAssignedTo' % graph_sp['id'], grant)
    assert answer.status_code == 403
    answer = _graph(seeded_sandbox, seeded_sandbox.person_token(seeded_sandbox.global_admin(), assign), 'POST',
                    'servicePrincipals/%s/appRoleAssignedTo' % graph_sp['id'], grant)
    assert answer.status_code == 201, answer.text


def test_role_management_definitions_and_assignments(seeded_sandbox):
    token = seeded_sandbox.person_token(seeded_sandbox.global_admin(), ['RoleManagement.ReadWrite.Directory'])
    listed = _graph(seeded_sandbox, token, 'GET', "roleManagement/directory/roleDefinitions?$filter=displayName eq 'Exchange Administrator'")
    assert listed.status_code == 200
    (definition,) = listed.json()['value']
    assert (definition['id'], definition['templateId'], definition['isBuiltIn']) == (EXO_ADMIN, EXO_ADMIN, True)
    assert _graph(seeded_sandbox, token, 'GET', 'roleManagement/directory/roleDefinitions/' + GA).json()['displayName'] == 'Global Administrator'
    admin_sp = next(sp for sp in seeded_sandbox.state(seeded_sandbox.tenant()['tenant_id'])['servicePrincipals']
                    if sp['appId'] == seeded_sandbox.tenant()['admin']['client_id'])
    body = {'@odata.type': '#microsoft.graph.unifiedRoleAssignment', 'principalId': admin_sp['id'], 'roleDefinitionId': EXO_ADMIN,
            'directoryScopeId': '/'}
    created = _graph(seeded_sandbox, token, 'POST', 'roleManagement/directory/roleAssignments', body)
    assert created.status_code == 201, created.text
    assignment = created.json()
    assert assignment['@odata.context'].endswith('$metadata#roleManagement/directory/roleAssignments/$entity')
    assert (assignment['principalId'], assignment['roleDefinitionId'], assignment['directoryScopeId']) == (admin_sp['id'], EXO_ADMIN, '/')
    assert _graph(seeded_sandbox, token, 'POST', 'roleManagement/directory/roleAssignments', body).status_code == 400
    query = "roleManagement/directory/roleAssignments?$filter=principalId eq '%s' and roleDefinitionId eq '%s'" % (admin_sp['id'], EXO_ADMIN)
    assert [a['id'] for a in _graph(seeded_sandbox, token, 'GET', query).json()['value']] == [assignment['id']]
    # An Application Administrator may not hand out directory roles.
    seeded_sandbox.add_person('apps@' + seeded_sandbox.tenant()['domain'], roles=['Application Administrator'])
    weak = seeded_sandbox.person_token('apps@' + seeded_sandbox.tenant()['domain'], ['RoleManagement.ReadWrite.Directory'])
    assert _graph(seeded_sandbox, weak, 'DELETE', 'roleManagement/directory/roleAssignments/' + assignment['id']).status_code == 403
    assert _graph(seeded_sandbox, token, 'DELETE', 'roleManagement/directory/roleAssignments/' + assignment['id']).status_code == 204
    assert _graph(seeded_sandbox, token, 'GET', query).json()['value'] == []


def _exchange(seeded_sandbox, token, cmdlet='Get-OrganizationConfig'):
    tenant = seeded_sandbox.tenant()
    return seeded_sandbox.session().post('%s/adminapi/beta/%s/InvokeCommand' % (seeded_sandbox.base_url, tenant['domain']), timeout=30,
                                         headers={'Authorization': 'Bearer ' + token},
                                         json={'CmdletInput': {'CmdletName': cmdlet, 'Parameters': {}}})


def test_exchange_accepts_a_person_with_an_exchange_role(seeded_sandbox):
    domain = seeded_sandbox.tenant()['domain']
    seeded_sandbox.add_person('exo@' + domain, roles=['Exchange Administrator'])
    seeded_sandbox.add_person('helpdesk@' + domain)
    for person, status in ((seeded_sandbox.global_admin(), 200), ('exo@' + domain, 200), ('helpdesk@' + domain, 403)):
        token = seeded_sandbox.person_token(person, ['Exchange.Manage'], resource=EXCHANGE)
        assert _exchange(seeded_sandbox, token, 'Get-Mailbox').status_code == status, person
    token = seeded_sandbox.person_token('helpdesk@' + domain, ['Exchange.Manage'], resource=EXCHANGE)
    connect = seeded_sandbox.session().post('%s/adminapi/beta/%s/_sandbox/Connect' % (seeded_sandbox.base_url, domain), timeout=30, json={},
                                            headers={'Authorization': 'Bearer ' + token})
    assert connect.status_code == 401 and 'Exchange Administrator or Global Administrator' in connect.json()['error']['message']
