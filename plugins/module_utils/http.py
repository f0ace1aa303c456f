# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP session every request (msal's and Graph's) goes through, and what a failed connection means."""

import errno
import socket

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module wrapper
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

# What a certificate problem raises; an empty tuple catches nothing when requests is missing.
SSL_ERRORS = (requests.exceptions.SSLError,) if HAS_REQUESTS else ()

USER_AGENT = 'm365.mail_oauth/0.1.0 (Ansible collection)'


if HAS_REQUESTS:
    class PinnedVerifySession(requests.Session):
        """A session whose certificate setting wins over the environment.

        requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override Session.verify
        (they are merged in as per-request settings). An explicit ca_path or
        validate_certs=false must not be silently replaced by a bundle that an
        execution environment or AWX exports, while proxies from the
        environment must keep working.
        """

        pinned_verify = None

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super(PinnedVerifySession, self).merge_environment_settings(url, proxies, stream, verify, cert)
            if self.pinned_verify is not None:
                settings['verify'] = self.pinned_verify
            return settings


def make_session(ca_path=None, validate_certs=True):
    session = PinnedVerifySession()
    session.headers['User-Agent'] = USER_AGENT
    if not validate_certs:
        session.pinned_verify = False
    elif ca_path:
        session.pinned_verify = ca_path
    session.verify = session.pinned_verify if session.pinned_verify is not None else True
    return session


# Why a connection failed when no HTTP answer came at all. Neither heals in seconds: a port nobody listens on, or a
# name DNS does not know, is a wrong URL, a proxy or a firewall, so the clients give these a small retry budget
# (retry.connect_backoff) instead of the minutes a throttled or replicating service gets.
REFUSED = 'connection refused'
UNKNOWN_HOST = 'unknown host'
# Python's and the OS's words, and .NET's / PowerShell's on the Exchange host ("No such host is known", "Unable to
# connect to the remote server", "... could not be resolved"): the doctor reads the runner's messages with the same lists.
_REFUSED_TEXT = ('connection refused', 'actively refused', '[errno 111]', '[winerror 10061]', 'unable to connect to the remote server')
_UNKNOWN_HOST_TEXT = ('name or service not known', 'failed to resolve', 'nodename nor servname', 'getaddrinfo failed',
                      'temporary failure in name resolution', 'no address associated with hostname', '[errno -2]',
                      '[errno -3]', '[errno -5]', '[errno 11001]', 'no such host is known', 'name does not resolve',
                      'could not be resolved')


def _causes(exc):
    """exc and every exception inside it: requests wraps urllib3's MaxRetryError, which holds the socket error as .reason."""
    seen, pending = [], [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        pending.extend([getattr(current, 'reason', None), current.__cause__, current.__context__])
        pending.extend(a for a in getattr(current, 'args', ()) if isinstance(a, BaseException))
    return seen


def unreachable_reason(exc):
    """REFUSED, UNKNOWN_HOST, or None (another network failure: a reset, a timeout) for a connection error."""
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, 'errno', None) == errno.ECONNREFUSED:
            return REFUSED
        if isinstance(cause, socket.gaierror) or type(cause).__name__ == 'NameResolutionError':
            return UNKNOWN_HOST
    return unreachable_in_text(str(exc))


def unreachable_in_text(text):
    """REFUSED, UNKNOWN_HOST or None from a message alone (an exception's text, or the runner's error on the host)."""
    text = (text or '').lower()
    if any(marker in text for marker in _REFUSED_TEXT):
        return REFUSED
    if any(marker in text for marker in _UNKNOWN_HOST_TEXT):
        return UNKNOWN_HOST
    return None


def host_port(url):
    """'host:port' of a URL, with the scheme's default port (what a firewall rule or a proxy exception names)."""
    parts = urlsplit(url or '')
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme == 'https' else 80 if parts.scheme == 'http' else None)
    host = parts.hostname or url or 'the endpoint'
    return '%s:%s' % (host, port) if port else host


def failed_url(exc, default=None):
    """The URL a requests exception was about (its request), else default."""
    request = getattr(exc, 'request', None)
    return getattr(request, 'url', None) or default


def unreachable_message(what, url, reason, tries=None, seconds=None):
    """One sentence: which endpoint, what happened, how long it was tried, and the fix."""
    where = host_port(url)
    tried = ''
    if tries:
        tried = ' (%d %s in %.0f s)' % (tries, 'try' if tries == 1 else 'tries', seconds or 0)
    if reason == UNKNOWN_HOST:
        return ('%s: the host name of %s does not resolve (unknown host)%s: check the URL (cloud, authority_url, graph_url) '
                'and the DNS of this machine, or its proxy (HTTPS_PROXY)' % (what, where, tried))
    return ('%s: %s refused the connection (nothing listens there)%s: check the URL (cloud, authority_url, graph_url), '
            'the proxy (HTTPS_PROXY / NO_PROXY) and the firewall between this machine and %s' % (what, where, tried, where))
