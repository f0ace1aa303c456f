"""The emulated Exchange Online: per-tenant model, its REST front (InvokeCommand), faults and counters."""

from .host import Counters, ExchangeHost, Faults, ServiceDenied
from .model import ACE_LIMIT, CmdletError, ExchangeOrg, Mailbox, ServicePrincipal

__all__ = ['ACE_LIMIT', 'CmdletError', 'Counters', 'ExchangeHost', 'ExchangeOrg', 'Faults', 'Mailbox', 'ServiceDenied', 'ServicePrincipal']
