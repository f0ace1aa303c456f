#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: app_secret
short_description: Ensure a client secret or certificate on an Entra ID application, rotated before it expires
version_added: 0.1.0
description:
  - Ensures a client secret (C(passwordCredentials)), identified by its display name, on an application.
    A secret that does not expire within O(rotate_before_days) is left alone. Otherwise a new one is added and the
    old one is kept until its own expiry (overlap), unless O(remove_old=true).
  - The secret value exists only in Graph's answer to C(addPassword). It is written to O(dest) (mode 0600, atomic
    rename, optionally ansible-vault encrypted) before the module returns, so an interruption later in the play loses
    nothing. A later run with a valid secret changes nothing and cannot return the value again.
  - With O(type=certificate), uploads a public certificate to C(keyCredentials), keeping the other keys.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  type:
    description: A client secret (V(password)) or a certificate (V(certificate)).
    type: str
    choices: [password, certificate]
    default: password
  display_name:
    description:
      - Name of the secret; how it is found again. Required for V(password) with O(state=present).
      - For a certificate, defaults to the certificate's subject.
    type: str
  expires_in_days:
    description:
      - Lifetime of a new secret in days; 180 when neither this nor O(end_date_time) is set.
      - Mutually exclusive with O(end_date_time).
    type: int
  end_date_time:
    description: Expiry of a new secret as an ISO 8601 date and time (C(2027-06-30T00:00:00Z)).
    type: str
  rotate_before_days:
    description:
      - A secret that expires within this many days is rotated - a new one is added.
      - A certificate that expires within this window gives a warning.
    type: int
    default: 30
  remove_old:
    description:
      - After a new secret is written, remove the other secrets (or certificates) with the same display name instead of
        letting them expire - at once, or once O(remove_old_grace_days) have passed since the newest one was created.
    type: bool
    default: false
  remove_old_grace_days:
    description:
      - With O(remove_old), keep the older secrets of that name until the newest one is this many days old, so every
        client has time to switch to it. A later run removes them.
    type: int
    default: 0
  force_rotate:
    description:
      - Add a new secret now even when the current one is valid (an on-demand rotation, for example after a leak).
        Not idempotent by design; every run with it adds a secret.
    type: bool
    default: false
  dest:
    description:
      - File to write a new secret to, before the module returns (mode 0600, written atomically).
      - The directory must exist. Checked before anything is created.
      - The directory must be writable only by this user (or be sticky, like C(/tmp)); otherwise the module fails before
        anything is created.
      - While the run holds the application's lease, C(<dest>.pending) (no secret in it, mode 0600) names this run; if it is
        killed, the next run on this controller with this O(dest) takes the lease over at once instead of waiting for it to
        expire. The secrets to remove as orphans (RV(orphans_removed)) are the ones the lease on the application records as
        added after it was taken and never handed over - never a time window, and never what a marker says.
      - A run that fails after its new secret is in O(dest) (removing the old ones failed) says so and gives the lease back
        expired with its record; the next run removes the secrets that record names as being removed at once, never one its
        O(dest) holds. The marker stays while the lease could not be given back.
      - Both files are written through a temporary file beside them (C(.<name>.<host>-<pid>-<start>.<random>)) that is
        renamed over them. A run killed before the rename (SIGKILL, a power cut) leaves it; the next run that writes
        O(dest) removes the ones whose process on this host has ended, never one a running process is writing.
      - For O(type=certificate), the same document with the certificate's thumbprint instead of a secret, written when
        the certificate is added or the file is missing.
    type: path
  dest_format:
    description:
      - V(value) writes the secret alone.
      - V(json) writes the handover document for the mail client - C(tenant_id), C(client_id), C(client_secret) (or
        C(certificate_thumbprint)), C(key_id), C(end_date_time), C(token_endpoint), C(scope) and the C(imap), C(pop)
        and C(smtp) host, port and security of the tenant's cloud.
    type: str
    choices: [value, json]
    default: json
  vault_password:
    description: Encrypt O(dest) with ansible-vault using this password. An empty or whitespace-only password is refused.
    type: str
  vault_password_file:
    description:
      - Encrypt O(dest) with ansible-vault using the password from this file, read exactly as C(ansible-vault --vault-password-file)
        reads it - an executable file is run and its output is the password (a C(*-client) script gets C(--vault-id));
        any other file holds the password.
      - An empty or whitespace-only password is refused before anything is created.
    type: path
  vault_id:
    description: Vault ID label for the encrypted file (vault format 1.2).
    type: str
  return_secret:
    description:
      - Also return the new value as RV(secret). The task must set C(no_log) true, so that the value stays out of
        the output and the logs; otherwise the module fails before creating anything.
    type: bool
    default: false
  key_id:
    description: With O(state=absent), remove only the credential with this key ID.
    type: str
  certificate:
    description: The public certificate, PEM text or base64 DER, for O(type=certificate).
    type: str
  certificate_path:
    description:
      - File with the public certificate (PEM or DER) for O(type=certificate). A PEM file that also holds the private
        key is fine; only the certificate is read and uploaded.
    type: path
  dest_missing:
    description:
      - What to do when the secret of O(display_name) is current but O(dest) does not hold it (a second controller, a changed
        O(dest), a deleted file); its value cannot be read again.
      - V(fail) stops with a message that says how to get one (V(rotate), C(playbooks/rotate_secret.yml), or copying the file).
      - V(rotate) adds a new secret and writes it to O(dest); with O(remove_old) the others are removed as usual, which
        cuts off every other holder of the old value.
    type: str
    choices: [fail, rotate]
    default: fail
  lease_seconds:
    description:
      - A run that adds or removes a secret first takes a lease on the application (a tag, see the reliability docs), so
        two overlapping runs never interleave their changes; it lasts this long and is renewed before anything old is removed.
      - A run killed while holding it blocks other controllers until it expires; the next run on the same controller with
        the same O(dest) takes it over at once. Must exceed O(prove_timeout) by more than 30 seconds.
    type: int
    default: 600
  lease_wait_seconds:
    description: How long to wait for another run's lease before failing with a message that names it.
    type: int
    default: 900
  prove_timeout:
    description:
      - A new secret is proven with a real client-credentials token request before any older secret is removed; this is how
        long to keep trying while Entra ID replicates it. If it never works, nothing old is removed and the task fails.
    type: int
    default: 300
  state:
    description: V(present) ensures the credential; V(absent) removes it (by O(key_id), else every one with O(display_name)).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - m365.mail_oauth.application_selector
  - m365.mail_oauth.graph_auth
