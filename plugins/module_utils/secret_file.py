# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a secret to disk: owner-only from the first byte, and atomically."""

import os
import tempfile

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError


def check_destination(path, option='dest'):
    """Fail before anything is created when the secret could not be written afterwards."""
    directory = os.path.dirname(os.path.abspath(path)) or '.'
    if not os.path.isdir(directory):
        raise ConfigError('%s %s: the directory %s does not exist; create it first (mode 0700)' % (option, path, directory))
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
