"""Per-tenant Exchange Online state and the cmdlets the runner may call.

Behaviour copied from Exchange Online (sources: the table in tests/sandbox/README.md);
where Exchange's exact wording is not known the message is marked (weak).
Cmdlets take a dict of bound parameters and return (objects, warnings) or
raise CmdletError, like a cmdlet that writes a terminating error.
"""

import itertools
import uuid

SERVER = 'SN6PR00MB0001.NAMPRD00.PROD.OUTLOOK.COM'
SELF = 'NT AUTHORITY\\SELF'
ACE_LIMIT = 500
DEFAULT_RESULT_SIZE = 1000
MAILBOX_RIGHTS = ('ChangeOwner', 'ChangePermission', 'DeleteItem', 'ExternalAccount', 'FullAccess', 'ReadPermission')
_sid_counter = itertools.count(1104)


class CmdletError(Exception):
    """A cmdlet's service error, as Exchange Online's REST endpoint reports it.

    On the wire (rest.py) it is HTTP ``status`` with error.details[0].message
    ``"<code>|<exception type>|<text>"``; the fake module turns that into an
    error record of category NotSpecified whose CategoryInfo.Reason is the
    type's short name (see the README's Exchange REST table).
    """

    def __init__(self, message, exception='Microsoft.Exchange.Configuration.Tasks.TaskException', status=400, code=''):
        super().__init__(message)
        self.message = message
        self.exception = exception
        self.status = status
        self.code = code

    @property
    def reason(self):
        return self.exception.rsplit('.', 1)[-1]

    def wire_message(self):
        return '%s|%s|%s' % (self.code, self.exception, self.message)


NOT_FOUND = 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException'


def not_found(identity):
    return CmdletError("The operation couldn't be performed because object '%s' couldn't be found on '%s'." % (identity, SERVER),
                       exception=NOT_FOUND, status=404, code='Ex6F9304')


# How a -User/-Trustee that does not resolve is answered. No Exchange Online capture is known (weak, README):
# "on_premises" is the on-premises wording ("<x> wasn't found. Please make sure you've typed it correctly."), "object"
# the form Exchange Online gives every other object it cannot find, naming the -User value. Both are tested.
USER_FORMS = ('on_premises', 'object')


def user_not_found(user, form='on_premises'):
    if form == 'object':
        return not_found(user)
    return CmdletError("%s wasn't found. Please make sure you've typed it correctly." % user, exception=NOT_FOUND, status=404)


def _new_sid():
    return 'S-1-5-21-3623811015-3361044348-30300820-%d' % next(_sid_counter)


class Mailbox:
    def __init__(self, upn, alias=None, display_name=None, external_id=None, addresses=()):
        self.upn = upn
        self.alias = alias or upn.split('@', 1)[0]
        self.display_name = display_name or self.alias
        self.external_id = external_id or str(uuid.uuid5(uuid.NAMESPACE_URL, 'user:' + upn.lower()))
        self.guid = str(uuid.uuid5(uuid.NAMESPACE_URL, 'mailbox:' + upn.lower()))
        self.sid = _new_sid()
        self.addresses = set(a.lower() for a in addresses) | {upn.lower()}
        self.aces = [{'principal': ('self',), 'rights': ['FullAccess', 'ReadPermission'], 'deny': False,
                      'inheritance': 'All', 'inherited': False, 'automapping': False}]
        self.send_as = [('self',)]
        self.cas = {'ImapEnabled': True, 'PopEnabled': True, 'SmtpClientAuthenticationDisabled': None}

    def names(self):
        return {self.alias.lower(), self.upn.lower(), self.external_id.lower(), self.guid.lower()} | self.addresses

    def row(self):
        return {'Identity': self.alias, 'Alias': self.alias, 'DisplayName': self.display_name, 'PrimarySmtpAddress': self.upn,
                'UserPrincipalName': self.upn, 'ExternalDirectoryObjectId': self.external_id,
                'RecipientTypeDetails': 'UserMailbox', 'Guid': self.guid}


class ServicePrincipal:
    def __init__(self, app_id, object_id, display_name):
        self.app_id = app_id.lower()
        self.object_id = object_id.lower()
        self.display_name = display_name or app_id
        self.key = str(uuid.uuid4())
        self.sid = _new_sid()

    @property
    def identity(self):
        # (weak) Exchange names the object after its ServiceId/ObjectId.
        return self.object_id

    def row(self):
        return {'Identity': self.identity, 'DisplayName': self.display_name, 'AppId': self.app_id, 'ObjectId': self.object_id}


def mailbox_from_directory(entry):
    """A Mailbox from a Graph user dict (the sandbox directory) or a plain address."""
    if isinstance(entry, str):
        return Mailbox(entry)
    upn = entry.get('userPrincipalName') or entry['mail']
    addresses = [a.split(':', 1)[1] for a in entry.get('proxyAddresses') or [] if ':' in a]
    if entry.get('mail'):
        addresses.append(entry['mail'])
    return Mailbox(upn, alias=entry.get('mailNickname'), display_name=entry.get('displayName'),
                   external_id=entry.get('id'), addresses=addresses)


