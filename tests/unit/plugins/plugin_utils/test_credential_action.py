"""The action in front of each Graph module hands every secret option over in a file, never in the arguments."""

import os
import re

from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import GRAPH_AUTH_SPEC
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.credential_action import SECRET_OPTIONS

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))), 'plugins')
NO_LOG_OPTION = re.compile(r'^\s*(\w+)=dict\([^)]*no_log=True', re.M)


def graph_modules():
    """The modules built on GraphModule (plugins/module_utils/module.py)."""
    folder = os.path.join(PLUGINS, 'modules')
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as handle:
            source = handle.read()
        if 'import GraphModule' in source:
            yield name[:-3], source


def test_every_graph_module_has_the_hand_off_action():
    modules = dict(graph_modules())
    assert {'azure_app_registration', 'app_secret', 'api_permission', 'mail_oauth_check'} <= set(modules)
    for name in modules:
        with open(os.path.join(PLUGINS, 'action', name + '.py')) as handle:
            assert 'class ActionModule(CredentialHandoffAction)' in handle.read(), name


def test_every_secret_option_of_a_graph_module_is_handed_over():
    secret = set(name for name, option in GRAPH_AUTH_SPEC.items() if option.get('no_log'))
    for _name, source in graph_modules():
        secret.update(NO_LOG_OPTION.findall(source))
    assert secret and secret <= set(SECRET_OPTIONS), secret - set(SECRET_OPTIONS)
