"""Least privilege: the exact Graph application permissions and Exchange role each playbook needs (docs/permissions.md).

An admin app is seeded in the sandbox with exactly a set of app roles; the playbook runs as that app. The sandbox
enforces Graph roles from the token's roles claim and the Exchange host requires Exchange.ManageAsApp.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils.doctor import MANAGE_AS_APP, NEEDS

from m365_reliability.harness import AUDIT, DEPROVISION, PROVISION, ROTATE

GRAPH = 'https://graph.microsoft.com'
EXCHANGE = 'https://outlook.office365.com'


def needed_roles(playbook):
    """{resource: roles} of a playbook, from the collection's one table (doctor.NEEDS, which docs/permissions.md shows)."""
    roles = {GRAPH: list(NEEDS[playbook]['graph'])}
    if NEEDS[playbook]['exchange']:
        roles[EXCHANGE] = [MANAGE_AS_APP]
    return roles


# playbook: (path, extra vars, check mode, {resource: roles}).
PLAYBOOKS = {
    'provision': (PROVISION, None, False, needed_roles('provision')),
    'audit': (AUDIT, None, True, needed_roles('audit')),
    'rotate_secret': (ROTATE, None, False, needed_roles('rotate_secret')),
    'deprovision': (DEPROVISION, {'mailbox_access_deprovision_confirm': True}, False, needed_roles('deprovision')),
}


def without(roles, resource, role):
    out = dict((k, [r for r in v if not (k == resource and r == role)]) for k, v in roles.items())
    return dict((k, v) for k, v in out.items() if v)


def admin_app(sandbox, name, roles):
    """A new admin identity with exactly these app roles; its graph_auth for the role."""
    seeded = sandbox.seed_application({'displayName': name, '_secret': True, '_service_principal': True, '_roles': roles})
    return {'client_id': seeded['application']['appId'], 'client_secret': seeded['secretText'], 'authority_url': sandbox.authority_url,
            'graph_url': sandbox.graph_url, 'ca_path': sandbox.ca_path}


def missing_cases(roles):
    return [(resource, role) for resource, values in sorted(roles.items()) for role in values]
