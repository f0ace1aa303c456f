# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doctor's reads on the controller: is an endpoint there, and what time does the token service say it is.

Any HTTP answer (even 401 or 404) proves the endpoint reachable; a refused connection or an unknown host is tried
as the clients try it (retry.connect_backoff: seconds, not minutes) and then named with its fix.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils.doctor import OK, PROBLEM, finding
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import (
    SSL_ERRORS, host_port, unreachable_message, unreachable_reason)
from ansible_collections.m365.mail_oauth.plugins.module_utils.retry import connect_backoff

try:
    import requests
except ImportError:  # pragma: no cover - the caller reports it
    requests = None

PROBE_TIMEOUT = 5


def probe(session, what, url, timeout=PROBE_TIMEOUT, backoff_factory=connect_backoff):
    """(finding, response or None) for one GET of url."""
    backoff = backoff_factory()
    while True:
        try:
            response = session.get(url, timeout=timeout, allow_redirects=False)
        except SSL_ERRORS as exc:
            return finding('endpoint %s' % what, PROBLEM, '%s answered, but its TLS certificate is not trusted: %s' % (host_port(url), exc),
                           'set ca_path to the CA that signed it (a TLS-inspecting proxy needs its CA there too)', url=url), None
        except requests.exceptions.RequestException as exc:
            reason = unreachable_reason(exc)
            if reason and backoff.wait():
                continue
            if reason:
                return finding('endpoint %s' % what, PROBLEM, unreachable_message(what, url, reason, backoff.attempt, backoff.elapsed),
                               'fix the URL or the network path named above, then run the doctor again', url=url), None
            return finding('endpoint %s' % what, PROBLEM, 'no answer from %s within %d s: %s' % (host_port(url), timeout, exc),
                           'check the proxy (HTTPS_PROXY) and the firewall towards %s' % host_port(url), url=url), None
        return finding('endpoint %s' % what, OK, '%s answered (HTTP %s)' % (host_port(url), response.status_code), url=url), response


def login_probe_url(cloud, tenant_id):
    """The tenant's OpenID configuration: the login service's cheapest answer, and it carries a Date header."""
    return '%s/%s/v2.0/.well-known/openid-configuration' % (cloud.login.rstrip('/'), tenant_id or 'organizations')


def graph_probe_url(cloud):
    # Graph answers an unauthenticated GET of its root with 401 or 404: either proves it reachable.
    return '%s/v1.0/' % cloud.graph.rstrip('/')
