# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""exchange_service_principal's plan, and Exchange Online's own record of a service principal.

ServicePrincipalPlan: the principal as Graph knows it, made to exist in Exchange Online with the same ids and
display name (or removed). Set-ServicePrincipal cannot change ids, so an entry with the wrong ones is removed and
created again. RecordRemovalPlan: state=absent when Graph no longer knows the application; Exchange Online is
read by the id the task gave and its entry removed. record_reads/record_of also serve mailbox_permission, whose
removal finds the principal the same way.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.plan import Report

BY_APP_ID, BY_OBJECT_ID, SMTP_RBAC_ASSIGNMENT = 0, 1, 2


def _named(app_id, object_id):
    return 'app_id %s' % app_id if app_id else 'object_id %s' % object_id


def not_known_message(app_id, object_id):
    return ('neither Microsoft Graph nor Exchange Online knows a service principal with %s: nothing to remove (already '
            'removed, or a wrong id or tenant)' % _named(app_id, object_id))


def fallback_message(app_id, object_id, principal):
    return ('Microsoft Graph has no service principal with %s (the application is gone from Entra ID): removing by Exchange '
            "Online's own record of it (object id %s)" % (_named(app_id, object_id), principal['object_id']))


def record_match(app_id, object_id):
    """The ids an Exchange row must carry to be the given principal's."""
    match = {}
    if app_id:
        match['AppId'] = app_id
    if object_id:
        match['ObjectId'] = object_id
    return match


def record_reads(app_id, object_id):
    """Read the principal by its own ids in Exchange Online (never an empty -Identity: that lists every principal)."""
    identity = app_id or object_id
    if not identity:
        raise ConfigError('name the application by app_id or object_id')
    return [{'op': 'get_service_principal', 'params': {'Identity': identity}}]


def principal_rows(answer, index, what, cmdlet='Get-ServicePrincipal'):
    """The rows a single read (Get-ServicePrincipal unless named) answered ([] when Exchange has no such entry); other errors
    raise: a failed read is never an empty answer."""
    return answer.found_rows(index, '%s %s' % (cmdlet, what))


def record_of(answer, app_id, object_id):
    """{app_id, object_id, display_name, source: exchange} of the row record_reads read, or None.

    Only a row carrying every given id counts (Exchange also resolves an Identity by display name)."""
    for row in principal_rows(answer, 0, app_id or object_id):
        if all((row.get(k) or '').lower() == v.lower() for k, v in record_match(app_id, object_id).items()):
            return {'app_id': (row.get('AppId') or '').lower(), 'object_id': (row.get('ObjectId') or '').lower(),
                    'display_name': row.get('DisplayName'), 'source': 'exchange'}
    return None


def _diff_rows(rows):
    return {'service_principals': rows}


