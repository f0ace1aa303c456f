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
        O(dest), a deleted file): its value cannot be read again.
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

import base64
import json
import os
import time

from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import (
    APPLICATION_SELECTOR_EXCLUSIVE, APPLICATION_SELECTOR_REQUIRED, APPLICATION_SELECTOR_SPEC)
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import Credentials, TokenProvider
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import AuthError, ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import applications as apps
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import credentials as creds
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import lease as lease_mod
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.lease import short as lease_short
from ansible_collections.m365.mail_oauth.plugins.module_utils.module import GraphModule
from ansible_collections.m365.mail_oauth.plugins.module_utils.names import check_display_name
from ansible_collections.m365.mail_oauth.plugins.module_utils.handover import connection_settings, write_handover
from ansible_collections.m365.mail_oauth.plugins.module_utils.secret_file import check_destination, write_private_file
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


def handover_document(module, app, **credential):
    document = connection_settings(module.credentials.cloud, module.tenant_guid(), app['appId'])
    document.update(credential)
    return document


def held_key_id(params, same):
    """The keyId whose value dest holds: None when it holds none of the secrets of the name, True when it cannot be told (vault)."""
    dest = params['dest']
    if not dest or not os.path.exists(dest):
        return None
    try:
        with open(dest, 'r') as handle:
            text = handle.read()
    except (IOError, OSError):
        return None
    if text.startswith('$ANSIBLE_VAULT'):
        return True
    if params['dest_format'] == 'value':
        matching = [c['keyId'] for c in same if c.get('hint') and text.startswith(c['hint'])]
        return matching[0] if len(matching) == 1 else (True if matching else None)
    try:
        key_id = json.loads(text).get('key_id')
    except (ValueError, AttributeError):
        return None
    return key_id if key_id in [c['keyId'] for c in same] else None


def prove_secret(module, app, secret, timeout):
    """A real client-credentials token request with the new secret, retried while Entra ID replicates it."""
    credentials = Credentials('secret', module.tenant_guid(), client_id=app['appId'], client_secret=secret,
                              cloud=module.credentials.cloud)
    session = module.client.session
    deadline = time.time() + timeout
    while True:
        try:
            TokenProvider(credentials, session, retry_timeout=min(30, timeout)).token(module.credentials.cloud.graph_resource)
            return
        except AuthError as exc:
            if time.time() >= deadline:
                raise ConfigError('the new secret of %s is in dest but did not get a token within prove_timeout=%s s (%s); no '
                                  'older secret was removed. Rerun later; a new secret can take a few minutes to work'
                                  % (app['appId'], timeout, exc.msg))
            time.sleep(2)


def plan(params, same, now):
    """(add a secret?, secrets to remove, the current one, message) for the secrets of the name as they are now."""
    valid = [c for c in same if creds.still_valid(c, now, params['rotate_before_days'])]
    if valid and not params['force_rotate']:
        current = creds.newest(valid)
        old = [c for c in same if c['keyId'] != current['keyId']] if params['remove_old'] else []
        msg = 'secret %s is valid until %s; its value is only where it was stored when it was created' % (
            current['keyId'], current['endDateTime'])
        if old and not creds.older_than(current, now, params['remove_old_grace_days']):
            # Clients still switch to the newest secret during the grace period: the old ones stay until it ends.
            msg = 'old secrets kept until %s days after %s was created' % (params['remove_old_grace_days'], current['keyId'])
            old = []
        return False, old, current, msg
    return True, (same if params['remove_old'] and params['remove_old_grace_days'] == 0 else []), None, None


def check_handover(module, same, current):
    """The secret is current but dest does not hold it: fail saying how, or (dest_missing=rotate) add a new one."""
    params = module.params
    if not params['dest'] or held_key_id(params, same) is not None:
        return False
    if params['dest_missing'] == 'rotate':
        return True
    state = 'does not exist' if not os.path.exists(params['dest']) else 'holds no secret that is still on the application'
    raise ConfigError('dest %s %s, and secret %s (%s) is valid until %s: its value cannot be read again. Set dest_missing=rotate '
                      '(role: mailbox_access_handover_missing=rotate) or run playbooks/rotate_secret.yml to create a new one '
                      'there, or copy the handover file from the controller that created it'
                      % (params['dest'], state, current['keyId'], params['display_name'], current['endDateTime']))


def remove_passwords(module, client, app, credentials, result, key='removed_key_ids'):
    for credential in credentials:
        result['changed'] = True
        result[key].append(credential['keyId'])
        if not module.check_mode:
            client.post('applications/%s/removePassword' % app['id'], {'keyId': credential['keyId']}, retry_missing=True)


