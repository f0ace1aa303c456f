"""Where the admin app's credentials may go: clouds.check_endpoints."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import check_endpoints
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

ALLOW = 'M365_ALLOW_CUSTOM_ENDPOINTS'


@pytest.mark.parametrize('params,words', [
    ({'authority_url': 'https://evil.example.com'}, ['authority_url', 'known Microsoft 365 cloud', ALLOW]),
    ({'graph_url': 'https://graph.microsoft.com.evil.example'}, ['graph_url', 'known Microsoft 365 cloud']),
    ({'authority_url': 'https://login.microsoftonline.com@evil.example'}, ['authority_url', 'known']),
    ({'authority_url': 'http://login.microsoftonline.com'}, ['plain http', 'authority_url']),
    ({'graph_url': 'ftp://graph.microsoft.com'}, ['not an https:// URL']),
    ({'validate_certs': False}, ['validate_certs=false is refused', 'ca_path']),
])
def test_endpoints_refused_without_the_environment_switch(params, words):
    with pytest.raises(ConfigError) as err:
        check_endpoints(params, {})
    for word in words:
        assert word in err.value.msg


def test_known_clouds_pass_and_the_switch_allows_listed_hosts_only():
    check_endpoints({'authority_url': 'https://login.microsoftonline.us/', 'graph_url': 'https://dod-graph.microsoft.us'}, {})
    check_endpoints({'authority_url': 'https://127.0.0.1:8443', 'validate_certs': False}, {ALLOW: '1'})
    check_endpoints({'authority_url': 'https://127.0.0.1:8443', 'graph_url': 'https://proxy.corp'}, {ALLOW: '127.0.0.1:8443, proxy.corp'})
    with pytest.raises(ConfigError):
        check_endpoints({'authority_url': 'https://127.0.0.1:9999'}, {ALLOW: '127.0.0.1:8443'})
    with pytest.raises(ConfigError):
        check_endpoints({'graph_url': 'https://other.example'}, {ALLOW: '0'})
