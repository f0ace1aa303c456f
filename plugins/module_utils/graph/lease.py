# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run at a time changes an application's secrets: a lease recorded on the application itself.

Graph has no compare-and-swap for an application (no If-Match), so the lease is a tag written with the tags the
run read, left to settle, and read back: the run holds it only when its own tag is the one there. The tag records who
holds it (a hash of a random token; the token itself is only in the holder's 0600 marker next to its handover file),
until when, which secrets of the name existed when it was taken, and the secret it added: what a run that takes
over an abandoned lease needs to tell the abandoned run's orphan from every other secret, without a time window, and
the secrets it was removing when it stopped (superseded by the one it added), so the next run finishes that at once.

    m365.mail_oauth.lease:<holder>:<expiry epoch>:<key ids before, 8 hex each, comma separated or *>:<added or ->:<removing or ->

A run that fails after adding or removing a secret gives its lease back expired, with that record, instead of deleting
it: nobody waits for it, and the next run (from any controller) takes it over at once and repairs what it names. A
release that fails leaves the lease and the marker in place: this controller's next run takes it over at once (its
process is gone), others when it expires.
"""

import hashlib
import json
import os
import secrets
import socket
import stat
import time

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, M365Error
from ansible_collections.m365.mail_oauth.plugins.module_utils.secret_file import process_start, trusted_directory, write_private_file

PREFIX = 'm365.mail_oauth.lease:'
# Graph documents no length for a tag; 256 keeps well inside what the portal shows and accepts.
MAX_TAG = 256
# A competitor that read the tags before our write writes its own within one request; wait longer than that.
SETTLE_SECONDS = 2.0
POLL_SECONDS = 1.0
# Before removing anything the holder renews; it never acts with less than this left.
MARGIN_SECONDS = 30


def short(key_id):
    return (key_id or '').replace('-', '')[:8].lower()


class Lease(object):
    def __init__(self, holder, expiry, before, added=None, removing=None):
        self.holder = holder
        self.expiry = expiry
        self.before = before  # set of short key ids, or None when too many to record
        self.added = added
        self.removing = removing or set()  # short key ids of the superseded secrets being removed

    def tag(self):
        removing = ','.join(sorted(self.removing)) or '-'
        for before in ('*' if self.before is None else ','.join(sorted(self.before)), '*'):
            text = '%s%s:%d:%s:%s:%s' % (PREFIX, self.holder, self.expiry, before, self.added or '-', removing)
            if len(text) <= MAX_TAG:
                return text
        # Too many to record both: the removals are left to the next run's own plan.
        return '%s%s:%d:*:%s:-' % (PREFIX, self.holder, self.expiry, self.added or '-')

    @classmethod
    def parse(cls, tags):
        for tag in tags or []:
            if not tag.startswith(PREFIX):
                continue
            try:
                fields = tag[len(PREFIX):].split(':')
                if len(fields) == 4:
                    fields.append('-')  # a tag of a version that recorded no removals
                holder, expiry, before, added, removing = fields
                return cls(holder, int(expiry), None if before == '*' else set(b for b in before.split(',') if b),
                           None if added == '-' else added, set(r for r in removing.split(',') if r and r != '-'))
            except ValueError:
                return cls('unreadable', 0, None)
        return None

    def orphans(self, same, keep=()):
        """Secrets of the name this (abandoned) holder added and never recorded as handed over: not there when it took
        the lease, not the one it recorded as added, not one our own handover file holds."""
        if self.before is None:
            return []
        return [c for c in same if short(c['keyId']) not in self.before and short(c['keyId']) != self.added
                and c['keyId'] not in keep]

    def unfinished(self, same, keep=()):
        """Secrets this (abandoned) holder was removing when it stopped, still there: superseded by the one it recorded as
        added, which must still be there; never one our own handover file holds."""
        if not self.removing or not self.added or self.added not in [short(c['keyId']) for c in same]:
            return []
        return [c for c in same if short(c['keyId']) in self.removing and short(c['keyId']) != self.added
                and c['keyId'] not in keep]


def other_tags(tags):
    return [t for t in tags or [] if not t.startswith(PREFIX)]


def holder_of(token):
    return hashlib.sha256(token.encode('ascii')).hexdigest()[:16]


class Marker(object):
    """<dest>.pending: this controller's proof that it holds (or held, before it was killed) the application's lease."""

    def __init__(self, module, dest):
        self.module = module
        self.path = dest + '.pending' if dest else None
        self.token = None

    def _trusted_record(self):
        """The marker's record, only when nobody but this user could have written it; otherwise None (and a warning)."""
        if not self.path or not os.path.lexists(self.path):
            return None
        info = os.lstat(self.path)
        problem = trusted_directory(os.path.dirname(os.path.abspath(self.path)))
        if problem or not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            self.module.warn('%s is not trusted (%s) and was ignored: a marker only this user can have written is ever used'
                             % (self.path, problem or 'not a regular file of this user, mode 0600'))
            return None
        try:
            with open(self.path, 'r') as handle:
                record = json.load(handle)
        except (IOError, OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get('token') else None

    def inspect(self):
        """Warn about a marker someone else could have planted (it is ignored); a marker of ours says nothing by itself."""
        self._trusted_record()

    def predecessor_is_dead(self, lease):
        """True when the lease was taken by a run of this controller for this dest that is no longer running."""
        record = self._trusted_record()
        if not record or holder_of(str(record['token'])) != lease.holder:
            return False
        if record.get('host') != socket.gethostname():
            return False
        pid = record.get('pid')
        return not isinstance(pid, int) or process_start(pid) != record.get('start')

    def write(self, token):
        if not self.path:
            return
        self.token = token
        write_private_file(self.path, json.dumps({'token': token, 'host': socket.gethostname(), 'pid': os.getpid(),
                                                  'start': process_start(os.getpid())}) + '\n')

    def remove(self):
        if self.path and self.token and os.path.exists(self.path):
            try:
                os.unlink(self.path)
            except OSError:
                pass
        self.token = None


class LeaseHolder(object):
    """Takes, renews and gives back the lease of one application."""

    def __init__(self, module, client, app_id, marker, lease_seconds, wait_seconds, select):
        self.module = module
        self.client = client
        self.path = 'applications/%s' % app_id
        self.marker = marker
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.select = select
        self.lease = None
        self.inherited = None
        self.wrote = False  # a secret was added or removed (or tried) under the lease

    def read(self):
        return self.client.get(self.path, params={'$select': ','.join(self.select)}, retry_missing=True)

    def _write(self, tags, lease):
        self.client.patch(self.path, {'tags': other_tags(tags) + ([lease.tag()] if lease else [])}, retry_missing=True)

    def acquire(self, before_of):
        """Wait for the lease, take it, confirm it; returns the application as read under the lease.

        before_of(app) -> the short key ids of the secrets of the name now (recorded in the lease).
        """
        deadline = time.time() + self.wait_seconds
        while True:
            app = self.read()
            current = Lease.parse(app.get('tags'))
            now = time.time()
            if current and current.expiry > now and not self.marker.predecessor_is_dead(current):
                if now >= deadline:
                    until = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(current.expiry))
                    raise ConfigError(
                        'another run is changing the secrets of application %s (lease %s until %s UTC, recorded in its tags); '
                        'waited %s s (lease_wait_seconds). Rerun when it has finished; a run that was killed releases it '
                        'when the lease expires (lease_seconds)' % (app.get('appId'), current.holder, until, self.wait_seconds))
                time.sleep(POLL_SECONDS)
                continue
            token = secrets.token_hex(16)
            mine = Lease(holder_of(token), int(now + self.lease_seconds), None)
            self.marker.write(token)
            mine.before = before_of(app, current)
            self._write(app.get('tags'), mine)
            time.sleep(SETTLE_SECONDS)
            confirmed = self.read()
            seen = Lease.parse(confirmed.get('tags'))
            if seen and seen.holder == mine.holder:
                self.lease = mine
                self.inherited = current
                return confirmed
            # Another run wrote its lease after ours: it holds it; wait for it like for any holder.
            self.marker.remove()

    def confirm(self, renew=True):
        """Compare before acting: the lease is still ours (renewed), else fail without touching anything."""
        app = self.read()
        seen = Lease.parse(app.get('tags'))
        if not seen or seen.holder != self.lease.holder:
            self.lease = None
            raise ConfigError('this run lost the lease on application %s to another run (it took longer than lease_seconds=%s); '
                              'nothing old was removed. Rerun, with a larger lease_seconds' % (app.get('appId'), self.lease_seconds))
        if renew:
            self.lease.expiry = int(time.time() + self.lease_seconds)
            self._write(app.get('tags'), self.lease)
        return app

    def record_added(self, key_id):
        self.lease.added = short(key_id)
        return self.confirm()

    def writing(self):
        """A secret is about to be added or removed: from now on a failure leaves the lease's record for the next run."""
        self.wrote = True

    def record_removing(self, credentials, kept):
        """Compare before removing, with the removals and the secret that supersedes them recorded on the lease: if this
        run stops before they are done, the next run finishes them (Lease.unfinished)."""
        self.wrote = True
        self.lease.removing = set(short(c['keyId']) for c in credentials)
        self.lease.added = self.lease.added or short(kept)
        return self.confirm()

    def release(self, failed=False):
        """Give the lease back; returns why that failed, or None. A run that failed after adding or removing a secret
        gives it back expired with its record (what it added, what it was removing), for the next run to take over at once
        and repair; one that failed before changing anything leaves nothing."""
        lease, self.lease = self.lease, None
        failed = failed and self.wrote
        if lease is None:
            self.marker.remove()
            return None
        try:
            app = self.read()
            seen = Lease.parse(app.get('tags'))
            if seen and seen.holder == lease.holder:
                if failed:
                    lease.expiry = int(time.time())
                self._write(app.get('tags'), lease if failed else None)
        except M365Error as exc:
            # The lease is still on the application: the marker stays with it, so that this controller's next run with
            # this dest takes it over at once (this process is gone by then) instead of waiting for it to expire.
            until = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(lease.expiry))
            return ('the lease on %s could not be given back (%s); the next run with this dest takes it over at '
                    'once, runs of other controllers wait until it expires at %s UTC' % (self.path, exc.msg, until))
        self.marker.remove()
        return None
