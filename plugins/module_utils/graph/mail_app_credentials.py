# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mail app's client secrets and certificates (its passwordCredentials and keyCredentials in Graph), which the
collection manages: dates, rotation windows, certificate parsing, and the changes made without a lease: a certificate
set by PATCH, credentials removed by key id or name (a new client secret is secret_rotation.py's). How the collection
itself signs in is auth.py's SignInCredentials."""

import base64
import datetime
import os

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.handover import handover_document, write_handover

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

UTC = datetime.timezone.utc
# Microsoft recommends secrets shorter than 12 months; 180 days matches the portal's default choice.
DEFAULT_LIFETIME_DAYS = 180


def utcnow():
    return datetime.datetime.now(UTC)


def parse_graph_time(value):
    """Graph's DateTimeOffset (2026-01-31T10:00:00Z, with or without fractions) as an aware datetime."""
    if not value:
        return None
    text = value.replace('Z', '+00:00')
    if '.' in text:
        # Python before 3.11 accepts at most 6 fraction digits; Graph sends up to 7.
        head, rest = text.split('.', 1)
        digits = ''.join(ch for ch in rest if ch.isdigit())
        text = head + '.' + digits[:6].ljust(6, '0') + rest[len(digits):]
    parsed = datetime.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_graph_time(moment):
    return moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def requested_end(params, now):
    """The end date the new credential gets, from expires_in_days or end_date_time."""
    if params.get('end_date_time'):
        try:
            end = parse_graph_time(params['end_date_time'])
        except ValueError:
            raise ConfigError("end_date_time '%s' is not an ISO 8601 date and time, e.g. 2027-06-30T00:00:00Z"
                              % params['end_date_time'])
        if end <= now:
            raise ConfigError('end_date_time %s is in the past; give a future date' % params['end_date_time'])
        return end
    days = DEFAULT_LIFETIME_DAYS if params['expires_in_days'] is None else params['expires_in_days']
    if days <= 0:
        raise ConfigError('expires_in_days must be a positive number of days, got %s' % days)
    return now + datetime.timedelta(days=days)


def check_rotation_window(params, end, now):
    window = params['rotate_before_days']
    if window < 0:
        raise ConfigError('rotate_before_days must be 0 or more, got %s' % window)
    if end - now <= datetime.timedelta(days=window):
        raise ConfigError('the new credential would expire within rotate_before_days (%s days), so every run would add '
                          'another one: raise expires_in_days / end_date_time or lower rotate_before_days' % window)


def still_valid(credential, now, window_days):
    """True when the credential does not expire within the rotation window."""
    end = parse_graph_time(credential.get('endDateTime'))
    return end is not None and end - now > datetime.timedelta(days=window_days)


def older_than(credential, now, days):
    """True when the credential was created at least this many days ago."""
    start = parse_graph_time(credential.get('startDateTime'))
    return start is None or now - start >= datetime.timedelta(days=days)


def describe(credential):
    """What may be shown of a credential: never a value."""
    return dict(key_id=credential.get('keyId'), display_name=credential.get('displayName'),
                hint=credential.get('hint'), start_date_time=credential.get('startDateTime'),
                end_date_time=credential.get('endDateTime'))


def newest(credentials):
    return max(credentials, key=lambda c: parse_graph_time(c.get('endDateTime'))) if credentials else None


def load_certificate(data, source):
    """A public certificate from PEM or DER bytes (a PEM bundle with a private key is fine: only the certificate is read)."""
    if not HAS_CRYPTOGRAPHY:
        raise ConfigError('the python library cryptography is needed for type=certificate')
    try:
        if b'-----BEGIN CERTIFICATE-----' in data:
            return x509.load_pem_x509_certificate(data[data.index(b'-----BEGIN CERTIFICATE-----'):])
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError('%s is not a PEM or DER X.509 certificate' % source)


def certificate_key_credential(cert, display_name):
    """The keyCredential Graph stores for a certificate used to sign client assertions."""
    thumbprint = cert.fingerprint(hashes.SHA1())  # nosec - Entra ID identifies certificates by SHA-1 thumbprint
    return {
        'type': 'AsymmetricX509Cert',
        'usage': 'Verify',
        'key': base64.b64encode(cert.public_bytes(Encoding.DER)).decode('ascii'),
        'customKeyIdentifier': base64.b64encode(thumbprint).decode('ascii'),
        'displayName': display_name or cert.subject.rfc4514_string(),
        'startDateTime': format_graph_time(cert.not_valid_before_utc),
        'endDateTime': format_graph_time(cert.not_valid_after_utc),
    }, thumbprint.hex().upper()


def thumbprint_of(key_credential):
    """Hex SHA-1 thumbprint of a stored keyCredential (from customKeyIdentifier)."""
    ident = key_credential.get('customKeyIdentifier')
    if not ident:
        return None
    try:
        return base64.b64decode(ident).hex().upper()
    except (TypeError, ValueError):
        return None


def read_certificate(params):
    if params['certificate_path']:
        try:
            with open(params['certificate_path'], 'rb') as handle:
                return load_certificate(handle.read(), 'certificate_path %s' % params['certificate_path'])
        except (IOError, OSError) as exc:
            raise ConfigError('certificate_path %s cannot be read: %s' % (params['certificate_path'], exc.strerror or exc))
    text = params['certificate'].strip()
    data = text.encode('utf-8') if text.startswith('-----') else base64.b64decode(text)
    return load_certificate(data, 'certificate')


def ensure_certificate(module, client, app, result):
    params = module.params
    now = utcnow()
    cert = read_certificate(params)
    wanted, thumbprint = certificate_key_credential(cert, params['display_name'])
    result['thumbprint'] = thumbprint
    if parse_graph_time(wanted['endDateTime']) <= now:
        raise ConfigError('the certificate %s expired on %s; give a current certificate' % (thumbprint, wanted['endDateTime']))
    if not still_valid(wanted, now, params['rotate_before_days']):
        module.warn('certificate %s expires on %s, within rotate_before_days' % (thumbprint, wanted['endDateTime']))
    keys = app.get('keyCredentials') or []
    same_name = [k for k in keys if k.get('displayName') == wanted['displayName']]
    present = [k for k in keys if thumbprint_of(k) == thumbprint]
    keep = [k for k in keys if not (params['remove_old'] and k in same_name and thumbprint_of(k) != thumbprint)]
    if not present:
        keep.append(wanted)
    result['removed_key_ids'] = [k['keyId'] for k in keys if k not in keep]
    before = [describe(k) for k in same_name]
    after = [describe(k) for k in keep if k.get('displayName') == wanted['displayName']]
    result['diff'] = {'before': {'credentials': before}, 'after': {'credentials': after}}
    result['credentials'] = after
    if not present or result['removed_key_ids']:
        result['changed'] = True
        if not module.check_mode:
            # PATCH replaces the whole collection: send every key that stays, with its key material.
            client.patch('applications/%s' % app['id'], {'keyCredentials': keep}, retry_missing=True)
    current = present[0] if present else wanted
    result.update(key_id=current.get('keyId'), end_date_time=current.get('endDateTime'))
    if params['dest'] and (not present or not os.path.exists(params['dest'])):
        # No secret in it, so it can be written whenever the certificate changes or the file is missing.
        result['changed'] = True
        if not module.check_mode:
            write_handover(params, handover_document(module, app, certificate_thumbprint=thumbprint,
                                                     certificate_path=params['certificate_path'],
                                                     end_date_time=current.get('endDateTime')))
            result['dest'] = params['dest']


def ensure_absent(module, client, app, result):
    params = module.params
    if params['type'] == 'password':
        existing = app.get('passwordCredentials') or []
        matches = [c for c in existing if (c['keyId'] == params['key_id'] if params['key_id']
                                           else c.get('displayName') == params['display_name'])]
        for credential in matches:
            if not module.check_mode:
                client.post('applications/%s/removePassword' % app['id'], {'keyId': credential['keyId']}, retry_missing=True)
    else:
        existing = app.get('keyCredentials') or []
        thumbprint = certificate_key_credential(read_certificate(params), None)[1] \
            if params['certificate'] or params['certificate_path'] else None
        matches = [k for k in existing if (k['keyId'] == params['key_id'] if params['key_id'] else
                                           thumbprint_of(k) == thumbprint if thumbprint else
                                           k.get('displayName') == params['display_name'])]
        if matches and not module.check_mode:
            client.patch('applications/%s' % app['id'], {'keyCredentials': [k for k in existing if k not in matches]},
                         retry_missing=True)
    result['changed'] = bool(matches)
    result['removed_key_ids'] = [c['keyId'] for c in matches]
    result['diff'] = {'before': {'credentials': [describe(c) for c in matches]}, 'after': {'credentials': []}}
    result['credentials'] = []
