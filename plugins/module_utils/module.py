# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wrapper every Graph module is built on: shared options, client, errors to fail_json."""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.m365.mail_oauth.plugins.module_utils import credential_handoff
from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import GRAPH_AUTH_MUTUALLY_EXCLUSIVE, GRAPH_AUTH_SPEC
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import HAS_MSAL, MSAL_IMPORT_ERROR, decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import M365Error
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import LazyGraph
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


class GraphModule(LazyGraph):
    """AnsibleModule plus a lazily built Graph client."""

    def __init__(self, argument_spec, mutually_exclusive=None, required_one_of=None, required_if=None,
                 required_together=None, required_by=None):
        spec = dict(GRAPH_AUTH_SPEC)
        spec.update(argument_spec)
        self.ansible = AnsibleModule(
            argument_spec=spec,
            mutually_exclusive=GRAPH_AUTH_MUTUALLY_EXCLUSIVE + (mutually_exclusive or []),
            required_one_of=required_one_of or [],
            required_if=required_if or [],
            required_together=required_together or [],
            required_by=required_by or {},
            supports_check_mode=True,
        )
        # Secret options arrive as a reference to a private file (plugins/plugin_utils/credential_action.py).
        try:
            handed = credential_handoff.resolve(self.ansible.params, [name for name, option in spec.items() if option.get('no_log')])
        except M365Error as exc:
            self.ansible.fail_json(msg=exc.msg)
        for value in handed.values():
            self.ansible.no_log_values.add(value)
        if not HAS_REQUESTS:
            self.ansible.fail_json(msg=missing_required_lib('requests'), exception=str(REQUESTS_IMPORT_ERROR))
        if not HAS_MSAL:
            self.ansible.fail_json(msg=missing_required_lib('msal'), exception=str(MSAL_IMPORT_ERROR))
        LazyGraph.__init__(self, self.ansible.params, self.warn)
        self.check_mode = self.ansible.check_mode
        self.warnings = []

    def protect_credentials(self, credentials):
        for value in credentials.secrets():
            self.ansible.no_log_values.add(value)

    @property
    def tenant_id(self):
        return self.credentials.tenant_id

    def tenant_guid(self):
        """The tenant's GUID, also when tenant_id was given as a domain (read from the Graph token)."""
        token = self.client.tokens.token(self.client.cloud.graph_resource)
        return decode_jwt_claims(token).get('tid') or self.tenant_id

    def warn(self, msg):
        self.ansible.warn(msg)

    def protect(self, value):
        """Keep a value created at run time (a new secret) out of every output."""
        if value:
            self.ansible.no_log_values.add(value)

    def run(self, func):
        """Run func(self) -> result dict; errors of the collection become fail_json with their message."""
        try:
            result = func(self)
        except M365Error as exc:
            details = dict((k, v) for k, v in exc.details.items() if v is not None)
            if self._client is not None:
                details['graph_calls'] = self.calls
            self.ansible.fail_json(msg=exc.msg, **details)
        self.ansible.exit_json(**result)
