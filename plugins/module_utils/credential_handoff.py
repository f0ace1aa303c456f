# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets handed to a Graph module in a private file instead of its arguments.

ansible-core prints a module's arguments, no_log or not, with ANSIBLE_DEBUG=1 ("done with _execute_module (name,
args)" in plugins/action/__init__.py), and keeps them in the module file it leaves behind with
ANSIBLE_KEEP_REMOTE_FILES=1. The module's environment is no way round that: ansible-core puts it on the command line
it runs, which -vvv shows and ANSIBLE_DEBUG prints ("_low_level_execute_command(): executing: ...").
So the collection's action plugin in front of each Graph module (plugin_utils/credential_action.py) writes the
secret options to a 0600 file in the task's private temporary directory and passes the module only a reference
to it; the module reads the file and removes it before it does anything else (resolve below).
"""

import json
import os
import re
import stat

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

# What a reference looks like in a secret option: the prefix, then the file's absolute path.
REFERENCE_PREFIX = 'm365-credential-file:'
FILE_RE = re.compile(r'^m365-credentials-[0-9a-f]{32}\.json$')


def file_name(token_hex):
    return 'm365-credentials-%s.json' % token_hex


def reference(path):
    return REFERENCE_PREFIX + path


def payload(secrets):
    """The file's content: {option: value} (values as text, as the modules' str options take them)."""
    return json.dumps(dict((name, value if isinstance(value, str) else str(value)) for name, value in secrets.items()))


def _referenced_path(params, secret_options):
    paths = set(params[name][len(REFERENCE_PREFIX):] for name in secret_options
                if isinstance(params.get(name), str) and params[name].startswith(REFERENCE_PREFIX))
    if len(paths) > 1:
        raise ConfigError('the secret options name different credential files; pass the secrets themselves')
    return paths.pop() if paths else None


def resolve(params, secret_options):
    """Replace references in params by the secrets in the file they name, and remove the file.

    Only a file the action plugin writes is accepted: an absolute path with its name pattern, a regular file (not a
    link) of this process's user, readable by no one else. Returns the secrets read ({} when there was no reference).
    """
    path = _referenced_path(params, secret_options)
    if path is None:
        return {}
    if not (os.path.isabs(path) and FILE_RE.match(os.path.basename(path))):
        raise ConfigError('%s is not a credential file of this collection; pass the secret itself' % path)
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise ConfigError('credential file %s cannot be read (%s): the task passes secrets through '
                          'the action plugin m365.mail_oauth.* only, run it under that name' % (path, exc.strerror))
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise ConfigError('credential file %s is not a private (0600) file of this user: refused; run the Graph '
                          'modules without become so that the action and the module are the same user' % path)
    try:
        with open(path) as handle:
            secrets = json.load(handle)
    finally:
        os.unlink(path)
    for name in secret_options:
        if isinstance(params.get(name), str) and params[name].startswith(REFERENCE_PREFIX):
            if name not in secrets:
                raise ConfigError('credential file %s lacks %s' % (path, name))
            params[name] = secrets[name]
    return secrets


# Secrets an AWX credential injects as files, the variable naming the file (extensions/awx/credential_type.yml):
# a secret in an environment variable is in every process of the job and in the artifacts ansible-runner writes for
# a containerized job (artifacts/<job>/command and env.list hold the job's whole environment).
ENV_SECRET_FILES = {
    'client_secret': 'M365_CLIENT_SECRET_FILE',
    'client_certificate_password': 'M365_CLIENT_CERTIFICATE_PASSWORD_FILE',
}


def secret_from_env_file(option, environ):
    """The secret in the file that ENV_SECRET_FILES[option] names, without its line end; None when unset or empty."""
    variable = ENV_SECRET_FILES.get(option)
    path = environ.get(variable) if variable else None
    if not path:
        return None
    try:
        with open(path) as handle:
            value = handle.read().rstrip('\r\n')
    except (IOError, OSError) as exc:
        raise ConfigError('%s names %s, which cannot be read: %s' % (variable, path, exc.strerror or exc))
    return value or None
