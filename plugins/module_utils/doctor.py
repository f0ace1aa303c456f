# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doctor's judgement: what each playbook needs, and whether the admin identity and its hosts have it.

NEEDS is the one table of what provision, audit, rotate_secret and deprovision need (docs/permissions.md shows
it; a unit test keeps the two equal). The judges take what was read (a token's claims, a host's facts, a Date
header) and answer findings: {check, status (ok / problem / warning), detail, fix}. Nothing here talks to a
service, so every rule is unit-tested with hand-made claims and facts.

An application token carries its Graph application permissions in ``roles``. A person's delegated token carries
scopes in ``scp`` (space separated) and the person's directory roles as role template ids in ``wids``: Graph
then allows a call only when the scope AND one of the person's roles allow it, so both are judged.

No service calls: the standard library and the sibling module_utils' tables (signin, exchange_module, http) only.
"""

import datetime
import email.utils

from ansible_collections.m365.mail_oauth.plugins.module_utils import exchange_module, signin
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import unreachable_in_text

PLAYBOOKS = ('provision', 'rotate_secret', 'deprovision', 'audit')

# Microsoft Entra built-in role template ids (the values of ``wids``) and their names: signin's one table.
GLOBAL_ADMINISTRATOR = signin.GLOBAL_ADMINISTRATOR
APPLICATION_ADMINISTRATOR = signin.APPLICATION_ADMINISTRATOR
CLOUD_APPLICATION_ADMINISTRATOR = signin.CLOUD_APPLICATION_ADMINISTRATOR
EXCHANGE_ADMINISTRATOR = signin.EXCHANGE_ADMINISTRATOR
GLOBAL_READER = signin.GLOBAL_READER
ROLE_NAMES = signin.ROLE_TEMPLATES
MANAGE_AS_APP = 'Exchange.ManageAsApp'
# The delegated permission of Office 365 Exchange Online that Exchange Online PowerShell signs a person in with.
EXCHANGE_MANAGE_SCOPE = 'Exchange.Manage'

_APP_ADMINS = (GLOBAL_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR)
_EXCHANGE_ADMINS = (GLOBAL_ADMINISTRATOR, EXCHANGE_ADMINISTRATOR)

# What each playbook needs. graph: Microsoft Graph permissions (application roles for an app, scopes of the same
# name for a person); exchange: whether it runs Exchange Online steps (Exchange.ManageAsApp and an Exchange role);
# entra_roles / exchange_roles: the directory roles a person signing in needs, any one of each.
NEEDS = {
    'provision': {'graph': ('Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All'),
                  'exchange': True, 'entra_roles': _APP_ADMINS, 'exchange_roles': _EXCHANGE_ADMINS},
    'audit': {'graph': ('Application.Read.All', 'DelegatedPermissionGrant.ReadWrite.All'),
              'exchange': True, 'entra_roles': _APP_ADMINS + (GLOBAL_READER,), 'exchange_roles': _EXCHANGE_ADMINS + (GLOBAL_READER,)},
    'rotate_secret': {'graph': ('Application.ReadWrite.All',), 'exchange': False, 'entra_roles': _APP_ADMINS, 'exchange_roles': ()},
    'deprovision': {'graph': ('Application.ReadWrite.All',), 'exchange': True, 'entra_roles': _APP_ADMINS,
                    'exchange_roles': _EXCHANGE_ADMINS},
}
# The Exchange Online management roles each playbook's cmdlets need, for an admin app whose Exchange role is a role group
# of its own (bootstrap's admin_identity_exchange_role=role_group) instead of the Entra role Exchange Administrator.
# Which role holds which cmdlet: docs/permissions.md ("Least privilege in Exchange Online"), from Get-ManagementRole -Cmdlet
# and Microsoft365DSC's published requirements: *-ServicePrincipal and RBAC for Applications (New-ManagementScope,
# New-ManagementRoleAssignment) are Role Management's; the mailbox permission, SendAs and CAS cmdlets Mail Recipients';
# Get-TransportConfig View-Only Configuration's. The doctor's role check reads with one cmdlet of each.
_PROVISION_EXCHANGE = ('Mail Recipients', 'Role Management', 'View-Only Configuration')
for _playbook, _roles in (('provision', _PROVISION_EXCHANGE), ('audit', _PROVISION_EXCHANGE),
                          ('deprovision', ('Mail Recipients', 'Role Management')), ('rotate_secret', ())):
    NEEDS[_playbook]['exchange_management_roles'] = _roles


def needs_of(playbooks, key):
    """The union of NEEDS[playbook][key] over the playbooks named; ValueError naming unknown (or no) playbooks."""
    unknown = [p for p in playbooks or [] if p not in NEEDS]
    if unknown or not playbooks:
        raise ValueError('unknown or no playbook(s) %s; choose from %s' % (', '.join(unknown), ', '.join(sorted(NEEDS))))
    return set(value for name in playbooks for value in NEEDS[name][key])


# A permission that allows everything another does (Graph accepts ReadWrite.All wherever Read.All is asked).
COVERS = {'Application.Read.All': ('Application.ReadWrite.All',)}

# The PowerShell host: which ExchangeOnlineManagement it needs is exchange_module's rule (the runner says the same).
MIN_MODULE = exchange_module.MIN_MODULE
MIN_MODULE_ACCESS_TOKEN = exchange_module.MIN_MODULE_ACCESS_TOKEN
MODULE_NEEDS_PS76 = exchange_module.MODULE_NEEDS_PS76
LAST_BEFORE_PS76 = exchange_module.LAST_BEFORE_PS76
PS76 = exchange_module.PS76
# Clock skew: a few minutes is what token validation tolerates (Microsoft.IdentityModel's default ClockSkew is 5
# minutes); more than a minute already makes a fresh token look not yet valid to a strict service.
SKEW_WARN = 60
SKEW_PROBLEM = 300

OK, PROBLEM, WARNING, SKIPPED = 'ok', 'problem', 'warning', 'skipped'


def finding(check, status, detail, fix=None, **extra):
    item = {'check': check, 'status': status, 'detail': detail, 'fix': fix}
    item.update(extra)
    return item


_version = exchange_module.version
_plain = exchange_module.plain


# -- tokens -----------------------------------------------------------------------------------------------------

def token_grants(claims):
    """What a token's claims grant: kind (application / delegated), permissions (roles or scp) and directory roles."""
    claims = claims or {}
    if signin.is_delegated(claims):
        return {'kind': 'delegated', 'permissions': set(signin.scopes(claims)), 'directory_roles': set(claims.get('wids') or []),
                'who': signin.who(claims)}
    return {'kind': 'application', 'permissions': set(claims.get('roles') or []), 'directory_roles': set(),
            'who': claims.get('appid') or claims.get('azp')}


