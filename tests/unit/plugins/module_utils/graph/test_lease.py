"""The lease on an application's tags (graph/lease.py): taking it, waiting for it, an expired or abandoned one taken over,
renewing it, losing it, and refusing while another run holds it. Graph and the clock are fakes (conftest.py)."""

import json
import os
import socket

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import lease as lease_mod

from graph_fakes import APP_OBJECT, FakeModule, password

SELECT = ['id', 'appId', 'passwordCredentials', 'tags']


def holder(graph, module, dest=None, lease_seconds=600, wait_seconds=900):
    marker = lease_mod.Marker(module, dest)
    return lease_mod.LeaseHolder(module, graph, APP_OBJECT, marker, lease_seconds, wait_seconds, SELECT)


def before_of(app, inherited):
    return set(lease_mod.short(c['keyId']) for c in app.get('passwordCredentials') or [])


def dead_marker(dest, token, pid=None):
    """The marker a run of this controller left when it was killed: its process is gone (a start time that is not its)."""
    with open(dest + '.pending', 'w') as handle:
        json.dump({'token': token, 'host': socket.gethostname(), 'pid': pid or os.getpid(), 'start': 'not-this-process'}, handle)
    os.chmod(dest + '.pending', 0o600)


def test_tag_round_trip_and_too_many_secrets_to_record():
    lease = lease_mod.Lease('ab' * 8, 1900000000, set(['0a0a0a0a', '1b1b1b1b']), '2c2c2c2c')
    assert lease.tag() == 'm365.mail_oauth.lease:abababababababab:1900000000:0a0a0a0a,1b1b1b1b:2c2c2c2c:-'
    parsed = lease_mod.Lease.parse(['hideapp', lease.tag()])
    assert (parsed.holder, parsed.expiry, parsed.before, parsed.added) == (lease.holder, lease.expiry, lease.before, lease.added)
    # A tag of the version before the removals were recorded still reads.
    older = lease_mod.Lease.parse(['m365.mail_oauth.lease:abababababababab:1900000000:0a0a0a0a:2c2c2c2c'])
    assert (older.before, older.added, older.removing) == (set(['0a0a0a0a']), '2c2c2c2c', set())
    lease.removing = set(['0a0a0a0a'])
    assert lease_mod.Lease.parse([lease.tag()]).removing == set(['0a0a0a0a'])
    many = lease_mod.Lease('ab' * 8, 1900000000, set('%08x' % n for n in range(40)))
    assert len(many.tag()) <= lease_mod.MAX_TAG
    assert lease_mod.Lease.parse([many.tag()]).before is None
    assert lease_mod.Lease.parse(['m365.mail_oauth.lease:garbage']).expiry == 0
    assert lease_mod.Lease.parse(['hideapp']) is None


def test_orphans_are_what_the_holder_added_and_never_handed_over():
    before, recorded, orphan, handed_over = password(), password(), password(), password()
    lease = lease_mod.Lease('x', 0, set([lease_mod.short(before['keyId'])]), lease_mod.short(recorded['keyId']))
    same = [before, recorded, orphan, handed_over]
    assert lease.orphans(same, keep=[handed_over['keyId']]) == [orphan]
    assert lease_mod.Lease('x', 0, None).orphans(same) == []


def test_take_a_free_lease_and_give_it_back(graph, clock, private_dir):
    existing = password()
    graph.app['passwordCredentials'] = [existing]
    graph.app['tags'] = ['hideapp']
    dest = str(private_dir / 'secret.json')
    mine = holder(graph, FakeModule(), dest=dest)
    app = mine.acquire(before_of)
    lease = graph.lease()
    assert lease.holder == mine.lease.holder
    assert abs(lease.expiry - (clock.now - lease_mod.SETTLE_SECONDS + 600)) <= 1
    assert lease.before == set([lease_mod.short(existing['keyId'])])
    assert mine.inherited is None
    assert lease.tag() in app['tags'] and 'hideapp' in app['tags']
    with open(dest + '.pending') as handle:
        assert lease_mod.holder_of(json.load(handle)['token']) == lease.holder
    mine.release()
    assert graph.app['tags'] == ['hideapp']
    assert not os.path.exists(dest + '.pending')


def test_wait_while_another_run_holds_it_then_take_it(graph, clock):
    graph.set_lease('another', 600, [])
    clock.at(20, lambda: graph.app.update(tags=[]))  # the other run finishes after 20 s
    mine = holder(graph, FakeModule())
    mine.acquire(before_of)
    assert graph.lease().holder == mine.lease.holder
    assert mine.inherited is None
    assert clock.slept.count(lease_mod.POLL_SECONDS) >= 20


def test_refuse_while_another_run_holds_it(graph, clock):
    other = graph.set_lease('another', 600, [])
    mine = holder(graph, FakeModule(), wait_seconds=30)
    with pytest.raises(ConfigError) as err:
        mine.acquire(before_of)
    assert 'another run is changing the secrets' in err.value.msg and 'lease_wait_seconds' in err.value.msg
    assert graph.writes() == []
    assert graph.lease().tag() == other.tag()
    mine.release()
    assert graph.lease().tag() == other.tag()


