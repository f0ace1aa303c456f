"""Fault injection, latency and counters.

Faults are deterministic (every N-th matching request) so a test that sees a
429 on its third call sees it on every run.
"""

import copy
import re
import threading
from collections import Counter

ALL_METHODS = ['GET', 'POST', 'PATCH', 'DELETE']
# paths: regular expressions searched in the Graph path (after /v1.0/, percent-decoded); empty means every path.
# from: a regular expression searched in '<METHOD> <path>': the fault sleeps until such a request arrives (an outage that
# starts at a given call, e.g. the first removePassword), then counts every matching request from that one on.
THROTTLE_DEFAULTS = {'every': 0, 'status': 429, 'retry_after': 1, 'methods': ALL_METHODS, 'targets': ['graph'], 'paths': [],
                     'from': None}
SERVER_ERROR_DEFAULTS = {'every': 0, 'status': 503, 'burst': 1, 'retry_after': 1, 'methods': ALL_METHODS, 'targets': ['graph'],
                         'paths': [], 'from': None}
KNOWN_KEYS = ('latency', 'throttle', 'server_errors', 'replication_delay', 'token_endpoint_down')


class FaultConfigError(ValueError):
    pass


def _merge(defaults, value, name):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FaultConfigError('%s must be an object or null' % name)
    unknown = set(value) - set(defaults)
    if unknown:
        raise FaultConfigError('unknown %s keys: %s' % (name, ', '.join(sorted(unknown))))
    merged = dict(defaults, **value)
    if not isinstance(merged['every'], int) or merged['every'] < 0:
        raise FaultConfigError('%s.every must be a non-negative integer' % name)
    merged['methods'] = [m.upper() for m in merged['methods']]
    if not isinstance(merged['paths'], list) or not all(isinstance(p, str) for p in merged['paths']):
        raise FaultConfigError('%s.paths must be a list of regular expressions' % name)
    if merged['from'] is not None and not isinstance(merged['from'], str):
        raise FaultConfigError('%s.from must be a regular expression or null' % name)
    try:
        for pattern in merged['paths'] + ([merged['from']] if merged['from'] else []):
            re.compile(pattern)
    except re.error as exc:
        raise FaultConfigError('%s.paths/from: %s' % (name, exc))
    return merged if merged['every'] else None


class Faults:
    def __init__(self, latency=None):
        self.lock = threading.Lock()
        self.base_latency = {'graph': 0.0, 'token': 0.0}
        self.base_latency.update(latency or {})
        self.config = {}
        self._seen = Counter()
        self._burst_left = 0
        self._started = set()  # faults whose 'from' request has arrived
        self.stats = {}
        self.reset()

    def reset(self):
        with self.lock:
            self.config = {
                'latency': dict(self.base_latency),
                'throttle': None,
                'server_errors': None,
                'replication_delay': 0,
                'token_endpoint_down': False,
            }
            self._seen = Counter()
            self._burst_left = 0
            self._started = set()
        self.reset_stats()

    def reset_stats(self):
        with self.lock:
            self.stats = {'graph': Counter(), 'graph_total': 0, 'token': Counter(), 'token_total': 0,
                          'graph_batched': 0, 'throttled': 0, 'server_errors': 0, 'injected_errors': 0, 'status': Counter(),
                          'latency_seconds': Counter(), 'control': 0}

    def update(self, patch):
        """Merge a partial fault config (top-level keys; null turns a fault off)."""
        if not isinstance(patch, dict):
            raise FaultConfigError('body must be a JSON object')
        unknown = set(patch) - set(KNOWN_KEYS)
        if unknown:
            raise FaultConfigError('unknown fault keys: %s' % ', '.join(sorted(unknown)))
        with self.lock:
            config = copy.deepcopy(self.config)
            if 'latency' in patch:
                latency = patch['latency'] or {}
                if set(latency) - {'graph', 'token'}:
                    raise FaultConfigError('latency takes graph and token')
                config['latency'] = dict(self.base_latency if patch['latency'] is None else config['latency'], **latency)
            if 'throttle' in patch:
                config['throttle'] = _merge(THROTTLE_DEFAULTS, patch['throttle'], 'throttle')
                self._seen['throttle'] = 0
                self._started.discard('throttle')
            if 'server_errors' in patch:
                config['server_errors'] = _merge(SERVER_ERROR_DEFAULTS, patch['server_errors'], 'server_errors')
                self._seen['server_errors'] = 0
                self._burst_left = 0
                self._started.discard('server_errors')
            if 'replication_delay' in patch:
                config['replication_delay'] = float(patch['replication_delay'] or 0)
            if 'token_endpoint_down' in patch:
                config['token_endpoint_down'] = bool(patch['token_endpoint_down'])
            self.config = config
            return copy.deepcopy(config)

    def snapshot(self):
        with self.lock:
            return copy.deepcopy(self.config)

    def latency(self, target):
        with self.lock:
            return float(self.config['latency'].get(target) or 0)

    @property
    def replication_delay(self):
        with self.lock:
            return self.config['replication_delay']

    @property
    def token_endpoint_down(self):
        with self.lock:
            return self.config['token_endpoint_down']

    def injected(self, target, method, path=''):
        """Return (status, retry_after or None, kind) when this request must fail, else None."""
        def started(fault, kind):
            if fault and fault['from'] and kind not in self._started:
                if target != 'graph' or not re.search(fault['from'], '%s %s' % (method, path)):
                    return False
                self._started.add(kind)
            return True

        def applies(fault, kind='throttle'):
            return (fault and target in fault['targets'] and started(fault, kind) and method in fault['methods']
                    and (not fault['paths'] or any(re.search(p, path) for p in fault['paths'])))
        with self.lock:
            hit = None
            throttle = self.config['throttle']
            if applies(throttle):
                self._seen['throttle'] += 1
                if self._seen['throttle'] % throttle['every'] == 0:
                    hit = (throttle['status'], throttle['retry_after'], 'throttle')
            errors = self.config['server_errors']
            if applies(errors, 'server_errors'):
                self._seen['server_errors'] += 1
                if self._burst_left == 0 and self._seen['server_errors'] % errors['every'] == 0:
                    self._burst_left = max(1, errors['burst'])
                if self._burst_left and hit is None:
                    self._burst_left -= 1
                    retry = errors['retry_after'] if errors['status'] in (429, 503) else None
                    hit = (errors['status'], retry, 'server_error')
            if hit:
                if hit[2] == 'throttle':
                    self.stats['throttled'] += 1
                else:
                    self.stats['server_errors'] += 1
                self.stats['injected_errors'] += 1
            return hit

    def count_graph(self, route, status, batched=False):
        """One answer; a $batch item counts under its own route but not in graph_total (the HTTP requests)."""
        with self.lock:
            self.stats['graph'][route] += 1
            self.stats['graph_batched' if batched else 'graph_total'] += 1
            self.stats['status'][str(status)] += 1

    def count_token(self, outcome, status):
        with self.lock:
            self.stats['token'][outcome] += 1
            self.stats['token_total'] += 1
            self.stats['status'][str(status)] += 1

    def count_latency(self, target, seconds):
        """Injected latency slept (graph, token): the emulated server time a benchmark compares wall time with."""
        with self.lock:
            self.stats['latency_seconds'][target] += seconds

    def count_control(self):
        with self.lock:
            self.stats['control'] += 1

    def stats_snapshot(self):
        with self.lock:
            return {key: dict(value) if isinstance(value, Counter) else value for key, value in self.stats.items()}
