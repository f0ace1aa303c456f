import time

import pytest


def test_throttle_every_third_request_with_retry_after(seeded_sandbox, graph):
    seeded_sandbox.set_faults({'throttle': {'every': 3, 'retry_after': 2, 'methods': ['GET']}})
    statuses = [graph.get(graph.base + '/organization') for _index in range(6)]
    assert [r.status_code for r in statuses] == [200, 200, 429, 200, 200, 429]
    throttled = statuses[2]
    assert throttled.headers['Retry-After'] == '2'
    assert throttled.json()['error']['code'] == 'Request_ThrottledTemporarily'
    stats = seeded_sandbox.stats()
    assert stats['throttled'] == stats['injected_errors'] == 2
    assert stats['status']['429'] == 2 and stats['graph']['GET /organization'] == 4


def test_server_error_bursts(seeded_sandbox, graph):
    seeded_sandbox.set_faults({'server_errors': {'every': 3, 'status': 503, 'burst': 2}})
    responses = [graph.get(graph.base + '/organization') for _index in range(7)]
    assert [r.status_code for r in responses] == [200, 200, 503, 503, 200, 503, 503]
    assert responses[2].headers['Retry-After'] == '1'
    stats = seeded_sandbox.stats()
    assert stats['server_errors'] == stats['injected_errors'] == 4


def test_server_errors_only_on_matching_paths(seeded_sandbox, graph):
    seeded_sandbox.set_faults({'server_errors': {'every': 1, 'status': 503, 'methods': ['GET'], 'paths': [r'^applications\(uniqueName=']}})
    assert graph.get(graph.base + '/organization').status_code == 200
    assert graph.get(graph.base + "/applications(uniqueName='some-app')").status_code == 503
    assert graph.get(graph.base + '/organization').status_code == 200
    assert graph.get(graph.base + "/applications(uniqueName='some-app')").status_code == 503
    assert seeded_sandbox.stats()['server_errors'] == 2
    with pytest.raises(Exception):
        seeded_sandbox.set_faults({'throttle': {'every': 1, 'paths': ['(']}})


def test_server_errors_from_a_given_request_on(seeded_sandbox, graph):
    # An outage that starts at the first removePassword: earlier PATCHes of the application pass, later ones fail.
    seeded_sandbox.set_faults({'server_errors': {'every': 1, 'status': 500, 'methods': ['POST', 'PATCH'],
                                                 'paths': ['/removePassword$', '^applications/[^/(]+$'], 'from': '^POST .*/removePassword$'}})
    app = graph.patch(graph.base + "/applications(uniqueName='outage')", json={'displayName': 'outage'},
                      headers={'Prefer': 'create-if-missing'}).json()
    path = graph.base + '/applications/' + app['id']
    assert graph.patch(path, json={'tags': ['a']}).status_code == 204
    added = graph.post(path + '/addPassword', json={'passwordCredential': {'displayName': 'x'}})
    assert added.status_code == 200
    assert graph.post(path + '/removePassword', json={'keyId': added.json()['keyId']}).status_code == 500
    assert graph.patch(path, json={'tags': []}).status_code == 500
    assert graph.get(path).status_code == 200
    assert seeded_sandbox.stats()['server_errors'] == 2
    with pytest.raises(Exception):
        seeded_sandbox.set_faults({'server_errors': {'every': 1, 'from': '('}})


def test_replication_delay(seeded_sandbox, graph):
    seeded_sandbox.set_faults({'replication_delay': 1.5})
    created = graph.patch(graph.base + "/applications(uniqueName='fresh')", json={'displayName': 'fresh'},
                          headers={'Prefer': 'create-if-missing'})
    app = created.json()
    assert graph.get(graph.base + '/applications/' + app['id']).status_code == 404
    assert graph.get(graph.base + "/applications(uniqueName='fresh')").status_code == 404
    listed = graph.get(graph.base + "/applications?$filter=displayName eq 'fresh'").json()['value']
    assert listed == []
    # Writes by key see the true state: the upsert updates instead of creating a duplicate.
    again = graph.patch(graph.base + "/applications(uniqueName='fresh')", json={'notes': 'n'}, headers={'Prefer': 'create-if-missing'})
    assert again.status_code == 204
    no_backing = graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']})
    assert no_backing.status_code == 400
    assert no_backing.json()['error']['details'][0]['code'] == 'NoBackingApplicationObject'
    assert graph.post(graph.base + '/applications/%s/addPassword' % app['id'], json={}).status_code == 404
    time.sleep(1.6)
    assert graph.get(graph.base + '/applications/' + app['id']).json()['notes'] == 'n'
    assert graph.post(graph.base + '/servicePrincipals', json={'appId': app['appId']}).status_code == 201


def test_latency(seeded_sandbox, graph):
    seeded_sandbox.set_faults({'latency': {'graph': 0.3}})
    started = time.monotonic()
    graph.get(graph.base + '/organization')
    assert time.monotonic() - started >= 0.3
    assert seeded_sandbox.stats()['latency_seconds']['graph'] == pytest.approx(0.3)


def test_bad_fault_config_is_rejected(seeded_sandbox):
    from m365_sandbox.client import SandboxError  # pylint: disable=import-outside-toplevel
    with pytest.raises(SandboxError):
        seeded_sandbox.set_faults({'throttel': {}})


def test_reset_restores_seed_and_clears_faults(seeded_sandbox, graph):
    seeded_sandbox.set_faults({'throttle': {'every': 100}})
    graph.post(graph.base + '/applications', json={'displayName': 'temp'})
    seeded_sandbox.reset()
    assert seeded_sandbox.faults()['throttle'] is None
    names = [a['displayName'] for a in graph.get(graph.base + '/applications').json()['value']]
    assert names == ['m365 sandbox admin']
    assert seeded_sandbox.stats()['graph_total'] == 1


def test_role_enforcement(seeded_sandbox):
    seeded = seeded_sandbox.seed_application({'displayName': 'reader', '_secret': True,
                                              '_roles': {'https://graph.microsoft.com': ['Application.Read.All']}})
    session = seeded_sandbox.session()
    token = session.post(seeded_sandbox.authority() + '/oauth2/v2.0/token', data={
        'grant_type': 'client_credentials', 'client_id': seeded['application']['appId'], 'client_secret': seeded['secretText'],
        'scope': 'https://graph.microsoft.com/.default'}).json()['access_token']
    session.headers['Authorization'] = 'Bearer ' + token
    base = seeded_sandbox.graph_url + '/v1.0'
    assert session.get(base + '/applications').status_code == 200
    denied = session.post(base + '/applications', json={'displayName': 'x'})
    assert denied.status_code == 403
    assert denied.json()['error']['code'] == 'Authorization_RequestDenied'
    assert session.get(base + '/users').status_code == 403
    no_roles = seeded_sandbox.mint_token(roles=[])
    assert session.get(base + '/applications', headers={'Authorization': 'Bearer ' + no_roles}).status_code == 403
