# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception root of the collection; modules catch it once in main()."""


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
