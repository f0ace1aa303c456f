# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.doctor; the documentation is in plugins/modules/doctor.py.

Runs on the controller like every action. The token, permission, endpoint and clock checks are the controller's
own reads; the PowerShell host checks go through the task's connection (delegate_to the Exchange host), so an
unreachable host is a finding, not the end of the report. Nothing is written anywhere.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils import doctor
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.doctor_probe import graph_probe_url, login_probe_url, probe
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, M365Error, PowerShellTransportError
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import REFUSED, UNKNOWN_HOST
from ansible_collections.m365.mail_oauth.plugins.plugin_utils import doctor_host
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import ExchangeAction

CHECKS = ('endpoints', 'clock', 'token', 'graph_permissions', 'manage_as_app', 'exchange_host', 'exchange_role')
HOST_CHECKS = ('exchange_host', 'exchange_role')
# How a check that did not run is named in the report.
CHECK_NAMES = {'token': 'token for Microsoft Graph', 'graph_permissions': 'graph permissions', 'manage_as_app': 'Exchange.ManageAsApp'}

SPEC = dict(
    checks=dict(type='list', elements='str', choices=list(CHECKS), default=list(CHECKS)),
    playbooks=dict(type='list', elements='str', choices=list(doctor.PLAYBOOKS), default=list(doctor.PLAYBOOKS)),
    read_grants=dict(type='bool', default=True),
    reads_in_check_mode=dict(type='bool', default=False),
    fail_on_problems=dict(type='bool', default=True),
)


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC

    def execute(self, params):
        checks = set(params['checks'])
        playbooks = params['playbooks']
        if params['reads_in_check_mode'] and self.check_mode:
            # provision in check mode only reads: what it needs then is the audit's read-only set.
            mapped = []
            for playbook in ('audit' if p == 'provision' else p for p in playbooks):
                if playbook not in mapped:
                    mapped.append(playbook)
            playbooks = mapped
        credentials = self.graph.credentials  # bad input (no credential, a malformed id) fails the task here, as in any module
        cloud = credentials.cloud
        findings = []
        login_reachable = True

        if 'endpoints' in checks or 'clock' in checks:
            login_finding, login_answer = probe(self.graph.client.session, 'login (%s)' % cloud.login, login_probe_url(cloud, credentials.tenant_id))
            login_reachable = login_answer is not None
            if 'endpoints' in checks:
                findings.append(login_finding)
                findings.append(probe(self.graph.client.session, 'Microsoft Graph (%s)' % cloud.graph, graph_probe_url(cloud))[0])
            if 'clock' in checks:
                findings.append(doctor.judge_clock(login_answer.headers.get('Date'), where='the login service (%s)' % cloud.login)
                                if login_answer is not None else
                                doctor.finding('clock', doctor.SKIPPED, 'not measured: the login service did not answer'))

        graph_claims = exchange_claims = None
        if not login_reachable:
            # Each token request would meet the same closed door again: said once above, not three more times.
            findings.extend(doctor.finding(CHECK_NAMES[check], doctor.SKIPPED, 'not checked: the login endpoint does not answer (see above)')
                            for check in ('token', 'graph_permissions', 'manage_as_app') if check in checks)
            checks -= {'token', 'graph_permissions', 'manage_as_app'}
        if checks & {'token', 'graph_permissions'}:
            graph_claims = self._claims('token for Microsoft Graph', findings, lambda: self.graph.client.tokens.token(cloud.graph_resource),
                                        report='token' in checks)
            if 'graph_permissions' in checks:
                findings.extend(doctor.judge_graph_permissions(graph_claims, playbooks, credentials.client_id, params['read_grants'])
                                if graph_claims is not None else
                                [doctor.finding(CHECK_NAMES['graph_permissions'], doctor.SKIPPED, 'not judged: no token (see above)')])
        if 'manage_as_app' in checks:
            exchange_claims = self._exchange_claims(params, findings)
            if exchange_claims is not None:
                findings.extend(doctor.judge_exchange_token(exchange_claims, playbooks, credentials.client_id))

        if checks & set(HOST_CHECKS):
            findings.extend(self._host_checks(params, checks, exchange_claims, login_reachable))

        totals = doctor.summary(findings)
        name = self._host_name or 'tenant'
        result = {'changed': False, 'ok': totals['ok'], 'findings': findings, 'summary': totals,
                  'text': doctor.render_text(name, findings)}
        if not totals['ok'] and params['fail_on_problems']:
            problems = [f for f in findings if f['status'] == doctor.PROBLEM]
            result['failed'] = True
            result['msg'] = '%d problem(s) found before anything was changed: %s' % (len(problems), ' | '.join(
                '%s: %s (fix: %s)' % (f['check'], f['detail'], f['fix']) for f in problems))
        return result

    # -- tokens ----------------------------------------------------------------------------------------------------

    def _claims(self, what, findings, get_token, report=True):
        """The claims of a token, a finding either way (when report); None when there is no token."""
        try:
            claims = decode_jwt_claims(get_token())
        except M365Error as exc:
            findings.append(doctor.finding(what, doctor.PROBLEM, exc.msg, _token_fix(exc)))
            return None
        if report:
            grants = doctor.token_grants(claims)
            findings.append(doctor.finding(what, doctor.OK, '%s token for %s (tenant %s)' % (grants['kind'], grants['who'], claims.get('tid'))))
        return claims

    def _exchange_claims(self, params, findings):
        client = self.graph.client
        if params.get('exchange_access_token'):
            return self._claims('token for Exchange Online', findings, lambda: params['exchange_access_token'])
        if self.graph.credentials.kind == 'access_token':
            findings.append(doctor.finding('Exchange.ManageAsApp', doctor.SKIPPED, 'not judged: access_token is a Graph token; give '
                                           'exchange_access_token to check the Exchange one'))
            return None
        if params['exchange_auth'] != 'access_token':
            findings.append(doctor.finding('Exchange.ManageAsApp', doctor.SKIPPED, 'not judged on the controller: the host logs in '
                                           'itself (exchange_auth=%s); the Exchange role check shows it' % params['exchange_auth']))
            return None
        return self._claims('token for Exchange Online', findings, lambda: client.tokens.token(client.cloud.exchange))

    # -- the PowerShell host -----------------------------------------------------------------------------------------

    def _host_checks(self, params, checks, exchange_claims, login_reachable=True):
        try:
            facts = doctor_host.read_facts(self, params.get('powershell_interpreter'))
        except PowerShellTransportError as exc:
            return [doctor.finding('PowerShell host', doctor.PROBLEM, exc.msg, doctor_host.UNREACHABLE_FIX)]
        host = doctor.judge_host(facts, params['exchange_auth'], params['install_module'], params.get('min_version'))
        findings = host if 'exchange_host' in checks else []
        if 'exchange_role' in checks:
            if facts.get('language_mode') != 'FullLanguage':
                findings.append(doctor.finding('Exchange role', doctor.SKIPPED, 'not judged: the host cannot run the runner (language mode)'))
            elif not login_reachable and params['exchange_auth'] == 'access_token' and not params.get('exchange_access_token'):
                findings.append(doctor.finding('Exchange role', doctor.SKIPPED, 'not judged: no Exchange token without the login endpoint '
                                               '(see above)'))
            elif any(f['status'] == doctor.PROBLEM for f in host):
                findings.append(doctor.finding('Exchange role', doctor.SKIPPED, 'not judged: ExchangeOnlineManagement on the host cannot '
                                               'connect yet (see above)'))
            else:
                findings.append(self._exchange_role(params, exchange_claims))
        return findings

    def _exchange_role(self, params, exchange_claims):
        grants = doctor.token_grants(exchange_claims) if exchange_claims is not None else None
        manage = None if grants is None else doctor.MANAGE_AS_APP in grants['permissions']
        # A person's token (signed in, or supplied): the role in effect is the person's.
        person = grants['who'] if grants and grants['kind'] == 'delegated' else None
        try:
            answer = self.session().converge(doctor_host.role_reads(self.graph.credentials.client_id), [], check_mode=True)
        except PowerShellTransportError as exc:
            return doctor.finding('Exchange role', doctor.PROBLEM, exc.msg, doctor_host.UNREACHABLE_FIX)
        except M365Error as exc:
            return doctor.finding('Exchange role', doctor.PROBLEM, 'not judged: %s' % exc.msg, _token_fix(exc))
        return doctor.judge_exchange_role(answer.msg if answer.failed else None, [r.get('error') or {} for r in answer.errors()], manage, person)


def _token_fix(exc):
    code = (exc.details or {}).get('code')
    if code in (REFUSED, UNKNOWN_HOST):
        return 'fix the endpoint named above (the URL options, DNS, proxy or firewall)'
    if isinstance(exc, ConfigError):
        return 'fix the option named above'
    return 'see the message; docs/troubleshooting.md lists the AADSTS codes and their fixes'
