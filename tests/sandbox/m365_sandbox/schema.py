"""Property tables of the Graph types the sandbox serves.

This is the one place that says which properties the sandbox returns and
accepts; tests/sandbox/tests/graph/test_contract.py checks every entry against the
Graph CSDL in shared/contracts, so nothing here may be invented.
Types are written as in the CSDL (`graph.` is the schema alias).
"""

import base64
import re
from dataclasses import dataclass, field

GUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
DATETIME_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$')


@dataclass(frozen=True)
class EntitySpec:
    """What the sandbox does with one entity type.

    properties: every property it can return, with its CSDL type.
    default: returned without $select (all of `properties` when None).
    writable: accepted in POST/PATCH bodies.
    create_only: writable on create, rejected when it would change later.
    filterable: usable in `$filter` with `eq` (and `startswith` for strings).
    """

    name: str
    properties: dict
    writable: frozenset = frozenset()
    create_only: frozenset = frozenset()
    filterable: frozenset = frozenset()
    default: frozenset = field(default=None)

    def default_properties(self):
        return list(self.properties) if self.default is None else [p for p in self.properties if p in self.default]


COMPLEX_TYPES = {
    'unifiedRolePermission': {'allowedResourceActions': 'Collection(Edm.String)', 'condition': 'Edm.String',
                              'excludedResourceActions': 'Collection(Edm.String)'},
    'apiApplication': {
        'acceptMappedClaims': 'Edm.Boolean',
        'knownClientApplications': 'Collection(Edm.Guid)',
        'oauth2PermissionScopes': 'Collection(graph.permissionScope)',
        'preAuthorizedApplications': 'Collection(graph.preAuthorizedApplication)',
        'requestedAccessTokenVersion': 'Edm.Int32',
    },
    'appRole': {
        'allowedMemberTypes': 'Collection(Edm.String)',
        'description': 'Edm.String',
        'displayName': 'Edm.String',
        'id': 'Edm.Guid',
        'isEnabled': 'Edm.Boolean',
        'origin': 'Edm.String',
        'value': 'Edm.String',
    },
    'assignedPlan': {
        'assignedDateTime': 'Edm.DateTimeOffset',
        'capabilityStatus': 'Edm.String',
        'service': 'Edm.String',
        'servicePlanId': 'Edm.Guid',
    },
    'implicitGrantSettings': {
        'enableAccessTokenIssuance': 'Edm.Boolean',
        'enableIdTokenIssuance': 'Edm.Boolean',
    },
    'informationalUrl': {
        'logoUrl': 'Edm.String',
        'marketingUrl': 'Edm.String',
        'privacyStatementUrl': 'Edm.String',
        'supportUrl': 'Edm.String',
        'termsOfServiceUrl': 'Edm.String',
    },
    'keyCredential': {
        'customKeyIdentifier': 'Edm.Binary',
        'displayName': 'Edm.String',
        'endDateTime': 'Edm.DateTimeOffset',
        'key': 'Edm.Binary',
        'keyId': 'Edm.Guid',
        'startDateTime': 'Edm.DateTimeOffset',
        'type': 'Edm.String',
        'usage': 'Edm.String',
    },
    'passwordCredential': {
        'customKeyIdentifier': 'Edm.Binary',
        'displayName': 'Edm.String',
        'endDateTime': 'Edm.DateTimeOffset',
        'hint': 'Edm.String',
        'keyId': 'Edm.Guid',
        'secretText': 'Edm.String',
        'startDateTime': 'Edm.DateTimeOffset',
    },
    'permissionScope': {
        'adminConsentDescription': 'Edm.String',
        'adminConsentDisplayName': 'Edm.String',
        'id': 'Edm.Guid',
        'isEnabled': 'Edm.Boolean',
        'origin': 'Edm.String',
        'type': 'Edm.String',
        'userConsentDescription': 'Edm.String',
        'userConsentDisplayName': 'Edm.String',
        'value': 'Edm.String',
    },
    'preAuthorizedApplication': {
        'appId': 'Edm.String',
        'delegatedPermissionIds': 'Collection(Edm.String)',
    },
    'publicClientApplication': {
        'redirectUris': 'Collection(Edm.String)',
    },
    'redirectUriSettings': {
        'index': 'Edm.Int32',
        'uri': 'Edm.String',
    },
    'requiredResourceAccess': {
        'resourceAccess': 'Collection(graph.resourceAccess)',
        'resourceAppId': 'Edm.String',
    },
    'resourceAccess': {
        'id': 'Edm.Guid',
        'type': 'Edm.String',
    },
    'spaApplication': {
        'redirectUris': 'Collection(Edm.String)',
    },
    'verifiedDomain': {
        'capabilities': 'Edm.String',
        'isDefault': 'Edm.Boolean',
        'isInitial': 'Edm.Boolean',
        'name': 'Edm.String',
        'type': 'Edm.String',
    },
    'verifiedPublisher': {
        'addedDateTime': 'Edm.DateTimeOffset',
        'displayName': 'Edm.String',
        'verifiedPublisherId': 'Edm.String',
    },
    'webApplication': {
        'homePageUrl': 'Edm.String',
        'implicitGrantSettings': 'graph.implicitGrantSettings',
        'logoutUrl': 'Edm.String',
        'redirectUris': 'Collection(Edm.String)',
        'redirectUriSettings': 'Collection(graph.redirectUriSettings)',
    },
}

