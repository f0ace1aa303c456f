"""`make demo`: the main job against the sandbox tenant, from nothing to a working app, drift, and an audit that finds it."""

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'tests', 'sandbox'))
sys.path.insert(0, os.path.join(REPO, 'tests', 'e2e'))
sys.path.insert(0, os.path.join(REPO, 'tests', 'mailservers'))

from m365_sandbox.client import SandboxHandle  # noqa: E402  pylint: disable=wrong-import-position
from roles import tenant_vars, windows_host  # noqa: E402  pylint: disable=wrong-import-position
from exchange_mirror import ExchangeMirror  # noqa: E402  pylint: disable=wrong-import-position
from mailserver_harness import MailServerError, MailServers, require_mail_servers  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
USER_READ = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'
APP_UNIQUE_NAME = 'demo-mail-reader'
# A send-only app beside it (a scanner): SMTP through Exchange's RBAC for Applications, no FullAccess, no Entra SMTP.SendAsApp.
SENDER_UNIQUE_NAME = 'demo-scanner'
ADMIN_UNIQUE_NAME = 'demo-admin'
OUTPUT = threading.Lock()
PROMPT = re.compile(r'open the page (\S+) and enter the code ([A-Z0-9]+) to authenticate')


def banner(text):
    print('\n' + '=' * 78 + '\n== ' + text + '\n' + '=' * 78, flush=True)


def _playbook_env(env=None):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'collections'), ANSIBLE_NOCOLOR='1',
                ANSIBLE_DEPRECATION_WARNINGS='False',
                M365_ALLOW_CUSTOM_ENDPOINTS='1', **(env or {}))  # the sandbox is not a Microsoft cloud


def playbook(inventory, name, *extra, env=None):
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, os.path.join(REPO, 'playbooks', name)] + list(extra)
    print('$ ansible-playbook -i %s playbooks/%s %s' % (os.path.relpath(inventory, REPO), name, ' '.join(extra)), flush=True)
    return subprocess.run(cmd, env=_playbook_env(env), check=True)


def bootstrap(sandbox, index, work):
    """playbooks/bootstrap.yml for one tenant, as its Global Administrator: the prompt shows as a person sees it, and the
    demo enters the code at the sandbox's verification page for them. Returns the identity's inventory vars."""
    tenant = sandbox.tenant(index)
    home = os.path.join(work, 'identity', tenant['domain'])
    os.makedirs(home, mode=0o700, exist_ok=True)
    extra = {'admin_identity_tenant_id': tenant['domain'], 'admin_identity_unique_name': ADMIN_UNIQUE_NAME,
             'admin_identity_display_name': 'Demo admin', 'admin_identity_dir': home,
             'admin_identity_token_cache': os.path.join(work, 'token_cache.json'), 'admin_identity_sign_in_timeout': 60,
             'admin_identity_endpoints': {'authority_url': sandbox.authority_url, 'graph_url': sandbox.graph_url,
                                          'ca_path': sandbox.ca_path}}
    vars_path = os.path.join(work, 'bootstrap-%d.json' % index)
    with open(vars_path, 'w') as handle:
        json.dump(extra, handle)
    cmd = [os.path.join(BIN, 'ansible-playbook'), os.path.join(REPO, 'playbooks', 'bootstrap.yml'), '-e', '@' + vars_path]
    prefix = 'tenant%d| ' % (index + 1)

    def say(text):
        with OUTPUT:
            print(''.join(prefix + line + '\n' for line in text.rstrip('\n').split('\n')), end='', flush=True)

    say('$ ansible-playbook playbooks/bootstrap.yml -e admin_identity_tenant_id=%s   (plus the sandbox\'s endpoints)' % tenant['domain'])
    proc = subprocess.Popen(cmd + ['-i', 'localhost,'], env=_playbook_env(), stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        say(line)
        match = PROMPT.search(line)
        if match:
            person = sandbox.global_admin(index)
            say('   [demo] %s opens %s, enters %s and approves the sign-in' % (person, match.group(1), match.group(2)))
            sandbox.device_login(person, user_code=match.group(2), tenant_index=index)
    if proc.wait() != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    vars_file = os.path.join(home, ADMIN_UNIQUE_NAME + '.vars.yml')
    with open(vars_file) as handle:
        text = handle.read()
    say('%s (mode %o):\n%s' % (os.path.relpath(vars_file, REPO), os.stat(vars_file).st_mode & 0o777, text))
    return yaml.safe_load(text)


def bootstrap_all(sandbox, work):
    """Both tenants at once (each its own person and prompt), as two admins at two browsers would."""
    results, errors = {}, []

    def one(index):
        try:
            results[index] = bootstrap(sandbox, index, work)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)  # raised below, once both have ended

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sandbox.tenants))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [results[i] for i in range(len(sandbox.tenants))]


