# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoints of the Microsoft 365 national clouds, in one table."""

import collections

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2
    from urlparse import urlparse

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

Cloud = collections.namedtuple(
    'Cloud',
    ['name', 'login', 'graph', 'exchange', 'exchange_environment', 'imap_host', 'pop_host', 'smtp_host', 'graph_resource'],
)

CLOUDS = {
    'global': Cloud('global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com',
                    'https://outlook.office365.com', 'O365Default',
                    'outlook.office365.com', 'outlook.office365.com', 'smtp.office365.com', 'https://graph.microsoft.com'),
    'usgovhigh': Cloud('usgovhigh', 'https://login.microsoftonline.us', 'https://graph.microsoft.us',
                       'https://outlook.office365.us', 'O365USGovGCCHigh',
                       'outlook.office365.us', 'outlook.office365.us', 'smtp.office365.us', 'https://graph.microsoft.us'),
    'usgovdod': Cloud('usgovdod', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us',
                      'https://outlook-dod.office365.us', 'O365USGovDoD',
                      'outlook-dod.office365.us', 'outlook-dod.office365.us', 'outlook-dod.office365.us', 'https://dod-graph.microsoft.us'),
    'china': Cloud('china', 'https://login.partner.microsoftonline.cn', 'https://microsoftgraph.chinacloudapi.cn',
                   'https://partner.outlook.cn', 'O365China',
                   'partner.outlook.cn', 'partner.outlook.cn', 'partner.outlook.cn', 'https://microsoftgraph.chinacloudapi.cn'),
}

CLOUD_NAMES = sorted(CLOUDS)

# Resource app ids are the same in every cloud.
EXCHANGE_ONLINE_APP_ID = '00000002-0000-0ff1-ce00-000000000000'
MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'

# Resources users can name instead of an app id.
RESOURCE_ALIASES = {
    'exchange': EXCHANGE_ONLINE_APP_ID,
    'office 365 exchange online': EXCHANGE_ONLINE_APP_ID,
    'graph': MICROSOFT_GRAPH_APP_ID,
    'microsoft graph': MICROSOFT_GRAPH_APP_ID,
}


def resolve_cloud(name, authority_url=None, graph_url=None):
    """The cloud's endpoints, with explicit login/Graph hosts winning (private clouds, a proxy, the sandbox).

    Only where requests go changes: tokens are still asked for the cloud's own
    resource identifiers (graph_resource, exchange), which are what the
    services check in the token's audience.
    """
    cloud = CLOUDS[name]
    replace = {}
    if authority_url:
        replace['login'] = authority_url.rstrip('/')
    if graph_url:
        replace['graph'] = graph_url.rstrip('/')
    return cloud._replace(**replace) if replace else cloud


# Set only by whoever controls the controller's environment (an AWX credential's injector, the execution
# environment, a test harness), never by a task option: a user who may only launch a job (extra vars, a
# survey) must not be able to send the admin app's credentials to a host of their choosing.
ALLOW_CUSTOM_ENDPOINTS_ENV = 'M365_ALLOW_CUSTOM_ENDPOINTS'
_ANY = ('1', 'true', 'yes', 'any', '*')


def known_hosts():
    """Login and Graph hosts of the known clouds."""
    hosts = set()
    for cloud in CLOUDS.values():
        for url in (cloud.login, cloud.graph):
            hosts.add(urlparse(url).hostname)
    return hosts


def _allowed_custom(environ):
    """(any host allowed?, extra hosts allowed) from M365_ALLOW_CUSTOM_ENDPOINTS."""
    value = (environ.get(ALLOW_CUSTOM_ENDPOINTS_ENV) or '').strip()
    if value.lower() in _ANY:
        return True, set()
    return False, set(h.strip().lower() for h in value.replace(',', ' ').split() if h.strip())


def check_endpoints(params, environ):
    """Refuse a login or Graph endpoint outside the known clouds, plain http, and validate_certs=false.

    Each is allowed only when the environment (not a task option) carries M365_ALLOW_CUSTOM_ENDPOINTS: V(1)
    for any host, or a list of host or host:port names.
    """
    any_host, extra = _allowed_custom(environ)
    custom = any_host or bool(extra)
    for option in ('authority_url', 'graph_url'):
        value = params.get(option)
        if not value:
            continue
        parsed = urlparse(value.strip())
        host = (parsed.hostname or '').lower()
        if parsed.scheme not in ('https', 'http') or not host:
            raise ConfigError("%s '%s' is not an https:// URL: give the endpoint as https://host[/path]" % (option, value))
        with_port = '%s:%s' % (host, parsed.port) if parsed.port else host
        allowed = any_host or host in extra or with_port in extra
        if parsed.scheme == 'http' and not allowed:
            raise ConfigError("%s '%s' uses plain http: the bearer token and the admin app's credentials would travel "
                              "unencrypted. Use https:// (plain http only where the environment sets %s, as the "
                              "sandbox tests do)" % (option, value, ALLOW_CUSTOM_ENDPOINTS_ENV))
        if host not in known_hosts() and not allowed:
            raise ConfigError("%s '%s' is not an endpoint of a known Microsoft 365 cloud (%s): the admin app's credentials "
                              "are sent there. Leave it unset and choose cloud, or allow the host where only the "
                              "controller's environment can: %s=%s (an AWX credential or the execution environment, not "
                              "extra vars)" % (option, value, ', '.join(sorted(known_hosts())), ALLOW_CUSTOM_ENDPOINTS_ENV,
                                               with_port))
    if params.get('validate_certs') is False and not custom:
        raise ConfigError('validate_certs=false is refused: with certificate checks off the admin app\'s credentials can be '
                          'sent to whoever answers. Trust a private CA with ca_path instead (validate_certs=false only where '
                          'the environment sets %s, as test harnesses do)' % ALLOW_CUSTOM_ENDPOINTS_ENV)
