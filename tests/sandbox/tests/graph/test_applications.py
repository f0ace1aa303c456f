import re

CREATE = {'Prefer': 'create-if-missing'}


def _upsert(graph, key, body):
    return graph.patch(graph.base + "/applications(uniqueName='%s')" % key, json=body, headers=CREATE)


def test_unique_name_upsert_creates_then_updates(graph):
    response = _upsert(graph, 'mail-app', {'displayName': 'Mail app'})
    assert response.status_code == 201
    app = response.json()
    assert app['@odata.context'].endswith('/v1.0/$metadata#applications/$entity')
    assert app['uniqueName'] == 'mail-app'
    assert app['signInAudience'] == 'AzureADMyOrg'
    assert app['publisherDomain'] == 'tenant1.onmicrosoft.com'
    assert app['passwordCredentials'] == [] and app['requiredResourceAccess'] == []
    assert re.match(r'^[0-9a-f-]{36}$', app['appId'])

    response = _upsert(graph, 'mail-app', {'displayName': 'Renamed', 'tags': ['a']})
    assert response.status_code == 204
    assert response.content == b''
    again = graph.get(graph.base + "/applications(uniqueName='mail-app')").json()
    assert again['id'] == app['id'] and again['displayName'] == 'Renamed' and again['tags'] == ['a']


def test_patch_without_prefer_on_missing_is_404(graph):
    response = graph.patch(graph.base + "/applications(uniqueName='missing')", json={'displayName': 'x'})
    assert response.status_code == 404
    error = response.json()['error']
    assert error['code'] == 'Request_ResourceNotFound'
    assert error['message'] == "Resource 'missing' does not exist or one of its queried reference-property objects are not present."
    assert set(error['innerError']) == {'date', 'request-id', 'client-request-id'}


def test_unique_name_cannot_change_and_unknown_properties_fail(graph):
    app = _upsert(graph, 'k1', {'displayName': 'x'}).json()
    response = graph.patch(graph.base + '/applications/' + app['id'], json={'uniqueName': 'k2'})
    assert response.status_code == 400
    response = graph.post(graph.base + '/applications', json={'displayName': 'x', 'foo': 1})
    assert response.status_code == 400
    assert response.json()['error']['message'] == "Property 'foo' does not exist as a declared property or extension property."
    response = graph.post(graph.base + '/applications', json={'displayName': 'x', 'web': {'bar': []}})
    assert response.status_code == 400


