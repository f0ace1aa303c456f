"""app_secret's client secret (graph/secret_rotation.py): rotation under the lease, and recovery after an interrupted run.

Which secrets a run removes, and which it never does: only the orphan of an abandoned lease (a secret its killed holder
added and never recorded as handed over) or of a retried addPassword; never a secret another run created seconds ago,
one our own handover file holds, one an abandoned run recorded, or anything when the abandoned lease could not record.
Graph, the token endpoint and the clock are fakes (conftest.py); the collection's code runs unchanged.
"""

import json
import os
import socket

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import lease as lease_mod
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.secret_rotation import ensure_password

from graph_fakes import APP_OBJECT, FakeModule, new_result, password, write_handover

OTHER_NAME = 'someone-elses-secret'


def run(graph, **params):
    module = FakeModule(**params)
    module.client = graph
    app = graph.get('applications/%s' % APP_OBJECT, params={'$select': 'id,appId,passwordCredentials,tags'})
    result = new_result()
    ensure_password(module, graph, app, result)
    return result, module


def secrets(graph, *credentials):
    graph.app['passwordCredentials'] = list(credentials)
    return [c['keyId'] for c in credentials]


def process_ended(dest):
    """The module process that wrote the marker has exited (here the next run is the same test process)."""
    with open(dest + '.pending') as handle:
        record = json.load(handle)
    with open(dest + '.pending', 'w') as handle:
        json.dump(dict(record, start='an earlier process'), handle)


@pytest.fixture
def dest(private_dir):
    return str(private_dir / 'secret.json')


def test_the_orphan_of_an_expired_lease_is_removed_and_nothing_else(graph, clock, dest):
    old, orphan, other = password(), password(created_seconds_ago=300, valid_days=180), password(name=OTHER_NAME)
    secrets(graph, old, orphan, other)
    graph.app['tags'] = ['hideapp']
    graph.set_lease('killed', -1, [old['keyId']])
    write_handover(dest, old['keyId'])
    result, _module = run(graph, dest=dest)
    assert result['orphans_removed'] == [orphan['keyId']]
    assert result['removed_key_ids'] == [] and not result['secret_created']
    assert graph.key_ids() == [old['keyId']]
    assert graph.key_ids(OTHER_NAME) == [other['keyId']]
    assert graph.app['tags'] == ['hideapp']
    assert result['key_id'] == old['keyId']


@pytest.mark.parametrize('dest_holds', ['recorded', 'old'])
def test_a_secret_an_abandoned_run_recorded_is_never_removed(graph, clock, dest, dest_holds):
    old, recorded = password(), password(created_seconds_ago=5, valid_days=180)
    secrets(graph, old, recorded)
    graph.set_lease('killed', -1, [old['keyId']], added=recorded['keyId'])
    write_handover(dest, recorded['keyId'] if dest_holds == 'recorded' else old['keyId'])
    result, _module = run(graph, dest=dest, remove_old=True, remove_old_grace_days=7)
    assert result['orphans_removed'] == [] and result['removed_key_ids'] == []
    assert graph.key_ids() == [old['keyId'], recorded['keyId']]
    assert graph.lease() is None


def test_a_secret_in_its_grace_period_created_seconds_ago_by_another_run_stays(graph, clock, dest):
    old, young = password(), password(created_seconds_ago=3, valid_days=180)
    secrets(graph, old, young)
    write_handover(dest, old['keyId'])
    result, _module = run(graph, dest=dest, remove_old=True, remove_old_grace_days=7)
    assert result['orphans_removed'] == [] and result['removed_key_ids'] == [] and not result['changed']
    assert 'kept until 7 days' in result['msg']
    assert graph.writes() == []
    # Without a grace period the superseded one goes, never the newest.
    result, _module = run(graph, dest=dest, remove_old=True, remove_old_grace_days=0)
    assert result['removed_key_ids'] == [old['keyId']] and result['orphans_removed'] == []
    assert graph.key_ids() == [young['keyId']]


