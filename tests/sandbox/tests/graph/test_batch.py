"""$batch in the sandbox: items answered one by one, faults per item, the 20-request limit."""


def post_batch(seeded_sandbox, requests):
    token = seeded_sandbox.admin_token()
    return seeded_sandbox.session().post(seeded_sandbox.graph_url + '/v1.0/$batch', json={'requests': requests},
                                         headers={'Authorization': 'Bearer ' + token}, timeout=30)


def test_items_answer_independently_and_count_once(seeded_sandbox):
    seeded_sandbox.reset()
    answer = post_batch(seeded_sandbox, [
        {'id': '1', 'method': 'GET', 'url': "/servicePrincipals(appId='00000002-0000-0ff1-ce00-000000000000')?$select=id,appId"},
        {'id': '2', 'method': 'GET', 'url': "/applications(uniqueName='missing')"},
    ])
    assert answer.status_code == 200
    by_id = dict((r['id'], r) for r in answer.json()['responses'])
    assert by_id['1']['status'] == 200 and by_id['1']['body']['appId'] == '00000002-0000-0ff1-ce00-000000000000'
    assert by_id['2']['status'] == 404 and by_id['2']['body']['error']['code'] == 'Request_ResourceNotFound'
    stats = seeded_sandbox.stats()
    assert stats['graph_total'] == 1 and stats['graph_batched'] == 2


def test_throttling_hits_items_not_the_batch(seeded_sandbox):
    seeded_sandbox.reset()
    seeded_sandbox.set_faults({'throttle': {'every': 2, 'retry_after': 3}})
    answer = post_batch(seeded_sandbox, [{'id': str(i), 'method': 'GET', 'url': '/organization'} for i in range(4)])
    statuses = [r['status'] for r in answer.json()['responses']]
    assert answer.status_code == 200 or statuses
    assert 429 in statuses
    throttled = [r for r in answer.json()['responses'] if r['status'] == 429]
    assert throttled[0]['headers']['Retry-After'] == '3'


def test_more_than_twenty_is_refused(seeded_sandbox):
    seeded_sandbox.reset()
    answer = post_batch(seeded_sandbox, [{'id': str(i), 'method': 'GET', 'url': '/organization'} for i in range(21)])
    assert answer.status_code == 400
