"""The sandbox must not invent Graph properties: every property it accepts or
returns is checked against the Graph v1.0 CSDL (shared/contracts)."""

import os
import xml.etree.ElementTree as ET

import pytest

from m365_sandbox import schema

EDM = '{http://docs.oasis-open.org/odata/ns/edm}'
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
CSDL_NAME = 'graph-v1.0-applications.csdl.xml'
# A copy of shared/contracts lives in the repo so this test can never be skipped for want of the file.
CSDL_PATH = os.environ.get('M365_GRAPH_CSDL') or os.path.join(REPO, 'tests', 'sandbox', 'contracts', CSDL_NAME)


def _normalize(type_name):
    return type_name.replace('microsoft.graph.', 'graph.')


@pytest.fixture(scope='module')
def csdl():
    root = ET.parse(CSDL_PATH).getroot()
    types = {}
    for element in root.iter():
        if element.tag in (EDM + 'EntityType', EDM + 'ComplexType'):
            props = {p.get('Name'): _normalize(p.get('Type')) for p in element if p.tag in (EDM + 'Property', EDM + 'NavigationProperty')}
            types[element.get('Name')] = {'base': element.get('BaseType'), 'props': props, 'entity': element.tag == EDM + 'EntityType'}
    actions = {}
    for element in root.iter(EDM + 'Action'):
        params = {p.get('Name'): _normalize(p.get('Type')) for p in element.iter(EDM + 'Parameter')}
        binding = params.pop('bindingParameter')
        actions[(binding[len('graph.'):], element.get('Name'))] = params
    return {'types': types, 'actions': actions}


def declared(csdl, type_name):
    """All properties of a type, its base types included (up to entity)."""
    props = {}
    while type_name:
        entry = csdl['types'][type_name]
        for name, value in entry['props'].items():
            props.setdefault(name, value)
        base = entry['base']
        type_name = _normalize(base)[len('graph.'):] if base else None
    return props


def referenced_complex(type_name):
    inner = type_name[len('Collection('):-1] if type_name.startswith('Collection(') else type_name
    return inner[len('graph.'):] if inner.startswith('graph.') else None


@pytest.mark.parametrize('name', sorted(schema.ENTITIES))
def test_entity_properties_are_declared(csdl, name):
    spec = schema.ENTITIES[name]
    assert csdl['types'][name]['entity']
    props = declared(csdl, name)
    for prop, type_name in spec.properties.items():
        assert prop in props, '%s.%s is not in the Graph schema' % (name, prop)
        assert props[prop] == type_name, '%s.%s is %s in Graph, %s in the sandbox' % (name, prop, props[prop], type_name)
    for group in ('writable', 'create_only', 'filterable'):
        assert getattr(spec, group) <= set(spec.properties), '%s.%s names unknown properties' % (name, group)


@pytest.mark.parametrize('name', sorted(schema.COMPLEX_TYPES))
def test_complex_types_are_declared(csdl, name):
    props = declared(csdl, name)
    for prop, type_name in schema.COMPLEX_TYPES[name].items():
        assert props.get(prop) == type_name, '%s.%s: Graph says %s, sandbox %s' % (name, prop, props.get(prop), type_name)


def test_every_referenced_complex_type_is_described():
    tables = [spec.properties for spec in schema.ENTITIES.values()] + list(schema.COMPLEX_TYPES.values()) + list(schema.ACTIONS.values())
    for table in tables:
        for type_name in table.values():
            complex_name = referenced_complex(type_name)
            assert complex_name is None or complex_name in schema.COMPLEX_TYPES, type_name


def test_required_complex_types_present():
    wanted = {'passwordCredential', 'keyCredential', 'requiredResourceAccess', 'resourceAccess', 'appRole', 'permissionScope'}
    assert wanted <= set(schema.COMPLEX_TYPES)
    assert {'application', 'servicePrincipal', 'appRoleAssignment', 'oAuth2PermissionGrant', 'user', 'organization'} <= set(schema.ENTITIES)