def test_a_secret_a_running_holder_just_added_is_never_an_orphan(graph, clock, dest):
    old, just_added = password(), password(created_seconds_ago=1, valid_days=180)
    secrets(graph, old, just_added)
    live = graph.set_lease('running', 300, [old['keyId']])  # it has not recorded its secret yet
    write_handover(dest, old['keyId'])
    result, _module = run(graph, dest=dest)
    assert result['orphans_removed'] == [] and graph.writes() == []
    with pytest.raises(ConfigError) as err:
        run(graph, dest=dest, remove_old=True, lease_wait_seconds=10)
    assert 'another run is changing' in err.value.msg
    assert graph.writes() == [] and graph.lease().tag() == live.tag()
    assert graph.key_ids() == [old['keyId'], just_added['keyId']]


def test_the_secret_our_own_handover_file_holds_is_kept(graph, clock, dest):
    # Killed after writing dest, before recording the secret on the lease.
    old, handed_over = password(), password(created_seconds_ago=60, valid_days=180)
    secrets(graph, old, handed_over)
    graph.set_lease('killed', -1, [old['keyId']])
    write_handover(dest, handed_over['keyId'])
    result, _module = run(graph, dest=dest)
    assert result['orphans_removed'] == [] and result['removed_key_ids'] == []
    assert graph.key_ids() == [old['keyId'], handed_over['keyId']]
    assert result['key_id'] == handed_over['keyId']


def test_nothing_is_removed_when_the_abandoned_lease_recorded_too_many(graph, clock, dest):
    old, unknown = password(), password(created_seconds_ago=60, valid_days=180)
    secrets(graph, old, unknown)
    graph.set_lease('killed', -1, None)
    write_handover(dest, old['keyId'])
    result, module = run(graph, dest=dest)
    assert result['orphans_removed'] == [] and result['removed_key_ids'] == []
    assert graph.key_ids() == [old['keyId'], unknown['keyId']]
    assert any('too many secrets' in w for w in module.warnings)


def test_the_lease_of_a_killed_run_for_this_dest_is_recovered_before_it_expires(graph, clock, dest):
    old, orphan = password(), password(created_seconds_ago=20, valid_days=180)
    secrets(graph, old, orphan)
    token = 'a' * 32
    graph.set_lease(lease_mod.holder_of(token), 500, [old['keyId']])
    write_handover(dest, old['keyId'])
    with open(dest + '.pending', 'w') as handle:
        json.dump({'token': token, 'host': socket.gethostname(), 'pid': os.getpid(), 'start': 'an earlier process'}, handle)
    os.chmod(dest + '.pending', 0o600)
    result, _module = run(graph, dest=dest, lease_wait_seconds=0)
    assert result['orphans_removed'] == [orphan['keyId']]
    assert graph.key_ids() == [old['keyId']]
    assert lease_mod.POLL_SECONDS not in clock.slept
    assert not os.path.exists(dest + '.pending') and graph.lease() is None


def test_the_secret_of_a_retried_add_password_is_removed(graph, clock, dest):
    expiring = password(valid_days=10)
    secrets(graph, expiring)
    graph.lost_answers = 1
    result, _module = run(graph, dest=dest)
    new = result['key_id']
    removed = [c[2]['keyId'] for c in graph.calls if c[0] == 'POST' and c[1] == '/removePassword']
    assert len(removed) == 1 and removed[0] not in (expiring['keyId'], new)
    assert result['orphans_removed'] == removed
    assert result['secret_created'] and result['rotated'] and result['removed_key_ids'] == []
    assert graph.key_ids() == [expiring['keyId'], new]
    with open(dest) as handle:
        assert json.load(handle)['key_id'] == new


