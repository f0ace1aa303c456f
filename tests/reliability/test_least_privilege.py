"""Each playbook works as an admin app with exactly the permissions docs/permissions.md lists, and fails naming the one missing."""

import pytest

from m365_reliability import ledger
from m365_reliability.harness import Case
from m365_reliability.privilege import PLAYBOOKS, admin_app, missing_cases, without

FAST = {('rotate_secret', 'Application.ReadWrite.All')}


def _run_as(case, label, playbook, roles):
    path, extra, check, _roles = PLAYBOOKS[playbook]
    auth = admin_app(case.sandbox, 'rel-admin-%s-%s' % (playbook, label), roles)
    case.suite.learn(auth['client_secret'])
    inventory = case.write_inventory('as-' + label, mailbox_access_graph_auth=auth)
    return case.run('%s-as-%s' % (playbook, label), playbook=path, inventory=inventory, extra_vars=extra, check=check, diff=check)


def _cases():
    out = []
    for playbook, (_path, _extra, _check, roles) in sorted(PLAYBOOKS.items()):
        out.append(pytest.param(playbook, None, None, id='%s with exactly its set' % playbook,
                                marks=() if playbook == 'rotate_secret' else (pytest.mark.soak,)))
        for resource, role in missing_cases(roles):
            out.append(pytest.param(playbook, resource, role, id='%s without %s' % (playbook, role),
                                    marks=() if (playbook, role) in FAST else (pytest.mark.soak,)))
    return out


@pytest.mark.parametrize('playbook,resource,role', _cases())
def test_playbook_permissions(rel, tmp_path, playbook, resource, role):
    case = Case(rel, tmp_path, 'privilege %s %s' % (playbook, role or 'exact'))
    if playbook != 'provision':
        # The mail app the other playbooks work on, made by the sandbox's full admin.
        assert case.run('setup').rc == 0
    roles = PLAYBOOKS[playbook][3]
    if role is None:
        run = _run_as(case, 'exact', playbook, roles)
        problems = [] if run.rc == 0 else ['%s failed with exactly its permissions: %r' % (playbook, run)]
    else:
        run = _run_as(case, 'missing', playbook, without(roles, resource, role))
        named = role if resource.endswith('graph.microsoft.com') else 'Exchange.ManageAsApp'
        problems = [] if run.rc != 0 and named in run.output and 'Traceback' not in run.stdout else [
            '%s without %s: rc=%s, message names it: %s' % (playbook, role, run.rc, named in run.output)]
    ledger.record('privilege', '%s %s' % (playbook, 'without ' + role if role else 'exact'), ok=not problems, problems=problems,
                  leaked_secret_bytes=sum(s for _w, _k, s in run.leaks))
    assert not problems, '\n'.join(problems) + '\n%r' % run
    assert not run.leaks, run.leaks