APPLICATION = EntitySpec(
    name='application',
    properties={
        'id': 'Edm.String',
        'deletedDateTime': 'Edm.DateTimeOffset',
        'api': 'graph.apiApplication',
        'appId': 'Edm.String',
        'applicationTemplateId': 'Edm.String',
        'appRoles': 'Collection(graph.appRole)',
        'createdDateTime': 'Edm.DateTimeOffset',
        'defaultRedirectUri': 'Edm.String',
        'description': 'Edm.String',
        'disabledByMicrosoftStatus': 'Edm.String',
        'displayName': 'Edm.String',
        'groupMembershipClaims': 'Edm.String',
        'identifierUris': 'Collection(Edm.String)',
        'info': 'graph.informationalUrl',
        'isDeviceOnlyAuthSupported': 'Edm.Boolean',
        'isFallbackPublicClient': 'Edm.Boolean',
        'keyCredentials': 'Collection(graph.keyCredential)',
        'notes': 'Edm.String',
        'oauth2RequirePostResponse': 'Edm.Boolean',
        'passwordCredentials': 'Collection(graph.passwordCredential)',
        'publicClient': 'graph.publicClientApplication',
        'publisherDomain': 'Edm.String',
        'requiredResourceAccess': 'Collection(graph.requiredResourceAccess)',
        'samlMetadataUrl': 'Edm.String',
        'serviceManagementReference': 'Edm.String',
        'signInAudience': 'Edm.String',
        'spa': 'graph.spaApplication',
        'tags': 'Collection(Edm.String)',
        'tokenEncryptionKeyId': 'Edm.Guid',
        'uniqueName': 'Edm.String',
        'verifiedPublisher': 'graph.verifiedPublisher',
        'web': 'graph.webApplication',
    },
    writable=frozenset({
        'api', 'appRoles', 'defaultRedirectUri', 'description', 'displayName', 'groupMembershipClaims',
        'identifierUris', 'info', 'isDeviceOnlyAuthSupported', 'isFallbackPublicClient', 'keyCredentials',
        'notes', 'oauth2RequirePostResponse', 'publicClient', 'requiredResourceAccess', 'samlMetadataUrl',
        'serviceManagementReference', 'signInAudience', 'spa', 'tags', 'tokenEncryptionKeyId', 'uniqueName', 'web',
    }),
    create_only=frozenset({'uniqueName'}),
    filterable=frozenset({'id', 'appId', 'displayName', 'uniqueName', 'publisherDomain', 'signInAudience'}),
)

