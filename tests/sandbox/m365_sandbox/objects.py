"""Graph object semantics: defaults of new objects, body validation, PATCH
merging, credentials. Pure functions over dicts; callers hold the directory lock.
"""

import base64
import copy
import datetime
import os
import secrets
import string
import uuid

from . import pki
from .odata import GraphError, bad_request, now_iso
from .schema import COMPLEX_TYPES, InvalidValue, UnknownProperty, check_value, unknown_property_message

SECRET_ALPHABET = string.ascii_letters + string.digits + '_-.~'
ZERO_GUID = '00000000-0000-0000-0000-000000000000'


def new_guid():
    return str(uuid.uuid4())


def iso(when):
    return when.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_iso(text):
    return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))


def directory_style_id(principal_id):
    """Ids of appRoleAssignments and oauth2PermissionGrants: 43 base64url characters
    that start with the principal's object id bytes, like the real ones."""
    raw = uuid.UUID(principal_id).bytes_le + os.urandom(16)
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def validate_body(spec, body, existing=None):
    """Reject what Graph rejects: unknown properties, read-only ones, wrong types."""
    if not isinstance(body, dict):
        raise bad_request('Empty Payload. JSON content expected.', code='BadRequest')
    for name, value in body.items():
        if name.startswith('@odata.'):
            continue
        if name not in spec.properties:
            raise bad_request(unknown_property_message(name))
        try:
            check_value(spec.properties[name], value, name)
        except UnknownProperty as exc:
            raise bad_request(str(exc)) from None
        except InvalidValue as exc:
            raise bad_request(str(exc), code='BadRequest') from None
        if name not in spec.writable:
            if existing is not None and existing.get(name) == value:
                continue
            raise bad_request("Property '%s' is read-only and cannot be set." % name)
        if existing is not None and name in spec.create_only and existing.get(name) is not None and existing.get(name) != value:
            raise bad_request("Property '%s' cannot be changed once it has been set." % name)


def _merge_complex(type_name, current, value):
    """PATCH semantics: complex values merge, collections and scalars are replaced."""
    if value is None or current is None or not type_name.startswith('graph.'):
        return copy.deepcopy(value)
    props = COMPLEX_TYPES[type_name[len('graph.'):]]
    merged = copy.deepcopy(current)
    for key, item in value.items():
        merged[key] = _merge_complex(props[key], current.get(key), item)
    return merged


def apply_patch(spec, obj, body):
    for name, value in body.items():
        if name.startswith('@odata.'):
            continue
        obj[name] = _merge_complex(spec.properties[name], obj.get(name), value)


def _fill_complex(type_name, value):
    """Complete a complex value with Graph's defaults for absent members."""
    props = COMPLEX_TYPES[type_name]
    out = {}
    for key, member_type in props.items():
        have = value.get(key) if value else None
        if member_type.startswith('Collection('):
            out[key] = copy.deepcopy(have) if have is not None else []
        elif member_type.startswith('graph.'):
            out[key] = _fill_complex(member_type[len('graph.'):], have)
        else:
            out[key] = have
    if type_name == 'implicitGrantSettings':
        for key in out:
            out[key] = bool(out[key])
    return out


def normalize_key_credentials(creds):
    """Complete keyCredentials the way Graph does when a certificate is uploaded."""
    result = []
    for cred in creds or []:
        if not cred.get('key'):
            raise bad_request('Key credential key is required.', code='KeyCredentialsInvalidKey')
        try:
            cert = pki.load_certificate(base64.b64decode(cred['key']))
        except ValueError:
            raise bad_request('Key value is invalid certificate', code='KeyCredentialsInvalidKey') from None
        der = pki.cert_der(cert)
        result.append({
            'customKeyIdentifier': cred.get('customKeyIdentifier') or pki.sha1_thumbprint(der),
            'displayName': cred.get('displayName') or cert.subject.rfc4514_string(),
            'endDateTime': cred.get('endDateTime') or iso(cert.not_valid_after_utc),
            'key': base64.b64encode(der).decode('ascii'),
            'keyId': cred.get('keyId') or new_guid(),
            'startDateTime': cred.get('startDateTime') or iso(cert.not_valid_before_utc),
            'type': cred.get('type') or 'AsymmetricX509Cert',
            'usage': cred.get('usage') or 'Verify',
        })
    return result


def new_application(body, tenant_domain, unique_name=None):
    if not body.get('displayName'):
        raise bad_request("Invalid value specified for property 'displayName' of resource 'Application'.")
    app = {
        'id': new_guid(),
        'deletedDateTime': None,
        'api': _fill_complex('apiApplication', body.get('api')),
        'appId': new_guid(),
        'applicationTemplateId': None,
        'appRoles': [],
        'createdDateTime': now_iso(),
        'defaultRedirectUri': None,
        'description': None,
        'disabledByMicrosoftStatus': None,
        'displayName': None,
        'groupMembershipClaims': None,
        'identifierUris': [],
        'info': _fill_complex('informationalUrl', body.get('info')),
        'isDeviceOnlyAuthSupported': None,
        'isFallbackPublicClient': None,
        'keyCredentials': [],
        'notes': None,
        'oauth2RequirePostResponse': False,
        'passwordCredentials': [],
        'publicClient': _fill_complex('publicClientApplication', body.get('publicClient')),
        'publisherDomain': tenant_domain,
        'requiredResourceAccess': [],
        'samlMetadataUrl': None,
        'serviceManagementReference': None,
        'signInAudience': 'AzureADMyOrg',
        'spa': _fill_complex('spaApplication', body.get('spa')),
        'tags': [],
        'tokenEncryptionKeyId': None,
        'uniqueName': unique_name,
        'verifiedPublisher': _fill_complex('verifiedPublisher', None),
        'web': _fill_complex('webApplication', body.get('web')),
    }
    for name, value in body.items():
        if name.startswith('@odata.') or name in ('api', 'info', 'publicClient', 'spa', 'web'):
            continue
        if value is None and isinstance(app.get(name), list):
            continue
        app[name] = copy.deepcopy(value)
    app['keyCredentials'] = normalize_key_credentials(app['keyCredentials'])
    return app