attributes:
  check_mode:
    support: full
    description: Reports whether a secret would be added, rotated or removed; changes nothing.
  diff_mode:
    support: full
    description: Shows the credentials of that name before and after, by key ID, hint and dates; never a value.
notes:
  - Graph never returns a secret value after it was created. Keep O(dest) (or the registered RV(secret) with C(no_log)).
seealso:
  - module: m365.mail_oauth.azure_app_registration
'''

EXAMPLES = r'''
- name: Ensure a secret, written to a vault-encrypted file the moment it is created
  m365.mail_oauth.app_secret:
    unique_name: helpdesk-mail-reader
    display_name: imap-poller
    expires_in_days: 180
    rotate_before_days: 30
    dest: /etc/mail-poller/m365-secret.json
    vault_password_file: ~/.vault-pass

- name: Rotate now and drop the old secret once the new one is written
  m365.mail_oauth.app_secret:
    unique_name: helpdesk-mail-reader
    display_name: imap-poller
    rotate_before_days: 3650
    expires_in_days: 3700
    remove_old: true
    dest: /etc/mail-poller/m365-secret.json

- name: Get the value into a variable (the task must be no_log)
  m365.mail_oauth.app_secret:
    unique_name: helpdesk-mail-reader
    display_name: ci-runner
    return_secret: true
  no_log: true
  register: secret

- name: Use a certificate instead of a secret
  m365.mail_oauth.app_secret:
    unique_name: helpdesk-mail-reader
    type: certificate
    certificate_path: /etc/mail-poller/app-cert.pem

- name: Remove a secret by name
  m365.mail_oauth.app_secret:
    unique_name: helpdesk-mail-reader
    display_name: imap-poller
    state: absent
'''

RETURN = r'''
key_id:
  description: Key ID of the current credential (the new one when one was added).
  returned: when a credential exists
  type: str
end_date_time:
  description: Expiry of the current credential.
  returned: when a credential exists
  type: str
hint:
  description: First characters of the secret, as Graph shows them.
  returned: for a password credential
  type: str
thumbprint:
  description: SHA-1 thumbprint (hex) of the certificate.
  returned: for O(type=certificate)
  type: str
secret:
  description: The new secret value; only with O(return_secret=true) on a run that created it.
  returned: when created and O(return_secret=true)
  type: str
secret_created:
  description: Whether this run created a new secret (its value is only in O(dest) or RV(secret)).
  returned: always
  type: bool
rotated:
  description: Whether the new credential replaces one that was about to expire.
  returned: always
  type: bool
removed_key_ids:
  description: Key IDs of the credentials this run removed.
  returned: always
  type: list
  elements: str
orphans_removed:
  description: Key IDs of secrets whose value never reached O(dest) (Graph created one during a retried request, or an earlier
    run was killed before writing it); removed again.
  returned: always
  type: list
  elements: str
dest:
  description: Where the new secret was written.
  returned: when a secret was written
  type: str
credentials:
  description: The credentials with this display name after the run (no values).
  returned: always
  type: list
  elements: dict
app_id:
  description: Application (client) ID.
  returned: always
  type: str
tenant_id:
  description: Directory (tenant) ID.
  returned: always
  type: str