class ExchangeOrg:
    """The Exchange side of one tenant."""

    def __init__(self, tenant_id, domain, mailboxes=()):
        self.tenant_id = tenant_id
        self.domain = domain
        self.mailboxes = {}
        self._by_name = None
        self.service_principals = {}
        self.transport_config = {'SmtpClientAuthenticationDisabled': True}
        # Which of USER_FORMS an unresolvable -User gets (the host's unresolved_user_form fault sets it per call).
        self.user_form = 'on_premises'
        # RBAC for Applications (rbac.py): scopes and role assignments by lower-case name, mail-enabled groups by name.
        self.management_scopes = {}
        self.role_assignments = {}
        self.groups = {}
        self.sync(mailboxes)

    # -- directory ----------------------------------------------------------
    def _names(self):
        """name -> the mailboxes it names (alias, UPN, addresses, ids), built once per set of mailboxes: a lookup that
        looked at every mailbox's names cost the emulator time in proportion to the tenant's size."""
        if self._by_name is None:
            index = {}
            for mailbox in self.mailboxes.values():
                for name in mailbox.names():
                    index.setdefault(name, []).append(mailbox)
            self._by_name = index
        return self._by_name

    def sync(self, entries):
        """Follow the directory: new users get a mailbox, removed users lose theirs."""
        self._by_name = None
        seen = set()
        for entry in entries:
            mailbox = mailbox_from_directory(entry)
            key = mailbox.upn.lower()
            seen.add(key)
            if key not in self.mailboxes:
                self.mailboxes[key] = mailbox
        for key in list(self.mailboxes):
            if key not in seen:
                del self.mailboxes[key]

    def find_mailbox(self, identity):
        wanted = identity.strip().lower()
        matches = list(self._names().get(wanted, ()))
        if not matches:
            matches = [m for m in self.mailboxes.values() if m.display_name.lower() == wanted]
        if not matches:
            raise not_found(identity)
        if len(matches) > 1:
            raise CmdletError("The operation couldn't be performed because '%s' matches multiple entries." % identity,  # (weak)
                              exception='Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException')
        return matches[0]

    def find_service_principal(self, identity):
        wanted = identity.strip().lower()
        matches = [sp for sp in self.service_principals.values() if wanted in (sp.object_id, sp.app_id, sp.key)]
        if not matches:
            matches = [sp for sp in self.service_principals.values() if sp.display_name.lower() == wanted]
        if not matches:
            raise not_found(identity)
        if len(matches) > 1:
            raise CmdletError("The operation couldn't be performed because '%s' matches multiple entries." % identity,  # (weak)
                              exception='Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException')
        return matches[0]

    def find_principal(self, user):
        """A trustee for -User/-Trustee: a service principal or a mailbox user."""
        try:
            return ('sp', self.find_service_principal(user).key)
        except CmdletError:
            pass
        try:
            return ('user', self.find_mailbox(user).upn.lower())
        except CmdletError:
            raise user_not_found(user, self.user_form)

    def principal_name(self, principal):
        if principal[0] == 'self':
            return SELF
        if principal[0] == 'sp':
            sp = self.service_principals.get(principal[1])
            # A removed principal leaves an orphaned entry that shows as a SID.
            return sp.identity if sp else principal[2] if len(principal) > 2 else 'S-1-5-21-0-0-0-0'
        mailbox = self.mailboxes.get(principal[1])
        return mailbox.upn if mailbox else 'S-1-5-21-0-0-0-1'

    def forget_principal(self, sp):
        """Turn ACEs of a removed service principal into orphans (they keep its SID)."""
        for mailbox in self.mailboxes.values():
            for ace in mailbox.aces:
                if ace['principal'][:2] == ('sp', sp.key):
                    ace['principal'] = ('sp', sp.key, sp.sid)
            mailbox.send_as = [('sp', sp.key, sp.sid) if t[:2] == ('sp', sp.key) else t for t in mailbox.send_as]

    # -- snapshots for tests --------------------------------------------------
    def snapshot(self):
        from . import rbac  # pylint: disable=import-outside-toplevel  (rbac imports this module)
        return dict(rbac.snapshot(self), **{
            'tenant_id': self.tenant_id,
            'service_principals': [sp.row() for sp in self.service_principals.values()],
            'mailboxes': {m.upn: {
                'permissions': [self.permission_row(m, ace) for ace in m.aces],
                'send_as': [self.principal_name(t) for t in m.send_as],
                'cas': dict(m.cas),
            } for m in self.mailboxes.values()},
            'transport_config': dict(self.transport_config),
        })

    def permission_row(self, mailbox, ace):
        return {'Identity': mailbox.alias, 'User': self.principal_name(ace['principal']), 'AccessRights': list(ace['rights']),
                'IsInherited': ace['inherited'], 'Deny': ace['deny'], 'InheritanceType': ace['inheritance']}

    def recipient_row(self, mailbox, trustee):
        return {'Identity': mailbox.alias, 'Trustee': self.principal_name(trustee), 'AccessControlType': 'Allow',
                'AccessRights': ['SendAs'], 'IsInherited': False, 'InheritanceType': 'None'}
