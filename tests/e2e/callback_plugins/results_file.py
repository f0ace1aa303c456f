"""Test-only callback: every task result, as Ansible hands it to callbacks, appended to $RESULTS_FILE as JSON lines."""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: results_file
type: aggregate
short_description: write task results to a JSON lines file for the tests
description: Writes each task result to the file named by the RESULTS_FILE environment variable.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'results_file'
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get('RESULTS_FILE')
        if not path:
            return
        record = {'task': result.task_name, 'host': result._host.get_name(), 'status': status,
                  'result': self._clean_results(dict(result._result), result.task_name) or result._result}
        with open(path, 'a') as handle:
            handle.write(json.dumps(record, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')