def _holds(permission, permissions, delegated=False):
    if delegated and signin.holds_scope(permissions, permission):
        return True
    return permission in permissions or any(c in permissions for c in COVERS.get(permission, ()))


# Needed only to read (and, for provision, remove) tenant-wide delegated consent: mailbox_access_remove_user_read.
GRANTS_PERMISSION = 'DelegatedPermissionGrant.ReadWrite.All'


def graph_needs(playbook, read_grants=True):
    """The Graph permissions a playbook needs; without read_grants (mailbox_access_remove_user_read: false) no grant is read."""
    return tuple(p for p in NEEDS[playbook]['graph'] if read_grants or p != GRANTS_PERMISSION)


def missing_graph(claims, playbook, read_grants=True):
    """The Graph permissions of NEEDS[playbook] the token does not carry."""
    grants = token_grants(claims)
    return [p for p in graph_needs(playbook, read_grants) if not _holds(p, grants['permissions'], grants['kind'] == 'delegated')]


def _role_names(ids):
    return ' or '.join(ROLE_NAMES.get(i, i) for i in ids)


def judge_graph_permissions(claims, playbooks=PLAYBOOKS, client_id=None, read_grants=True):
    """One finding per playbook: the Graph permissions (and, for a person, the directory role) it needs."""
    grants = token_grants(claims)
    results = []
    for playbook in playbooks:
        need = dict(NEEDS[playbook], graph=graph_needs(playbook, read_grants))
        missing = missing_graph(claims, playbook, read_grants)
        check = 'graph permissions for %s.yml' % playbook
        if grants['kind'] == 'application':
            if missing:
                results.append(finding(
                    check, PROBLEM, 'the admin app%s lacks the Microsoft Graph application permission(s) %s'
                    % (' ' + client_id if client_id else '', ', '.join(missing)),
                    'add them to the admin app (API permissions > Microsoft Graph > Application permissions) and grant admin '
                    'consent; docs/permissions.md lists what each playbook needs', missing=missing))
            else:
                results.append(finding(check, OK, 'holds %s' % ', '.join(need['graph'])))
            continue
        roles = need['entra_roles']
        lacks_role = not grants['directory_roles'].intersection(roles)
        if missing or lacks_role:
            parts = []
            if missing:
                parts.append('the sign-in lacks the Microsoft Graph scope(s) %s' % ', '.join(missing))
            if lacks_role:
                parts.append('%s holds none of the directory roles %s' % (grants['who'] or 'the person', _role_names(roles)))
            fixes = []
            if missing:
                fixes.append('sign in again asking for %s (a Global Administrator consents once)' % ', '.join(missing))
            if lacks_role:
                # The last role of each list is the least one that suffices.
                fixes.append('assign %s the role %s (or sign in as someone who holds it)' % (grants['who'] or 'the person', ROLE_NAMES[roles[-1]]))
            results.append(finding(check, PROBLEM, '; '.join(parts), '; '.join(fixes), missing=missing))
        else:
            results.append(finding(check, OK, 'scopes %s and a role among %s' % (', '.join(need['graph']), _role_names(roles))))
    return results


