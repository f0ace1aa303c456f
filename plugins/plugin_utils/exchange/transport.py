# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a PowerShell script on the task's host in one round trip.

The command line carries only a short bootstrap; the script and its data go
on stdin through the task's own connection (winrm, psrp, or ssh to a host
with PowerShell), so delegate_to works and secrets stay off command lines.
"""

import base64
import contextlib
import json
import re

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import PowerShellTransportError

# What Windows PowerShell accepts for -EncodedCommand through WinRM (the
# script text before UTF-16 + base64), with margin.
MAX_BOOTSTRAP_CHARS = 3000
_CLIXML_HEADER = '#< CLIXML'
_CLIXML_STRING = re.compile(r'<S S="Error">(.*?)</S>', re.S)
_CLIXML_ESCAPE = re.compile(r'_x([0-9a-fA-F]{4})_')
# pwsh 7 colours error records even when redirected (the bootstrap turns
# $PSStyle off, but an error before that line, or from the shell itself, still
# carries them): strip them here, the one place stderr becomes text.
_ANSI = re.compile(r'\x1b\[[0-9;?]*[ -/]*[@-~]')
_AUTH_FAILURE = re.compile(r'credentials were rejected|\b401\b|unauthori[sz]ed|authentication failed|permission denied', re.I)


def _clixml_unescape(text):
    text = _CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.replace('&lt;', '<').replace('&gt;', '>').replace('&quot;', '"').replace('&apos;', "'").replace('&amp;', '&')


def clean_stderr(stderr):
    """Turn CLIXML error records into plain text; leave other text alone."""
    text = to_text(stderr or '', errors='surrogate_or_replace')
    if _CLIXML_HEADER in text:
        parts = [_clixml_unescape(m) for m in _CLIXML_STRING.findall(text)]
        text = ''.join(parts) if parts else text
    return _ANSI.sub('', text).replace('\r\n', '\n').strip()


def is_powershell_shell(connection):
    shell = getattr(connection, '_shell', None)
    return getattr(shell, 'SHELL_FAMILY', None) == 'powershell'


def encode_command(connection, script, interpreter=None):
    """The command line that runs ``script`` (a short bootstrap) on the host.

    With a PowerShell shell plugin (winrm, psrp, ssh to Windows) the shell
    builds it, so the connection recognises its own -EncodedCommand form and
    does not wrap it again. Any other shell (ssh to Linux) gets an explicit
    ``pwsh -EncodedCommand``.
    """
    if len(script) > MAX_BOOTSTRAP_CHARS:
        raise PowerShellTransportError('internal error: the bootstrap is %d characters, more than %d' % (len(script), MAX_BOOTSTRAP_CHARS))
    if interpreter is None and is_powershell_shell(connection):
        return connection._shell._encode_script(script, as_list=False, strict_mode=False, preserve_rc=False)
    encoded = to_text(base64.b64encode(script.encode('utf-16-le')))
    return '%s -NoProfile -NonInteractive -EncodedCommand %s' % (interpreter or 'pwsh', encoded)


def parse_json_output(stdout, stderr='', rc=0):
    """Find the one JSON object the script printed; stray lines around it are ignored."""
    text = to_text(stdout or '', errors='surrogate_or_replace')
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line.startswith('{'):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    detail = clean_stderr(stderr) or text.strip()
    raise PowerShellTransportError(
        'The PowerShell host returned no JSON result (rc=%s): %s' % (rc, detail[:2000] or 'no output'),
        rc=rc, stderr=clean_stderr(stderr))


def _describe_connection(connection):
    transport = getattr(connection, 'transport', None) or type(connection).__module__.rsplit('.', 1)[-1]
    host = None
    get_option = getattr(connection, 'get_option', None)
    if get_option is not None:
        try:
            host = get_option('remote_addr')
        except (KeyError, AnsibleError):
            host = None
    return transport, host


def can_stream(connection):
    """Whether the connection hands a command's output over while it runs: ansible.builtin.winrm reads it in WinRM
    Receive calls as the host produces it (MS-WSMV 3.1.4.14); psrp, ssh and local return it only at the end."""
    return callable(getattr(connection, '_winrm_get_raw_command_output', None))


@contextlib.contextmanager
def _watching(connection, on_output):
    """Pass each piece of stdout to on_output as the winrm connection receives it, for this command only.

    It wraps the plugin's per-Receive method on this one connection object (a private method: when a later
    ansible-core lacks it, can_stream says no and nothing is wrapped). on_output never breaks the run.
    """
    if on_output is None or not can_stream(connection):
        yield
        return
    name = '_winrm_get_raw_command_output'
    own = vars(connection).get(name)
    original = getattr(connection, name)

    def receive(*args, **kwargs):
        answer = original(*args, **kwargs)
        try:
            on_output(answer[0])
        except Exception:  # pylint: disable=broad-except
            pass  # progress is a courtesy; the command's own output is what counts
        return answer

    setattr(connection, name, receive)
    try:
        yield
    finally:
        if own is None:
            delattr(connection, name)
        else:
            setattr(connection, name, own)


def execute(action, script, in_data, interpreter=None, on_output=None):
    """Run ``script`` on the task's host with ``in_data`` on stdin; return (rc, stdout, stderr).

    ``action`` is an ActionBase (or anything with ``_connection`` and
    ``_low_level_execute_command``). ``on_output`` gets stdout piece by piece
    while the command runs, where the connection can (can_stream). Transport failures become
    PowerShellTransportError; ``unreachable`` tells the caller to report
    the host unreachable rather than the task failed.
    """
    command = encode_command(action._connection, script, interpreter=interpreter)
    transport, host = _describe_connection(action._connection)
    where = '%s over %s' % (host, transport) if host else 'the host over %s' % transport
    try:
        with _watching(action._connection, on_output):
            res = action._low_level_execute_command(command, sudoable=False, in_data=in_data)
    except AnsibleConnectionFailure as exc:
        message = to_text(exc)
        if _AUTH_FAILURE.search(message):
            raise PowerShellTransportError('Authentication to %s failed: %s' % (where, message), unreachable=True)
        raise PowerShellTransportError('Cannot reach %s: %s' % (where, message), unreachable=True)
    except AnsibleError as exc:
        raise PowerShellTransportError('Running PowerShell on %s failed: %s' % (where, to_text(exc)))
    except Exception as exc:  # pylint: disable=broad-except
        # Connection plugins let their library's errors through (requests'
        # ConnectionError when the host drops the connection mid-run): the
        # runner may have done part of its writes, so say so.
        raise PowerShellTransportError('The connection to %s broke while PowerShell was running (%s: %s); changes may be partly applied, '
                                       'run again to converge' % (where, type(exc).__name__, to_text(exc)), unreachable=True)
    return res.get('rc'), res.get('stdout', ''), res.get('stderr', '')


def run_json(action, script, in_data, interpreter=None, on_output=None):
    """One round trip: run the script and return the JSON object it printed (lines before it are ignored)."""
    rc, stdout, stderr = execute(action, script, in_data, interpreter=interpreter, on_output=on_output)
    if rc == 127 and not stdout.strip():
        # A POSIX shell's "command not found": no PowerShell where the task looks (an EE image without it).
        raise PowerShellTransportError('PowerShell (%s) is not installed on the Exchange host, or not on its PATH: install PowerShell 7 and '
                                       'ExchangeOnlineManagement there (docs/awx.md) or set powershell_interpreter to its path (%s)'
                                       % (interpreter or 'pwsh', clean_stderr(stderr).strip()))
    result = parse_json_output(stdout, stderr, rc)
    if stderr:
        result.setdefault('_stderr', clean_stderr(stderr))
    return result
