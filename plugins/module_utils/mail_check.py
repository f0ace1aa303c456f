# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mail_oauth_check's work: its inputs checked, an Exchange token fetched and read, rounds of IMAP/POP/SMTP logins
until each is settled or wait_timeout passes, and the report."""

import time

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import TokenProvider, decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import make_session
from ansible_collections.m365.mail_oauth.plugins.module_utils.mail_diagnosis import diagnose, token_facts
from ansible_collections.m365.mail_oauth.plugins.module_utils.mail_login import (
    LOGINS, PROTOCOLS, tls_context, xoauth2_base64, xoauth2_string)
from ansible_collections.m365.mail_oauth.plugins.module_utils.retry import Backoff

# Causes a fresh token may cure (consent and roles propagate); a supplied access_token cannot be renewed.
TOKEN_CAUSES = ('token_expired', 'wrong_audience', 'consent_missing', 'role_missing')
# What proves a refusal: the server refused a token it accepts (not a network, TLS or token problem).
REFUSALS = ('access_denied', 'not_connected', 'out_of_scope')
# Backoff between rounds: propagation is slow, so there is no point in hammering the servers.
ROUND_BASE = 2.0
ROUND_CAP = 30.0


def check_inputs(params):
    for name in ('wait_timeout', 'retry_timeout'):
        if params[name] < 0:
            raise ConfigError('%s must be 0 or more seconds, got %s' % (name, params[name]))
    if params['login_timeout'] <= 0:
        raise ConfigError('login_timeout must be more than 0 seconds, got %s' % params['login_timeout'])
    for protocol in PROTOCOLS:
        port = params['%s_port' % protocol]
        if not 0 < port < 65536:
            raise ConfigError('%s_port must be a TCP port (1-65535), got %s' % (protocol, port))
    for mailbox in list(params['mailboxes']) + list(params.get('expect_refused') or []):
        try:
            xoauth2_string(mailbox, 'x')
        except ValueError:
            raise ConfigError('mailbox %r is empty or contains whitespace or control characters' % mailbox)
    if not params['protocols']:
        raise ConfigError('protocols must name at least one of imap, pop, smtp')
    both = sorted(set(m.lower() for m in params['mailboxes']) & set(m.lower() for m in params.get('expect_refused') or []))
    if both:
        raise ConfigError('mailbox(es) %s are in both mailboxes (must log in) and expect_refused (must be refused): list each '
                          'in one of them' % ', '.join(both))


class MailCheck:
    """Token, then rounds of logins until every check is settled or the deadline passes."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.credentials = module.credentials
        self.cloud = self.credentials.cloud
        self.session = make_session(self.params['ca_path'], self.params['validate_certs'])
        self.context = tls_context(self.params['mail_ca_path'], self.params['validate_certs'])
        self.protocols = list(dict.fromkeys(self.params['protocols']))
        self.renewable = self.credentials.kind != 'access_token'
        self.token = None
        self.facts = None

    def host(self, protocol):
        return self.params['%s_host' % protocol] or getattr(self.cloud, '%s_host' % protocol)

    def fetch_token(self):
        # A new provider per round: msal caches per client, and a token issued before consent stays roleless.
        provider = TokenProvider(self.credentials, self.session, retry_timeout=self.params['retry_timeout'])
        token = provider.token(self.cloud.exchange)
        self.module.protect(token)
        self.token = token
        self.facts = token_facts(decode_jwt_claims(token), self.cloud.exchange, self.protocols, time.time(),
                                 smtp_rbac=self.params.get('smtp_access') == 'rbac')

    def login(self, mailbox, protocol, refused=False):
        self.module.protect(xoauth2_base64(mailbox, self.token))
        self.module.protect(xoauth2_string(mailbox, self.token))
        host, port = self.host(protocol), self.params['%s_port' % protocol]
        result = LOGINS[protocol](host, port, mailbox, self.token, self.context, self.params['login_timeout']).as_dict()
        result['context'] = dict(mailbox=mailbox, host=host, port=port)
        cause, diagnosis, retryable = diagnose(protocol, result, self.facts)
        if cause in TOKEN_CAUSES and not self.renewable:
            retryable = False
        entry = dict(mailbox=mailbox, protocol=protocol, host=host, port=port, ok=result['ok'], stage=result['stage'],
                     answer=result['answer'], cause=cause, diagnosis=diagnosis, expected='login')
        if refused:
            # The proof that access is narrow: the server itself refuses a token it accepts. A login that works may be the
            # permission cache (30 min - 2 h for RBAC changes): tried again until wait_timeout.
            entry.update(expected='refused', logged_in=result['ok'], ok=cause in REFUSALS,
                         diagnosis=('refused as expected: ' + diagnosis) if cause in REFUSALS else (
                             'logged in, but a refusal was expected: the app still reaches %s over %s (a scope or permission '
                             'removed less than 2 hours ago may still be cached)' % (mailbox, protocol.upper())
                             if result['ok'] else 'no refusal proven: ' + diagnosis))
            retryable = result['ok'] or (retryable and cause not in REFUSALS)
        return entry, retryable

    def run(self):
        started = time.monotonic()
        self.fetch_token()
        refused = list(dict.fromkeys(self.params.get('expect_refused') or []))
        pending = [(m, p, False) for m in dict.fromkeys(self.params['mailboxes']) for p in self.protocols]
        pending += [(m, p, True) for m in refused for p in self.protocols]
        results, attempts = {}, {}
        backoff = Backoff(self.params['wait_timeout'], base=ROUND_BASE, cap=ROUND_CAP)
        while pending:
            retry = []
            for key in pending:
                attempts[key] = attempts.get(key, 0) + 1
                entry, retryable = self.login(*key)
                entry.update(attempts=attempts[key], seconds=round(time.monotonic() - started, 2))
                results[key] = entry
                if not entry['ok'] and retryable:
                    retry.append(key)
            pending = retry
            if not pending or not backoff.wait():
                break
            if self.renewable:
                self.fetch_token()
        checks = [results[key] for key in results]
        return self.report(checks)

    def report(self, checks):
        failed = [c for c in checks if not c['ok']]
        token_only = not checks and bool(self.facts['problems'])
        ok = not failed and not token_only
        if ok:
            msg = '%d of %d logins worked' % (len(checks), len(checks)) if checks else 'the token shows no problem'
        elif token_only:
            msg = 'the token shows: %s' % ', '.join(self.facts['problems'])
        else:
            msg = '%d of %d logins failed: %s' % (len(failed), len(checks), '; '.join(
                '%s %s: %s' % (c['protocol'].upper(), c['mailbox'],
                               'logged in, refusal expected' if c.get('logged_in') else c['cause']) for c in failed))
        return dict(changed=False, ok=ok, token=self.facts, checks=checks, failed_checks=len(failed), msg=msg)
