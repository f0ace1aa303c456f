# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Exchange action's plan shares: one round trip, read by the controller, reported in one wording.

A plan (service_principal_plan.py, mailbox_permission_plan.py, mailbox_protocols_plan.py) holds its reads, its
conditional writes, KEEP_PARTIAL (whether a run stopped at a failed write still reports what it found and did, or
fails with the runner's error alone) and report(answer, check_mode): a Report with the writes it expected for the
before-state it read, the diff, the task's own result values, and the mailboxes that were missing or failed.
ExchangeAction.converge sends the plan, checks that the runner did what the plan expected (check_plan) and turns the
Report into the task's result; the words for missing mailboxes, failed calls and a stopped run are written here once.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import M365Error
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import is_not_found

# How many names a message lists before it stops.
LIST_MISSING = 20
LIST_ERRORS = 10


def call_error(key, error):
    """One failed call as a message names it: 'key: what Exchange said'."""
    return '%s: %s' % (key, (error or {}).get('message') or 'no answer')


def missing_warning(missing):
    return '%d mailbox(es) not found, skipped: %s' % (len(missing), ', '.join(missing[:LIST_MISSING]))


def missing_problem(missing):
    return ('mailbox(es) not found: %s (the other mailboxes were processed; set missing=warn to accept this)'
            % ', '.join(missing[:LIST_MISSING]))


def errors_problem(errors):
    return 'Exchange Online failed for: %s' % '; '.join(errors[:LIST_ERRORS])


class Report(object):
    """What one round trip means, as a plan reads it.

    expected: (op, key) of every write due for the before-state read (compared with the runner's by check_plan);
    before/after: the diff (None: the task shows none); values: the task's own result keys; missing: mailboxes
    Exchange does not know; errors: failed calls ('key: message'); first_warnings and warnings: before and after
    Exchange's own warnings; first_problem: the task's first problem, in place of the runner's message when the run
    stopped (None: the runner's). fail_missing: whether missing mailboxes fail the task.
    """

    def __init__(self, fail_missing=True):
        self.expected = []
        self.before = None
        self.after = None
        self.values = {}
        self.missing = []
        self.errors = []
        self.first_warnings = []
        self.warnings = []
        self.first_problem = None
        self.fail_missing = fail_missing

    def failed_call(self, key, error):
        """A mailbox's failed call: missing when Exchange does not know it, else an error."""
        if is_not_found(error):
            self.missing.append(key)
        else:
            self.errors.append(call_error(key, error))

    def problems(self, answer):
        """Why the task failed after its round trip, in order; [] when it did not."""
        problems = []
        if self.first_problem:
            problems.append(self.first_problem)
        elif answer.stopped:
            problems.append(answer.stop_message())
        if self.errors:
            problems.append(errors_problem(self.errors))
        if self.missing and self.fail_missing:
            problems.append(missing_problem(self.missing))
        return problems

    def result(self, answer, diff):
        """The task's result: its values, the diff when asked for, warnings, failed and msg."""
        result = dict(self.values)
        if diff and self.before is not None:
            result['diff'] = {'before': self.before, 'after': self.after}
        warnings = self.first_warnings + list(answer.warnings) + self.warnings
        if self.missing and not self.fail_missing:
            warnings.append(missing_warning(self.missing))
        if warnings:
            result['warnings'] = warnings
        problems = self.problems(answer)
        if problems:
            result.update(failed=True, msg='; '.join(problems))
        return result


def write_keys(result):
    """(op, key) of every write the runner attempted, in order."""
    return [(r['op'], _fold(r.get('key'))) for r in result.results if r['op_index'] >= result.first_write]


def check_plan(result, expected):
    """Fail loudly when the host did other writes than the controller's plan for the same before-state."""
    planned = [(op, _fold(key)) for op, key in expected]
    done = write_keys(result)
    extra = [w for w in done if w not in set(planned)]
    missing = [w for w in planned if w not in set(done)]
    if extra or (missing and not result.stopped and not result.failed):
        raise M365Error('the runner on the host did not do what the plan said for the state it read (a runner/controller '
                        'version mismatch?): unplanned writes %s; planned but not done %s' % (_brief(extra), _brief(missing)))


def _brief(items):
    text = ', '.join('%s %s' % (op, key or '') for op, key in items[:5])
    return (text + ' (and %d more)' % (len(items) - 5)) if len(items) > 5 else (text or 'none')


def _fold(value):
    return value.lower() if isinstance(value, str) else value
