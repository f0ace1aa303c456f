# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's whole error tree, in one file; modules catch M365Error once in main(), action plugins in run().

    M365Error
    +-- ConfigError               bad or missing input, found before anything changed
    +-- AuthError                 no token
    +-- GraphError                Microsoft Graph answered with an error
    +-- ExchangeError             Exchange Online (or the runner on the host) reported a failure
    +-- PowerShellTransportError  the PowerShell host could not be reached or gave no usable answer
"""


class M365Error(Exception):
    """An error with a message meant for the person running the playbook."""

    def __init__(self, msg, **details):
        super(M365Error, self).__init__(msg)
        self.msg = msg
        self.details = details


class ConfigError(M365Error):
    """Bad or missing input, found before anything was changed."""


class AuthError(M365Error):
    """A token could not be acquired."""


class GraphError(M365Error):
    """An answer from Microsoft Graph that is not a success."""

    def __init__(self, msg, status=None, code=None, request_id=None, method=None, url=None):
        super(GraphError, self).__init__(msg, status=status, code=code, request_id=request_id)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.method = method
        self.url = url

    @property
    def not_found(self):
        return self.status == 404 or self.code == 'Request_ResourceNotFound'


class ExchangeError(M365Error):
    """Exchange Online (or the runner on the host) reported a failure."""


class PowerShellTransportError(M365Error):
    """The host could not run the script or gave no usable answer.

    ``unreachable`` tells an action plugin to report the host unreachable (Ansible's convention for a
    connection that failed or broke) rather than the task failed.
    """

    def __init__(self, msg, unreachable=False, rc=None, stderr=None):
        super(PowerShellTransportError, self).__init__(msg, unreachable=unreachable, rc=rc)
        self.unreachable = unreachable
        self.rc = rc
        self.stderr = stderr
