"""Fakes of Microsoft's side for the lease and secret rotation tests: one application in Graph (GET and PATCH of it,
addPassword, removePassword), the token endpoint that proves a new secret, and a clock the lease waits on.

The collection's own code runs unchanged; only what it would ask Microsoft, and time, are stand-ins.
"""

import copy
import datetime
import json
import os
import time
import uuid

from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import resolve_cloud
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import GraphError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import lease as lease_mod

APP_OBJECT = '0a0a0a0a-1111-4111-8111-000000000001'
APP_ID = '0b0b0b0b-2222-4222-8222-000000000002'
TENANT = '11111111-aaaa-4aaa-8aaa-000000000001'
NAME = 'mailbox-access'


class FakeClock(object):
    """time.time and time.sleep for the code under test: sleeping moves the clock and runs the hooks due by then."""

    def __init__(self):
        self.strftime = time.strftime
        self.gmtime = time.gmtime
        self.now = time.time()
        self.slept = []
        self.hooks = []  # [(at, callable)]

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds
        due = [h for h in self.hooks if h[0] <= self.now]
        self.hooks = [h for h in self.hooks if h[0] > self.now]
        for _at, hook in due:
            hook()

    def at(self, offset, hook):
        """Run hook once the clock has passed now + offset (during a sleep of the code under test)."""
        self.hooks.append((self.now + offset, hook))


def graph_time(moment):
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def password(key_id=None, name=NAME, created_days_ago=30, valid_days=150, created_seconds_ago=None):
    """A passwordCredential as Graph lists it (no secretText)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now - (datetime.timedelta(seconds=created_seconds_ago) if created_seconds_ago is not None
                   else datetime.timedelta(days=created_days_ago))
    return {'keyId': key_id or str(uuid.uuid4()), 'displayName': name, 'hint': 'h%02d' % (len(key_id or '') % 100),
            'startDateTime': graph_time(start), 'endDateTime': graph_time(now + datetime.timedelta(days=valid_days))}


class FakeGraph(object):
    """The Graph calls lease.py and secret_rotation.py make, on one application."""

    def __init__(self, clock):
        self.clock = clock
        self.app = {'id': APP_OBJECT, 'appId': APP_ID, 'passwordCredentials': [], 'keyCredentials': [], 'tags': []}
        self.values = {}  # keyId -> secretText, what the token endpoint accepts
        self.calls = []
        self.lost_answers = 0  # addPassword requests whose answer is lost: Graph created a secret, the client retried
        self.unprovable = False  # new secrets never reach the token endpoint (replication that does not end)
        # An outage of Graph's writes: once a request of one of these kinds ('/removePassword', 'PATCH') arrives, it and
        # every later write of the kinds in outage_of answer 500 (as the client raises it after its retries).
        self.outage_from = None
        self.outage_of = ('/removePassword', 'PATCH')
        self.down = False
        self.session = object()

    def _path(self, path):
        assert path.startswith('applications/%s' % APP_OBJECT), path
        return path[len('applications/%s' % APP_OBJECT):]

    def get(self, path, params=None, retry_missing=False, missing_ok=False):
        assert self._path(path) == ''
        self.calls.append(('GET', path))
        fields = params['$select'].split(',') if params and '$select' in params else list(self.app)
        return copy.deepcopy(dict((k, self.app[k]) for k in fields if k in self.app))

    def _answer_500(self, kind, method, path):
        if kind == self.outage_from:
            self.down = True
        if self.down and kind in self.outage_of:
            raise GraphError('Graph %s /%s failed: 500 InternalServerError: Encountered an internal server error.' % (method, path),
                             status=500, method=method)

    def patch(self, path, body, retry_missing=False):
        assert self._path(path) == ''
        self.calls.append(('PATCH', path, copy.deepcopy(body)))
        self._answer_500('PATCH', 'PATCH', path)
        self.app.update(copy.deepcopy(body))

    def post(self, path, body, retry_missing=False):
        action = self._path(path)
        self.calls.append(('POST', action, copy.deepcopy(body)))
        self._answer_500(action, 'POST', path)
        if action == '/addPassword':
            for _lost in range(self.lost_answers):
                self._add(body)
            self.lost_answers = 0
            return self._add(body)
        if action == '/removePassword':
            self.app['passwordCredentials'] = [c for c in self.app['passwordCredentials'] if c['keyId'] != body['keyId']]
            self.values.pop(body['keyId'], None)
            return None
        raise AssertionError('unexpected POST %s' % path)

    def _add(self, body):
        wanted = body['passwordCredential']
        secret = 'S3cr.%s' % uuid.uuid4().hex
        credential = dict(password(), displayName=wanted['displayName'], endDateTime=wanted['endDateTime'], hint=secret[:3],
                          startDateTime=graph_time(datetime.datetime.now(datetime.timezone.utc)))
        self.app['passwordCredentials'].append(credential)
        if not self.unprovable:
            self.values[credential['keyId']] = secret
        return dict(credential, secretText=secret)

    # -- for the tests --------------------------------------------------------------

    def key_ids(self, name=NAME):
        return [c['keyId'] for c in self.app['passwordCredentials'] if c.get('displayName') == name]

    def writes(self):
        return [c for c in self.calls if c[0] != 'GET']

    def lease(self):
        return lease_mod.Lease.parse(self.app['tags'])

    def set_lease(self, holder, expires_in, before, added=None, removing=()):
        """A lease tag as another run (or a killed one) left it; before/added/removing are full key ids."""
        lease = lease_mod.Lease(holder, int(self.clock.now + expires_in),
                                None if before is None else set(lease_mod.short(k) for k in before),
                                lease_mod.short(added) if added else None)
        if removing:
            lease.removing = set(lease_mod.short(k) for k in removing)
        self.app['tags'] = lease_mod.other_tags(self.app['tags']) + [lease.tag()]
        return lease


class FakeModule(object):
    """What secret_rotation and lease use of GraphModule: params, check mode, warnings, the tenant and cloud, the client."""

    client = None

    def __init__(self, **params):
        self.params = dict(display_name=NAME, dest=None, dest_format='json', dest_missing='fail', remove_old=False,
                           remove_old_grace_days=0, force_rotate=False, rotate_before_days=30, expires_in_days=None,
                           end_date_time=None, lease_seconds=600, lease_wait_seconds=900, prove_timeout=300,
                           return_secret=False, vault_password=None, vault_password_file=None, vault_id=None)
        self.params.update(params)
        self.check_mode = False
        self.warnings = []
        self.protected = []
        self.credentials = type('Credentials', (), {'cloud': resolve_cloud('global')})()

    def warn(self, msg):
        self.warnings.append(msg)

    def protect(self, value):
        self.protected.append(value)

    def tenant_guid(self):
        return TENANT


def write_handover(dest, key_id):
    """A json handover file of the kind app_secret writes, holding key_id's secret."""
    with open(dest, 'w') as handle:
        json.dump({'client_id': APP_ID, 'key_id': key_id, 'client_secret': 'value-of-%s' % key_id}, handle)
    os.chmod(dest, 0o600)


def new_result():
    return {'changed': False, 'secret_created': False, 'rotated': False, 'removed_key_ids': [], 'orphans_removed': [],
            'app_id': APP_ID, 'tenant_id': TENANT}
