"""The WinRM/PSRP transport policy of the Exchange actions: plugin_utils/transport_policy.transport_problems."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.transport_policy import transport_problems


class FakeConnection:
    def __init__(self, name, **options):
        self._load_name = name
        self.options = options

    def get_option(self, name):
        if name not in self.options:
            raise KeyError(name)
        return self.options[name]


@pytest.mark.parametrize('connection,allow,refused,warned', [
    (FakeConnection('winrm', scheme='http', transport=['basic'], port=5985), False, True, 0),
    (FakeConnection('winrm', scheme='http', transport=['basic'], port=5985), True, False, 1),
    (FakeConnection('ansible.builtin.winrm', port=5985, transport=None), False, True, 0),  # plaintext by default over http
    (FakeConnection('winrm', scheme='http', transport=['ntlm'], port=5985), False, False, 0),
    (FakeConnection('winrm', scheme='https', transport=['basic'], port=5986,
                    _extras={'ansible_winrm_server_cert_validation': 'ignore'}), False, False, 1),
    (FakeConnection('psrp', protocol='http', auth='basic', port=5985), False, True, 0),
    (FakeConnection('psrp', protocol='https', auth='negotiate', cert_validation='ignore'), False, False, 1),
    (FakeConnection('local'), False, False, 0),
])
def test_transport_policy(connection, allow, refused, warned):
    error, warnings = transport_problems(connection, allow)
    assert bool(error) == refused, error
    assert len(warnings) == warned, warnings
    if error:
        assert 'allow_insecure_transport' in error and 'mailbox_access_winrm_allow_insecure' in error