def judge_exchange_token(claims, playbooks=PLAYBOOKS, client_id=None):
    """Exchange.ManageAsApp for an app; the Exchange.Manage scope and an Exchange role for a person."""
    if not any(NEEDS[p]['exchange'] for p in playbooks):
        return [finding('Exchange.ManageAsApp', SKIPPED, 'no playbook checked runs Exchange Online steps')]
    grants = token_grants(claims)
    if grants['kind'] == 'application':
        if MANAGE_AS_APP in grants['permissions']:
            return [finding('Exchange.ManageAsApp', OK, 'the Exchange Online token carries Exchange.ManageAsApp')]
        return [finding('Exchange.ManageAsApp', PROBLEM, 'the admin app%s has no Exchange.ManageAsApp: Connect-ExchangeOnline '
                        'fails with "The role assigned to application ... isn\'t supported in this scenario"' % (' ' + client_id if client_id else ''),
                        "add the application permission Exchange.ManageAsApp of 'Office 365 Exchange Online' to the admin app "
                        '(API permissions > APIs my organization uses) and grant admin consent')]
    exchange_roles = set()
    for playbook in playbooks:
        exchange_roles.update(NEEDS[playbook]['exchange_roles'])
    problems, fixes = [], []
    if EXCHANGE_MANAGE_SCOPE not in grants['permissions']:
        problems.append('the sign-in lacks the Office 365 Exchange Online scope %s' % EXCHANGE_MANAGE_SCOPE)
        fixes.append('sign in again asking for %s' % EXCHANGE_MANAGE_SCOPE)
    if not grants['directory_roles'].intersection(exchange_roles):
        problems.append('%s holds none of the roles %s' % (grants['who'] or 'the person', _role_names(sorted(exchange_roles))))
        fixes.append('assign %s the role Exchange Administrator' % (grants['who'] or 'the person'))
    if problems:
        return [finding('Exchange Online sign-in', PROBLEM, '; '.join(problems), '; '.join(fixes))]
    return [finding('Exchange Online sign-in', OK, 'scope %s and an Exchange role' % EXCHANGE_MANAGE_SCOPE)]


