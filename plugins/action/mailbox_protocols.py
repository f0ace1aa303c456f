# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.mailbox_protocols; the documentation is in plugins/modules/mailbox_protocols.py."""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import ExchangeAction
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.mailbox_protocols_plan import MailboxProtocolsPlan, desired_settings
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.mailbox_identities import resolve_mailboxes

SPEC = dict(
    mailboxes=dict(type='list', elements='str'),
    mailboxes_file=dict(type='path'),
    imap=dict(type='bool'),
    pop=dict(type='bool'),
    smtp_client_auth=dict(type='str', choices=['enabled', 'disabled', 'inherit']),
    missing=dict(type='str', choices=['fail', 'warn'], default='fail'),
)


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_ONE_OF = [['mailboxes', 'mailboxes_file']]
    MUTUALLY_EXCLUSIVE = [['mailboxes', 'mailboxes_file']]

    def execute(self, params):
        mailboxes = resolve_mailboxes(params['mailboxes'], params['mailboxes_file'], self.read_controller_file)
        if not mailboxes:
            raise ConfigError('mailboxes is empty: list the mailboxes whose protocols to check or set')
        wanted = desired_settings(params['imap'], params['pop'], params['smtp_client_auth'])
        return self.converge(MailboxProtocolsPlan(mailboxes, wanted, fail_missing=params['missing'] == 'fail'))
