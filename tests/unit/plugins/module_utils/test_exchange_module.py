"""The one rule for ExchangeOnlineManagement on a host: the doctor's finding and the runner's message both come from it."""

from ansible_collections.m365.mail_oauth.plugins.module_utils import doctor, exchange_module
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.payload import connection_payload


def test_the_version_needed_and_why():
    assert exchange_module.needed() == '3.1.0'
    assert exchange_module.needed('certificate_thumbprint') == '3.0.0'
    assert exchange_module.needed('access_token', '3.8.0') == '3.8.0'
    assert exchange_module.reason() == '-AccessToken (exchange_auth=access_token) needs 3.1.0 or later'
    assert exchange_module.reason('access_token', '3.8.0') == 'the tasks need 3.8.0 or later (min_version)'


def test_the_install_command_fits_the_shell():
    assert exchange_module.install_command('3.1.0', False) == 'Install-Module ExchangeOnlineManagement -MinimumVersion 3.1.0 -Scope AllUsers'
    old = exchange_module.install_command('3.1.0', True)
    assert '-RequiredVersion 3.9.2' in old and 'PowerShell 7.6.0' in old
    # No 3.9 release satisfies 3.10: the way out is a newer PowerShell, never an install that cannot load.
    assert 'Install-Module' not in exchange_module.install_command('3.10.0', True)


def test_the_runner_gets_the_doctors_words():
    payload = connection_payload({'access_token': 't', 'organization': 'o'})
    help_ = payload['module_help']
    assert help_['ps_version'] == '7.6.0' and help_['reason'] == exchange_module.reason()
    for facts, key in (({'ps_version': '5.1.19041.4291', 'edition': 'Desktop'}, 'old_shell'), ({'ps_version': '7.6.0', 'edition': 'Core'}, 'new_shell')):
        found = [f for f in doctor.judge_host(dict(facts, language_mode='FullLanguage', modules=['3.0.0']))
                 if f['check'] == 'ExchangeOnlineManagement'][0]
        assert found['fix'] == help_[key] and help_['reason'] in found['detail'], (found, help_)
