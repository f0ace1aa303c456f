"""The doctor through real ansible-playbook against the sandbox: all ok on a good tenant, each breakage named with its fix."""

import json
import socket

from exchange_play import WINDOWS, inventory, run_exchange
from playbook import run_playbook


def doctor_task(**args):
    return {'name': 'doctor', 'm365.mail_oauth.doctor': dict({'fail_on_problems': False}, **args), 'register': 'doctor'}


def findings(run):
    return run.results()['doctor']['localhost']['findings']


def by_check(items):
    out = {}
    for item in items:
        out.setdefault(item['check'], []).append(item)
    return out


def test_the_action_finds_nothing_wrong_on_a_good_tenant(tenant, tmp_path):
    run = run_exchange(tmp_path, tenant, [doctor_task()], 'doctor-good')
    assert run.rc == 0, run
    items = findings(run)
    assert [i for i in items if i['status'] not in ('ok', 'skipped')] == [], items
    checks = by_check(items)
    for check in ('token for Microsoft Graph', 'Exchange.ManageAsApp', 'PowerShell host', 'ExchangeOnlineManagement', 'Exchange role', 'clock'):
        assert check in checks, (check, items)
