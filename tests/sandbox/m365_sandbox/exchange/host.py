"""What the emulated Exchange Online service keeps besides the model: faults, counters, orgs and token checks.

The REST front (rest.py) and the emulated Windows host (winrm/) share one
ExchangeHost. Nothing here reads runner payloads: the collection's runner
runs in real pwsh on the emulated host and reaches the service only through
the fake ExchangeOnlineManagement module's HTTPS calls.
"""

import collections
import threading
import time

from . import role_groups
from .model import USER_FORMS, ExchangeOrg

EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000'
MANAGE_ROLE = 'Exchange.ManageAsApp'
# The resource each ExchangeEnvironmentName's tokens are for (Connect-ExchangeOnline's docs list the environments).
AUDIENCES = {
    'O365Default': 'https://outlook.office365.com',
    'O365USGovGCCHigh': 'https://outlook.office365.us',
    'O365USGovDoD': 'https://outlook-dod.office365.us',
    'O365China': 'https://partner.outlook.cn',
}
ROLE_MESSAGE = ("The role assigned to application %s isn't supported in this scenario. Please check online documentation "
                "for assigning correct Directory Roles to Azure AD Application for EXO App-Only Authentication.")
# A person's (delegated) token works when the person holds one of these Entra roles (Exchange Online's permissions page:
# both are members of the Organization Management role group). The wording for a person without them is weak (README).
PERSON_ROLES = ('Exchange Administrator', 'Global Administrator')
# The Entra roles that give an app (its service principal) the Exchange Online RBAC of Organization Management.
APP_EXCHANGE_ROLES = ('Exchange Administrator', 'Global Administrator')
PERSON_ROLE_MESSAGE = ("The user %s isn't assigned to any management roles that allow this (Exchange Administrator or Global "
                       "Administrator).")


