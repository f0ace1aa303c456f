"""The emulated Windows host: a WinRM endpoint in front of the Exchange model."""

from .server import start_winrm

__all__ = ['start_winrm']