def test_rotation_removes_the_superseded_secret_only_after_the_new_one_works(graph, clock, dest):
    expiring, other = password(valid_days=10), password(name=OTHER_NAME, valid_days=10)
    secrets(graph, expiring, other)
    result, _module = run(graph, dest=dest, remove_old=True)
    new = result['key_id']
    assert result['removed_key_ids'] == [expiring['keyId']]
    assert graph.key_ids() == [new] and graph.key_ids(OTHER_NAME) == [other['keyId']]
    writes = [c[1] for c in graph.writes() if c[0] == 'POST']
    assert writes == ['/addPassword', '/removePassword']
    assert graph.lease() is None


def test_a_new_secret_that_gets_no_token_removes_nothing(graph, clock, dest):
    expiring = password(valid_days=10)
    secrets(graph, expiring)
    graph.unprovable = True
    with pytest.raises(ConfigError) as err:
        run(graph, dest=dest, remove_old=True, prove_timeout=10)
    assert 'did not get a token' in err.value.msg and 'no older secret was removed' in err.value.msg
    assert expiring['keyId'] in graph.key_ids() and len(graph.key_ids()) == 2
    # Given back expired, with its record: nobody waits for it; the next run takes it over at once.
    assert graph.lease().expiry <= clock.now and not os.path.exists(dest + '.pending')


def test_dest_missing_waits_for_a_live_lease_whose_holder_writes_it(graph, clock, dest):
    # Another run (or a killed run's worker that has not exited yet) holds the lease and is about to hand the current
    # secret over to our dest: failing at once with "dest does not exist" would be wrong; wait, then decide under the lease.
    current = password(created_seconds_ago=5, valid_days=180)
    secrets(graph, current)
    graph.set_lease('running', 300, [], added=current['keyId'])

    def holder_finishes():
        write_handover(dest, current['keyId'])
        graph.app['tags'] = lease_mod.other_tags(graph.app['tags'])

    clock.at(30, holder_finishes)
    result, _module = run(graph, dest=dest)
    assert result['orphans_removed'] == [] and result['removed_key_ids'] == [] and not result['changed']
    assert graph.key_ids() == [current['keyId']] and result['key_id'] == current['keyId']
    assert graph.lease() is None


def test_dest_missing_still_fails_in_check_mode_under_a_live_lease(graph, clock, dest):
    current = password(created_seconds_ago=5, valid_days=180)
    secrets(graph, current)
    graph.set_lease('running', 300, [], added=current['keyId'])
    module = FakeModule(dest=dest)
    module.client, module.check_mode = graph, True
    app = graph.get('applications/%s' % APP_OBJECT, params={'$select': 'id,appId,passwordCredentials,tags'})
    with pytest.raises(ConfigError) as err:
        ensure_password(module, graph, app, new_result())
    assert 'does not exist' in err.value.msg and graph.writes() == []


def test_a_failed_clean_up_reports_the_first_failure_and_the_next_run_repairs_it_at_once(graph, clock, dest):
    # addPassword answered, the new secret is in dest and works; then removePassword and the lease's release answer 500.
    expiring = password(valid_days=10)
    secrets(graph, expiring)
    graph.outage_from = '/removePassword'
    with pytest.raises(ConfigError) as err:
        run(graph, dest=dest, remove_old=True)
    new = json.load(open(dest))['key_id']
    msg = err.value.msg
    assert msg.startswith('the new secret %s exists and is in %s; the old ones could not be removed (Graph POST' % (new, dest)), msg
    assert '/removePassword failed: 500' in msg and 'the next run removes them' in msg
    assert 'could not be given back' in msg  # the release failed too: said after the first failure, not instead of it
    assert graph.key_ids() == [expiring['keyId'], new]
    # The lease is still on the application, recording what was being removed; the marker stays with it.
    left = graph.lease()
    assert left.expiry > clock.now and left.removing == set([lease_mod.short(expiring['keyId'])]) and left.added == lease_mod.short(new)
    assert os.path.exists(dest + '.pending')
    graph.down = graph.outage_from = None
    process_ended(dest)
    # The next provision (grace 7 days: its own plan would keep the old secret) finishes the removal at once.
    result, _module = run(graph, dest=dest, remove_old=True, remove_old_grace_days=7, lease_wait_seconds=0)
    assert result['removed_key_ids'] == [expiring['keyId']] and result['orphans_removed'] == []
    assert lease_mod.POLL_SECONDS not in clock.slept
    assert graph.key_ids() == [new] and result['key_id'] == new
    assert json.load(open(dest))['client_secret'] == graph.values[new]  # the handover file's secret still works
    assert graph.lease() is None and not os.path.exists(dest + '.pending')