class ServiceDenied(Exception):
    """The service refuses the caller: HTTP status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Faults:
    """Fault injection; every field is off by default.

    connect_error: message Connect-ExchangeOnline fails with.
    drop_after_writes: after this many successful writes in one WinRM command
        the next write is lost: ``drop_mode`` "winrm" drops the WinRM command
        and its HTTP connection, "exchange" closes the REST connection without
        an answer (the module sees a network error). Fires once.
    latency: seconds per call: keys "connect", "read", "write" or a cmdlet name,
        and "round_trip" (once per WinRM command: its network time).
    throttle_every / throttle_cmdlets / throttle_retry_after: every N-th matching
        cmdlet call answers 429 with Retry-After.
    module_version: the ExchangeOnlineManagement version installed on the
        emulated Windows host (None: not installed).
    concurrency_limit: InvokeCommand requests one tenant may have in flight;
        one more answers 429 "You have reached the maximum number of concurrent
        requests per tenant" (None: no limit). The default 3 is weak: no
        Microsoft source gives a number for the REST cmdlets (README).
    call_errors: a list of {"cmdlet", "identity" (optional: any), "status"
        (default 500), "message" (optional), "times" (optional: every call)}:
        matching calls answer that HTTP error instead of running (a transient
        server error on one mailbox's read).
    unresolved_users: ids or names Exchange cannot resolve as -User/-Trustee
        although Get-ServicePrincipal finds them (a service principal created
        moments ago, not yet in the directory Exchange resolves users from).
    unresolved_user_form: how such a -User is answered: "on_premises" or
        "object" (model.USER_FORMS; both weak, README).
    """

    FIELDS = ('connect_error', 'drop_after_writes', 'drop_mode', 'latency', 'throttle_every', 'throttle_cmdlets', 'throttle_retry_after',
              'module_version', 'concurrency_limit', 'call_errors', 'unresolved_users', 'unresolved_user_form')
    DEFAULT_CONCURRENCY_LIMIT = 3

    def __init__(self):
        self.reset()

    def reset(self):
        self.connect_error = None
        self.drop_after_writes = None
        self.drop_mode = 'winrm'
        self.latency = {}
        self.throttle_every = 0
        self.throttle_cmdlets = ()
        self.throttle_retry_after = 1
        self.module_version = '3.7.1'
        self.concurrency_limit = self.DEFAULT_CONCURRENCY_LIMIT
        self.call_errors = []
        self.unresolved_users = []
        self.unresolved_user_form = 'on_premises'

    def configure(self, **values):
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise ValueError('unknown Exchange fault(s): %s' % ', '.join(sorted(unknown)))
        limit = values.get('concurrency_limit')
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError('concurrency_limit must be a whole number of at least 1, or null')
        if values.get('drop_mode', 'winrm') not in ('winrm', 'exchange'):
            raise ValueError("drop_mode must be 'winrm' or 'exchange'")
        if values.get('unresolved_user_form', 'on_premises') not in USER_FORMS:
            raise ValueError('unresolved_user_form must be one of %s' % ', '.join(USER_FORMS))
        for entry in values.get('call_errors') or []:
            if not isinstance(entry, dict) or not isinstance(entry.get('cmdlet'), str):
                raise ValueError('call_errors: each entry needs a "cmdlet"')
        if 'call_errors' in values:
            values['call_errors'] = [dict(e) for e in values['call_errors'] or []]
        for key, value in values.items():
            setattr(self, key, value)

    def as_dict(self):
        return dict((k, getattr(self, k)) for k in self.FIELDS)


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.round_trips = 0
        self.connections = 0
        self.connect_failures = 0
        self.disconnections = 0
        self.cmdlets = collections.Counter()
        self.throttled = 0
        # Calls answered by the call_errors fault.
        self.call_errors = 0
        # 429s for too many concurrent requests of one tenant, and the most in flight at once.
        self.concurrency_throttled = 0
        self.peak_concurrency = 0
        self.dropped = 0
        self.module_installs = 0
        # Seconds of Retry-After the service told callers to wait.
        self.sleeps = 0.0
        # Injected latency by kind (connect, read, write, round_trip): the
        # emulated server time, i.e. the floor a benchmark measures against.
        self.latency_seconds = collections.Counter()
        self.connect_params = []

    def add(self, name, amount=1):
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)

    def as_dict(self):
        with self.lock:
            return {'round_trips': self.round_trips, 'connections': self.connections, 'connect_failures': self.connect_failures,
                    'disconnections': self.disconnections, 'cmdlets': dict(self.cmdlets), 'throttled': self.throttled, 'call_errors': self.call_errors,
                    'concurrency_throttled': self.concurrency_throttled, 'peak_concurrency': self.peak_concurrency,
                    'dropped': self.dropped, 'module_installs': self.module_installs, 'sleeps': self.sleeps,
                    'latency_seconds': dict(self.latency_seconds), 'connect_params': list(self.connect_params)}


def _mailboxes_of(tenant):
    mailboxes = getattr(tenant, 'mailboxes', None)
    if callable(mailboxes):
        return mailboxes()
    return mailboxes or []


class ExchangeHost:
    """The service side: per-tenant ExchangeOrg objects, faults, counters, token checks.

    find_tenant(key) -> tenant-like (tenant_id, domain, mailboxes() or a list,
    optionally an ``extensions`` dict where the org is kept so a directory
    reset drops it) or None. verify_token(token) -> claims or raise.
    """

    def __init__(self, find_tenant, verify_token, sleep=time.sleep, lock=None):
        self.find_tenant = find_tenant
        self.verify_token = verify_token
        self.sleep = sleep
        self.directory_lock = lock or threading.RLock()
        self.lock = threading.RLock()
        self.faults = Faults()
        self.counters = Counters()
        self._orgs = {}
        self._throttle_seen = 0
        # InvokeCommand requests in flight per tenant id, for concurrency_limit.
        self._in_flight = collections.Counter()
        # Successful writes per WinRM command (the X-M365-Sandbox-Command header), for drop_after_writes.
        self._writes = collections.Counter()
        # Set by the emulated Windows host: drop_command(command_id) kills that command and drops its connection.
        self.drop_command = None
        # (tenant id, app id) of apps whose Exchange administrator role was taken away (control route
        # tenants/{tid}/exchange/role): Connect still succeeds, every cmdlet answers 403 (README, weak).
        self.without_role = set()

    # -- tenants --------------------------------------------------------------
    def org_for(self, tenant):
        with self.directory_lock:
            store = getattr(tenant, 'extensions', None)
            if store is None:
                store = self._orgs.setdefault(tenant.tenant_id, {})
            org = store.get('exchange')
            # Follow the directory only when its users changed: copying 10,000 users on every call made the emulator's
            # own cost grow with the tenant (0.17 s a call), which the latency model, not the emulator, is for.
            # Users are added and removed, never edited in place, so the dict and its size tell a change.
            users = getattr(tenant, 'users', None)
            signature = (id(users), len(users)) if isinstance(users, dict) else None
            if org is None:
                org = store['exchange'] = ExchangeOrg(tenant.tenant_id, tenant.domain, _mailboxes_of(tenant))
            elif signature is None or signature != getattr(org, 'directory_signature', None):
                org.sync(_mailboxes_of(tenant))
            org.directory_signature = signature
            return org

    def org(self, key):
        """The ExchangeOrg of a tenant by id or domain (for tests and the control API)."""
        tenant = self.find_tenant(key)
        return self.org_for(tenant) if tenant is not None else None

    def reset(self):
        self.faults.reset()
        self.counters.reset()
        with self.lock:
            self._throttle_seen = 0
            self._writes.clear()
            self.without_role.clear()

    def set_admin_role(self, tenant_id, app_id, assigned):
        """Give back or take away the Exchange administrator role of an app (the doctor's 'role removed' case)."""
        with self.lock:
            key = (tenant_id, (app_id or '').lower())
            if assigned:
                self.without_role.discard(key)
            else:
                self.without_role.add(key)

    def has_admin_role(self, tenant_id, claims):
        """Whether the token's app holds an Exchange role in the tenant: the seeded admin app does (until it is taken away);
        any other app only when its service principal holds Exchange Administrator or Global Administrator (Microsoft Learn,
        "App-only authentication for unattended scripts in Exchange Online PowerShell": assign Microsoft Entra roles to the app)."""
        app_id = (claims.get('appid') or claims.get('azp') or '').lower()
        if (tenant_id, app_id) in self.without_role:
            return False
        if 'scp' in claims:
            return True  # a person: has_role judged their directory roles
        with self.directory_lock:
            tenant = self.find_tenant(tenant_id)
            if tenant is None or not hasattr(tenant, 'service_principals'):
                return True  # a tenant-like stand-in of a unit test: no directory to judge by
            if app_id in tenant.extensions.get('exchange_role_apps', ()):
                return True
            principals = [sp['id'] for sp in tenant.service_principals.values() if (sp.get('appId') or '').lower() == app_id]
            return any(set(tenant.role_names_of(sp_id)) & set(APP_EXCHANGE_ROLES) for sp_id in principals)

    # -- faults -----------------------------------------------------------------
    def latency(self, kind, *keys):
        """Sleep the first configured of keys (then kind), counted under kind."""
        for key in keys + (kind,):
            delay = (self.faults.latency or {}).get(key)
            if delay:
                self.sleep(delay)
                with self.counters.lock:
                    self.counters.latency_seconds[kind] += delay
                return

    def throttled(self, cmdlet):
        """True when this call is the N-th matching one of throttle_every."""
        every = self.faults.throttle_every
        if not every or (self.faults.throttle_cmdlets and cmdlet not in self.faults.throttle_cmdlets):
            return False
        with self.lock:
            self._throttle_seen += 1
            return self._throttle_seen % every == 0

    def injected_error(self, cmdlet, params):
        """(status, message) of the first call_errors entry matching this call, or None; counts down its times."""
        identity = str(params.get('Identity') or '').lower()
        with self.lock:
            for entry in self.faults.call_errors:
                if entry['cmdlet'].lower() != cmdlet.lower() or (entry.get('identity') and entry['identity'].lower() != identity):
                    continue
                if entry.get('times') is not None:
                    if entry['times'] < 1:
                        continue
                    entry['times'] -= 1
                self.counters.add('call_errors')
                return int(entry.get('status') or 500), entry.get('message')
        return None

    def unresolved(self, params):
        """The -User/-Trustee value of this call that Exchange cannot resolve yet (unresolved_users), or None."""
        wanted = set(str(u).lower() for u in self.faults.unresolved_users or [])
        for name in ('User', 'Trustee'):
            value = params.get(name)
            if isinstance(value, str) and value.lower() in wanted:
                return value
        return None

    def enter(self, tenant_id):
        """Admit one more request of a tenant (True), or refuse it beyond concurrency_limit (False, counted)."""
        limit = self.faults.concurrency_limit
        with self.lock:
            if limit is not None and self._in_flight[tenant_id] >= limit:
                refused = True
            else:
                refused = False
                self._in_flight[tenant_id] += 1
                current = self._in_flight[tenant_id]
        if refused:
            self.counters.add('concurrency_throttled')
            return False
        with self.counters.lock:
            self.counters.peak_concurrency = max(self.counters.peak_concurrency, current)
        return True

    def leave(self, tenant_id):
        with self.lock:
            self._in_flight[tenant_id] -= 1

    def write_is_dropped(self, command_id):
        """True (once) when this write is the one drop_after_writes loses."""
        with self.lock:
            limit = self.faults.drop_after_writes
            if limit is None or self._writes[command_id] < limit:
                return False
            self.faults.drop_after_writes = None
        self.counters.add('dropped')
        return True

    def count_write(self, command_id):
        with self.lock:
            self._writes[command_id] += 1

    # -- tokens -------------------------------------------------------------------
    def check_token(self, token, tenant_key, audience=None):
        """The tenant a bearer token may act on at /adminapi/beta/{tenant_key}; raises ServiceDenied."""
        if not token:
            raise ServiceDenied(401, 'UnAuthorized: an access token is required')
        try:
            claims = self.verify_token(token)
        except Exception as exc:  # pylint: disable=broad-except
            raise ServiceDenied(401, 'UnAuthorized: the access token is not valid: %s' % exc)
        expected = audience or AUDIENCES['O365Default']
        if claims.get('aud') not in (expected, expected + '/', EXCHANGE_APP_ID):
            raise ServiceDenied(401, "UnAuthorized: the access token's audience '%s' is not %s" % (claims.get('aud'), expected))
        if claims.get('exp') is not None and claims['exp'] < time.time():
            raise ServiceDenied(401, 'UnAuthorized: the access token has expired')
        token_tenant = self.find_tenant(claims.get('tid'))
        if token_tenant is None:
            raise ServiceDenied(401, "UnAuthorized: tenant '%s' of the access token was not found" % claims.get('tid'))
        tenant = self.find_tenant(tenant_key)
        if tenant is None or tenant.tenant_id != token_tenant.tenant_id:
            raise ServiceDenied(401, "UnAuthorized: the access token was issued for tenant '%s', not for Organization '%s'"
                                % (claims.get('tid'), tenant_key))
        return token_tenant, claims

    def has_role(self, claims):
        """An app token needs Exchange.ManageAsApp; a person's token a person holding an Exchange admin role now."""
        if 'scp' in claims:
            with self.directory_lock:
                tenant = self.find_tenant(claims.get('tid'))
                names = getattr(tenant, 'role_names_of', None)
                return bool(names and set(names(claims.get('oid'))) & set(PERSON_ROLES))
        return MANAGE_ROLE in (claims.get('roles') or [])

    @staticmethod
    def role_message(claims):
        if 'scp' in claims:
            return PERSON_ROLE_MESSAGE % claims.get('upn')
        return ROLE_MESSAGE % claims.get('appid')

    # -- role groups (issue 20: an app's Exchange role through a role group; role_groups.py) --------
    def role_group_cmdlets(self, tenant, claims):
        """The cmdlets an app token may run through its service principal's role groups, or None when that does not
        decide it: a person's token, or an app that holds an Entra Exchange role (or lost it through the control API)."""
        if 'scp' in claims:
            return None
        app_id = (claims.get('appid') or claims.get('azp') or '').lower()
        if (tenant.tenant_id, app_id) in self.without_role or self.has_admin_role(tenant.tenant_id, claims):
            return None
        with self.lock:
            allowed = role_groups.cmdlets_of(self.org_for(tenant), app_id)
        return allowed or None

    def role_group_caller(self, tenant, claims):
        """The app id of an app token whose Exchange rights come from role groups alone, else None: what it may assign is
        then decided by its groups' delegating assignments (role_groups.check_assignment)."""
        if self.role_group_cmdlets(tenant, claims) is None:
            return None
        return (claims.get('appid') or claims.get('azp') or '').lower()

    def may_run(self, tenant, claims, cmdlet):
        """Whether the token's caller may run the cmdlet: its Entra Exchange role, or a role group holding the cmdlet."""
        allowed = self.role_group_cmdlets(tenant, claims)
        if allowed is not None:
            return cmdlet in allowed
        return self.has_admin_role(tenant.tenant_id, claims)
