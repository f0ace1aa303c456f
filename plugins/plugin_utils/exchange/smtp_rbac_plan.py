# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SMTP through Exchange Online's RBAC for Applications: the management scope and the role assignment of one app.

Microsoft's smtp-app-rbac-onboarding and application-rbac pages: the role ``Application SMTP.SendAsApp`` assigned to
the app's Exchange service principal (``New-ManagementRoleAssignment -App <id> -CustomResourceScope <scope>``) lets
it send as every mailbox the management scope covers, with no FullAccess and no Entra ID ``SMTP.SendAsApp`` (which
would bring the mailbox check back). This module decides, for one app:

- the names: derived from the app id (``m365-mail_oauth-smtp-<app id>``), so a rerun finds what the last run made
  (adoption) and two apps never share a scope or an assignment; both fit New-ManagementRoleAssignment's 64 characters;
- the scope's RecipientRestrictionFilter: one ``(PrimarySmtpAddress -eq '<address>')`` statement per listed mailbox
  joined with ``-or``, lower case and sorted, each statement in parentheses as Exchange stores filters, so the same
  list always gives the same text and the runner's comparison with the stored RecipientFilter is exact;
- the reads and conditional writes of one runner payload (one connection) and, from the rows read, the outcome the
  controller expects (exchange_action.check_plan compares it with what the runner did).

