# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a secret to disk: owner-only from the first byte, and atomically."""

import os
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


def write_private_file(path, content):
    """Write content to path with mode 0600; readers see the old file or the new one, never a part."""
    check_destination(path)
    directory = os.path.dirname(os.path.abspath(path))
    # mkstemp creates the file 0600, so the value is never readable by others, not even for a moment.
    handle, tmp_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
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
