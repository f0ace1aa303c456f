"""The emulated Exchange Online: per-tenant model and the runner's interpreter."""

from .host import Counters, DropConnection, ExchangeHost, Faults, RunnerFailure
from .model import ACE_LIMIT, CmdletError, ExchangeOrg, Mailbox, ServicePrincipal

__all__ = ['ACE_LIMIT', 'CmdletError', 'Counters', 'DropConnection', 'ExchangeHost', 'ExchangeOrg', 'Faults', 'Mailbox', 'RunnerFailure',
           'ServicePrincipal']