# -- the Exchange role in effect --------------------------------------------------------------------------------

# "isn't assigned to any management roles": Exchange's words for a person without an Exchange role (RBAC).
_ROLE_TEXT = ("isn't supported in this scenario", 'is not recognized', '403', 'forbidden', 'access denied',
              'not have permission', "isn't authorized", 'is not authorized', 'management role')


def judge_exchange_role(failed_message=None, call_errors=(), manage_as_app=None, person=None):
    """What a harmless read through the runner tells about the Exchange role.

    failed_message: why the whole run failed (Connect-ExchangeOnline, a cmdlet not there); call_errors: the reads'
    own errors (a not-found answer is a success: the cmdlet ran). manage_as_app: what the token said (None: unknown).
    Exchange answers a missing role in two ways: Connect fails with "The role assigned to application ... isn't
    supported in this scenario", or Connect succeeds and the cmdlets are refused (403) or not there at all.
    person: the signed-in person's name when the token is delegated (the role judged is theirs, not an app's).
    """
    who = person or 'the admin app\'s service principal'
    messages = ([failed_message] if failed_message else []) + [e.get('message') or '' for e in call_errors if not e.get('not_found')]
    messages = [m for i, m in enumerate(messages) if m not in messages[:i]]
    if not messages:
        return finding('Exchange role', OK, 'harmless reads (Get-ServicePrincipal, Get-Mailbox, Get-TransportConfig) ran: %s holds an Exchange role'
                       % (person or 'the admin app'))
    text = ' '.join(messages)
    fix = ('assign %s the Entra role Exchange Administrator (Entra admin center > Roles and administrators), or add %s to an '
           'Exchange role group holding %s (bootstrap.yml with admin_identity_exchange_role=role_group makes one); a new '
           'assignment can take a while to reach Exchange Online' % (who, 'them' if person else 'it', ', '.join(_PROVISION_EXCHANGE)))
    if any(marker in text.lower() for marker in _ROLE_TEXT):
        if "isn't supported in this scenario" in text and manage_as_app is False:
            return finding('Exchange role', SKIPPED, 'not judged: Connect-ExchangeOnline failed for want of Exchange.ManageAsApp (see above)')
        return finding('Exchange role', PROBLEM, 'Exchange Online refused %s: %s' % (person or 'the admin app', _first_line(text)), fix)
    # A connection that never reached Exchange Online (the host's network, not a role): http's one list of the words.
    if unreachable_in_text(text):
        return finding('endpoint Exchange Online (from the PowerShell host)', PROBLEM,
                       'the PowerShell host could not reach Exchange Online: %s' % _first_line(text),
                       'let the host reach outlook.office365.com (or the national cloud\'s) on 443: its DNS, proxy '
                       '(netsh winhttp show proxy, HTTPS_PROXY) and firewall')
    return finding('Exchange role', PROBLEM, 'a harmless read through the runner failed: %s' % _first_line(text),
                   'see the message; docs/troubleshooting.md lists the usual causes')


def _first_line(text):
    return (text or '').strip().splitlines()[0][:400] if (text or '').strip() else 'no message'


# -- the PowerShell host ----------------------------------------------------------------------------------------

