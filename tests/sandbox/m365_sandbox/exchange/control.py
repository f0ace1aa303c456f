"""Control API routes for the emulated Exchange host: /_sandbox/exchange/... and /_sandbox/tenants/{tid}/exchange.

    POST /_sandbox/exchange/faults   {"connect_error", "drop_after_writes", "drop_mode", "latency", "throttle_every", ...}
    GET  /_sandbox/exchange/faults
    GET  /_sandbox/exchange/stats    {"exchange": host counters, "winrm": WinRM counters}
    POST /_sandbox/exchange/stats/reset
    POST /_sandbox/exchange/host/install_module  {"name", "minimum_version", "scope"}: the fake gallery's Install-Module
        on the emulated Windows host (M365SandboxGallery) asks for the module here
    GET  /_sandbox/tenants/{tid}/exchange                      the tenant's Exchange state
    POST /_sandbox/tenants/{tid}/exchange/service_principals   {"AppId", "ObjectId", "DisplayName"} behind the collection's back
    POST /_sandbox/tenants/{tid}/exchange/mailbox_permissions  {"Identity", "User", "AccessRights", "remove"?} behind the collection's back
    POST /_sandbox/tenants/{tid}/exchange/role  {"appId", "assigned": false|true}: take away (or give back) the app's Exchange
        administrator role; without it Connect succeeds and every cmdlet answers 403 (README, weak)
    POST /_sandbox/tenants/{tid}/exchange/groups  {"Name", "Members": [mailbox, ...]}: a mail-enabled security group (its
        DistinguishedName is what a scope's MemberOfGroup filter names); no group cmdlet is emulated

Answers None for paths that are not Exchange's, so control.py can fall through.
"""

import re

from .model import CmdletError, ServicePrincipal
from . import cmdlets, rbac

_TENANT = re.compile(r'^tenants/([^/]+)/exchange(?:/(service_principals|mailbox_permissions|role|groups))?$')


def route(sandbox, method, path, body):
    host = getattr(sandbox, 'exchange', None)
    match = _TENANT.match(path)
    if not path.startswith('exchange/') and path != 'exchange' and not match:
        return None
    if host is None:
        return 404, {'error': 'the sandbox runs without the Exchange emulator'}
    if path == 'exchange/faults':
        if method == 'POST':
            try:
                host.faults.configure(**body)
            except (TypeError, ValueError) as exc:
                return 400, {'error': str(exc)}
        return 200, host.faults.as_dict()
    if (method, path) == ('GET', 'exchange/stats'):
        return 200, stats(sandbox)
    if (method, path) == ('POST', 'exchange/stats/reset'):
        reset_counters(sandbox)
        return 200, stats(sandbox)
    if (method, path) == ('POST', 'exchange/host/install_module'):
        disk = getattr(sandbox, 'windows_host', None)
        if disk is None:
            return 404, {'error': 'the sandbox runs without the emulated Windows host (start it with --winrm-port)'}
        disk.install_module(body.get('required_version') or body.get('minimum_version'))
        host.counters.add('module_installs')
        return 200, {'installed': body.get('required_version') or body.get('minimum_version')}
    if match:
        org = host.org(match.group(1))
        if org is None:
            return 404, {'error': 'unknown tenant %s' % match.group(1)}
        with host.lock:
            if method == 'GET' and match.group(2) is None:
                return 200, org.snapshot()
            try:
                if method == 'POST' and match.group(2) == 'role':
                    host.set_admin_role(org.tenant_id, body['appId'], bool(body.get('assigned', False)))
                    return 200, {'appId': body['appId'], 'assigned': bool(body.get('assigned', False))}
                if method == 'POST' and match.group(2) == 'service_principals':
                    sp = ServicePrincipal(body['AppId'], body['ObjectId'], body.get('DisplayName'))
                    org.service_principals[sp.key] = sp
                    return 201, sp.row()
                if method == 'POST' and match.group(2) == 'mailbox_permissions':
                    # {"remove": true} takes the right away, as an admin would by hand.
                    cmdlet = 'Remove-MailboxPermission' if body.pop('remove', False) else 'Add-MailboxPermission'
                    output, warnings = cmdlets.invoke(org, cmdlet, dict(body, AccessRights=body.get('AccessRights') or ['FullAccess']))
                    return 201, {'output': output, 'warnings': warnings}
                if method == 'POST' and match.group(2) == 'groups':
                    return 201, rbac.add_group(org, body['Name'], body.get('Members') or [])
            except KeyError as exc:
                return 400, {'error': 'missing %s' % exc}
            except CmdletError as exc:
                return 400, {'error': exc.message}
    return 404, {'error': 'no control route %s %s' % (method, path)}


def stats(sandbox):
    winrm = getattr(sandbox, 'winrm_counters', None)
    return {'exchange': sandbox.exchange.counters.as_dict(), 'winrm': winrm.as_dict() if winrm is not None else {}}


def reset_counters(sandbox):
    sandbox.exchange.counters.reset()
    winrm = getattr(sandbox, 'winrm_counters', None)
    if winrm is not None:
        winrm.reset()
