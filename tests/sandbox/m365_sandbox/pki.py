"""Throwaway key material: a CA, the loopback server certificate, the token
signing key and self-signed client certificates.

EC keys where nobody cares about the algorithm (fast); RSA where Entra ID
insists on it (token signing, client certificates for RS256 assertions).
"""

import base64
import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def private_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def sha1_thumbprint(der):
    return hashlib.sha1(der).hexdigest().upper()  # nosec - certificate thumbprints are SHA-1 by definition


def sha256_thumbprint(der):
    return hashlib.sha256(der).hexdigest().upper()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now() - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name('m365 sandbox throwaway CA'))
        .issuer_name(_name('m365 sandbox throwaway CA'))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(ca_key, ca_cert, hostnames):
    key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for host in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    start = _now() - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hostnames[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=29))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def make_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_client_cert(common_name, days=365, key=None):
    """Self-signed RSA certificate as Entra ID app credentials usually are."""
    key = key or make_rsa_key()
    start = _now() - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def rsa_jwk(public_key, kid, cert=None):
    numbers = public_key.public_numbers()

    def _int(value):
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, 'big'))

    jwk = {'kty': 'RSA', 'use': 'sig', 'kid': kid, 'n': _int(numbers.n), 'e': _int(numbers.e)}
    if cert is not None:
        der = cert_der(cert)
        jwk['x5t'] = b64url(hashlib.sha1(der).digest())  # nosec - x5t is SHA-1 by definition (RFC 7517)
        jwk['x5c'] = [base64.b64encode(der).decode('ascii')]
    return jwk


def write_private(path, data):
    """Write a file only the owner can read (it holds key material)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def write_public(path, data):
    with open(path, 'wb') as handle:
        handle.write(data)


def load_certificate(data):
    """Parse a certificate given as DER or PEM bytes; raises ValueError."""
    if b'-----BEGIN' in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)
