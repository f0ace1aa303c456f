# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a secret to disk: owner-only from the first byte, and atomically."""

import hashlib
import os
import re
import socket
import stat
import tempfile

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError


def trusted_directory(directory):
    """None when only this user (or root) can put files into directory; else why not.

    Another user who can create files there could swap the handover file or plant a <dest>.pending marker.
    A sticky directory (like /tmp) lets others create files but not replace ours; a marker there is still only
    trusted when this user owns it.
    """
    info = os.stat(directory)
    if info.st_uid not in (os.geteuid(), 0):
        return 'the directory %s is owned by uid %d, not by this user' % (directory, info.st_uid)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
        return 'the directory %s is writable by other users (mode %04o) and has no sticky bit' % (directory, stat.S_IMODE(info.st_mode))
    return None


def check_destination(path, option='dest'):
    """Fail before anything is created when the secret could not be written afterwards."""
    directory = os.path.dirname(os.path.abspath(path)) or '.'
    if not os.path.isdir(directory):
        raise ConfigError('%s %s: the directory %s does not exist; create it first (mode 0700)' % (option, path, directory))
    problem = trusted_directory(directory)
    if problem:
        raise ConfigError('%s %s: %s, so another user could replace the secret file or plant a .pending marker; use a directory '
                          'only this user can write (chmod 0700 %s)' % (option, path, problem, directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError('%s %s: the directory %s is not writable by this user' % (option, path, directory))
    if os.path.isdir(path):
        raise ConfigError('%s %s is a directory; give a file path' % (option, path))


def process_start(pid):
    """The start time of process pid (clock ticks since boot), or None: a pid with another start is another process."""
    try:
        with open('/proc/%d/stat' % pid, 'r') as handle:
            return handle.read().rsplit(')', 1)[1].split()[19]
    except (IOError, OSError, IndexError):
        return None


def _running(pid, start):
    if start != 'x':
        return process_start(pid) == start
    # No /proc (a macOS controller): the pid alone, so a reused pid keeps a leftover rather than removing a live file.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _host_tag():
    # The directory may be shared by controllers (NFS): only this host can tell whether one of its processes is gone.
    return hashlib.sha256(socket.gethostname().encode('utf-8')).hexdigest()[:8]


def _temporary_prefix(path):
    return '.%s.' % os.path.basename(path)


def remove_stale_temporaries(path):
    """Remove the temporary files a killed writer of path left (SIGKILL or a power cut between create and rename).

    Each temporary name carries its writer's host, pid and process start; only files of this user, written on this
    host by a process that no longer runs, are removed, so a run that is writing right now is never disturbed.
    Returns the names removed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(r'^%s([0-9a-f]{8})-(\d+)-(\d+|x)\.[A-Za-z0-9_]+$' % re.escape(_temporary_prefix(path)))
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in sorted(names):
        match = pattern.match(name)
        if not match or match.group(1) != _host_tag():
            continue
        full = os.path.join(directory, name)
        try:
            info = os.lstat(full)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
                continue
            if _running(int(match.group(2)), match.group(3)):
                continue
            os.unlink(full)
            removed.append(name)
        except OSError:
            continue
    return removed


def write_private_file(path, content):
    """Write content to path with mode 0600; readers see the old file or the new one, never a part."""
    check_destination(path)
    remove_stale_temporaries(path)
    directory = os.path.dirname(os.path.abspath(path))
    # mkstemp creates the file 0600, so the value is never readable by others, not even for a moment. Its name says
    # who writes it, so the next run can remove it if this process is killed before the rename.
    writer = '%s-%d-%s.' % (_host_tag(), os.getpid(), process_start(os.getpid()) or 'x')
    handle, tmp_path = tempfile.mkstemp(prefix=_temporary_prefix(path) + writer, dir=directory)
    try:
        with os.fdopen(handle, 'wb') as tmp:
            tmp.write(content.encode('utf-8') if not isinstance(content, bytes) else content)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_path, 0o600)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