def write_inventory(sandbox, work, handover, identities, mail=None):
    """The demo's inventory; with mail servers, the role ends with a real XOAUTH2 login per mailbox and protocol."""
    login = {}
    if mail is not None:
        login = {'mailbox_access_verify_login': True, 'mailbox_access_verify_timeout': 60,
                 'mailbox_access_verify_options': mail.endpoints}
    hosts = {}
    for index, tenant in enumerate(sandbox.tenants):
        name = 'tenant%d' % (index + 1)
        hosts[name] = tenant_vars(sandbox, index, handover, mailbox_access_app_unique_name=APP_UNIQUE_NAME,
                                  mailbox_access_app_display_name='Demo mail reader',
                                  mailbox_access_protocols=['imap', 'pop', 'smtp'], mailbox_access_mailboxes=tenant['mailboxes'],
                                  mailbox_access_handover_dest=os.path.join(handover, '%s-mail-app.json' % name),
                                  mailbox_access_exchange_host='exchange-admin', **login)
        # The identity bootstrap created, not the sandbox's seeded admin app.
        hosts[name].update(identities[index])
        print('%s: %s (%s), mailboxes: %s' % (name, tenant['tenant_id'], tenant['domain'], ', '.join(tenant['mailboxes'])))
    # One more inventory host for tenant 1: the send-only app, scoped to its first two mailboxes.
    tenant = sandbox.tenant(0)
    hosts['tenant1-scanner'] = tenant_vars(sandbox, 0, handover, mailbox_access_app_unique_name=SENDER_UNIQUE_NAME,
                                           mailbox_access_app_display_name='Demo scanner (send only)',
                                           mailbox_access_protocols=['smtp'], mailbox_access_smtp_access='rbac',
                                           mailbox_access_mailboxes=tenant['mailboxes'][:2],
                                           mailbox_access_handover_dest=os.path.join(handover, 'tenant1-scanner-mail-app.json'),
                                           mailbox_access_exchange_host='exchange-admin',
                                           # The mailboxes' protocol switches are settings of the mailbox, set by the reader's
                                           # run (IMAP, POP, SMTP); a second app with other protocols would switch them back.
                                           mailbox_access_configure_protocols=False,
                                           # The proof: it sends as its two mailboxes, and is refused as a third.
                                           **dict(login, mailbox_access_verify_refused=tenant['mailboxes'][2:3] if login else []))
    hosts['tenant1-scanner'].update(identities[0])
    print('tenant1-scanner: send-only app in tenant1, SMTP through RBAC for Applications as %s%s' % (
        ', '.join(tenant['mailboxes'][:2]), ' (and refused as %s)' % tenant['mailboxes'][2] if login else ''))
    inventory = {'tenants': {'hosts': hosts}, 'windows': {'hosts': {'exchange-admin': windows_host(sandbox)}}}
    path = os.path.join(work, 'inventory.yml')
    with open(path, 'w') as handle:
        json.dump(inventory, handle, indent=2)
    return path, hosts


def show_handover(handover, hosts):
    for name in sorted(hosts):
        path = os.path.join(handover, '%s-mail-app.json' % name)
        with open(path) as handle:
            data = json.load(handle)
        data['client_secret'] = data['client_secret'][:3] + '*' * 8
        print('%s (mode %o):\n%s' % (os.path.relpath(path, REPO), os.stat(path).st_mode & 0o777, json.dumps(data, indent=2)))


def show_sender(sandbox):
    """What the send-only app holds in Exchange: a scope and a role assignment, and no FullAccess anywhere."""
    tenant = sandbox.tenant(0)
    app = [a for a in sandbox.state(tenant['tenant_id'])['applications'] if a.get('uniqueName') == SENDER_UNIQUE_NAME][0]
    exchange = sandbox.control('GET', 'tenants/%s/exchange' % tenant['tenant_id'])
    principal = [sp for sp in exchange['service_principals'] if sp['AppId'] == app['appId']][0]
    for scope in exchange['management_scopes']:
        print('management scope %s: %s' % (scope['Name'], ', '.join(scope['Members'])))
    for assignment in exchange['role_assignments']:
        print('role assignment %s: %s, scope %s' % (assignment['Name'], assignment['Role'], assignment['CustomResourceScope']))
    full = [upn for upn, mailbox in exchange['mailboxes'].items()
            if any(p['User'] == principal['ObjectId'] and 'FullAccess' in p['AccessRights'] for p in mailbox['permissions'])]
    print('%s (send only): FullAccess on %d mailboxes; SMTP as: %s' % (
        SENDER_UNIQUE_NAME, len(full), ', '.join(exchange['smtp_rbac'].get(principal['Identity'], []))))


def make_drift(sandbox):
    """What happens in real tenants: someone removes a mailbox permission, a portal edit brings User.Read back."""
    tenant = sandbox.tenant(0)
    app = [a for a in sandbox.state(tenant['tenant_id'])['applications'] if a.get('uniqueName') == APP_UNIQUE_NAME][0]
    victim = tenant['mailboxes'][1]
    sandbox.control('POST', 'tenants/%s/exchange/mailbox_permissions' % tenant['tenant_id'],
                    {'remove': True, 'Identity': victim, 'User': app['appId']})
    sandbox.drift({'action': 'patch_application', 'id': app['id'], 'set': {
        'requiredResourceAccess': app['requiredResourceAccess'] + [
            {'resourceAppId': GRAPH_APP_ID, 'resourceAccess': [{'id': USER_READ, 'type': 'Scope'}]}]}})
    print('tenant1: FullAccess of the app on %s removed by hand; Microsoft Graph User.Read added back' % victim)


