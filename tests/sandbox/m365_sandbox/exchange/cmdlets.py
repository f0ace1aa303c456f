"""The Exchange Online cmdlets the runner's allow-list names, against ExchangeOrg.

Each function takes (org, params) with PowerShell-bound parameters and
returns (objects, warnings); errors are raised as CmdletError.
"""

from .model import ACE_LIMIT, DEFAULT_RESULT_SIZE, MAILBOX_RIGHTS, CmdletError, ServicePrincipal, not_found

WRITES = {'New-ServicePrincipal', 'Set-ServicePrincipal', 'Remove-ServicePrincipal', 'Add-MailboxPermission', 'Remove-MailboxPermission',
          'Add-RecipientPermission', 'Remove-RecipientPermission', 'Set-CASMailbox'}


def _bind_error(cmdlet, name, value, allowed):
    # 400 BadRequest (reference: medium); the wording is PowerShell's own enum conversion text (weak over REST).
    return CmdletError("Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Error: \"Unable to match the identifier "
                       "name %s to a valid enumerator name. Specify one of the following enumerator names and try again: %s\""
                       % (name, value, cmdlet, value, ', '.join(allowed)),
                       exception='System.Management.Automation.ParameterBindingException', status=400)


def _result_size(params):
    size = params.get('ResultSize')
    if size is None:
        return DEFAULT_RESULT_SIZE, True
    return (None if size == 'Unlimited' else int(size)), False


def _list_mailboxes(org, params):
    if params.get('Identity'):
        return [org.find_mailbox(params['Identity']).row()], []
    limit, defaulted = _result_size(params)
    rows = [m.row() for m in sorted(org.mailboxes.values(), key=lambda m: m.upn)]
    warnings = []
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        if defaulted:
            warnings.append('By default, only the first %d items are returned. Use the ResultSize parameter to specify the number of items '
                            'returned. To return all items, specify "-ResultSize Unlimited". Be aware that, depending on the actual number '
                            'of items, returning all items can take a long time and consume a large amount of memory.' % limit)
    return rows, warnings


def get_service_principal(org, params):
    identity = params.get('Identity')
    if identity is None or identity == '':
        # Exchange lists everything when -Identity is absent, $null or empty.
        return [sp.row() for sp in org.service_principals.values()], []
    return [org.find_service_principal(identity).row()], []


def new_service_principal(org, params):
    app_id, object_id = params['AppId'].lower(), params['ObjectId'].lower()
    # Exchange checks neither id against Entra ID; only its own duplicates.
    for sp in org.service_principals.values():
        if sp.app_id == app_id or sp.object_id == object_id:
            raise CmdletError("A service principal with AppId '%s' or ObjectId '%s' already exists." % (app_id, object_id),  # (weak)
                              exception='Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException')
    sp = ServicePrincipal(app_id, object_id, params.get('DisplayName'))
    org.service_principals[sp.key] = sp
    return [sp.row()], []


def set_service_principal(org, params):
    sp = org.find_service_principal(params['Identity'])
    if sp.display_name == params['DisplayName']:
        return [], ["The command completed successfully but no settings of '%s' have been modified." % sp.identity]
    sp.display_name = params['DisplayName']
    return [], []


def remove_service_principal(org, params):
    sp = org.find_service_principal(params['Identity'])
    del org.service_principals[sp.key]
    org.forget_principal(sp)
    return [], []


def get_mailbox(org, params):
    return _list_mailboxes(org, params)


def get_mailbox_permission(org, params):
    mailbox = org.find_mailbox(params['Identity'])
    aces = mailbox.aces
    if params.get('User'):
        principal = org.find_principal(params['User'])
        aces = [ace for ace in aces if ace['principal'][:2] == principal]
    return [org.permission_row(mailbox, ace) for ace in aces], []


def _rights(cmdlet, params):
    rights = params['AccessRights']
    rights = [rights] if isinstance(rights, str) else list(rights)
    for right in rights:
        if right not in MAILBOX_RIGHTS:
            raise _bind_error(cmdlet, 'AccessRights', right, MAILBOX_RIGHTS)
    return rights


def add_mailbox_permission(org, params):
    mailbox = org.find_mailbox(params['Identity'])
    principal = org.find_principal(params['User'])
    rights = _rights('Add-MailboxPermission', params)
    inheritance = params.get('InheritanceType', 'All')
    existing = [a for a in mailbox.aces if a['principal'][:2] == principal and not a['deny'] and not a['inherited']]
    if existing:
        ace = existing[0]
        new = [r for r in rights if r not in ace['rights']]
        if not new:
            return [], ['An existing permission entry was found for user: %s.' % org.principal_name(principal)]
        ace['rights'].extend(new)
        return [org.permission_row(mailbox, ace)], []
    if len(mailbox.aces) >= ACE_LIMIT:
        # Medium: one capture of the real text (README, Exchange REST table).
        raise CmdletError('The mailbox %s has reached the limit of maximum allowed access control entries of %d. Clean existing entries '
                          'and rearrange them leveraging groups for assigning the same permissions to multiple users.' % (mailbox.guid, ACE_LIMIT),
                          exception='System.InvalidOperationException')
    ace = {'principal': principal, 'rights': list(rights), 'deny': False, 'inheritance': inheritance, 'inherited': False,
           'automapping': params.get('AutoMapping', True)}
    mailbox.aces.append(ace)
    return [org.permission_row(mailbox, ace)], []


