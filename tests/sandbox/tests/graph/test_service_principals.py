import jwt

EXO = '00000002-0000-0ff1-ce00-000000000000'
IMAP = '5e5addcd-3e8d-4e90-baf5-964efab2b20a'


def _app(graph, key):
    return graph.patch(graph.base + "/applications(uniqueName='%s')" % key, json={'displayName': key},
                       headers={'Prefer': 'create-if-missing'}).json()


def test_create_service_principal_and_conflict(graph):
    app = _app(graph, 'sp1')
    response = graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']})
    assert response.status_code == 201
    sp = response.json()
    assert sp['appId'] == app['appId'] and sp['displayName'] == 'sp1' and sp['servicePrincipalType'] == 'Application'
    assert app['appId'] in sp['servicePrincipalNames']
    response = graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']})
    assert response.status_code == 409
    assert response.json()['error']['code'] == 'Request_MultipleObjectsWithSameKeyValue'
    listed = graph.get(graph.base + "/servicePrincipals?$filter=appId eq '%s'" % app['appId']).json()['value']
    assert [s['id'] for s in listed] == [sp['id']]


def test_service_principal_upsert_by_app_id(graph):
    app = _app(graph, 'sp2')
    url = graph.base + "/servicePrincipals(appId='%s')" % app['appId']
    assert graph.patch(url, json={'notes': 'x'}).status_code == 404
    assert graph.patch(url, json={'notes': 'x'}, headers={'Prefer': 'create-if-missing'}).status_code == 201
    assert graph.patch(url, json={'notes': 'y'}, headers={'Prefer': 'create-if-missing'}).status_code == 204
    assert graph.get(url).json()['notes'] == 'y'


def test_unknown_app_id_has_no_backing_application(graph):
    response = graph.post(graph.base + '/servicePrincipals', json={'appId': '12345678-1234-1234-1234-123456789012'})
    assert response.status_code == 400
    assert response.json()['error']['details'][0]['code'] == 'NoBackingApplicationObject'


def test_missing_first_party_principal_can_be_created(seeded_sandbox, graph):
    seeded_sandbox.drift({'action': 'delete_service_principal', 'appId': EXO})
    assert graph.get(graph.base + "/servicePrincipals(appId='%s')" % EXO).status_code == 404
    created = graph.post(graph.base + '/servicePrincipals', json={'appId': EXO})
    assert created.status_code == 201
    assert IMAP in [r['id'] for r in created.json()['appRoles']]


def test_app_role_assignment_rules_and_token_roles(seeded_sandbox, graph):
    app = _app(graph, 'mail')
    client = graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']}).json()
    exo = graph.get(graph.base + "/servicePrincipals(appId='%s')?$select=id,appRoles" % EXO).json()
    url = graph.base + '/servicePrincipals/%s/appRoleAssignedTo' % exo['id']
    body = {'principalId': client['id'], 'resourceId': exo['id'], 'appRoleId': IMAP}
    response = graph.post(url, json=body)
    assert response.status_code == 201
    assignment = response.json()
    assert len(assignment['id']) == 43
    assert assignment['principalType'] == 'ServicePrincipal' and assignment['resourceDisplayName'] == 'Office 365 Exchange Online'
    duplicate = graph.post(url, json=body)
    assert duplicate.status_code == 400
    assert duplicate.json()['error']['message'] == 'Permission being assigned already exists on the object'
    unknown = graph.post(url, json=dict(body, appRoleId='00000000-1111-2222-3333-444444444444'))
    assert unknown.status_code == 400
    assert unknown.json()['error']['message'].startswith('Permission being assigned was not found on application')

    secret = graph.post(graph.base + '/applications/%s/addPassword' % app['id'], json={}).json()['secretText']
    token = seeded_sandbox.session().post(seeded_sandbox.authority() + '/oauth2/v2.0/token', data={
        'grant_type': 'client_credentials', 'client_id': app['appId'], 'client_secret': secret,
        'scope': 'https://outlook.office365.com/.default'}).json()['access_token']
    assert jwt.decode(token, options={'verify_signature': False})['roles'] == ['IMAP.AccessAsApp']

    listed = graph.get(graph.base + '/servicePrincipals/%s/appRoleAssignments' % client['id']).json()['value']
    assert [a['id'] for a in listed] == [assignment['id']]
    assert graph.delete(url + '/' + assignment['id']).status_code == 204
    assert graph.delete(url + '/' + assignment['id']).status_code == 404
    token = seeded_sandbox.session().post(seeded_sandbox.authority() + '/oauth2/v2.0/token', data={
        'grant_type': 'client_credentials', 'client_id': app['appId'], 'client_secret': secret,
        'scope': 'https://outlook.office365.com/.default'}).json()['access_token']
    assert 'roles' not in jwt.decode(token, options={'verify_signature': False})


def test_oauth2_permission_grants(graph):
    app = _app(graph, 'grants')
    client = graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']}).json()
    msgraph = graph.get(graph.base + "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id").json()
    body = {'clientId': client['id'], 'consentType': 'AllPrincipals', 'resourceId': msgraph['id'], 'scope': 'User.Read'}
    created = graph.post(graph.base + '/oauth2PermissionGrants', json=body)
    assert created.status_code == 201
    grant = created.json()
    assert grant['principalId'] is None
    assert graph.post(graph.base + '/oauth2PermissionGrants', json=body).status_code == 409
    listed = graph.get(graph.base + "/oauth2PermissionGrants?$filter=clientId eq '%s'" % client['id']).json()['value']
    assert [g['id'] for g in listed] == [grant['id']]
    assert graph.patch(graph.base + '/oauth2PermissionGrants/' + grant['id'], json={'scope': ''}).status_code == 204
    assert graph.delete(graph.base + '/oauth2PermissionGrants/' + grant['id']).status_code == 204


def test_users(seeded_sandbox, graph):
    users = graph.get(graph.base + '/users').json()['value']
    # The mailbox users, then the seeded person who signs in (a Global Administrator without a mailbox).
    assert [u['userPrincipalName'] for u in users] == seeded_sandbox.tenant()['mailboxes'] + [seeded_sandbox.global_admin()]
    upn = users[0]['userPrincipalName']
    assert graph.get(graph.base + '/users/' + upn).json()['id'] == users[0]['id']
    found = graph.get(graph.base + "/users?$filter=mail eq '%s'" % upn.upper()).json()['value']
    assert len(found) == 1