def test_a_failed_clean_up_whose_lease_was_given_back_is_repaired_by_the_next_run_of_any_controller(graph, clock, dest, private_dir):
    expiring = password(valid_days=10)
    secrets(graph, expiring)
    graph.outage_from, graph.outage_of = '/removePassword', ('/removePassword',)
    with pytest.raises(ConfigError) as err:
        run(graph, dest=dest, remove_old=True)
    assert 'the old ones could not be removed' in err.value.msg and 'given back' not in err.value.msg
    new = json.load(open(dest))['key_id']
    left = graph.lease()
    assert left.expiry <= clock.now and left.removing == set([lease_mod.short(expiring['keyId'])])
    assert not os.path.exists(dest + '.pending')
    graph.down = graph.outage_from = None
    # Another controller, whose handover file holds the new secret too (copied): no wait, the old one goes.
    other = str(private_dir / 'other.json')
    write_handover(other, new)
    result, _module = run(graph, dest=other, remove_old=True, remove_old_grace_days=7, lease_wait_seconds=0)
    assert result['removed_key_ids'] == [expiring['keyId']] and graph.key_ids() == [new]
    assert lease_mod.POLL_SECONDS not in clock.slept and graph.lease() is None


def test_a_live_runs_removals_are_never_finished_by_another_run(graph, clock, dest):
    old, new = password(), password(created_seconds_ago=5, valid_days=180)
    secrets(graph, old, new)
    live = graph.set_lease('running', 300, [old['keyId']], added=new['keyId'], removing=[old['keyId']])
    write_handover(dest, new['keyId'])
    with pytest.raises(ConfigError) as err:
        run(graph, dest=dest, remove_old=True, lease_wait_seconds=10)
    assert 'another run is changing' in err.value.msg
    assert graph.writes() == [] and graph.lease().tag() == live.tag()
    assert graph.key_ids() == [old['keyId'], new['keyId']]


@pytest.mark.parametrize('case', ['dest holds the old one', 'the new one is gone'])
def test_an_unfinished_removal_never_takes_a_held_secret_nor_the_last_one(graph, clock, dest, case):
    old, new = password(), password(created_seconds_ago=5, valid_days=180)
    secrets(graph, old, new) if case == 'dest holds the old one' else secrets(graph, old)
    graph.set_lease('failed', -1, [old['keyId']], added=new['keyId'], removing=[old['keyId']])
    write_handover(dest, old['keyId'])
    result, _module = run(graph, dest=dest, remove_old=True, remove_old_grace_days=7)
    assert result['removed_key_ids'] == [] and old['keyId'] in graph.key_ids()


def test_a_run_that_fails_before_changing_anything_leaves_no_lease(graph, clock, dest):
    # dest lacks the current secret while another run held the lease: decided under the lease, refused, nothing left.
    current = password(created_seconds_ago=5, valid_days=180)
    secrets(graph, current)
    graph.set_lease('running', 30, [], added=current['keyId'])
    clock.at(40, lambda: None)
    with pytest.raises(ConfigError) as err:
        run(graph, dest=dest)
    assert 'does not exist' in err.value.msg
    assert graph.lease() is None and graph.key_ids() == [current['keyId']]