def test_patch_replaces_collections(graph):
    graph_app = '00000003-0000-0000-c000-000000000000'
    first = [{'resourceAppId': graph_app, 'resourceAccess': [{'id': 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', 'type': 'Scope'}]}]
    app = _upsert(graph, 'k', {'displayName': 'x', 'requiredResourceAccess': first}).json()
    assert app['requiredResourceAccess'] == first
    second = [{'resourceAppId': '00000002-0000-0ff1-ce00-000000000000',
               'resourceAccess': [{'id': '5e5addcd-3e8d-4e90-baf5-964efab2b20a', 'type': 'Role'}]}]
    assert graph.patch(graph.base + '/applications/' + app['id'], json={'requiredResourceAccess': second}).status_code == 204
    assert graph.get(graph.base + '/applications/' + app['id']).json()['requiredResourceAccess'] == second


def test_add_and_remove_password(seeded_sandbox, graph):
    app = _upsert(graph, 'pw', {'displayName': 'pw'}).json()
    graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']})
    response = graph.post(graph.base + '/applications/%s/addPassword' % app['id'], json={'passwordCredential': {'displayName': 'one'}})
    assert response.status_code == 200
    cred = response.json()
    assert len(cred['secretText']) == 40 and cred['secretText'][3:6] == '8Q~'
    assert cred['hint'] == cred['secretText'][:3]
    assert cred['displayName'] == 'one' and cred['endDateTime'] > cred['startDateTime']
    listed = graph.get(graph.base + '/applications/' + app['id']).json()['passwordCredentials']
    expected = {k: v for k, v in cred.items() if k != '@odata.context'}
    assert listed == [dict(expected, secretText=None)]
    token = seeded_sandbox.session().post(seeded_sandbox.authority() + '/oauth2/v2.0/token', data={
        'grant_type': 'client_credentials', 'client_id': app['appId'], 'client_secret': cred['secretText'],
        'scope': 'https://graph.microsoft.com/.default'})
    assert token.status_code == 200, token.text

    response = graph.post(graph.base + '/applications/%s/removePassword' % app['id'], json={'keyId': cred['keyId']})
    assert response.status_code == 204
    response = graph.post(graph.base + '/applications/%s/removePassword' % app['id'], json={'keyId': cred['keyId']})
    assert response.status_code == 400
    assert 'No password credential found with keyId' in response.json()['error']['message']


def test_paging_filter_and_select(seeded_sandbox, graph):
    seeded_sandbox.config(page_size=2)
    for number in range(5):
        _upsert(graph, 'p%d' % number, {'displayName': 'Same name'})
    url = graph.base + "/applications?$filter=displayName eq 'Same name'&$select=id,displayName"
    seen = []
    pages = 0
    while url:
        body = graph.get(url).json()
        assert body['@odata.context'].endswith('#applications(id,displayName)')
        seen += body['value']
        url = body.get('@odata.nextLink')
        if url:
            assert url.startswith(seeded_sandbox.graph_url + '/v1.0/applications?') and '$skiptoken=' in url
        pages += 1
    assert pages == 3 and len(seen) == 5
    assert all(set(item) == {'id', 'displayName'} for item in seen)
    body = graph.get(graph.base + "/applications?$filter=uniqueName eq 'p3'").json()
    assert [a['uniqueName'] for a in body['value']] == ['p3']
    body = graph.get(graph.base + "/applications?$filter=startswith(displayName,'same')&$top=10").json()
    assert len(body['value']) == 5 and '@odata.nextLink' not in body
    assert graph.get(graph.base + '/applications?$select=nope').status_code == 400
    assert graph.get(graph.base + "/applications?$filter=notes eq 'x'").json()['error']['code'] == 'Request_UnsupportedQuery'


def test_key_credentials_key_only_with_explicit_select(seeded_sandbox, graph):
    admin = seeded_sandbox.tenant()['admin']['client_id']
    url = graph.base + "/applications(appId='%s')" % admin
    creds = graph.get(url).json()['keyCredentials']
    assert creds[0]['key'] is None
    assert creds[0]['customKeyIdentifier'] == seeded_sandbox.tenant()['admin']['certificate_thumbprint']
    creds = graph.get(url + '?$select=keyCredentials').json()['keyCredentials']
    assert creds[0]['key']


def test_delete_application_cascades(graph):
    app = _upsert(graph, 'gone', {'displayName': 'gone'}).json()
    sp = graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']}).json()
    exo = graph.get(graph.base + "/servicePrincipals(appId='00000002-0000-0ff1-ce00-000000000000')").json()
    role = next(r['id'] for r in exo['appRoles'] if r['value'] == 'IMAP.AccessAsApp')
    assigned = graph.post(graph.base + '/servicePrincipals/%s/appRoleAssignedTo' % exo['id'],
                          json={'principalId': sp['id'], 'resourceId': exo['id'], 'appRoleId': role})
    assert assigned.status_code == 201
    assert graph.delete(graph.base + "/applications(uniqueName='gone')").status_code == 204
    assert graph.get(graph.base + '/servicePrincipals/' + sp['id']).status_code == 404
    listed = graph.get(graph.base + '/servicePrincipals/%s/appRoleAssignedTo' % exo['id']).json()['value']
    assert all(a['principalId'] != sp['id'] for a in listed)
    assert graph.get(graph.base + '/applications/' + app['id']).status_code == 404


def test_request_ids(graph):
    response = graph.get(graph.base + '/organization', headers={'client-request-id': 'abc-123'})
    assert response.status_code == 200
    assert response.headers['client-request-id'] == 'abc-123'
    assert re.match(r'^[0-9a-f-]{36}$', response.headers['request-id'])
    org = response.json()['value'][0]
    assert org['verifiedDomains'][0]['name'] == 'tenant1.onmicrosoft.com'
