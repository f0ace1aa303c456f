"""What Exchange Online enforces, mirrored from the sandbox's emulated Exchange into the real Dovecot, with a lag.

In Microsoft 365 the IMAP/POP/SMTP front ends honour the app's service principal, its FullAccess and (SMTP only) its
RBAC for Applications assignments; here Dovecot's allow-lists and its trusted clients stand in for them. A background
thread copies them over every `lag` seconds, the way permissions propagate in Microsoft 365, so a login check has to
wait for it as it would there.
"""

import threading


class ExchangeMirror(threading.Thread):
    """Copies FullAccess and the SMTP RBAC scopes from the emulated Exchange of every tenant into Dovecot's allow-lists, and trusts
    the app's tokens."""

    def __init__(self, sandbox, servers, app_unique_name, lag=1.0):
        super().__init__(daemon=True, name='exchange-mirror')
        # One app's unique name, or several: the FullAccess allow-list is one for all of them (Dovecot's role check
        # runs first, so an app without IMAP/POP/SMTP roles, like a send-only app under RBAC, never reaches it).
        names = [app_unique_name] if isinstance(app_unique_name, str) else list(app_unique_name)
        self.sandbox, self.servers, self.apps, self.lag = sandbox, servers, names, lag
        self.stopped = threading.Event()

    def sync(self):
        allowed, rbac = set(), {}
        for index in range(len(self.sandbox.tenants)):
            tenant_id = self.sandbox.tenant(index)['tenant_id']
            apps = [a for a in self.sandbox.state(tenant_id)['applications'] if a.get('uniqueName') in self.apps]
            if not apps:
                continue
            exchange = self.sandbox.control('GET', 'tenants/%s/exchange' % tenant_id)
            for app in apps:
                self.servers.trust_client(app['appId'])
                ids = set(sp['ObjectId'] for sp in exchange['service_principals'] if sp['AppId'] == app['appId'])
                allowed.update(upn for upn, mailbox in exchange['mailboxes'].items()
                               if any(p['User'] in ids and 'FullAccess' in p['AccessRights'] for p in mailbox['permissions']))
                # RBAC for Applications: the mailboxes an "Application SMTP.SendAsApp" assignment of the app's service
                # principal covers now (the emulated Exchange evaluates the scope's filter); SMTP only, see exchange_rbac.lua.
                covered = rbac.setdefault(app['appId'], set())
                for identity in ids:
                    covered.update(exchange['smtp_rbac'].get(identity, ()))
        self.servers.allow(sorted(allowed))
        self.servers.allow_smtp_rbac(dict((app, sorted(mailboxes)) for app, mailboxes in rbac.items()))

    def run(self):
        while not self.stopped.wait(self.lag):
            self.sync()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.join(5)
