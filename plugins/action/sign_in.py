# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.sign_in; the documentation is in plugins/modules/sign_in.py.

An action, not a module: a module's output only shows when it ends, and the person must read the device code prompt
while the task waits for them. It runs on the controller only and leaves the tokens in the token cache file.
"""

from ansible.plugins.action import ActionBase

from ansible_collections.m365.mail_oauth.plugins.module_utils import signin
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import TokenProvider, sign_in_credentials, decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import CLOUD_NAMES
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, M365Error
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import make_session

SPEC = dict(
    tenant_id=dict(type='str', required=True),
    client_id=dict(type='str'),
    token_cache=dict(type='path', default=signin.DEFAULT_TOKEN_CACHE),
    username=dict(type='str'),
    require_roles=dict(type='list', elements='str', default=[]),
    exchange=dict(type='bool', default=True),
    timeout=dict(type='int', default=900),
    cloud=dict(type='str', choices=CLOUD_NAMES, default='global'),
    authority_url=dict(type='str'),
    graph_url=dict(type='str'),
    ca_path=dict(type='path'),
    validate_certs=dict(type='bool', default=True),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _valid, params = self.validate_argument_spec(argument_spec=SPEC)
        try:
            result.update(self._sign_in(params))
        except M365Error as exc:
            result.update(failed=True, msg=str(exc))
        result['changed'] = False
        return result

    def _prompt(self, message):
        # Shown at once on the controller's terminal (and in the job's output) while the task polls for the approval.
        self._display.display('[%s] %s' % (self._task.get_name(), message), color='bright purple')

    def _sign_in(self, params):
        unknown = [r for r in params['require_roles'] if r not in signin.ROLE_NAMES]
        if unknown:
            raise ConfigError('require_roles: unknown role(s) %s; choose from %s' % (', '.join(unknown), ', '.join(signin.ROLE_NAMES)))
        if not 60 <= params['timeout'] <= 900:
            raise ConfigError('timeout must be 60 to 900 seconds (a device code lives 15 minutes), got %s' % params['timeout'])
        credentials = sign_in_credentials(params)
        if not params['validate_certs']:
            self._display.warning('validate_certs is false: the TLS certificate of the login endpoint is not verified')
        provider = TokenProvider(credentials, make_session(params.get('ca_path'), params['validate_certs']))
        person = provider.person()
        answer = person.token(credentials.cloud.graph_resource, prompt=self._prompt, timeout=params['timeout'])
        summary = signin.claims_summary(decode_jwt_claims(answer['access_token']))
        if params['require_roles'] and not set(summary['roles']) & set(params['require_roles']):
            raise ConfigError('%s holds none of the Entra roles this play needs: one of %s (holds %s). Nothing was changed. Assign one '
                              'in the Entra admin center (Roles and administrators), or sign in as someone who holds one'
                              % (summary['username'], ', '.join(params['require_roles']), ', '.join(summary['roles']) or 'none'))
        if params['exchange']:
            # Fetched now (through the refresh token), so the Exchange tasks find it in the cache.
            person.token(credentials.cloud.exchange)
        return dict(summary, signed_in=person.signed_in, token_cache=person.cache.path)
