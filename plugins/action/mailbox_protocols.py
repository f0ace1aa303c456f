# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.mailbox_protocols; the documentation is in plugins/modules/mailbox_protocols.py."""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import ExchangeAction, check_plan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import is_not_found
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.mailbox_identities import resolve_mailboxes

SPEC = dict(
    mailboxes=dict(type='list', elements='str'),
    mailboxes_file=dict(type='path'),
    imap=dict(type='bool'),
    pop=dict(type='bool'),
    smtp_client_auth=dict(type='str', choices=['enabled', 'disabled', 'inherit']),
    missing=dict(type='str', choices=['fail', 'warn'], default='fail'),
)
SMTP_VALUES = {'enabled': False, 'disabled': True, 'inherit': None}
TENANT_WARNING = ('SMTP AUTH is disabled for the whole organization (Get-TransportConfig SmtpClientAuthenticationDisabled is True): '
                  '%d mailbox(es) inherit that setting and cannot send with SMTP and OAuth (535 5.7.139): %s. Set smtp_client_auth=enabled '
                  'on them, or run Set-TransportConfig -SmtpClientAuthenticationDisabled $false')


def desired_settings(params):
    wanted = {}
    if params.get('imap') is not None:
        wanted['ImapEnabled'] = params['imap']
    if params.get('pop') is not None:
        wanted['PopEnabled'] = params['pop']
    if params.get('smtp_client_auth') is not None:
        wanted['SmtpClientAuthenticationDisabled'] = SMTP_VALUES[params['smtp_client_auth']]
    return wanted


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_ONE_OF = [['mailboxes', 'mailboxes_file']]
    MUTUALLY_EXCLUSIVE = [['mailboxes', 'mailboxes_file']]

    def execute(self, params):
        mailboxes = resolve_mailboxes(params['mailboxes'], params['mailboxes_file'], self.read_controller_file)
        wanted = desired_settings(params)
        if not mailboxes:
            raise ConfigError('mailboxes is empty: list the mailboxes whose protocols to check or set')
        reads = [{'op': 'get_transport_config'}, {'op': 'get_cas_mailbox', 'for_each': mailboxes}]
        writes = []
        if wanted:
            writes.append({'op': 'set_cas_mailbox', 'for_each': mailboxes, 'params': dict(wanted),
                           'when': {'read': 1, 'rows': 'none', 'match': dict(wanted)}})
        answer = self.session().converge(reads, writes, check_mode=self.check_mode)
        if answer.failed:
            answer.raise_for_failure()
        rows = answer.by_key(1)
        before, after, missing, errors, expected = {}, {}, [], [], []
        for mailbox in mailboxes:
            call = rows.get(mailbox)
            if call is None or not call.get('ok'):
                error = (call or {}).get('error') or {}
                (missing if is_not_found(error) else errors).append(mailbox if is_not_found(error) else '%s: %s' % (mailbox, error.get('message')))
                continue
            row = (call.get('output') or [{}])[0]
            current = dict((k, row.get(k)) for k in ('ImapEnabled', 'PopEnabled', 'SmtpClientAuthenticationDisabled'))
            target = dict(current, **wanted)
            if target != current:
                before[mailbox], after[mailbox] = current, target
                expected.append(('set_cas_mailbox', mailbox))
            else:
                after[mailbox] = target
        if not self.check_mode:
            check_plan(answer, expected)
        transport = (answer.calls(0) or [{}])[0]
        tenant_disabled = bool(((transport.get('output') or [{}])[0]).get('SmtpClientAuthenticationDisabled'))
        warnings = list(answer.warnings)
        inheriting = [m for m, s in after.items() if s.get('SmtpClientAuthenticationDisabled') is None]
        if tenant_disabled and inheriting:
            warnings.append(TENANT_WARNING % (len(inheriting), ', '.join(inheriting[:10])))
        if missing and params['missing'] == 'warn':
            warnings.append('%d mailbox(es) not found, skipped: %s' % (len(missing), ', '.join(missing[:20])))
        result = {'changed': bool(expected), 'changed_mailboxes': [m for _op, m in expected], 'missing': missing,
                  'tenant_smtp_client_auth_disabled': tenant_disabled, 'organization': self.session().connection.get('organization')}
        if self.diff_mode:
            result['diff'] = {'before': before, 'after': dict((m, after[m]) for m in before)}
        if warnings:
            result['warnings'] = warnings
        problems = []
        if answer.stopped:
            problems.append('Exchange Online stopped at %s' % (answer.raw.get('stopped_at') or {}).get('key'))
        if errors:
            problems.append('Exchange Online failed for: %s' % '; '.join(errors[:10]))
        if missing and params['missing'] == 'fail':
            problems.append('mailbox(es) not found: %s (the other mailboxes were processed; set missing=warn to accept this)' % ', '.join(missing[:20]))
        if problems:
            result.update(failed=True, msg='; '.join(problems))
        return result