SERVICE_PRINCIPAL = EntitySpec(
    name='servicePrincipal',
    properties={
        'id': 'Edm.String',
        'deletedDateTime': 'Edm.DateTimeOffset',
        'accountEnabled': 'Edm.Boolean',
        'alternativeNames': 'Collection(Edm.String)',
        'appDescription': 'Edm.String',
        'appDisplayName': 'Edm.String',
        'appId': 'Edm.String',
        'applicationTemplateId': 'Edm.String',
        'appOwnerOrganizationId': 'Edm.Guid',
        'appRoleAssignmentRequired': 'Edm.Boolean',
        'appRoles': 'Collection(graph.appRole)',
        'description': 'Edm.String',
        'disabledByMicrosoftStatus': 'Edm.String',
        'displayName': 'Edm.String',
        'homepage': 'Edm.String',
        'info': 'graph.informationalUrl',
        'keyCredentials': 'Collection(graph.keyCredential)',
        'loginUrl': 'Edm.String',
        'logoutUrl': 'Edm.String',
        'notes': 'Edm.String',
        'notificationEmailAddresses': 'Collection(Edm.String)',
        'oauth2PermissionScopes': 'Collection(graph.permissionScope)',
        'passwordCredentials': 'Collection(graph.passwordCredential)',
        'preferredSingleSignOnMode': 'Edm.String',
        'preferredTokenSigningKeyThumbprint': 'Edm.String',
        'replyUrls': 'Collection(Edm.String)',
        'servicePrincipalNames': 'Collection(Edm.String)',
        'servicePrincipalType': 'Edm.String',
        'signInAudience': 'Edm.String',
        'tags': 'Collection(Edm.String)',
        'tokenEncryptionKeyId': 'Edm.Guid',
        'verifiedPublisher': 'graph.verifiedPublisher',
    },
    writable=frozenset({
        'accountEnabled', 'alternativeNames', 'appId', 'appRoleAssignmentRequired', 'description', 'displayName',
        'homepage', 'loginUrl', 'logoutUrl', 'notes', 'notificationEmailAddresses', 'preferredSingleSignOnMode',
        'replyUrls', 'servicePrincipalNames', 'tags',
    }),
    create_only=frozenset({'appId'}),
    filterable=frozenset({'id', 'appId', 'displayName', 'servicePrincipalType', 'accountEnabled'}),
)

APP_ROLE_ASSIGNMENT = EntitySpec(
    name='appRoleAssignment',
    properties={
        'id': 'Edm.String',
        'deletedDateTime': 'Edm.DateTimeOffset',
        'appRoleId': 'Edm.Guid',
        'createdDateTime': 'Edm.DateTimeOffset',
        'principalDisplayName': 'Edm.String',
        'principalId': 'Edm.Guid',
        'principalType': 'Edm.String',
        'resourceDisplayName': 'Edm.String',
        'resourceId': 'Edm.Guid',
    },
    writable=frozenset({'appRoleId', 'principalId', 'resourceId'}),
    create_only=frozenset({'appRoleId', 'principalId', 'resourceId'}),
    filterable=frozenset({'principalId', 'resourceId', 'appRoleId'}),
)

OAUTH2_PERMISSION_GRANT = EntitySpec(
    name='oAuth2PermissionGrant',
    properties={
        'id': 'Edm.String',
        'clientId': 'Edm.String',
        'consentType': 'Edm.String',
        'principalId': 'Edm.String',
        'resourceId': 'Edm.String',
        'scope': 'Edm.String',
    },
    writable=frozenset({'clientId', 'consentType', 'principalId', 'resourceId', 'scope'}),
    create_only=frozenset({'clientId', 'consentType', 'principalId', 'resourceId'}),
    filterable=frozenset({'id', 'clientId', 'consentType', 'principalId', 'resourceId'}),
)

USER = EntitySpec(
    name='user',
    properties={
        'id': 'Edm.String',
        'deletedDateTime': 'Edm.DateTimeOffset',
        'accountEnabled': 'Edm.Boolean',
        'businessPhones': 'Collection(Edm.String)',
        'createdDateTime': 'Edm.DateTimeOffset',
        'displayName': 'Edm.String',
        'givenName': 'Edm.String',
        'jobTitle': 'Edm.String',
        'mail': 'Edm.String',
        'mailNickname': 'Edm.String',
        'mobilePhone': 'Edm.String',
        'officeLocation': 'Edm.String',
        'preferredLanguage': 'Edm.String',
        'proxyAddresses': 'Collection(Edm.String)',
        'surname': 'Edm.String',
        'usageLocation': 'Edm.String',
        'userPrincipalName': 'Edm.String',
        'userType': 'Edm.String',
    },
    # Graph's default user projection.
    default=frozenset({
        'id', 'businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone',
        'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName',
    }),
    filterable=frozenset({'id', 'userPrincipalName', 'mail', 'displayName', 'mailNickname', 'userType', 'accountEnabled'}),
)

ORGANIZATION = EntitySpec(
    name='organization',
    properties={
        'id': 'Edm.String',
        'deletedDateTime': 'Edm.DateTimeOffset',
        'assignedPlans': 'Collection(graph.assignedPlan)',
        'businessPhones': 'Collection(Edm.String)',
        'city': 'Edm.String',
        'country': 'Edm.String',
        'countryLetterCode': 'Edm.String',
        'createdDateTime': 'Edm.DateTimeOffset',
        'defaultUsageLocation': 'Edm.String',
        'displayName': 'Edm.String',
        'marketingNotificationEmails': 'Collection(Edm.String)',
        'onPremisesLastSyncDateTime': 'Edm.DateTimeOffset',
        'onPremisesSyncEnabled': 'Edm.Boolean',
        'postalCode': 'Edm.String',
        'preferredLanguage': 'Edm.String',
        'securityComplianceNotificationMails': 'Collection(Edm.String)',
        'securityComplianceNotificationPhones': 'Collection(Edm.String)',
        'state': 'Edm.String',
        'street': 'Edm.String',
        'technicalNotificationMails': 'Collection(Edm.String)',
        'tenantType': 'Edm.String',
        'verifiedDomains': 'Collection(graph.verifiedDomain)',
    },
    filterable=frozenset({'id'}),
)