def audit(inventory, work, hosts):
    """The audit after the drift: its recap counts drift only, so tenant1 shows changed>0 and tenant2 changed=0."""
    reports = os.path.join(work, 'audit')
    log = os.path.join(work, 'audit.log')  # ansible's own log of the run, read back for the recap
    if os.path.exists(log):
        os.remove(log)
    banner('Audit in check mode with diff: reports exactly the drift, changes nothing, changed=0 where nothing drifted')
    # A login that stopped working is reported at once: no need to wait for propagation as provision does.
    playbook(inventory, 'audit.yml', '--check', '--diff', '-e', 'mailbox_access_verify_timeout=5',
             env={'M365_AUDIT_REPORT_DIR': reports, 'ANSIBLE_LOG_PATH': log})
    with open(log) as handle:
        recap = dict(re.findall(r'(\S+)\s*:\s*ok=\d+\s+changed=(\d+)', handle.read()))
    for name in sorted(hosts):
        with open(os.path.join(reports, '%s.json' % name)) as handle:
            drift = json.load(handle)['drift']
        print('%s: recap changed=%s, report: %s' % (name, recap.get(name), 'drift' if drift else 'no drift'))
        if name not in recap or drift != (int(recap[name]) > 0):
            sys.exit('demo stopped: the audit recap of %s does not match its drift report' % name)
    for name in ('tenant1.txt', 'tenant1.json'):
        with open(os.path.join(reports, name)) as handle:
            print('%s:\n%s' % (os.path.relpath(os.path.join(reports, name), REPO), handle.read()))


def mail_servers(sandbox):
    """Real Dovecot (IMAP, POP3) and Postfix (SMTP submission) checking the app's tokens, where they are installed."""
    try:
        require_mail_servers()
    except MailServerError as exc:
        print('login check: not run here (%s).\nAs root, tests/mailservers/install.sh installs Dovecot and Postfix from '
              "Debian's packages (make test does it); make demo then ends each provision with a real XOAUTH2 login." % exc)
        return None
    return MailServers(sandbox.info['signing_kid'], sandbox.info['signing_public_key_path'])


def main():
    work = os.path.join(REPO, '.build', 'demo')
    os.makedirs(work, exist_ok=True)
    handover = os.path.join(REPO, '.build', 'handover')
    os.makedirs(handover, mode=0o700, exist_ok=True)
    banner('Starting the sandbox: Entra ID + Graph (HTTPS), a Windows host (WinRM) whose real PowerShell runs the '
           'runner against a fake ExchangeOnlineManagement module, and Dovecot/Postfix for the login check')
    with SandboxHandle(state_dir=tempfile.mkdtemp(prefix='sandbox-', dir=work), tenants=2, mailboxes=4, winrm_port=0) as sandbox, \
            contextlib.ExitStack() as stack:
        mail = mail_servers(sandbox)
        if mail is not None:
            stack.enter_context(mail)
            stack.enter_context(ExchangeMirror(sandbox, mail, [APP_UNIQUE_NAME, SENDER_UNIQUE_NAME]))
            print('Dovecot (IMAP %d, POP3 %d) and Postfix (submission %d) accept the app\'s tokens for the mailboxes '
                  'Exchange gives it FullAccess to' % (mail.imap_port, mail.pop_port, mail.smtp_port))
        banner('Bootstrap: a person with Global Administrator signs in once per tenant (device code) and bootstrap.yml creates '
               'the admin identity the playbooks run as')
        sandbox.config(device_code_interval=1)  # the sandbox's polling interval (Entra ID says 5 s)
        shutil.rmtree(os.path.join(work, 'identity'), ignore_errors=True)
        for stale in ('token_cache.json', 'token_cache.json.lock'):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(work, stale))
        started = time.monotonic()
        identities = bootstrap_all(sandbox, work)
        print('bootstrap of %d tenants: %.0f s' % (len(identities), time.monotonic() - started))
        inventory, hosts = write_inventory(sandbox, work, handover, identities, mail)
        banner('Provision as the new identity (its certificate): app, secret, IMAP/POP/SMTP app roles + consent, New-ServicePrincipal, FullAccess, protocols'
               + (', then a real XOAUTH2 login to every mailbox' if mail is not None else ''))
        playbook(inventory, 'provision.yml')
        banner('Handover files for the mail client (secret masked here)')
        show_handover(handover, hosts)
        show_sender(sandbox)
        banner('Run it again: nothing to change (changed=0)')
        playbook(inventory, 'provision.yml')
        banner('Drift behind Ansible\'s back')
        make_drift(sandbox)
        audit(inventory, work, hosts)
    banner('Sandbox stopped. Handover files are in .build/handover/ (mode 0600), audit reports in .build/demo/audit/.')


if __name__ == '__main__':
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit('demo stopped: ansible-playbook exited with %s (its output is above)' % exc.returncode)