def test_an_expired_lease_is_taken_over_at_once_and_handed_on(graph, clock):
    killed = graph.set_lease('killed', -1, ['0a0a0a0a-0000'], added='1b1b1b1b-0000')
    mine = holder(graph, FakeModule())
    mine.acquire(before_of)
    assert lease_mod.POLL_SECONDS not in clock.slept
    assert graph.lease().holder == mine.lease.holder
    assert mine.inherited.tag() == killed.tag()


def test_the_lease_of_a_killed_run_of_this_controller_is_taken_before_it_expires(graph, clock, private_dir):
    dest = str(private_dir / 'secret.json')
    token = 'f' * 32
    graph.set_lease(lease_mod.holder_of(token), 600, [])
    dead_marker(dest, token)
    mine = holder(graph, FakeModule(), dest=dest, wait_seconds=0)
    mine.acquire(before_of)
    assert graph.lease().holder == mine.lease.holder
    assert mine.inherited.holder == lease_mod.holder_of(token)


def test_a_live_run_of_this_controller_keeps_its_lease(graph, clock, private_dir):
    dest = str(private_dir / 'secret.json')
    token = 'e' * 32
    graph.set_lease(lease_mod.holder_of(token), 600, [])
    with open(dest + '.pending', 'w') as handle:
        json.dump({'token': token, 'host': socket.gethostname(), 'pid': os.getpid(),
                   'start': lease_mod.process_start(os.getpid())}, handle)
    os.chmod(dest + '.pending', 0o600)
    with pytest.raises(ConfigError):
        holder(graph, FakeModule(), dest=dest, wait_seconds=0).acquire(before_of)


def test_a_marker_others_could_have_written_is_ignored(graph, clock, private_dir):
    dest = str(private_dir / 'secret.json')
    token = 'd' * 32
    graph.set_lease(lease_mod.holder_of(token), 600, [])
    dead_marker(dest, token)
    os.chmod(dest + '.pending', 0o666)
    module = FakeModule()
    with pytest.raises(ConfigError):
        holder(graph, module, dest=dest, wait_seconds=0).acquire(before_of)
    assert any('not trusted' in w for w in module.warnings)


def test_a_competitor_writing_during_the_settle_time_wins(graph, clock):
    def competitor():
        graph.set_lease('competitor', 600, [])
        clock.at(60, lambda: graph.app.update(tags=[]))
    clock.at(lease_mod.SETTLE_SECONDS / 2, competitor)
    mine = holder(graph, FakeModule())
    mine.acquire(before_of)
    lease_writes = [c for c in graph.writes() if c[0] == 'PATCH']
    assert len(lease_writes) == 2  # ours, overwritten; ours again once the competitor released
    assert graph.lease().holder == mine.lease.holder
    assert clock.slept.count(lease_mod.POLL_SECONDS) >= 50


def test_renew_and_record_the_added_secret(graph, clock):
    mine = holder(graph, FakeModule(), lease_seconds=120)
    mine.acquire(before_of)
    first = graph.lease().expiry
    clock.sleep(100)
    mine.confirm()
    assert graph.lease().expiry == int(clock.now + 120) > first + 99
    mine.record_added('3c3c3c3c-4444-4444-8444-000000000003')
    assert graph.lease().added == '3c3c3c3c'
    assert graph.lease().holder == mine.lease.holder


def test_a_lost_lease_stops_the_run_and_is_not_released(graph, clock):
    mine = holder(graph, FakeModule(), lease_seconds=120)
    mine.acquire(before_of)
    clock.sleep(200)
    thief = graph.set_lease('thief', 600, [])
    with pytest.raises(ConfigError) as err:
        mine.confirm()
    assert 'lost the lease' in err.value.msg
    mine.release()
    assert graph.lease().tag() == thief.tag()


def test_a_release_that_fails_keeps_the_lease_and_its_marker(graph, clock, private_dir):
    dest = str(private_dir / 'secret.json')
    mine = holder(graph, FakeModule(), dest=dest)
    mine.acquire(before_of)
    graph.outage_from = 'PATCH'
    problem = mine.release()
    assert 'could not be given back' in problem and 'takes it over at once' in problem
    assert graph.lease().expiry > clock.now and os.path.exists(dest + '.pending')


def test_a_failed_run_gives_its_lease_back_expired_with_its_record(graph, clock, private_dir):
    dest = str(private_dir / 'secret.json')
    old, new = password(), password()
    graph.app['passwordCredentials'] = [old, new]
    mine = holder(graph, FakeModule(), dest=dest)
    mine.acquire(before_of)
    mine.record_removing([old], new['keyId'])
    assert graph.lease().removing == set([lease_mod.short(old['keyId'])])
    assert mine.release(failed=True) is None
    left = graph.lease()
    assert left.expiry <= clock.now and left.added == lease_mod.short(new['keyId'])
    assert left.unfinished([old, new]) == [old] and left.unfinished([old, new], keep=[old['keyId']]) == []
    assert not os.path.exists(dest + '.pending')
