# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client secret kept current: the plan (add, rotate, remove the old ones), the lease every change is made under,
the handover of the new value to dest before it counts, and recovery after an interrupted or failed run (its orphan
and the superseded secrets it was removing removed at once, nothing else).

A failure after the new secret is in dest is reported as the first error with what it left: the new secret, where it
is, what could not be removed, and that the next run removes it (the lease, given back expired, records it).

Used by app_secret for type=password, state=present.
"""

import json
import os
import time

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import SignInCredentials, TokenProvider
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import AuthError, ConfigError, M365Error
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import mail_app_credentials as creds
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import lease as lease_mod
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.lease import short as lease_short
from ansible_collections.m365.mail_oauth.plugins.module_utils.handover import handover_document, write_handover
from ansible_collections.m365.mail_oauth.plugins.module_utils.secret_file import remove_stale_temporaries


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
    credentials = SignInCredentials('secret', module.tenant_guid(), client_id=app['appId'], client_secret=secret,
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
    lease.writing()
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
    try:
        current = lease.record_added(new['keyId'])
    except M365Error as exc:
        raise ConfigError(left_behind(params, new['keyId'], 'nothing old was removed (%s); the next run keeps it and removes '
                                      'the older ones as remove_old and remove_old_grace_days say' % exc.msg))
    # Under the lease nobody else adds a secret of this name: one not there when the lease was taken, other than ours,
    # came from a retried addPassword whose answer was lost.
    orphans = [c for c in current.get('passwordCredentials') or [] if c.get('displayName') == params['display_name']
               and c['keyId'] != new['keyId'] and lease.lease.before is not None and lease_short(c['keyId']) not in lease.lease.before]
    prove_secret(module, app, secret, params['prove_timeout'])
    return new, secret, orphans


def left_behind(params, key_id, what):
    """The message of a failure after a new secret was handed over: what exists, where, and what happens next."""
    if params['dest']:
        return 'the new secret %s exists and is in %s; %s' % (key_id, params['dest'], what)
    return ('the new secret %s exists but its value was not returned (the task failed): remove it with state=absent and '
            'key_id=%s; %s' % (key_id, key_id, what))


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
    if params['dest'] and not module.check_mode:
        # A run killed while writing the handover file or the marker left its temporary file; ours to clear now.
        remove_stale_temporaries(params['dest'])
    lease = lease_mod.Lease.parse(app.get('tags'))
    # An abandoned lease first: its orphan may look like the current secret until it is removed under the lease.
    abandoned = lease and (lease.expiry <= time.time() or marker.predecessor_is_dead(lease))
    wait = False
    if not add and not abandoned:
        try:
            add = check_handover(module, same, current)
        except ConfigError:
            # dest lacks the current secret while another run holds the lease: that run may be about to write it
            # (or be a killed run's worker that has not exited yet). Decide under the lease, after it.
            if not lease or module.check_mode:
                raise
            wait = True
    if (add or old or abandoned or wait) and not module.check_mode:
        holder = lease_mod.LeaseHolder(module, client, app['id'], marker, params['lease_seconds'],
                                       params['lease_wait_seconds'], ['id', 'appId', 'passwordCredentials', 'tags'])
        try:
            ensure_password_held(module, client, holder, result, now)
        except Exception as exc:
            # The first failure is the one reported; a failed release only adds what it leaves.
            problem = holder.release(failed=True)
            if problem and isinstance(exc, M365Error):
                exc.msg = '%s; %s' % (exc.msg, problem)
            raise
        problem = holder.release()
        if problem:
            module.warn(problem)
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
        if lost:
            holder.writing()
        remove_passwords(module, client, app, lost, result, key='orphans_removed')
        same = [c for c in same if c not in lost]
        # What the abandoned run was removing when it stopped (it failed, or was killed): finished now, not at its next plan.
        unfinished = inherited.unfinished(same, dest_holds)
        if unfinished:
            kept = [c for c in same if lease_short(c['keyId']) == inherited.added][0]
            holder.record_removing(unfinished, kept['keyId'])
            remove_passwords(module, client, app, unfinished, result)
            same = [c for c in same if c not in unfinished]
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
    try:
        remove_passwords(module, client, app, orphans if add else [], result, key='orphans_removed')
        remove_superseded(module, client, app, holder, old, current, result)
    except M365Error as exc:
        # The lease records what was being removed (record_removing): whichever run takes it next finishes the job.
        what = 'the old ones could not be removed (%s); the next run removes them' % exc.msg
        raise ConfigError(left_behind(params, current['keyId'], what) if add else 'secret %s stays current; %s' % (current['keyId'], what))
    finish(result, same, current, before)


def remove_superseded(module, client, app, holder, old, current, result):
    """Remove the superseded secrets still there, recorded on the lease first (compare before remove)."""
    if not old:
        return
    still = [c['keyId'] for c in same_named(module.params, holder.record_removing(old, current['keyId']))]
    remove_passwords(module, client, app, [c for c in old if c['keyId'] in still], result)


def finish(result, same, current, before):
    after = [creds.describe(c) for c in same if c['keyId'] not in result['removed_key_ids']]
    if current not in same:
        after.append(creds.describe(current))
    result['diff'] = {'before': {'credentials': before}, 'after': {'credentials': after}}
    result['credentials'] = after
    result.update(key_id=current.get('keyId'), end_date_time=current.get('endDateTime'), hint=current.get('hint'))
