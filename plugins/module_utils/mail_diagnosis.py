# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why an app-only XOAUTH2 login failed, from the token's claims and the server's answer.

Exchange Online answers most failures with the same "AUTHENTICATE failed", so
the cause is read from what the token says first (expired, audience, roles)
and from the few answers that do name a reason (535 5.7.139). The order of
RULES is the order of the questions an admin should ask.
"""

import datetime

REQUIRED_ROLE = {'imap': 'IMAP.AccessAsApp', 'pop': 'POP.AccessAsApp', 'smtp': 'SMTP.SendAsApp'}

# cause -> (diagnosis, whether waiting and trying again can help)
CAUSES = {
    'ok': ('logged in', False),
    'token_expired': ('the access token expired at {expires_at}; a client must get a new token before it expires', True),
    'wrong_audience': ("the token is for '{aud}', but the mail servers accept only tokens for '{expected}': request the scope "
                       "{expected}/.default (set cloud for a national cloud)", False),
    'consent_missing': ('the token has no roles claim: admin consent was not granted for any application permission on '
                        'Office 365 Exchange Online (m365.mail_oauth.api_permission with admin_consent=true), or it has not '
                        'propagated yet', True),
    'role_missing': ('the token lacks the role {role} ({protocol} needs it; it has {roles}): add the application permission '
                     '{role} on Office 365 Exchange Online and grant admin consent', True),
    'smtp_auth_disabled': ('SMTP AUTH is disabled for the tenant or this mailbox (535 5.7.139): Set-TransportConfig '
                           '-SmtpClientAuthenticationDisabled $false, or Set-CASMailbox {mailbox} -SmtpClientAuthenticationDisabled $false', False),
    'not_connected': ('the token was accepted but the mailbox was not opened: FullAccess for the application on {mailbox} is '
                      'missing (Add-MailboxPermission -User <service principal id> -AccessRights FullAccess)', True),
    'access_denied': ('the server refused a token that carries the right role and audience: the Exchange service principal is '
                      'missing or was created with the wrong object id (New-ServicePrincipal -ObjectId must be the enterprise '
                      "application's object id, {oid}), or FullAccess on {mailbox} is missing, or both are still propagating", True),
    # RBAC for Applications (smtp_access=rbac): SMTP needs no role in the token, only a mailbox in the assignment's scope.
    'out_of_scope': ('the server refused SMTP for {mailbox} with a token it accepts: with RBAC for Applications the mailbox must '
                     'be in the management scope of the app\'s Application SMTP.SendAsApp role assignment (m365.mail_oauth.smtp_rbac; '
                     'Test-ServicePrincipalAuthorization -Identity {oid} -Resource {mailbox} shows it at once), and a change '
                     'reaches logins only after Exchange\'s permission cache expires (30 minutes to 2 hours)', True),
    'unreachable': ('{host}:{port} cannot be reached: {answer}', True),
    'tls_error': ('the TLS certificate of {host}:{port} is not trusted ({answer}): set mail_ca_path to the CA that signed it', False),
    'protocol_error': ('{host}:{port} did not answer as a {protocol} server for XOAUTH2 should: {answer}', False),
}


def _utc(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)


def required_roles(protocols, smtp_rbac=False):
    """The token roles the protocols need; SMTP through RBAC for Applications needs none (and SMTP.SendAsApp in the
    token would bring the mailbox check back, Learn: smtp-app-rbac-onboarding)."""
    return set(REQUIRED_ROLE[p] for p in protocols if not (p == 'smtp' and smtp_rbac))


def token_facts(claims, expected_audience, protocols, now, smtp_rbac=False):
    """The parts of the token an admin checks; never the token itself. now: POSIX seconds."""
    roles = claims.get('roles')
    exp = claims.get('exp')
    aud = claims.get('aud')
    facts = dict(
        aud=aud,
        expected_audience=expected_audience,
        audience_ok=(aud or '').rstrip('/') == expected_audience.rstrip('/'),
        roles=list(roles) if isinstance(roles, list) else ([roles] if roles else []),
        has_roles_claim='roles' in claims,
        app_id=claims.get('appid') or claims.get('azp'),
        tenant_id=claims.get('tid'),
        service_principal_id=claims.get('oid'),
        app_display_name=claims.get('app_displayname'),
        expires_at=_utc(exp).strftime('%Y-%m-%dT%H:%M:%SZ') if isinstance(exp, (int, float)) else None,
        expires_in=int(exp - now) if isinstance(exp, (int, float)) else None,
        signature_checked=False,
    )
    facts['expired'] = facts['expires_in'] is not None and facts['expires_in'] <= 0
    facts['smtp_rbac'] = bool(smtp_rbac)
    facts['missing_roles'] = sorted(required_roles(protocols, smtp_rbac) - set(facts['roles']))
    facts['problems'] = token_problems(facts, [p for p in protocols if REQUIRED_ROLE[p] in required_roles(protocols, smtp_rbac)])
    return facts


def token_problems(facts, protocols):
    """Causes visible in the token alone, most fundamental first."""
    problems = []
    if facts['expired']:
        problems.append('token_expired')
    if not facts['audience_ok']:
        problems.append('wrong_audience')
    if facts.get('smtp_rbac') and not protocols:
        pass  # SMTP through RBAC only: a token without roles is what it should be
    elif not facts['has_roles_claim'] or not facts['roles']:
        problems.append('consent_missing')
    elif facts['missing_roles'] and protocols:
        problems.append('role_missing')
    return problems


def _token_cause(protocol, facts):
    if facts['expired']:
        return 'token_expired'
    if not facts['audience_ok']:
        return 'wrong_audience'
    if protocol == 'smtp' and facts.get('smtp_rbac'):
        return None
    if not facts['roles']:
        return 'consent_missing'
    if REQUIRED_ROLE[protocol] not in facts['roles']:
        return 'role_missing'
    return None


def diagnose(protocol, result, facts):
    """(cause, diagnosis text, retryable) for one login result (mail_login.LoginResult.as_dict())."""
    if result['ok']:
        cause = 'ok'
    elif result['failure'] == 'connect':
        cause = 'unreachable'
    elif result['failure'] == 'tls':
        cause = 'tls_error'
    elif protocol == 'smtp' and '5.7.139' in (result.get('answer') or ''):
        cause = 'smtp_auth_disabled'
    elif result['failure'] == 'protocol':
        cause = 'protocol_error'
    else:
        cause = _token_cause(protocol, facts)
        if cause is None:
            answer = (result.get('answer') or '').lower()
            if protocol == 'smtp' and facts.get('smtp_rbac'):
                cause = 'out_of_scope'
            else:
                cause = 'not_connected' if result['failure'] == 'access' or 'not connected' in answer else 'access_denied'
    text, retryable = CAUSES[cause]
    values = dict(result.get('context') or {})
    values.update(protocol=protocol.upper(), role=REQUIRED_ROLE[protocol], roles=', '.join(facts['roles']) or 'none',
                  aud=facts['aud'], expected=facts['expected_audience'], expires_at=facts['expires_at'],
                  oid=facts['service_principal_id'], answer=result.get('answer'))
    values.setdefault('mailbox', '<mailbox>')
    return cause, text.format(**values), retryable
