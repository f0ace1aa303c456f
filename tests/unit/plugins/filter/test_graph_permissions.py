"""The Graph permissions bootstrap grants come from the doctor's one table."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.m365.mail_oauth.plugins.filter.graph_permissions import graph_permissions
from ansible_collections.m365.mail_oauth.plugins.module_utils.doctor import NEEDS


def test_manage_is_the_union_without_what_readwrite_covers():
    assert graph_permissions(['provision', 'rotate_secret', 'deprovision', 'audit']) == [
        'AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All']


def test_audit_alone_is_the_audit_row():
    assert graph_permissions(['audit']) == sorted(NEEDS['audit']['graph'])


def test_an_unknown_playbook_is_named():
    with pytest.raises(AnsibleFilterError, match='provison'):
        graph_permissions(['provison'])
