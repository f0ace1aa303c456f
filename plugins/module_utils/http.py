# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP session every request (msal's and Graph's) goes through."""

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