def test_action_parameters_are_declared(csdl):
    for key, params in schema.ACTIONS.items():
        assert csdl['actions'].get(key) == params, key


# Responses of the running sandbox ------------------------------------------------

JSON_TYPES = {
    'Edm.String': str, 'Edm.Guid': str, 'Edm.DateTimeOffset': str, 'Edm.Binary': str,
    'Edm.Boolean': bool, 'Edm.Int32': int,
}


def check_json(csdl, type_name, value, where):
    if value is None:
        return
    if type_name.startswith('Collection('):
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            check_json(csdl, type_name[len('Collection('):-1], item, '%s[%d]' % (where, index))
        return
    if type_name.startswith('graph.'):
        assert isinstance(value, dict), where
        props = declared(csdl, type_name[len('graph.'):])
        for key, item in value.items():
            if key.startswith('@odata.'):
                continue
            assert key in props, '%s.%s is not declared in Graph' % (where, key)
            check_json(csdl, props[key], item, '%s.%s' % (where, key))
        return
    assert isinstance(value, JSON_TYPES[type_name]), '%s: %r is not %s' % (where, value, type_name)
    schema.check_value(type_name, value, where)


def test_responses_match_the_schema(csdl, graph):
    base = graph.base
    every = {name: ','.join(spec.properties) for name, spec in schema.ENTITIES.items()}
    app = graph.patch(base + "/applications(uniqueName='contract')", json={
        'displayName': 'contract', 'requiredResourceAccess': [{'resourceAppId': '00000002-0000-0ff1-ce00-000000000000',
                                                               'resourceAccess': [{'id': '5e5addcd-3e8d-4e90-baf5-964efab2b20a', 'type': 'Role'}]}],
        'web': {'redirectUris': ['https://localhost/cb']}, 'appRoles': [{
            'allowedMemberTypes': ['Application'], 'description': 'd', 'displayName': 'd', 'id': '11111111-2222-3333-4444-555555555555',
            'isEnabled': True, 'value': 'Thing.Do'}],
    }, headers={'Prefer': 'create-if-missing'}).json()
    password = graph.post(base + '/applications/%s/addPassword' % app['id'], json={'passwordCredential': {'displayName': 'x'}}).json()
    sp = graph.post(base + '/servicePrincipals', json={'appId': app['appId']}).json()
    exo = graph.get(base + "/servicePrincipals(appId='00000002-0000-0ff1-ce00-000000000000')").json()
    assignment = graph.post(base + '/servicePrincipals/%s/appRoleAssignedTo' % exo['id'], json={
        'principalId': sp['id'], 'resourceId': exo['id'], 'appRoleId': '5e5addcd-3e8d-4e90-baf5-964efab2b20a'}).json()
    msgraph = graph.get(base + "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')").json()
    grant = graph.post(base + '/oauth2PermissionGrants', json={
        'clientId': sp['id'], 'consentType': 'AllPrincipals', 'resourceId': msgraph['id'], 'scope': 'User.Read'}).json()

    samples = [
        ('application', app), ('passwordCredential', password), ('servicePrincipal', sp), ('servicePrincipal', exo),
        ('servicePrincipal', msgraph), ('appRoleAssignment', assignment), ('oAuth2PermissionGrant', grant),
    ]
    for name, collection in (('application', 'applications'), ('servicePrincipal', 'servicePrincipals'), ('user', 'users'),
                             ('organization', 'organization'), ('oAuth2PermissionGrant', 'oauth2PermissionGrants')):
        for item in graph.get(base + '/%s?$select=%s' % (collection, every[name])).json()['value']:
            samples.append((name, item))
        for item in graph.get(base + '/' + collection).json()['value']:
            samples.append((name, item))
    for item in graph.get(base + '/servicePrincipals/%s/appRoleAssignedTo' % exo['id']).json()['value']:
        samples.append(('appRoleAssignment', item))
    for name, item in samples:
        check_json(csdl, 'graph.' + name, item, name)
    assert len(samples) > 20
