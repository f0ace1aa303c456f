"""The Exchange action plugins, run as ansible-core runs them, against a stubbed Exchange session and Graph.

As ansible.windows tests its action plugins (tests/unit/plugins/action/test_win_updates.py): the ActionModule is
built with a mocked task, connection and loader and its run() called. What stands in is the controller's view of the
host and of Graph: build_action(name, args) gives (action, session) where the session answers reads from a table of
rows per (op, key) and writes as the test says the runner did them; session.sent keeps what was sent. The
exchange_action fixture (conftest.py) wraps it. Stdlib and ansible-core only: unit tests ship in the built
collection, which has no sandbox.
"""

import importlib
from unittest.mock import MagicMock

from ansible.playbook.task import Task

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import action as exchange_action_module
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeResult

APP_ID = '11111111-2222-4333-8444-555555555555'
OBJECT_ID = '66666666-7777-4888-8999-000000000001'
ORGANIZATION = 'contoso.onmicrosoft.com'
NOT_FOUND = {'message': "|...ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found.",
             'not_found': True, 'principal_not_found': False}
SERVER_ERROR = {'message': '||Transient failure in the backend.', 'not_found': False, 'principal_not_found': False}
# What every task passes besides its own options: a Graph credential (never used: Graph is stubbed).
AUTH = {'tenant_id': 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'client_id': APP_ID, 'client_secret': 'not-a-secret-value'}


class StubGraph(object):
    """ControllerGraph as the action sees it: the principals Graph knows."""

    principals = {}

    def __init__(self, params, warn=None):
        self.params = params

    def service_principal(self, app_id=None, object_id=None, missing_ok=False):
        for principal in self.principals.values():
            if (not app_id or principal['app_id'] == app_id) and (not object_id or principal['object_id'] == object_id):
                return dict(principal)
        if missing_ok:
            return None
        raise AssertionError('the test named no principal %s %s' % (app_id, object_id))

    def secrets(self):
        return []


class StubSession(object):
    """ExchangeSession as the action sees it: one converge per round trip, answered from rows and done writes.

    rows[(op, key)] is the output of a read (a dict with 'error' for a failed call; key: the for_each value, or the
    -Identity of a read without for_each, or None for any other such read); a read not in rows finds
    nothing (not found for a read of one identity, [] otherwise). done lists the (op, key[, error]) writes the runner did,
    in order; stopped_at marks a run that stopped at a failed write.
    """

    def __init__(self):
        self.rows = {}
        self.done = []
        self.stopped = False
        self.warnings = []
        self.sent = []
        self.connection = {'organization': ORGANIZATION}
        self.secrets = []
        self.round_trips = 0
        self.sessions_used = 0

    def _read(self, index, operation, key):
        entry = {'op_index': index, 'op': operation['op'], 'key': key, 'ok': True, 'output': [], 'warnings': [], 'error': None}
        # A read without for_each is found by its -Identity when the test keyed it so, else by (op, None).
        identity = key if key is not None else (operation.get('params') or {}).get('Identity')
        found = self.rows.get((operation['op'], identity))
        if found is None and key is None:
            found = self.rows.get((operation['op'], None))
        if isinstance(found, dict) and 'error' in found:
            entry.update(ok=False, error=found['error'])
        elif found is not None:
            entry['output'] = found
        elif identity is not None:
            # As Exchange answers a Get-* of an -Identity it does not know.
            entry.update(ok=False, error=NOT_FOUND)
        return entry

    def converge(self, reads, writes, check_mode=False):
        self.round_trips += 1
        self.sent.append({'reads': list(reads), 'writes': list(writes), 'check_mode': check_mode})
        operations = list(reads) + ([] if check_mode else list(writes))
        results = [self._read(index, operation, key)
                   for index, operation in enumerate(reads) for key in (operation.get('for_each') or [None])]
        for write in ([] if check_mode else self.done):
            op, key = write[0], write[1]
            index = next(i for i, o in enumerate(operations) if i >= len(reads) and o['op'] == op)
            error = write[2] if len(write) > 2 else None
            results.append({'op_index': index, 'op': op, 'key': key, 'ok': error is None, 'output': [], 'warnings': [], 'error': error})
        raw = {'version': 2, 'failed': False, 'connected': True, 'results': results, 'warnings': list(self.warnings),
               'stopped': False, 'skipped': 0}
        failed = [r for r in results if r['op_index'] >= len(reads) and not r['ok']]
        if self.stopped and failed:
            raw.update(stopped=True, skipped=1, stopped_at={'op_index': failed[0]['op_index'], 'op': failed[0]['op'], 'key': failed[0]['key']})
        result = ExchangeResult(raw, operations)
        result.first_write = len(reads)
        return result


class _Connection(object):
    """A connection that transport_policy does not judge (only winrm and psrp carry the Windows password)."""

    _load_name = 'ansible.builtin.ssh'
    transport = 'ssh'

    def __init__(self):
        self._shell = MagicMock(tmpdir='/tmp/ansible-tmp')


def build_action(monkeypatch, name, args, check_mode=False, diff=False, principals=None):
    """(ActionModule of plugins/action/<name>.py, its StubSession), Graph knowing principals (default: the mail app)."""
    monkeypatch.setattr(exchange_action_module, 'ControllerGraph', StubGraph)
    StubGraph.principals = dict(principals if principals is not None else
                                {'mail app': {'app_id': APP_ID, 'object_id': OBJECT_ID, 'display_name': 'Mail app'}})
    task = MagicMock(Task)
    task.args = dict(AUTH, **args)
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    module = importlib.import_module('ansible_collections.m365.mail_oauth.plugins.action.%s' % name)
    action = module.ActionModule(task, _Connection(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    session = StubSession()
    action._session = session  # pylint: disable=protected-access
    return action, session