def add_password(module, client, app, end, lease):
    """addPassword under the lease, persist the value at once, record it on the lease, prove it; returns (new, secret, orphans)."""
    params = module.params
    path = 'applications/%s' % app['id']
    new = client.post(path + '/addPassword', {'passwordCredential': {
        'displayName': params['display_name'], 'endDateTime': creds.format_graph_time(end)}}, retry_missing=True)
    secret = new.pop('secretText', None)
    if not params['return_secret']:
        # Masked everywhere; with return_secret the task is no_log (checked up front) and the value must reach the register.
        module.protect(secret)
    if params['dest']:
        try:
            write_handover(params, handover_document(module, app, client_secret=secret, key_id=new['keyId'],
                                                     end_date_time=new.get('endDateTime')), secret)
        except Exception as exc:  # pylint: disable=broad-except
            # Without a copy the secret is useless and must not linger on the app.
            client.post(path + '/removePassword', {'keyId': new['keyId']}, retry_missing=True)
            raise ConfigError('writing the new secret to dest %s failed (%s); the secret was removed again' % (params['dest'], exc))
    current = lease.record_added(new['keyId'])
    # Under the lease nobody else adds a secret of this name: one not there when the lease was taken, other than ours,
    # came from a retried addPassword whose answer was lost.
    orphans = [c for c in current.get('passwordCredentials') or [] if c.get('displayName') == params['display_name']
               and c['keyId'] != new['keyId'] and lease.lease.before is not None and lease_short(c['keyId']) not in lease.lease.before]
    prove_secret(module, app, secret, params['prove_timeout'])
    return new, secret, orphans


def same_named(params, app):
    return [c for c in app.get('passwordCredentials') or [] if c.get('displayName') == params['display_name']]


def ensure_password(module, client, app, result):
    params = module.params
    now = creds.utcnow()
    same = same_named(params, app)
    before = [creds.describe(c) for c in same]
    add, old, current, msg = plan(params, same, now)
    marker = lease_mod.Marker(module, params['dest'])
    marker.inspect()
    abandoned = lease_mod.Lease.parse(app.get('tags'))
    # An abandoned lease first: its orphan may look like the current secret until it is removed under the lease.
    abandoned = abandoned and (abandoned.expiry <= time.time() or marker.predecessor_is_dead(abandoned))
    if not add and not abandoned:
        add = check_handover(module, same, current)
    if (add or old or abandoned) and not module.check_mode:
        holder = lease_mod.LeaseHolder(module, client, app['id'], marker, params['lease_seconds'],
                                       params['lease_wait_seconds'], ['id', 'appId', 'passwordCredentials', 'tags'])
        try:
            ensure_password_held(module, client, holder, result, now)
        finally:
            holder.release()
        return
    if add:
        end = creds.requested_end(params, now)
        creds.check_rotation_window(params, end, now)
        result['changed'] = True
        result['rotated'] = bool(same)
        current = {'keyId': None, 'displayName': params['display_name'], 'endDateTime': creds.format_graph_time(end)}
    else:
        result['msg'] = msg
    remove_passwords(module, client, app, old, result)
    finish(result, same, current, before)


def ensure_password_held(module, client, holder, result, now):
    """Everything that adds or removes, with the application re-read under the lease (compare before write)."""
    params = module.params
    dest_holds = []

    def before_of(app, inherited):
        same = same_named(params, app)
        held = held_key_id(params, same)
        dest_holds[:] = [held] if isinstance(held, str) else []
        orphans = inherited.orphans(same, dest_holds) if inherited and inherited.before is not None else []
        ids = [lease_short(c['keyId']) for c in same if c not in orphans]
        return set(ids) if len(ids) <= 20 else None

    app = holder.acquire(before_of)
    same = same_named(params, app)
    inherited = holder.inherited
    if inherited is not None:
        if inherited.before is None:
            module.warn('an abandoned run held the lease on %s and recorded too many secrets to tell its orphan; secrets of %s not in '
                        'use can be removed with state=absent and key_id' % (app['appId'], params['display_name']))
        lost = inherited.orphans(same, dest_holds)
        remove_passwords(module, client, app, lost, result, key='orphans_removed')
        same = [c for c in same if c not in lost]
    before = [creds.describe(c) for c in same]
    add, old, current, msg = plan(params, same, now)
    if not add:
        add = check_handover(module, same, current)
    if add:
        end = creds.requested_end(params, now)
        creds.check_rotation_window(params, end, now)
        result['changed'] = True
        result['rotated'] = bool(same)
        current, secret, orphans = add_password(module, client, app, end, holder)
        remove_passwords(module, client, app, orphans, result, key='orphans_removed')
        result['secret_created'] = True
        if params['dest']:
            result['dest'] = params['dest']
        if params['return_secret']:
            result['secret'] = secret
        # Superseded: an older secret of this name that was there when the lease was taken, now that ours is written and works.
        if params['remove_old'] and params['remove_old_grace_days'] == 0:
            old = [c for c in same if c['keyId'] != current['keyId']]
    else:
        result['msg'] = msg
    if old:
        still = [c['keyId'] for c in same_named(params, holder.confirm())]
        remove_passwords(module, client, app, [c for c in old if c['keyId'] in still], result)
    finish(result, same, current, before)


