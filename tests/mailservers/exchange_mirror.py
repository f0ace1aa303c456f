"""What Exchange Online enforces, mirrored from the sandbox's emulated Exchange into the real Dovecot, with a lag.

In Microsoft 365 the IMAP/POP/SMTP front ends honour the app's service principal, its FullAccess and (SMTP only) its
RBAC for Applications assignments; here Dovecot's allow-lists and its trusted clients stand in for them. A background thread copies them over every `lag` seconds,
the way permissions propagate in Microsoft 365, so a login check has to wait for it as it would there.
"""

import threading


class ExchangeMirror(threading.Thread):
    """Copies FullAccess and the SMTP RBAC scopes from the emulated Exchange of every tenant into Dovecot's allow-lists, and trusts
    the app's tokens."""

    def __init__(self, sandbox, servers, app_unique_name, lag=1.0):
        super().__init__(daemon=True, name='exchange-mirror')
        self.sandbox, self.servers, self.app, self.lag = sandbox, servers, app_unique_name, lag
        self.stopped = threading.Event()

    def sync(self):
        allowed, rbac = set(), {}
        for index in range(len(self.sandbox.tenants)):
            tenant_id = self.sandbox.tenant(index)['tenant_id']
            apps = [a for a in self.sandbox.state(tenant_id)['applications'] if a.get('uniqueName') == self.app]
            if not apps:
                continue
            self.servers.trust_client(apps[0]['appId'])
            exchange = self.sandbox.control('GET', 'tenants/%s/exchange' % tenant_id)
            ids = set(sp['ObjectId'] for sp in exchange['service_principals'] if sp['AppId'] == apps[0]['appId'])
            allowed.update(upn for upn, mailbox in exchange['mailboxes'].items()
                           if any(p['User'] in ids and 'FullAccess' in p['AccessRights'] for p in mailbox['permissions']))
            # RBAC for Applications: the mailboxes an "Application SMTP.SendAsApp" assignment of the app's service
            # principal covers now (the emulated Exchange evaluates the scope's filter); SMTP only, see exchange_rbac.lua.
            covered = rbac.setdefault(apps[0]['appId'], set())
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
