# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: drift_report
short_description: Turn the mailbox_access role's check-mode results into a drift report
version_added: 0.1.0
description:
  - Reads the O(_input) results the role M(m365.mail_oauth.mailbox_access) keeps in C(mailbox_access_result) after a
    check-mode run, and says what is missing, what is extra, which secrets expire soon and which mailboxes lack access.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  _input:
    description: The role's C(mailbox_access_result).
    type: dict
    required: true
  expiry_days:
    description: Report credentials that expire within this many days.
    type: int
    default: 30
  now:
    description: The time to compare expiry dates with (ISO 8601); the current time when omitted.
    type: str
'''

EXAMPLES = r'''
- name: Build the report
  ansible.builtin.set_fact:
    report: "{{ mailbox_access_result | m365.mail_oauth.drift_report(expiry_days=45) }}"
'''

RETURN = r'''
_value:
  description: >-
    C(drift) (bool), C(findings) (list of strings), and per area C(app), C(credential), C(permissions), C(exchange),
    C(mailboxes), C(smtp_rbac) (the SMTP management scope and role assignment, with C(out_of_scope) mailboxes; with
    C(smtp_access=full_access), C(leftover) names the assignment an earlier C(rbac) run left).
  type: dict
'''

import datetime

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.mail_app_credentials import parse_graph_time as _time

UTC = datetime.timezone.utc


def _diff(result):
    diff = result.get('diff') or {}
    return diff.get('before') or {}, diff.get('after') or {}


def _by_resource(before, after):
    """{resource: {'missing': [...], 'extra': [...]}} between two {resource: [names]} views."""
    out = {}
    for resource in sorted(set(before) | set(after)):
        had, want = set(before.get(resource) or []), set(after.get(resource) or [])
        if had != want:
            out[resource] = {'missing': sorted(want - had), 'extra': sorted(had - want)}
    return out


def _app(result, findings):
    before, after = _diff(result)
    if result.get('created'):
        findings.append('application %s does not exist' % after.get('unique_name'))
        return {'exists': False}
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    for key in changed:
        findings.append('application %s: %s is %r, should be %r' % (before.get('unique_name'), key, before.get(key), after.get(key)))
    return {'exists': True, 'changed_properties': changed}


def _credential(result, expiry_days, now, findings):
    if not result or result.get('skipped'):
        return {}
    end = _time(result.get('end_date_time'))
    report = {'key_id': result.get('key_id'), 'end_date_time': result.get('end_date_time')}
    if result.get('changed'):
        before, _after = _diff(result)
        report['needs_new'] = True
        findings.append('credential %s: missing or expiring within the rotation window (a new one would be added)'
                        % (result.get('key_id') or 'of that name'))
        report['existing'] = before.get('credentials', [])
    elif end is not None:
        days = (end - now).total_seconds() / 86400
        report['days_left'] = int(days)
        if days <= expiry_days:
            findings.append('credential %s expires in %d days (%s)' % (result.get('key_id'), days, result.get('end_date_time')))
    return report


def _permissions(result, findings):
    before, after = _diff(result)
    report = {'requested': _by_resource(before.get('requested') or {}, after.get('requested') or {}),
              'consented': _by_resource(before.get('granted') or {}, after.get('granted') or {})}
    for kind in ('requested', 'consented'):
        for resource, delta in report[kind].items():
            if delta['missing']:
                findings.append('%s permissions missing on %s: %s' % (kind, resource, ', '.join(delta['missing'])))
            if delta['extra']:
                findings.append('%s permissions not wanted on %s: %s' % (kind, resource, ', '.join(delta['extra'])))
    return report


def _ran(result):
    return bool(result) and not result.get('skipped')


def _exchange(principal, protocols, findings):
    report = {}
    if _ran(principal):
        report['service_principal'] = 'wrong ids' if principal.get('recreated') else 'missing' if principal.get('changed') else 'ok'
        if principal.get('changed'):
            findings.append('Exchange service principal for %s: %s (New-ServicePrincipal needed)'
                            % (principal.get('app_id'), report['service_principal']))
    if _ran(protocols):
        report['protocols_differ'] = sorted(protocols.get('changed_mailboxes') or [])
        if report['protocols_differ']:
            findings.append('protocol switches differ on %d mailbox(es): %s' % (
                len(report['protocols_differ']), ', '.join(report['protocols_differ'])))
        if protocols.get('tenant_smtp_client_auth_disabled'):
            report['tenant_smtp_client_auth_disabled'] = True
    return report


def _mailboxes(result, findings, full_access=True):
    if not _ran(result):
        return {}
    report = {'without_access': sorted((result.get('added') or {}).get('FullAccess') or []),
              'extra_access': sorted((result.get('removed') or {}).get('FullAccess') or []),
              'not_found': sorted(result.get('missing') or [])}
    # SMTP only through RBAC: the role removes FullAccess from the listed mailboxes, so what it would remove is not needed.
    extra = 'mailboxes with FullAccess not listed' if full_access else 'mailboxes with FullAccess the app does not need (SMTP through RBAC)'
    for key, text in (('without_access', 'mailboxes without FullAccess'), ('extra_access', extra),
                      ('not_found', 'listed mailboxes that do not exist')):
        if report[key]:
            findings.append('%s: %s' % (text, ', '.join(report[key])))
    return report


def _smtp_rbac(result, findings):
    """The SMTP management scope and role assignment (m365.mail_oauth.smtp_rbac in check mode)."""
    if not _ran(result):
        return {}
    # Returned with or without --diff.
    before, after = result.get('before') or {}, result.get('after') or {}
    scope_before, scope_after = before.get('scope'), after.get('scope') or {}
    report = {'scope': scope_before and scope_before.get('name'), 'scope_missing': [], 'scope_extra': [],
              'assignment': 'ok', 'out_of_scope': sorted(result.get('out_of_scope') or [])}
    if scope_before is None:
        findings.append('SMTP management scope %s does not exist (New-ManagementScope needed)' % scope_after.get('name'))
        report['scope'] = 'missing'
    else:
        had, want = set(scope_before.get('mailboxes') or []), set(scope_after.get('mailboxes') or [])
        report['scope_missing'], report['scope_extra'] = sorted(want - had), sorted(had - want)
        if report['scope_missing']:
            findings.append('SMTP management scope %s does not cover listed mailboxes: %s'
                            % (scope_before.get('name'), ', '.join(report['scope_missing'])))
        if report['scope_extra']:
            findings.append('SMTP management scope %s covers mailboxes not listed: %s'
                            % (scope_before.get('name'), ', '.join(report['scope_extra'])))
        if had == want and 'set_management_scope' in (result.get('actions') or []):
            findings.append('SMTP management scope %s has another filter: %s' % (scope_before.get('name'), scope_before.get('filter')))
    assignment_before = before.get('assignment')
    if assignment_before is None:
        report['assignment'] = 'missing'
        findings.append('role assignment Application SMTP.SendAsApp for app %s does not exist' % (result.get('principal') or {}).get('app_id'))
    elif 'new_management_role_assignment' in (result.get('actions') or []):
        report['assignment'] = 'wrong role or scope'
        findings.append('role assignment %s is %s with scope %s, should be %s with scope %s' % (
            assignment_before.get('name'), assignment_before.get('role'), assignment_before.get('scope'),
            (after.get('assignment') or {}).get('role'), (after.get('assignment') or {}).get('scope')))
    if report['out_of_scope']:
        findings.append('listed mailboxes outside the SMTP management scope (Test-ServicePrincipalAuthorization): %s'
                        % ', '.join(report['out_of_scope']))
    return report


def _smtp_rbac_leftover(result, findings):
    """smtp_access is full_access, yet the app still holds the scope and assignment an earlier rbac run made
    (m365.mail_oauth.smtp_rbac state=absent in check mode)."""
    if not _ran(result) or not result.get('changed'):
        return {}
    findings.append('SMTP RBAC role assignment %s (and its scope) left by an earlier rbac run: the app may still send as '
                    'the mailboxes it names' % result.get('assignment_name'))
    return {'leftover': result.get('assignment_name')}


def _logins(result, findings):
    if not _ran(result):
        return {}
    failed = [c for c in result.get('checks') or [] if not c.get('ok')]
    for check in failed:
        findings.append('login %s %s failed: %s - %s' % (check.get('protocol'), check.get('mailbox'), check.get('cause'),
                                                         check.get('diagnosis')))
    return {'ok': not failed and bool(result.get('ok', True)), 'failed': [
        dict((k, c.get(k)) for k in ('mailbox', 'protocol', 'cause', 'diagnosis')) for c in failed]}


def drift_report(results, expiry_days=30, now=None):
    if not isinstance(results, dict):
        raise AnsibleFilterError('drift_report expects the mailbox_access_result dict, got %s' % type(results).__name__)
    moment = _time(now) if now else datetime.datetime.now(UTC)
    findings = []
    report = {
        'app': _app(results.get('app') or {}, findings),
        'credential': _credential(results.get('credential') or {}, expiry_days, moment, findings),
        'permissions': _permissions(results.get('permissions') or {}, findings),
    }
    report['exchange'] = _exchange(results.get('exchange_service_principal') or {}, results.get('mailbox_protocols') or {}, findings)
    report['mailboxes'] = _mailboxes(results.get('mailbox_permission') or {}, findings, results.get('full_access', True) is not False)
    report['smtp_rbac'] = _smtp_rbac(results.get('smtp_rbac') or {}, findings)
    report['smtp_rbac'].update(_smtp_rbac_leftover(results.get('smtp_rbac_leftover') or {}, findings))
    report['login_check'] = _logins(results.get('login_check') or {}, findings)
    if results.get('exchange_skipped'):
        findings.append('Exchange Online steps not checked (no mailbox_access_exchange_host)')
    report['findings'] = findings
    report['drift'] = bool([f for f in findings if not f.startswith('Exchange Online steps not checked')])
    return report


class FilterModule:
    def filters(self):
        return {'drift_report': drift_report}
