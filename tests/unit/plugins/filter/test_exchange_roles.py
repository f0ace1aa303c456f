"""exchange_roles: the management roles of the playbooks, from the doctor's one table."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.m365.mail_oauth.plugins.filter.exchange_roles import exchange_roles
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import MANAGEMENT_ROLES


def test_every_playbook_needs_the_three_roles_and_every_one_is_allow_listed():
    roles = exchange_roles(['provision', 'rotate_secret', 'deprovision', 'audit'])
    assert roles == ['Mail Recipients', 'Role Management', 'View-Only Configuration']
    assert set(roles) <= set(MANAGEMENT_ROLES)
    assert exchange_roles(['rotate_secret']) == []


def test_an_unknown_playbook_is_named():
    with pytest.raises(AnsibleFilterError, match='provison'):
        exchange_roles(['provison'])
