"""Basic and NTLM authentication, and NTLM message encryption, as WinRM does them.

NTLM authenticates the TCP connection, not a request: the handler keeps one
NtlmConnection per connection. pyspnego's acceptor reads users from the file
named by NTLM_USER_FILE (process wide), so every emulator in the process
shares one file holding the union of their users.
"""

import base64
import os
import struct
import tempfile
import threading

import spnego

PROTOCOL = b'application/HTTP-SPNEGO-session-encrypted'
BOUNDARY = b'--Encrypted Boundary'
CONTENT_TYPE = 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'

_user_lock = threading.Lock()
_all_users = {}
_state = {'path': None}


def register_users(users):
    """Add users to the NTLM credential file and point NTLM_USER_FILE at it."""
    with _user_lock:
        _all_users.update(users)
        if _state['path'] is None:
            handle, _state['path'] = tempfile.mkstemp(prefix='m365-winrm-ntlm-', suffix='.txt')
            os.close(handle)
        lines = []
        for name, password in sorted(_all_users.items()):
            domain, _sep, user = name.rpartition('\\')
            lines.append('%s:%s:%s' % (domain, user, password))
        with open(_state['path'], 'w', encoding='utf-8') as handle:
            handle.write('\n'.join(lines) + '\n')
        os.environ['NTLM_USER_FILE'] = _state['path']


def check_basic(header_value, users):
    """The user name when the Basic credentials match, else None."""
    try:
        decoded = base64.b64decode(header_value.strip()).decode('utf-8')
    except (ValueError, UnicodeDecodeError):
        return None
    name, _sep, password = decoded.partition(':')
    for known, secret in users.items():
        if known.lower() == name.lower() and secret == password:
            return known
    return None


class NtlmConnection:
    """The server side of one NTLM-authenticated connection."""

    def __init__(self):
        self.context = spnego.server(protocol='ntlm', service='http')
        self.complete = False

    def step(self, token):
        out = self.context.step(token)
        self.complete = self.context.complete
        return out

    @property
    def user(self):
        return self.context.client_principal if self.complete else None

    def decrypt(self, body):
        """The SOAP text inside a multipart/encrypted body."""
        parts = [p for p in body.split(BOUNDARY + b'\r\n') if p]
        message = b''
        for index in range(0, len(parts) - 1, 2):
            header, payload = parts[index].strip(), parts[index + 1]
            expected = int(header.split(b'Length=')[1].split(b'\r\n')[0])
            if payload.endswith(BOUNDARY + b'--\r\n'):
                payload = payload[:-len(BOUNDARY + b'--\r\n')]
            data = payload.replace(b'\tContent-Type: application/octet-stream\r\n', b'', 1)
            signature_length = struct.unpack('<i', data[:4])[0]
            signature = data[4:4 + signature_length]
            sealed = data[4 + signature_length:]
            plain = self.context.unwrap(signature + sealed).data
            if len(plain) != expected:
                raise ValueError('decrypted length %d does not match %d' % (len(plain), expected))
            message += plain
        return message

    def encrypt(self, message):
        wrapped = self.context.wrap(message, encrypt=True).data
        signature, sealed = wrapped[:16], wrapped[16:]
        return (BOUNDARY + b'\r\n'
                + b'\tContent-Type: ' + PROTOCOL + b'\r\n'
                + b'\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=' + str(len(message)).encode() + b'\r\n'
                + BOUNDARY + b'\r\n'
                + b'\tContent-Type: application/octet-stream\r\n'
                + struct.pack('<i', len(signature)) + signature + sealed
                + BOUNDARY + b'--\r\n')
