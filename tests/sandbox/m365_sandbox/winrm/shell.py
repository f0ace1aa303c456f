"""Shells and commands of the emulated Windows host: PowerShell command lines run in real pwsh.

A command line with -EncodedCommand (what ansible's winrm plugin and pywinrm's
run_ps send) runs as `pwsh -NoProfile -NonInteractive -EncodedCommand <same
base64>` with the command's stdin piped through, in the environment of
host_env.WindowsHostDisk: the fake ExchangeOnlineManagement module on
PSModulePath, the sandbox CA trusted, and the command's id for the sandbox's
REST side. Other command lines (cmd.exe programs) fail as cmd would.
"""

import base64
import os
import re
import signal
import subprocess
import threading
import uuid
from xml.sax.saxutils import escape

from ..pwsh import find_pwsh

BOOTSTRAP_PREFIX = '#m365.mail_oauth:bootstrap:'
_ENCODED_FLAG = re.compile(r'^-(e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)$',
                           re.I)
_POWERSHELL = re.compile(r'(^|[\\/])(powershell|pwsh)(\.exe)?$', re.I)
# A command that outlives this many seconds is killed (no real run needs it; a hung pwsh must not stay behind).
COMMAND_TIMEOUT = 900


def clixml_error(message):
    """Stderr the way powershell.exe writes an error record for a remote caller."""
    text = escape(message).replace('\r', '').replace('\n', '_x000D__x000A_') + '_x000D__x000A_'
    return ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            '<S S="Error">%s</S></Objs>' % text).encode('utf-8')


def decode_command_line(command, arguments):
    """(program, script, encoded) where script is the decoded -EncodedCommand text (or None) and encoded its base64."""
    words = (command + ' ' + ' '.join(arguments)).split()
    program = words[0] if words else ''
    for index, word in enumerate(words[:-1]):
        if _ENCODED_FLAG.match(word):
            encoded = words[index + 1]
            try:
                return program, base64.b64decode(encoded).decode('utf-16-le'), encoded
            except (ValueError, UnicodeDecodeError):
                return program, None, None
    return program, None, None


class Command:
    def __init__(self, command_line, arguments):
        self.id = str(uuid.uuid4()).upper()
        self.command_line = command_line
        self.arguments = arguments
        self.stdin = bytearray()
        self.stdin_closed = False
        self.started = False
        self.done = threading.Event()
        # What the program wrote to stdout so far, and how much of it Receive has handed out.
        self.output = bytearray()
        self.sent = 0
        self.changed = threading.Condition()
        self.stderr = b''
        self.exit_code = 0
        self.dropped = False
        self.delivered = False
        self.process = None
        self.killed = False

    def append(self, chunk):
        with self.changed:
            self.output.extend(chunk)
            self.changed.notify_all()

    def finish(self):
        with self.changed:
            self.done.set()
            self.changed.notify_all()

    def take(self, timeout):
        """(new stdout, done) once there is new output or the program ended; (None, False) when neither within timeout."""
        with self.changed:
            if not self.changed.wait_for(lambda: self.done.is_set() or len(self.output) > self.sent, timeout):
                return None, False
            chunk = bytes(self.output[self.sent:])
            self.sent = len(self.output)
            return chunk, self.done.is_set()


class Shell:
    def __init__(self):
        self.id = str(uuid.uuid4()).upper()
        self.commands = {}


def _feed(pipe, data):
    try:
        pipe.write(data)
    except (BrokenPipeError, ValueError, OSError):
        pass  # the program ended (or was killed) before reading all of its stdin
    finally:
        try:
            pipe.close()
        except (BrokenPipeError, OSError):
            pass


def _kill(process):
    """SIGKILL the whole process group (the pwsh wrapper script and pwsh itself)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class ShellHost:
    """Every shell of one emulated host, and how its commands run."""

    def __init__(self, exchange_host, counters, disk=None):
        self.exchange = exchange_host
        self.counters = counters
        self.disk = disk
        self.lock = threading.Lock()
        self.shells = {}
        self.running = {}
        self.stopped = False
        exchange_host.drop_command = self.drop

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
            shell = self.shells.pop(shell_id, None)
        for command in list(shell.commands.values()) if shell else []:
            self.terminate(command)
        return shell

    def start(self, command):
        """Run the command in the background once its input is complete."""
        with self.lock:
            if command.started:
                return
            command.started = True
        threading.Thread(target=self._run, args=(command,), daemon=True, name='winrm-command-' + command.id[:8]).start()

    def terminate(self, command):
        """Signal (terminate/ctrl_c) or Delete: the program is killed, as WinRM ends its process."""
        command.killed = True
        process = command.process
        if process is not None:
            _kill(process)

    def drop(self, command_id):
        """The REST side lost a write of this command: kill it and drop its WinRM connection."""
        with self.lock:
            command = self.running.get(command_id)
        if command is not None:
            command.dropped = True
            self.terminate(command)

    def stop(self):
        """The sandbox stops: no pwsh stays behind."""
        with self.lock:
            self.stopped = True
            commands = list(self.running.values())
        for command in commands:
            self.terminate(command)

    def _run(self, command):
        try:
            command.stderr, command.exit_code = self.execute(command)
        except Exception as exc:  # pylint: disable=broad-except
            command.stderr, command.exit_code = clixml_error('Emulated host failure: %r' % (exc,)), 1
        finally:
            command.finish()

    def execute(self, command):
        """(stderr, exit code) of one command; its stdout goes to command.append as the program writes it."""
        self.counters.bump('commands')
        program, script, encoded = decode_command_line(command.command_line, command.arguments)
        if script is None or not _POWERSHELL.search(program):
            self.counters.bump('unrecognised')
            name = program or command.command_line
            return ("'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n" % name).encode(), 1
        if script.lstrip().startswith(BOOTSTRAP_PREFIX):
            self.counters.bump('bootstraps')
            self.exchange.counters.add('round_trips')
        self.exchange.latency('round_trip')
        pwsh = find_pwsh()
        if pwsh is None:
            return clixml_error('The emulated Windows host has no PowerShell: pwsh was not found (set PWSH).'), 1
        env = self.disk.environment(command.id, self.exchange.faults.module_version)
        with self.lock:
            if self.stopped or command.killed:
                return b'', 1
            command.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [pwsh, '-NoProfile', '-NonInteractive', '-EncodedCommand', encoded], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=env, cwd=self.disk.root, start_new_session=True)
            self.running[command.id] = command
        process = command.process
        errors = []
        helpers = [threading.Thread(target=_feed, args=(process.stdin, bytes(command.stdin)), daemon=True),
                   threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)]
        for helper in helpers:
            helper.start()
        timer = threading.Timer(COMMAND_TIMEOUT, _kill, args=(process,))
        timer.daemon = True
        timer.start()
        try:
            # stdout as it comes, so that Receive can hand it out while the program runs.
            while True:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                command.append(chunk)
            process.wait()
            for helper in helpers:
                helper.join(5)
        finally:
            timer.cancel()
            _kill(process)
            process.stdout.close()
            process.stderr.close()
            with self.lock:
                self.running.pop(command.id, None)
        return b''.join(errors), process.returncode
