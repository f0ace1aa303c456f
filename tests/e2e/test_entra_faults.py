"""The Entra ID playbook converges through throttling, server errors and replication delay."""

from playbook import play, run_playbook
from test_entra_modules import app_state, provision_tasks


def test_converges_through_throttling_and_30s_replication_delay(tenant, auth, tmp_path):
    tenant.set_faults({
        'throttle': {'every': 4, 'status': 429, 'retry_after': 1},
        'server_errors': {'every': 7, 'status': 503, 'burst': 2},
        'replication_delay': 30,
    })
    dest = tmp_path / 'secret.json'
    first = run_playbook(tmp_path, play(provision_tasks(dest)), 'faults-create', extra_vars=auth)
    assert first.rc == 0, first
    stats = tenant.stats()
    assert stats['throttled'] > 0 and stats['injected_errors'] > 0, stats
    tenant.set_faults({'replication_delay': 0})
    second = run_playbook(tmp_path, play(provision_tasks(dest)), 'faults-rerun', extra_vars=auth)
    assert second.rc == 0 and second.changed == 0, second
    state, apps = app_state(tenant)
    assert len(apps) == 1
    assert len([sp for sp in state['servicePrincipals'] if sp['appId'] == apps[0]['appId']]) == 1
    assert len(apps[0]['passwordCredentials']) == 1