class ServicePrincipalPlan(object):
    """The principal (as Graph names it) present in Exchange Online with these ids and display name, or absent."""

    # A stopped run fails the task with the runner's own error (what was done and skipped), not a partial result.
    KEEP_PARTIAL = False

    def __init__(self, principal, display_name=None, state='present', smtp_rbac_assignment=None):
        self.app_id, self.object_id = principal['app_id'], principal['object_id']
        self.display_name = display_name or principal['display_name'] or self.app_id
        self.state = state
        # Both ids, always: a read by one of them alone could not tell a wrong entry from the right one.
        if not self.app_id or not self.object_id:
            raise ConfigError('internal error: both ids are needed before Exchange is asked')
        self.reads = [{'op': 'get_service_principal', 'params': {'Identity': self.app_id}},
                      {'op': 'get_service_principal', 'params': {'Identity': self.object_id}}]
        # The SMTP RBAC assignment an earlier rbac run made, read in the same connection (one read cmdlet, no second
        # round trip), so that a switch back to full_access can remove it and the audit can report it.
        self.smtp_rbac_assignment = smtp_rbac_assignment if state == 'present' else None
        if self.smtp_rbac_assignment:
            self.reads.append({'op': 'get_management_role_assignment', 'params': {'Identity': self.smtp_rbac_assignment}})
        self.writes = self._writes()

    def _writes(self):
        app_id, object_id = self.app_id, self.object_id
        right = {'AppId': app_id, 'ObjectId': object_id}
        if self.state == 'absent':
            return [{'op': 'remove_service_principal', 'params': {'Identity': app_id},
                     'when': {'read': BY_APP_ID, 'rows': 'some', 'match': {}}}]
        return [
            # Set-ServicePrincipal cannot change ids: an entry with the wrong ones is removed and created again.
            {'op': 'remove_service_principal', 'params': {'Identity': app_id}, 'when': {'read': BY_APP_ID, 'rows': 'none', 'match': right}},
            {'op': 'remove_service_principal', 'params': {'Identity': object_id},
             'when': {'read': BY_OBJECT_ID, 'rows': 'none', 'match': right}},
            {'op': 'new_service_principal', 'params': dict(right, DisplayName=self.display_name),
             'when': {'read': BY_APP_ID, 'rows': 'none', 'match': right, 'missing': 'act'}},
            {'op': 'set_service_principal', 'params': {'Identity': app_id, 'DisplayName': self.display_name},
             'when': [{'read': BY_APP_ID, 'rows': 'some', 'match': right},
                      {'read': BY_APP_ID, 'rows': 'none', 'match': dict(right, DisplayName=self.display_name)}]},
        ]

    def _same(self, row):
        return row is not None and (row.get('AppId') or '').lower() == self.app_id and (row.get('ObjectId') or '').lower() == self.object_id

    def expected(self, by_app, by_object):
        """The writes due for the rows read (the controller's own reading, compared with the runner's)."""
        if self.state == 'absent':
            return [('remove_service_principal', None)] if by_app is not None else []
        expected = []
        if by_app is not None and not self._same(by_app):
            expected.append(('remove_service_principal', None))
        if by_object is not None and not self._same(by_object):
            expected.append(('remove_service_principal', None))
        if not self._same(by_app):
            expected.append(('new_service_principal', None))
        elif (by_app.get('DisplayName') or '').lower() != self.display_name.lower():
            expected.append(('set_service_principal', None))
        return expected

    def report(self, answer, check_mode=False):
        by_app = (principal_rows(answer, BY_APP_ID, self.app_id) or [None])[0]
        by_object = (principal_rows(answer, BY_OBJECT_ID, self.object_id) or [None])[0]
        report = Report()
        report.expected = self.expected(by_app, by_object)
        before = [row for row in (by_app, by_object) if row is not None]
        # One entry found by both ids is one entry.
        report.before = _diff_rows([dict(t) for t in dict((r.get('ObjectId'), tuple(sorted(r.items()))) for r in before).values()])
        report.after = _diff_rows([] if self.state == 'absent' else
                                  [{'AppId': self.app_id, 'ObjectId': self.object_id, 'DisplayName': self.display_name}])
        actions = [op for op, _key in report.expected]
        report.values = {'changed': bool(actions), 'app_id': self.app_id, 'object_id': self.object_id, 'display_name': self.display_name,
                         'actions': actions, 'recreated': 'remove_service_principal' in actions and self.state == 'present'}
        if self.smtp_rbac_assignment:
            # A failed read raises (found_rows): "none" is only ever Exchange's own "not found".
            rows = principal_rows(answer, SMTP_RBAC_ASSIGNMENT, self.smtp_rbac_assignment, 'Get-ManagementRoleAssignment')
            report.values['smtp_rbac_assignment'] = (rows[0].get('Name') or self.smtp_rbac_assignment) if rows else None
        return report


class RecordRemovalPlan(object):
    """state=absent with the application gone from Graph: Exchange Online's own record of it, read and removed."""

    KEEP_PARTIAL = False

    def __init__(self, app_id=None, object_id=None):
        self.app_id, self.object_id = (app_id or '').lower() or None, (object_id or '').lower() or None
        self.reads = record_reads(self.app_id, self.object_id)
        self.writes = [{'op': 'remove_service_principal', 'params': {'Identity': self.app_id or self.object_id},
                        'when': {'read': 0, 'rows': 'some', 'match': record_match(self.app_id, self.object_id)}}]

    def report(self, answer, check_mode=False):
        record = record_of(answer, self.app_id, self.object_id)
        report = Report()
        report.expected = [('remove_service_principal', None)] if record else []
        report.warnings.append(fallback_message(self.app_id, self.object_id, record) if record else
                               not_known_message(self.app_id, self.object_id))
        report.before = _diff_rows([{'AppId': record['app_id'], 'ObjectId': record['object_id'], 'DisplayName': record['display_name']}]
                                   if record else [])
        report.after = _diff_rows([])
        record = record or {'app_id': self.app_id, 'object_id': self.object_id, 'display_name': None}
        report.values = {'changed': bool(report.expected), 'app_id': record['app_id'], 'object_id': record['object_id'],
                         'display_name': record['display_name'], 'actions': [op for op, _key in report.expected], 'recreated': False,
                         'source': 'exchange'}
        return report
