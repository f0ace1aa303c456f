# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoints of the Microsoft 365 national clouds, in one table."""

import collections

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