def new_secret_text():
    head = ''.join(secrets.choice(string.ascii_letters + string.digits) for _index in range(3))
    tail = ''.join(secrets.choice(SECRET_ALPHABET) for _index in range(34))
    return head + '8Q~' + tail


def new_password_credential(params, secret_text=None, key_id=None):
    """Return the passwordCredential as addPassword answers it (secretText included)."""
    params = params or {}
    start = params.get('startDateTime') or now_iso()
    end = params.get('endDateTime')
    if end is None:
        end = iso(parse_iso(start) + datetime.timedelta(days=730))
    if parse_iso(end) <= parse_iso(start):
        raise GraphError(400, 'Request_BadRequest', 'Key credential end date is invalid.')
    secret_text = secret_text or new_secret_text()
    return {
        'customKeyIdentifier': params.get('customKeyIdentifier'),
        'displayName': params.get('displayName'),
        'endDateTime': end,
        'hint': secret_text[:3],
        'keyId': key_id or new_guid(),
        'secretText': secret_text,
        'startDateTime': start,
    }


def new_service_principal(source, tenant_id, body=None, first_party=False):
    """A service principal for an application object (or a first-party catalog entry)."""
    body = body or {}
    app_id = source['appId']
    display_name = source.get('displayName')
    if first_party:
        spns = list(source['servicePrincipalNames'])
        scopes = copy.deepcopy(source.get('oauth2PermissionScopes', []))
        owner = source.get('appOwnerOrganizationId')
        audience = 'AzureADMultipleOrgs'
    else:
        spns = [app_id] + list(source.get('identifierUris') or [])
        scopes = copy.deepcopy((source.get('api') or {}).get('oauth2PermissionScopes') or [])
        owner = tenant_id
        audience = source.get('signInAudience')
    sp = {
        'id': new_guid(),
        'deletedDateTime': None,
        'accountEnabled': True,
        'alternativeNames': [],
        'appDescription': source.get('description'),
        'appDisplayName': display_name,
        'appId': app_id,
        'applicationTemplateId': None,
        'appOwnerOrganizationId': owner,
        'appRoleAssignmentRequired': False,
        'appRoles': copy.deepcopy(source.get('appRoles') or []),
        'description': None,
        'disabledByMicrosoftStatus': None,
        'displayName': display_name,
        'homepage': None,
        'info': _fill_complex('informationalUrl', source.get('info')),
        'keyCredentials': [],
        'loginUrl': None,
        'logoutUrl': None,
        'notes': None,
        'notificationEmailAddresses': [],
        'oauth2PermissionScopes': scopes,
        'passwordCredentials': [],
        'preferredSingleSignOnMode': None,
        'preferredTokenSigningKeyThumbprint': None,
        'replyUrls': [],
        'servicePrincipalNames': spns,
        'servicePrincipalType': 'Application',
        'signInAudience': audience,
        'tags': [],
        'tokenEncryptionKeyId': None,
        'verifiedPublisher': _fill_complex('verifiedPublisher', None),
    }
    for name, value in body.items():
        if not name.startswith('@odata.') and name != 'appId':
            sp[name] = copy.deepcopy(value)
    return sp


def sync_service_principal(app, sp):
    """Properties a service principal mirrors from its application."""
    sp['appDisplayName'] = app.get('displayName')
    sp['appDescription'] = app.get('description')
    sp['appRoles'] = copy.deepcopy(app.get('appRoles') or [])
    sp['oauth2PermissionScopes'] = copy.deepcopy((app.get('api') or {}).get('oauth2PermissionScopes') or [])
    sp['signInAudience'] = app.get('signInAudience')
    names = [n for n in sp['servicePrincipalNames'] if n == app['appId']]
    sp['servicePrincipalNames'] = names + [u for u in app.get('identifierUris') or [] if u not in names]


def check_collection_keys(app):
    """Graph rejects duplicate ids inside appRoles / scopes / credentials."""
    for name, key in (('appRoles', 'id'), ('keyCredentials', 'keyId')):
        seen = set()
        for item in app.get(name) or []:
            if item.get(key) in seen:
                raise bad_request("Property '%s' has duplicate value for '%s'." % (name, key))
            seen.add(item.get(key))
    for role in app.get('appRoles') or []:
        if not role.get('id'):
            raise bad_request("Property 'appRoles' has an invalid value: 'id' is required.")
