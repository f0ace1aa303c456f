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
  description: C(drift) (bool), C(findings) (list of strings), and per area C(app), C(credential), C(permissions), C(exchange), C(mailboxes).
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


def _mailboxes(result, findings):
    if not _ran(result):
        return {}
    report = {'without_access': sorted((result.get('added') or {}).get('FullAccess') or []),
              'extra_access': sorted((result.get('removed') or {}).get('FullAccess') or []),
              'not_found': sorted(result.get('missing') or [])}
    for key, text in (('without_access', 'mailboxes without FullAccess'), ('extra_access', 'mailboxes with FullAccess not listed'),
                      ('not_found', 'listed mailboxes that do not exist')):
        if report[key]:
            findings.append('%s: %s' % (text, ', '.join(report[key])))
    return report


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
    report['mailboxes'] = _mailboxes(results.get('mailbox_permission') or {}, findings)
    report['login_check'] = _logins(results.get('login_check') or {}, findings)
    if results.get('exchange_skipped'):
        findings.append('Exchange Online steps not checked (no mailbox_access_exchange_host)')
    report['findings'] = findings
    report['drift'] = bool([f for f in findings if not f.startswith('Exchange Online steps not checked')])
    return report


class FilterModule:
    def filters(self):
        return {'drift_report': drift_report}