Stdlib only (and the collection's names, errors and operation table): unit tests load it without Ansible.
"""

import re

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.names import text_problem
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import MAX_FILTER, SMTP_RBAC_ROLES

SMTP_ROLE = SMTP_RBAC_ROLES[0]
NAME_PREFIX = 'm365-mail_oauth-smtp-'
# New-ManagementRoleAssignment: "The maximum length of the name is 64 characters."
MAX_ASSIGNMENT_NAME = 64
# What the filter may hold: an address as Exchange writes PrimarySmtpAddress. Quotes, backticks, $ and spaces would end
# the OPATH value or be read by PowerShell; Exchange would refuse the filter or, worse, match something else.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#%&*+/=?^_{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SCOPE_NAME_BAD = re.compile(r"['\"`$\\]")

READ_PRINCIPAL, READ_SCOPE, READ_ASSIGNMENT, READ_AUTHORIZATION = 0, 1, 2, 3


def default_name(app_id):
    """The scope's and the assignment's name for an app: stable across runs, unique per app."""
    return NAME_PREFIX + app_id.lower()


def scope_name_problem(name):
    # The one rule for names first (module_utils/names.py), then what a scope's name must not hold in a filter or cmdlet.
    problem = text_problem(name, MAX_ASSIGNMENT_NAME)
    if problem is None and _SCOPE_NAME_BAD.search(name):
        problem = 'it contains a quote, backtick, $ or backslash'
    return problem


def check_name(name, option):
    problem = scope_name_problem(name)
    if problem:
        raise ConfigError('%s %r cannot be used: %s; use at most %d letters, digits, spaces, dots, dashes or underscores'
                          % (option, name, problem, MAX_ASSIGNMENT_NAME))
    return name


def scope_addresses(mailboxes):
    """The listed mailboxes as the lower-case, sorted, unique addresses the filter names; ConfigError on any other entry."""
    bad = [m for m in mailboxes if not isinstance(m, str) or not _ADDRESS.match(m)]
    if bad:
        raise ConfigError('mailboxes: %s cannot be put in the management scope\'s filter: RBAC for Applications covers the '
                          'mailboxes whose PrimarySmtpAddress the scope names, so list each mailbox by its primary SMTP '
                          'address (name@domain, without quotes, spaces or $)' % ', '.join(repr(b) for b in bad[:10]))
    return sorted(set(m.lower() for m in mailboxes))


def scope_filter(addresses):
    """The RecipientRestrictionFilter covering exactly these addresses (already checked by scope_addresses)."""
    if not addresses:
        raise ConfigError('mailboxes is empty: a management scope must name at least one mailbox (state=absent removes '
                          'the scope and the assignment)')
    text = ' -or '.join("(PrimarySmtpAddress -eq '%s')" % a for a in addresses)
    if len(text) > MAX_FILTER:
        raise ConfigError('the management scope\'s filter for %d mailboxes would be %d characters long, more than the %d '
                          'this module sends: split the mailboxes over several apps' % (len(addresses), len(text), MAX_FILTER))
    return text


def filter_addresses(text):
    """The addresses a stored RecipientFilter names with PrimarySmtpAddress -eq (for reports; case folded)."""
    return sorted(set(a.lower() for a in re.findall(r"PrimarySmtpAddress\s+-eq\s+'([^']*)'", text or '', re.I)))


class SmtpRbacPlan(object):
    """Reads and conditional writes for one app's scope and assignment, and the outcome from what the runner read."""

    def __init__(self, principal_id, scope_name, assignment_name, addresses, state='present', remove_scope=True,
                 test_authorization=True):
        self.principal_id = principal_id
        self.scope_name = scope_name
        self.assignment_name = assignment_name
        self.addresses = addresses
        self.state = state
        self.remove_scope = remove_scope
        self.filter = scope_filter(addresses) if state == 'present' else None
        self.reads = [
            {'op': 'get_service_principal', 'params': {'Identity': principal_id}},
            {'op': 'get_management_scope', 'params': {'Identity': scope_name}},
            {'op': 'get_management_role_assignment', 'params': {'Identity': assignment_name}},
        ]
        if state == 'present' and test_authorization:
            self.reads.append({'op': 'test_service_principal_authorization', 'params': {'Identity': principal_id},
                               'for_each': list(addresses)})
        self.writes = self._present_writes() if state == 'present' else self._absent_writes()

    def _assignment_match(self):
        return {'Role': SMTP_ROLE, 'CustomResourceScope': self.scope_name}

    def _present_writes(self):
        principal_known = {'read': READ_PRINCIPAL, 'rows': 'some', 'key': None}
        return [
            {'op': 'new_management_scope', 'params': {'Name': self.scope_name, 'RecipientRestrictionFilter': self.filter},
             'when': {'read': READ_SCOPE, 'rows': 'none', 'missing': 'act'}},
            {'op': 'set_management_scope', 'params': {'Identity': self.scope_name, 'RecipientRestrictionFilter': self.filter},
             'when': [{'read': READ_SCOPE, 'rows': 'some'},
                      {'read': READ_SCOPE, 'rows': 'none', 'match': {'RecipientFilter': self.filter}}]},
            # New-ManagementRoleAssignment cannot change the scope of an assignment (Set-ManagementRoleAssignment has no
            # -CustomResourceScope): one with our name and another role or scope is replaced.
            {'op': 'remove_management_role_assignment', 'params': {'Identity': self.assignment_name},
             'when': [{'read': READ_ASSIGNMENT, 'rows': 'some'},
                      {'read': READ_ASSIGNMENT, 'rows': 'none', 'match': self._assignment_match()}]},
            {'op': 'new_management_role_assignment',
             'params': {'Name': self.assignment_name, 'App': self.principal_id, 'Role': SMTP_ROLE,
                        'CustomResourceScope': self.scope_name},
             'when': [principal_known,
                      {'read': READ_ASSIGNMENT, 'rows': 'none', 'match': self._assignment_match(), 'missing': 'act'}]},
        ]

    def _absent_writes(self):
        writes = [{'op': 'remove_management_role_assignment', 'params': {'Identity': self.assignment_name},
                   'when': {'read': READ_ASSIGNMENT, 'rows': 'some'}}]
        if self.remove_scope:
            # After the assignment: Exchange refuses to remove a scope an assignment still uses.
            writes.append({'op': 'remove_management_scope', 'params': {'Identity': self.scope_name},
                           'when': {'read': READ_SCOPE, 'rows': 'some'}})
        return writes

    # -- what the runner read -------------------------------------------------------------------------------------------

    def outcome(self, answer):
        # A failed read is not an empty answer: found_rows raises on anything but "not found".
        principal = answer.found_rows(READ_PRINCIPAL, 'Get-ServicePrincipal %s' % self.principal_id)
        scopes = answer.found_rows(READ_SCOPE, 'Get-ManagementScope %s' % self.scope_name)
        assignments = answer.found_rows(READ_ASSIGNMENT, 'Get-ManagementRoleAssignment %s' % self.assignment_name)
        scope = scopes[0] if scopes else None
        assignment = assignments[0] if assignments else None
        wanted = self._assignment_match()
        assignment_ok = assignment is not None and all(_same(assignment.get(k), v) for k, v in wanted.items())
        expected = []
        if self.state == 'present':
            if scope is None:
                expected.append(('new_management_scope', None))
            elif not _same(scope.get('RecipientFilter'), self.filter):
                expected.append(('set_management_scope', None))
            if assignment is not None and not assignment_ok:
                expected.append(('remove_management_role_assignment', None))
            if not assignment_ok and principal:
                expected.append(('new_management_role_assignment', None))
        else:
            if assignment is not None:
                expected.append(('remove_management_role_assignment', None))
            if scope is not None and self.remove_scope:
                expected.append(('remove_management_scope', None))
        before = {'scope': _scope_view(scope), 'assignment': _assignment_view(assignment)}
        if self.state == 'present':
            after = {'scope': {'name': self.scope_name, 'mailboxes': list(self.addresses)},
                     'assignment': {'name': self.assignment_name, 'role': SMTP_ROLE, 'scope': self.scope_name}}
        else:
            after = {'scope': None if self.remove_scope else before['scope'], 'assignment': None}
        return {
            'expected': expected,
            'principal_in_exchange': bool(principal),
            'before': before,
            'after': after,
            'out_of_scope': self._out_of_scope(answer) if not expected else [],
            'authorization_errors': self._authorization_errors(answer),
        }

    def _out_of_scope(self, answer):
        """Listed mailboxes Test-ServicePrincipalAuthorization says the role does not reach (only when nothing changes)."""
        if len(self.reads) <= READ_AUTHORIZATION:
            return []
        rows = answer.by_key(READ_AUTHORIZATION)
        out = []
        for address in self.addresses:
            call = rows.get(address)
            if call is None or not call.get('ok'):
                continue  # a failed test is reported as such, never as "out of scope"
            granted = [r for r in call.get('output') or [] if _same(r.get('RoleName'), SMTP_ROLE)]
            if not any(r.get('InScope') is True or _same(r.get('InScope'), 'True') for r in granted):
                out.append(address)
        return out

    def _authorization_errors(self, answer):
        if len(self.reads) <= READ_AUTHORIZATION:
            return []
        rows = answer.by_key(READ_AUTHORIZATION)
        return ['%s: %s' % (a, ((rows[a].get('error') or {}).get('message'))) for a in self.addresses
                if a in rows and not rows[a].get('ok')]


def _same(value, wanted):
    if isinstance(value, str) and isinstance(wanted, str):
        return value.lower() == wanted.lower()
    return value == wanted


def _scope_view(row):
    if row is None:
        return None
    return {'name': row.get('Name') or row.get('Identity'), 'mailboxes': filter_addresses(row.get('RecipientFilter')),
            'filter': row.get('RecipientFilter')}


def _assignment_view(row):
    if row is None:
        return None
    return {'name': row.get('Name') or row.get('Identity'), 'role': row.get('Role'), 'scope': row.get('CustomResourceScope')}