def judge_host(facts, exchange_auth='access_token', install_module=False, min_version=None):
    """The PowerShell host: edition, version, language mode, ExchangeOnlineManagement and its version (min_version: the task's own)."""
    ps = _version(facts.get('ps_version'))
    edition = facts.get('edition') or ('Desktop' if ps and ps < (6,) else 'Core')
    shell = '%s %s' % ('Windows PowerShell' if edition == 'Desktop' else 'PowerShell', facts.get('ps_version'))
    results = [finding('PowerShell host', OK, 'reachable: %s, %s' % (shell, facts.get('language_mode')))]
    if facts.get('language_mode') != 'FullLanguage':
        results.append(finding('language mode', PROBLEM, 'PowerShell runs in %s mode (App Control for Business, WDAC or '
                               'AppLocker): the Exchange steps cannot run there' % facts.get('language_mode'),
                               'use a host without that policy, or run the Exchange tasks on the controller with pwsh '
                               '(mailbox_access_exchange_host: localhost)'))
    versions = sorted((v for v in (_version(t) for t in facts.get('modules') or []) if v), reverse=True)
    need = _version(exchange_module.needed(exchange_auth, min_version))
    newest = versions[0] if versions else None
    usable = [v for v in versions if ps is None or v < _version(MODULE_NEEDS_PS76) or ps >= _version(PS76)]
    best = usable[0] if usable else None
    old_shell = edition == 'Desktop' or (ps is not None and ps < _version(PS76))
    install = exchange_module.install_command(_plain(need), old_shell)
    if newest is None:
        status = WARNING if install_module else PROBLEM
        results.append(finding('ExchangeOnlineManagement', status, 'not installed on the host%s' %
                               (' (install_module will install it)' if install_module else ''),
                               'install it on the host: %s, or set install_module: true' % install))
    elif best is None or best < need:
        why = exchange_module.reason(exchange_auth, min_version)
        if best is None:
            why = '%s needs PowerShell %s, this host runs %s' % (_plain(newest), PS76, shell)
        results.append(finding('ExchangeOnlineManagement', PROBLEM, 'version %s on the host: %s' % (_plain(newest), why),
                               install, installed=_plain(newest)))
    else:
        results.append(finding('ExchangeOnlineManagement', OK, 'version %s' % _plain(best), installed=_plain(best)))
        if newest != best:
            results.append(finding('ExchangeOnlineManagement', WARNING, 'version %s is also installed but needs PowerShell %s; '
                                   '%s runs %s' % (_plain(newest), PS76, shell, _plain(best)),
                                   'remove it, or run the Exchange steps with PowerShell %s (pwsh)' % PS76))
    return results


# -- the clock ----------------------------------------------------------------------------------------------------

def judge_clock(date_header, now=None, where='the login service'):
    """Clock skew between this controller and the token service, from the Date header of its answer."""
    if not date_header:
        return finding('clock', WARNING, '%s sent no Date header: skew not measured' % where)
    try:
        theirs = email.utils.parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return finding('clock', WARNING, '%s sent an unreadable Date header %r' % (where, date_header))
    if theirs.tzinfo is None:
        theirs = theirs.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    skew = (now - theirs).total_seconds()
    detail = 'this controller\'s clock is %d s %s %s' % (abs(skew), 'ahead of' if skew >= 0 else 'behind', where)
    fix = 'synchronise the controller\'s clock (NTP: timedatectl set-ntp true, or w32tm /resync on Windows)'
    if abs(skew) > SKEW_PROBLEM:
        return finding('clock', PROBLEM, detail + ': tokens look expired or not yet valid', fix, skew_seconds=round(skew, 1))
    if abs(skew) > SKEW_WARN:
        return finding('clock', WARNING, detail, fix, skew_seconds=round(skew, 1))
    return finding('clock', OK, detail, skew_seconds=round(skew, 1))


# -- the report ---------------------------------------------------------------------------------------------------

def summary(findings):
    problems = [f for f in findings if f['status'] == PROBLEM]
    warnings = [f for f in findings if f['status'] == WARNING]
    return {'ok': not problems, 'problems': len(problems), 'warnings': len(warnings),
            'checks': len([f for f in findings if f['status'] != SKIPPED])}


def render_text(name, findings):
    """The report as lines: one per check, each problem with its fix, and a closing summary."""
    totals = summary(findings)
    lines = ['%s: %s' % (name, 'all ok' if totals['ok'] else '%d problem(s)' % totals['problems'])]
    for item in findings:
        lines.append('[%s] %s: %s' % (item['status'], item['check'], item['detail']))
        if item.get('fix') and item['status'] in (PROBLEM, WARNING):
            lines.append('    fix: %s' % item['fix'])
    lines.append('%d check(s), %d problem(s), %d warning(s)' % (totals['checks'], totals['problems'], totals['warnings']))
    return lines
