"""A refused connection or an unknown host fails in seconds, naming the host and the fix (issue 20).

Before: azure_app_registration against a closed port was retried for 118 s without a word in between.
"""

import pytest

from exchange_play import mail_app, run_exchange
from m365_sandbox.testing import closed_port
from playbook import play, run_playbook


REGISTER = [{'name': 'register', 'm365.mail_oauth.azure_app_registration': {'unique_name': 'unreachable-e2e'}}]


@pytest.mark.parametrize('endpoint', ['authority_url', 'graph_url'])
def test_a_module_against_a_closed_port_fails_within_15_s_naming_the_host(tenant, auth, tmp_path, endpoint):
    port = closed_port()
    auth['m365_auth'][endpoint] = 'https://127.0.0.1:%d' % port
    run = run_playbook(tmp_path, play(REGISTER), 'closed-' + endpoint, extra_vars=auth)
    assert run.rc != 0, run
    assert run.seconds < 15, run.seconds
    assert '127.0.0.1:%d refused the connection' % port in run.output and 'Traceback' not in run.output, run


def test_an_unknown_login_host_fails_within_15_s_naming_it(tenant, auth, tmp_path):
    auth['m365_auth']['authority_url'] = 'https://login.no-such-host.invalid'
    run = run_playbook(tmp_path, play(REGISTER), 'unknown-host', extra_vars=auth)
    assert run.rc != 0 and run.seconds < 15, run
    assert 'login.no-such-host.invalid:443 does not resolve' in run.output.replace('the host name of ', ''), run


def test_an_exchange_action_whose_graph_endpoint_refuses_fails_within_15_s(tenant, tmp_path):
    app = mail_app(tenant)
    port = closed_port()
    tasks = [{'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {
        'app_id': app['app_id'], 'graph_url': 'https://127.0.0.1:%d' % port}}]
    run = run_exchange(tmp_path, tenant, tasks, 'exchange-closed-graph')
    assert run.rc != 0 and run.seconds < 15, run
    assert '127.0.0.1:%d refused the connection' % port in run.output, run


def test_a_long_wait_says_what_it_waits_for(tenant, auth, tmp_path):
    """Throttling is waited out as before, but a wait of 5 s or more is announced with its reason."""
    tenant.set_faults({'throttle': {'every': 2, 'status': 429, 'retry_after': 5}})
    register = [{'name': 'register', 'm365.mail_oauth.azure_app_registration': {'unique_name': 'long-wait-e2e', 'display_name': 'Long wait'}}]
    run = run_playbook(tmp_path, play(register), 'long-wait', extra_vars=auth)
    assert run.rc == 0, run
    assert 'waiting 5 s before trying again' in run.output and 'throttled by Microsoft Graph (429)' in run.output, run
