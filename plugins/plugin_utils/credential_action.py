# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action in front of each Graph module: its secret options travel in a 0600 file, not in its arguments.

ansible-core prints a module's arguments with ANSIBLE_DEBUG=1 whatever no_log says, and leaves them in the module
file with ANSIBLE_KEEP_REMOTE_FILES=1; the environment of the module process is on the command line that -vvv shows.
A file in the task's temporary directory (which ansible-core creates readable by its user only) is none of those:
it is written with put_file (never displayed), made 0600, named to the module by a reference, and removed by the
module when it reads it (module_utils/credential_handoff.py), or by this action if the module never ran.
"""

import secrets

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.m365.mail_oauth.plugins.module_utils import credential_handoff

# Every no_log option of the Graph modules (tests/unit/plugins/plugin_utils/test_credential_action.py checks this).
SECRET_OPTIONS = ('client_secret', 'client_certificate_password', 'access_token', 'vault_password')


class CredentialHandoffAction(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(CredentialHandoffAction, self).run(tmp, task_vars)
        del tmp
        wrap_async = self._task.async_val and not self._connection.has_native_async
        args = dict(self._task.args)
        handed = dict((name, args[name]) for name in SECRET_OPTIONS if args.get(name) not in (None, ''))
        path = None
        try:
            if handed:
                if self._connection._shell.tmpdir is None:
                    self._make_tmp_path()
                path = self._connection._shell.join_path(self._connection._shell.tmpdir,
                                                         credential_handoff.file_name(secrets.token_hex(16)))
                self._transfer_data(path, credential_handoff.payload(handed))
                self._remote_chmod([path], 'u=rw,go=')
                for name in handed:
                    args[name] = credential_handoff.reference(path)
            result = merge_hash(result, self._execute_module(module_name=self._task.action, module_args=args,
                                                             task_vars=task_vars, wrap_async=wrap_async))
        finally:
            if path is not None and not wrap_async:
                # The module removed it when it ran; this covers a module that failed to start.
                self._low_level_execute_command(self._connection._shell.remove(path), sudoable=False)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