def remove_mailbox_permission(org, params):
    mailbox = org.find_mailbox(params['Identity'])
    principal = org.find_principal(params['User'])
    rights = _rights('Remove-MailboxPermission', params)
    touched = False
    for ace in list(mailbox.aces):
        if ace['principal'][:2] != principal or ace['inherited'] or ace['deny']:
            continue
        kept = [r for r in ace['rights'] if r not in rights]
        if len(kept) != len(ace['rights']):
            touched = True
            if kept:
                ace['rights'] = kept
            else:
                mailbox.aces.remove(ace)
    if not touched:
        return [], ["Can't remove the access control entry on the object \"%s\" for account \"%s\" because the ACE doesn't exist on the object."
                    % (mailbox.alias, org.principal_name(principal))]
    return [], []


def _send_as(cmdlet, params):
    rights = params['AccessRights']
    rights = [rights] if isinstance(rights, str) else list(rights)
    for right in rights:
        if right != 'SendAs':
            raise _bind_error(cmdlet, 'AccessRights', right, ('SendAs',))


def get_recipient_permission(org, params):
    mailbox = org.find_mailbox(params['Identity'])
    trustees = mailbox.send_as
    if params.get('Trustee'):
        principal = org.find_principal(params['Trustee'])
        trustees = [t for t in trustees if t[:2] == principal]
    return [org.recipient_row(mailbox, t) for t in trustees], []


def add_recipient_permission(org, params):
    _send_as('Add-RecipientPermission', params)
    mailbox = org.find_mailbox(params['Identity'])
    principal = org.find_principal(params['Trustee'])
    if any(t[:2] == principal for t in mailbox.send_as):
        return [], ['The appropriate access control entry is already present on object "%s" for account "%s".'  # (weak)
                    % (mailbox.alias, org.principal_name(principal))]
    mailbox.send_as.append(principal)
    return [org.recipient_row(mailbox, principal)], []


def remove_recipient_permission(org, params):
    _send_as('Remove-RecipientPermission', params)
    mailbox = org.find_mailbox(params['Identity'])
    principal = org.find_principal(params['Trustee'])
    before = len(mailbox.send_as)
    mailbox.send_as = [t for t in mailbox.send_as if t[:2] != principal]
    if len(mailbox.send_as) == before:
        return [], ["Can't remove the access control entry on the object \"%s\" for account \"%s\" because the ACE isn't present."
                    % (mailbox.alias, org.principal_name(principal))]
    return [], []


def get_cas_mailbox(org, params):
    mailbox = org.find_mailbox(params['Identity'])
    return [dict(mailbox.cas, Identity=mailbox.alias, PrimarySmtpAddress=mailbox.upn)], []


def set_cas_mailbox(org, params):
    mailbox = org.find_mailbox(params['Identity'])
    changes = dict((k, params[k]) for k in ('ImapEnabled', 'PopEnabled', 'SmtpClientAuthenticationDisabled') if k in params)
    if all(mailbox.cas[k] == v for k, v in changes.items()):
        return [], ["The command completed successfully but no settings of '%s' have been modified." % mailbox.alias]
    mailbox.cas.update(changes)
    return [], []


def get_transport_config(org, _params):
    return [dict(org.transport_config)], []


CMDLETS = {
    'Get-ServicePrincipal': get_service_principal,
    'New-ServicePrincipal': new_service_principal,
    'Set-ServicePrincipal': set_service_principal,
    'Remove-ServicePrincipal': remove_service_principal,
    'Get-Mailbox': get_mailbox,
    'Get-EXOMailbox': get_mailbox,
    'Get-MailboxPermission': get_mailbox_permission,
    'Get-EXOMailboxPermission': get_mailbox_permission,
    'Add-MailboxPermission': add_mailbox_permission,
    'Remove-MailboxPermission': remove_mailbox_permission,
    'Get-RecipientPermission': get_recipient_permission,
    'Add-RecipientPermission': add_recipient_permission,
    'Remove-RecipientPermission': remove_recipient_permission,
    'Get-CASMailbox': get_cas_mailbox,
    'Set-CASMailbox': set_cas_mailbox,
    'Get-TransportConfig': get_transport_config,
}


def invoke(org, cmdlet, params):
    """Run one cmdlet of CMDLETS (the REST front answers others with 403 before it gets here)."""
    params = dict((k, v) for k, v in params.items() if k != 'Confirm')
    return CMDLETS[cmdlet](org, params)


# -- RBAC for Applications (issue 24): management scopes, app role assignments, Test-ServicePrincipalAuthorization --
from . import rbac  # noqa: E402  pylint: disable=wrong-import-position

CMDLETS.update(rbac.CMDLETS)
WRITES.update(rbac.WRITES)

__all__ = ['CMDLETS', 'WRITES', 'invoke', 'not_found']
