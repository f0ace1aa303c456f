"""The latency model of the benchmark: the one place its values live.

Seconds the emulated service waits before answering. The sandbox sleeps them
and sums what it slept, which is the floor every case is compared with.
"""

import os

# Why these values (measured against real tenants, rounded; see docs/performance.md):
LATENCY = {
    'graph': 0.08,       # one Microsoft Graph call, from a European controller to graph.microsoft.com
    'token': 0.15,       # one request to login.microsoftonline.com (token or discovery)
    'connect': 4.0,      # Connect-ExchangeOnline: module load, token, REST session (3-8 s in practice)
    'read': 0.15,        # one Exchange read cmdlet (Get-MailboxPermission, Get-ServicePrincipal, ...)
    'write': 0.30,       # one Exchange write cmdlet (Add-MailboxPermission, Set-CASMailbox, ...)
    'round_trip': 0.03,  # one WinRM command to the Windows host on the same network
}
GRAPH_KEYS = ('graph', 'token')
EXCHANGE_KEYS = ('connect', 'read', 'write', 'round_trip')
ENV = 'BENCH_LATENCY'


def parse(text):
    """{'connect': 2.0} from "connect=2,read=0.1"; unknown names are refused."""
    values = {}
    for item in filter(None, (part.strip() for part in (text or '').split(','))):
        name, _sep, value = item.partition('=')
        if name not in LATENCY:
            raise ValueError('unknown latency %r: use %s' % (name, ', '.join(LATENCY)))
        values[name] = float(value)
    return values


def resolve(cli=None, scale=1.0):
    """The defaults (times scale), overridden by $BENCH_LATENCY, then by --latency."""
    latency = dict((k, round(v * scale, 4)) for k, v in LATENCY.items())
    latency.update(parse(os.environ.get(ENV)))
    latency.update(parse(cli))
    return latency


def apply(sandbox, latency):
    """Set the model on the sandbox; needed again after every reset, which turns faults off."""
    sandbox.set_faults({'latency': dict((k, latency[k]) for k in GRAPH_KEYS)})
    sandbox.control('POST', 'exchange/faults', {'latency': dict((k, latency[k]) for k in EXCHANGE_KEYS)})


def describe(latency):
    return ', '.join('%s %g ms' % (k, latency[k] * 1000) for k in LATENCY)