'''

from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import (
    APPLICATION_SELECTOR_EXCLUSIVE, APPLICATION_SELECTOR_REQUIRED, APPLICATION_SELECTOR_SPEC)
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import applications as apps
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import mail_app_credentials as creds
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import lease as lease_mod
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.secret_rotation import ensure_password
from ansible_collections.m365.mail_oauth.plugins.module_utils.module import GraphModule
from ansible_collections.m365.mail_oauth.plugins.module_utils.names import check_display_name
from ansible_collections.m365.mail_oauth.plugins.module_utils.secret_file import check_destination
from ansible_collections.m365.mail_oauth.plugins.module_utils.vault import read_vault_password_file


def check_inputs(module):
    params = module.params
    apps.check_selector(params)
    if params['state'] == 'absent':
        if not (params['key_id'] or params['display_name'] or params['certificate'] or params['certificate_path']):
            raise ConfigError('state=absent needs key_id or display_name (or the certificate) to know what to remove')
        return
    if params['remove_old_grace_days'] < 0:
        raise ConfigError('remove_old_grace_days must be 0 or more days, got %s' % params['remove_old_grace_days'])
    for name, least in (('lease_seconds', 60), ('lease_wait_seconds', 0), ('prove_timeout', 1)):
        if params[name] < least:
            raise ConfigError('%s must be at least %d seconds, got %s' % (name, least, params[name]))
    if params['prove_timeout'] + lease_mod.MARGIN_SECONDS >= params['lease_seconds']:
        raise ConfigError('lease_seconds (%s) must exceed prove_timeout (%s) by more than %d s, so the lease outlives the proof '
                          'of the new secret' % (params['lease_seconds'], params['prove_timeout'], lease_mod.MARGIN_SECONDS))
    if params['type'] == 'password' and not params['display_name']:
        raise ConfigError('display_name is required for a client secret: it is how the secret is found on later runs')
    if params['type'] == 'certificate' and not (params['certificate'] or params['certificate_path']):
        raise ConfigError('type=certificate needs certificate or certificate_path (the public certificate)')
    if params['return_secret'] and not module.ansible.no_log:
        raise ConfigError('return_secret=true needs no_log: true on the task, so the secret stays out of the output')
    check_display_name(params['display_name'], 'display_name')
    if params['dest']:
        check_destination(params['dest'])
    if params['vault_password'] is not None and not params['vault_password'].strip():
        raise ConfigError('vault_password is empty or whitespace only: refusing to write the secret under it; give a real '
                          'password, or leave vault_password unset for a plain 0600 file')
    if params['vault_password_file']:
        read_vault_password_file(params['vault_password_file'], params['vault_id'])


def run(module):
    check_inputs(module)
    params = module.params
    client = module.client
    field = 'passwordCredentials' if params['type'] == 'password' else 'keyCredentials'
    # keyCredentials carry their key material only when selected explicitly, and PATCH needs it back; tags hold the lease.
    app = apps.application_or_plan(module, apps.find_application(client, params, select=['id', 'appId', field, 'tags']), field)
    result = {'changed': False, 'secret_created': False, 'rotated': False, 'removed_key_ids': [], 'orphans_removed': [],
              'app_id': app['appId'], 'tenant_id': module.tenant_guid()}
    if params['state'] == 'absent':
        creds.ensure_absent(module, client, app, result)
    elif params['type'] == 'password':
        ensure_password(module, client, app, result)
    else:
        creds.ensure_certificate(module, client, app, result)
    return result


def main():
    spec = dict(APPLICATION_SELECTOR_SPEC)
    spec.update(
        type=dict(type='str', choices=['password', 'certificate'], default='password'),
        display_name=dict(type='str'),
        expires_in_days=dict(type='int'),
        end_date_time=dict(type='str'),
        rotate_before_days=dict(type='int', default=30),
        remove_old=dict(type='bool', default=False),
        remove_old_grace_days=dict(type='int', default=0),
        force_rotate=dict(type='bool', default=False),
        dest=dict(type='path'),
        dest_format=dict(type='str', choices=['value', 'json'], default='json'),
        vault_password=dict(type='str', no_log=True),
        vault_password_file=dict(type='path', no_log=False),
        vault_id=dict(type='str'),
        return_secret=dict(type='bool', default=False),
        key_id=dict(type='str', no_log=False),
        certificate=dict(type='str'),
        certificate_path=dict(type='path'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        dest_missing=dict(type='str', choices=['fail', 'rotate'], default='fail'),
        lease_seconds=dict(type='int', default=600),
        lease_wait_seconds=dict(type='int', default=900),
        prove_timeout=dict(type='int', default=300),
    )
    module = GraphModule(
        argument_spec=spec,
        mutually_exclusive=APPLICATION_SELECTOR_EXCLUSIVE + [
            ['expires_in_days', 'end_date_time'], ['certificate', 'certificate_path'], ['vault_password', 'vault_password_file']],
        required_one_of=APPLICATION_SELECTOR_REQUIRED,
    )
    module.run(run)


if __name__ == '__main__':
    main()
