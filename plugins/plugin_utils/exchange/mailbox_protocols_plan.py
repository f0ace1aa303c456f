# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_protocols' plan: IMAP, POP and SMTP AUTH of each mailbox (Set-CASMailbox), and the tenant's SMTP AUTH.

The tenant's setting is read (Get-TransportConfig) only to warn: a mailbox that inherits it cannot send with SMTP and
OAuth while the organization disables SMTP AUTH.
"""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.plan import Report

# smtp_client_auth as Exchange stores it: SmtpClientAuthenticationDisabled, where $null inherits the tenant's setting.
SMTP_VALUES = {'enabled': False, 'disabled': True, 'inherit': None}
SETTINGS = ('ImapEnabled', 'PopEnabled', 'SmtpClientAuthenticationDisabled')
R_TRANSPORT, R_CAS = 0, 1
TENANT_WARNING = ('SMTP AUTH is disabled for the whole organization (Get-TransportConfig SmtpClientAuthenticationDisabled is True): '
                  '%d mailbox(es) inherit that setting and cannot send with SMTP and OAuth (535 5.7.139): %s. Set smtp_client_auth=enabled '
                  'on them, or run Set-TransportConfig -SmtpClientAuthenticationDisabled $false')


def desired_settings(imap=None, pop=None, smtp_client_auth=None):
    """The CAS mailbox settings the task manages (an option left out is left alone)."""
    wanted = {}
    if imap is not None:
        wanted['ImapEnabled'] = imap
    if pop is not None:
        wanted['PopEnabled'] = pop
    if smtp_client_auth is not None:
        wanted['SmtpClientAuthenticationDisabled'] = SMTP_VALUES[smtp_client_auth]
    return wanted


class MailboxProtocolsPlan(object):
    """Read every mailbox's CAS settings and set those that differ from wanted, in one round trip."""

    KEEP_PARTIAL = True

    def __init__(self, mailboxes, wanted, fail_missing=True):
        self.mailboxes = mailboxes
        self.wanted = wanted
        self.fail_missing = fail_missing
        self.reads = [{'op': 'get_transport_config'}, {'op': 'get_cas_mailbox', 'for_each': mailboxes}]
        self.writes = []
        if wanted:
            self.writes.append({'op': 'set_cas_mailbox', 'for_each': mailboxes, 'params': dict(wanted),
                                'when': {'read': R_CAS, 'rows': 'none', 'match': dict(wanted)}})

    def report(self, answer, check_mode=False):
        report = Report(self.fail_missing)
        rows = answer.by_key(R_CAS)
        before, after = {}, {}
        for mailbox in self.mailboxes:
            call = rows.get(mailbox)
            if call is None or not call.get('ok'):
                report.failed_call(mailbox, (call or {}).get('error') or {})
                continue
            row = (call.get('output') or [{}])[0]
            current = dict((k, row.get(k)) for k in SETTINGS)
            target = dict(current, **self.wanted)
            if target != current:
                before[mailbox] = current
                report.expected.append(('set_cas_mailbox', mailbox))
            after[mailbox] = target
        report.before, report.after = before, dict((m, after[m]) for m in before)
        transport = (answer.calls(R_TRANSPORT) or [{}])[0]
        tenant_disabled = bool(((transport.get('output') or [{}])[0]).get('SmtpClientAuthenticationDisabled'))
        inheriting = [m for m, s in after.items() if s.get('SmtpClientAuthenticationDisabled') is None]
        if tenant_disabled and inheriting:
            report.warnings.append(TENANT_WARNING % (len(inheriting), ', '.join(inheriting[:10])))
        report.values = {'changed': bool(report.expected), 'changed_mailboxes': [m for _op, m in report.expected],
                         'missing': report.missing, 'tenant_smtp_client_auth_disabled': tenant_disabled}
        return report