def finish(result, same, current, before):
    after = [creds.describe(c) for c in same if c['keyId'] not in result['removed_key_ids']]
    if current not in same:
        after.append(creds.describe(current))
    result['diff'] = {'before': {'credentials': before}, 'after': {'credentials': after}}
    result['credentials'] = after
    result.update(key_id=current.get('keyId'), end_date_time=current.get('endDateTime'), hint=current.get('hint'))


def read_certificate(params):
    if params['certificate_path']:
        try:
            with open(params['certificate_path'], 'rb') as handle:
                return creds.load_certificate(handle.read(), 'certificate_path %s' % params['certificate_path'])
        except (IOError, OSError) as exc:
            raise ConfigError('certificate_path %s cannot be read: %s' % (params['certificate_path'], exc.strerror or exc))
    text = params['certificate'].strip()
    data = text.encode('utf-8') if text.startswith('-----') else base64.b64decode(text)
    return creds.load_certificate(data, 'certificate')


def ensure_certificate(module, client, app, result):
    params = module.params
    now = creds.utcnow()
    cert = read_certificate(params)
    wanted, thumbprint = creds.certificate_key_credential(cert, params['display_name'])
    result['thumbprint'] = thumbprint
    if creds.parse_graph_time(wanted['endDateTime']) <= now:
        raise ConfigError('the certificate %s expired on %s; give a current certificate' % (thumbprint, wanted['endDateTime']))
    if not creds.still_valid(wanted, now, params['rotate_before_days']):
        module.warn('certificate %s expires on %s, within rotate_before_days' % (thumbprint, wanted['endDateTime']))
    keys = app.get('keyCredentials') or []
    same_name = [k for k in keys if k.get('displayName') == wanted['displayName']]
    present = [k for k in keys if creds.thumbprint_of(k) == thumbprint]
    keep = [k for k in keys if not (params['remove_old'] and k in same_name and creds.thumbprint_of(k) != thumbprint)]
    if not present:
        keep.append(wanted)
    result['removed_key_ids'] = [k['keyId'] for k in keys if k not in keep]
    before = [creds.describe(k) for k in same_name]
    after = [creds.describe(k) for k in keep if k.get('displayName') == wanted['displayName']]
    result['diff'] = {'before': {'credentials': before}, 'after': {'credentials': after}}
    result['credentials'] = after
    if not present or result['removed_key_ids']:
        result['changed'] = True
        if not module.check_mode:
            # PATCH replaces the whole collection: send every key that stays, with its key material.
            client.patch('applications/%s' % app['id'], {'keyCredentials': keep}, retry_missing=True)
    current = present[0] if present else wanted
    result.update(key_id=current.get('keyId'), end_date_time=current.get('endDateTime'))
    if params['dest'] and (not present or not os.path.exists(params['dest'])):
        # No secret in it, so it can be written whenever the certificate changes or the file is missing.
        result['changed'] = True
        if not module.check_mode:
            write_handover(params, handover_document(module, app, certificate_thumbprint=thumbprint,
                                                     certificate_path=params['certificate_path'],
                                                     end_date_time=current.get('endDateTime')))
            result['dest'] = params['dest']


def ensure_absent(module, client, app, result):
    params = module.params
    if params['type'] == 'password':
        existing = app.get('passwordCredentials') or []
        matches = [c for c in existing if (c['keyId'] == params['key_id'] if params['key_id']
                                           else c.get('displayName') == params['display_name'])]
        for credential in matches:
            if not module.check_mode:
                client.post('applications/%s/removePassword' % app['id'], {'keyId': credential['keyId']}, retry_missing=True)
    else:
        existing = app.get('keyCredentials') or []
        thumbprint = creds.certificate_key_credential(read_certificate(params), None)[1] \
            if params['certificate'] or params['certificate_path'] else None
        matches = [k for k in existing if (k['keyId'] == params['key_id'] if params['key_id'] else
                                           creds.thumbprint_of(k) == thumbprint if thumbprint else
                                           k.get('displayName') == params['display_name'])]
        if matches and not module.check_mode:
            client.patch('applications/%s' % app['id'], {'keyCredentials': [k for k in existing if k not in matches]},
                         retry_missing=True)
    result['changed'] = bool(matches)
    result['removed_key_ids'] = [c['keyId'] for c in matches]
    result['diff'] = {'before': {'credentials': [creds.describe(c) for c in matches]}, 'after': {'credentials': []}}
    result['credentials'] = []


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
        ensure_absent(module, client, app, result)
    elif params['type'] == 'password':
        ensure_password(module, client, app, result)
    else:
        ensure_certificate(module, client, app, result)
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
