# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse a WinRM/PSRP connection that would send the Windows password and the Exchange token in clear.

Basic authentication over plain http sends the password base64-encoded and the whole session (the Exchange
access token or certificate password on stdin included) unencrypted; NTLM, Kerberos and CredSSP encrypt the
messages even over http. Disabled certificate checks over https are allowed, with a warning.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

# Transports that authenticate with the password in clear and leave the messages unencrypted.
_CLEAR_TRANSPORTS = ('basic', 'plaintext')


def _option(connection, name):
    try:
        return connection.get_option(name)
    except (KeyError, AttributeError):
        return None
    except Exception:  # pylint: disable=broad-except
        # An option the plugin does not have.
        return None


def _winrm(connection):
    port = _option(connection, 'port')
    scheme = _option(connection, 'scheme') or ('http' if str(port) == '5985' else 'https')
    transports = _option(connection, 'transport') or []
    if isinstance(transports, str):
        transports = [t.strip() for t in transports.split(',')]
    if not transports or transports[0] is None:
        user = _option(connection, 'remote_user') or ''
        transports = ['kerberos'] if '@' in user else ['ssl' if scheme == 'https' else 'plaintext']
    extras = _option(connection, '_extras') or {}
    validation = str(extras.get('ansible_winrm_server_cert_validation', 'validate')).lower()
    return scheme, [str(t).lower() for t in transports], validation == 'ignore', 'ansible_winrm_transport', \
        'ansible_winrm_server_cert_validation=ignore'


def _psrp(connection):
    protocol, port = _option(connection, 'protocol'), _option(connection, 'port')
    if protocol is None:
        protocol = 'http' if port is not None and str(port) == '5985' else 'https'
    auth = str(_option(connection, 'auth') or 'negotiate').lower()
    validation = _option(connection, 'cert_validation')
    return protocol, [auth], str(validation).lower() in ('ignore', 'false'), 'ansible_psrp_auth', \
        'ansible_psrp_cert_validation=ignore'


def transport_problems(connection, allow_insecure):
    """(error or None, warnings) for the task's connection; only winrm and psrp are judged."""
    name = getattr(connection, '_load_name', '') or getattr(connection, 'transport', '') or ''
    name = name.rsplit('.', 1)[-1]
    if name == 'winrm':
        scheme, transports, no_checks, transport_var, ignore_var = _winrm(connection)
    elif name == 'psrp':
        scheme, transports, no_checks, transport_var, ignore_var = _psrp(connection)
    else:
        return None, []
    warnings = []
    clear = scheme == 'http' and any(t in _CLEAR_TRANSPORTS for t in transports)
    if clear and not allow_insecure:
        return ('the %s connection uses Basic authentication over plain http (%s=%s): the Windows password and the '
                'Exchange Online token would travel unencrypted. Use https (port 5986) or NTLM/Kerberos/CredSSP, which '
                'encrypt the messages; to accept the risk on an isolated network set allow_insecure_transport=true '
                '(role: mailbox_access_winrm_allow_insecure=true)' % (name, transport_var, ','.join(transports))), warnings
    if clear:
        warnings.append('allow_insecure_transport=true: the %s connection sends the Windows password and the Exchange '
                        'Online token unencrypted (Basic over plain http)' % name)
    if no_checks and scheme == 'https':
        warnings.append('%s: the certificate of the Windows host is not verified, so whoever answers gets the Windows '
                        'password and the Exchange Online token; trust the host\'s CA instead' % ignore_var)
    return None, warnings


def check_transport(connection, allow_insecure, warn):
    """Raise ConfigError for a clear-text connection; warn(msg) about what is only risky."""
    error, warnings = transport_problems(connection, allow_insecure)
    if error:
        raise ConfigError(error)
    for message in warnings:
        warn(message)