# Microsoft Graph v1.0 unifiedRoleDefinition and unifiedRoleAssignment (directory provider), as their resource pages list them.
ROLE_DEFINITION = EntitySpec(
    name='unifiedRoleDefinition',
    properties={
        'id': 'Edm.String',
        'description': 'Edm.String',
        'displayName': 'Edm.String',
        'isBuiltIn': 'Edm.Boolean',
        'isEnabled': 'Edm.Boolean',
        'resourceScopes': 'Collection(Edm.String)',
        'rolePermissions': 'Collection(graph.unifiedRolePermission)',
        'templateId': 'Edm.String',
        'version': 'Edm.String',
    },
    filterable=frozenset({'id', 'displayName', 'isBuiltIn', 'templateId'}),
)

ROLE_ASSIGNMENT = EntitySpec(
    name='unifiedRoleAssignment',
    properties={
        'id': 'Edm.String',
        'appScopeId': 'Edm.String',
        'condition': 'Edm.String',
        'directoryScopeId': 'Edm.String',
        'principalId': 'Edm.String',
        'roleDefinitionId': 'Edm.String',
    },
    writable=frozenset({'appScopeId', 'directoryScopeId', 'principalId', 'roleDefinitionId'}),
    create_only=frozenset({'appScopeId', 'directoryScopeId', 'principalId', 'roleDefinitionId'}),
    filterable=frozenset({'id', 'principalId', 'roleDefinitionId', 'directoryScopeId'}),
)

ENTITIES = {spec.name: spec for spec in (APPLICATION, SERVICE_PRINCIPAL, APP_ROLE_ASSIGNMENT, OAUTH2_PERMISSION_GRANT, USER, ORGANIZATION,
                                         ROLE_DEFINITION, ROLE_ASSIGNMENT)}

# Parameters of the bound actions the sandbox implements, as in the CSDL.
ACTIONS = {
    ('application', 'addPassword'): {'passwordCredential': 'graph.passwordCredential'},
    ('application', 'removePassword'): {'keyId': 'Edm.Guid'},
}


class InvalidValue(ValueError):
    """A request value does not fit its declared type; `message` is Graph's wording."""


class UnknownProperty(InvalidValue):
    pass


def unknown_property_message(name):
    return "Property '%s' does not exist as a declared property or extension property." % name


def _check_scalar(edm, value, path):
    ok = True
    if edm in ('Edm.String',):
        ok = isinstance(value, str)
    elif edm == 'Edm.Boolean':
        ok = isinstance(value, bool)
    elif edm == 'Edm.Int32':
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif edm == 'Edm.Guid':
        ok = isinstance(value, str) and bool(GUID_RE.match(value))
    elif edm == 'Edm.DateTimeOffset':
        ok = isinstance(value, str) and bool(DATETIME_RE.match(value))
    elif edm == 'Edm.Binary':
        try:
            base64.b64decode(value, validate=True)
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise InvalidValue("Cannot convert the literal '%s' to the expected type '%s'." % (value, edm), path)


def check_value(type_name, value, path):
    """Validate a request value against a CSDL type; complex values are checked recursively."""
    if value is None:
        return
    if type_name.startswith('Collection('):
        if not isinstance(value, list):
            raise InvalidValue("Invalid value for property '%s': a collection was expected." % path, path)
        inner = type_name[len('Collection('):-1]
        for item in value:
            check_value(inner, item, path)
        return
    if type_name.startswith('graph.'):
        complex_props = COMPLEX_TYPES[type_name[len('graph.'):]]
        if not isinstance(value, dict):
            raise InvalidValue("Invalid value for property '%s': an object was expected." % path, path)
        for key, item in value.items():
            if key.startswith('@odata.'):
                continue
            if key not in complex_props:
                raise UnknownProperty(unknown_property_message(key), key)
            check_value(complex_props[key], item, key)
        return
    _check_scalar(type_name, value, path)
