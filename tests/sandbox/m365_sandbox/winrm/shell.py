"""Shells and commands of the emulated host, and what a command line runs.

Only one kind of program really runs here: the collection's bootstrap, whose
stdin carries the runner script and its JSON payload; the payload goes to
the Exchange host. Any other command line fails the way PowerShell or cmd
would, with a non-zero exit code.
"""

import base64
import json
import re
import threading
import uuid
from xml.sax.saxutils import escape

from ..exchange.host import DropConnection

BOOTSTRAP_MARKER = '#m365.mail_oauth:bootstrap:1'
RUNNER_MARKER = '#m365.mail_oauth:runner:1'
_ENCODED_FLAG = re.compile(r'^-(e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)$',
                           re.I)


def clixml_error(message):
    """Stderr the way powershell.exe writes an error record for a remote caller."""
    text = escape(message).replace('\r', '').replace('\n', '_x000D__x000A_') + '_x000D__x000A_'
    return ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            '<S S="Error">%s</S></Objs>' % text).encode('utf-8')


def decode_command_line(command, arguments):
    """(program, script) where script is the decoded -EncodedCommand text or None."""
    words = (command + ' ' + ' '.join(arguments)).split()
    program = words[0] if words else ''
    for index, word in enumerate(words[:-1]):
        if _ENCODED_FLAG.match(word):
            try:
                return program, base64.b64decode(words[index + 1]).decode('utf-16-le')
            except (ValueError, UnicodeDecodeError):
                return program, None
    return program, None


class Command:
    def __init__(self, command_line, arguments):
        self.id = str(uuid.uuid4()).upper()
        self.command_line = command_line
        self.arguments = arguments
        self.stdin = bytearray()
        self.stdin_closed = False
        self.started = False
        self.done = threading.Event()
        self.stdout = b''
        self.stderr = b''
        self.exit_code = 0
        self.dropped = False
        self.delivered = False


class Shell:
    def __init__(self):
        self.id = str(uuid.uuid4()).upper()
        self.commands = {}


class ShellHost:
    """Every shell of one emulated host, and how its commands run."""

    def __init__(self, exchange_host, counters):
        self.exchange = exchange_host
        self.counters = counters
        self.lock = threading.Lock()
        self.shells = {}

    def create_shell(self):
        shell = Shell()
        with self.lock:
            self.shells[shell.id] = shell
        self.counters.bump('shells')
        return shell

    def shell(self, shell_id):
        with self.lock:
            return self.shells.get(shell_id)

    def delete_shell(self, shell_id):
        with self.lock:
            return self.shells.pop(shell_id, None)

    def start(self, command):
        """Run the command in the background once its input is complete."""
        with self.lock:
            if command.started:
                return
            command.started = True
        threading.Thread(target=self._run, args=(command,), daemon=True, name='winrm-command-' + command.id[:8]).start()

    def _run(self, command):
        try:
            command.stdout, command.stderr, command.exit_code = self.execute(command.command_line, command.arguments, bytes(command.stdin))
        except DropConnection:
            command.dropped = True
        except Exception as exc:  # pylint: disable=broad-except
            command.stdout, command.stderr, command.exit_code = b'', clixml_error('Emulated host failure: %r' % (exc,)), 1
        finally:
            command.done.set()

    def execute(self, command_line, arguments, stdin):
        """(stdout, stderr, exit code) of one command line."""
        self.counters.bump('commands')
        program, script = decode_command_line(command_line, arguments)
        if script is None:
            self.counters.bump('unrecognised')
            name = program or command_line
            return b'', ("'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n" % name).encode(), 1
        if script.lstrip().startswith(BOOTSTRAP_MARKER):
            return self._bootstrap(stdin)
        self.counters.bump('unrecognised')
        first = script.strip().splitlines()[0][:120] if script.strip() else ''
        return b'', clixml_error('The emulated Windows host only runs the m365.mail_oauth bootstrap; got a script starting with: %s' % first), 1

    def _bootstrap(self, stdin):
        lines = [line.strip() for line in stdin.decode('ascii', errors='replace').splitlines() if line.strip()]
        if len(lines) < 2:
            return b'', clixml_error('Cannot index into a null array.'), 1
        try:
            script = base64.b64decode(lines[0]).decode('utf-8')
            payload = json.loads(base64.b64decode(lines[1]).decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            return b'', clixml_error('Exception calling "FromBase64String" with "1" argument(s): "%s"' % exc), 1
        if not script.startswith(RUNNER_MARKER):
            return b'', clixml_error('The runner script does not carry the expected marker %s' % RUNNER_MARKER), 1
        self.counters.bump('bootstraps')
        result = self.exchange.run_payload(payload)
        return json.dumps(result, separators=(',', ':')).encode('utf-8') + b'\r\n', b'', 0
