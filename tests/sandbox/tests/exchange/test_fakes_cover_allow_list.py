"""Each fake of Exchange Online answers every cmdlet and parameter the collection's allow-list (OPERATIONS) lets the
runner send, so a cmdlet added to the allow-list cannot be tested against a fake that silently lacks it.

The three fakes stand at three layers, and none serves in another's place:
- the Pester stub (tests/powershell/fixtures/modules/ExchangeOnlineManagement): the module's functions in-process, each
  call answered by the test's own handler, so the runner's Pester suite scripts any answer (not found, throttled,
  a failure on the third mailbox) with no server and no Python;
- the sandbox's module (tests/sandbox/powershell/ExchangeOnlineManagement): the client, speaking the v3 module's REST
  protocol (InvokeCommand) to the sandbox as Microsoft's module does to Exchange Online;
- the sandbox's cmdlet model (m365_sandbox/exchange/cmdlets.py): the service behind that protocol, with its state.
The two PowerShell modules are read by PowerShell itself (Get-Command: the exported commands and the parameters they
bind); the model has no declared parameters (it reads a dictionary), so it is called with every allowed parameter
and must read each one (a parameter it never reads is one it ignores) without refusing the call.
"""

import json
import os
import subprocess

import pytest

# The one line that names where the allow-list lives.
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import OPERATIONS

from m365_sandbox.exchange import ExchangeOrg
from m365_sandbox.exchange.cmdlets import CMDLETS
from m365_sandbox.testing import need_pwsh

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
MODULES = {
    'Pester stub': 'tests/powershell/fixtures/modules/ExchangeOnlineManagement/9.9.9/ExchangeOnlineManagement.psd1',
    "sandbox's module": 'tests/sandbox/powershell/ExchangeOnlineManagement/3.7.1/ExchangeOnlineManagement.psd1',
}
DOMAIN = 'contoso.onmicrosoft.com'
MAILBOX = 'user1@' + DOMAIN
APP, SP = '11111111-2222-4333-8444-555555555555', '66666666-7777-4888-8999-000000000000'
# What the role-group and RBAC cmdlets act on: a group, a scope an assignment uses, and a scope nothing uses (Exchange
# refuses to remove a scope in use: the model's Remove-ManagementScope says so).
GROUP, SCOPE, FREE_SCOPE, ASSIGNMENT = 'm365 group', 'm365 scope', 'm365 free scope', 'm365 assignment'
FILTER = "PrimarySmtpAddress -eq '%s'" % MAILBOX
LIST_COMMANDS = """
$ErrorActionPreference = 'Stop'
$module = Import-Module -Name $env:M365_FAKE_MODULE -PassThru -Force -DisableNameChecking
$commands = @{}
foreach ($command in Get-Command -Module $module.Name) { $commands[$command.Name] = @($command.Parameters.Keys) }
ConvertTo-Json -Compress -Depth 3 -InputObject $commands
"""


def allowed():
    """cmdlet -> the parameters the runner may bind: each operation's own, -Confirm where the runner passes it, and the
    Identity of each mailbox a find_by_user operation asks (with -ResultSize Unlimited on the Get-EXOMailbox that lists them)."""
    wanted = {'Get-EXOMailbox': {'ResultSize'}}
    for op in OPERATIONS.values():
        params = wanted.setdefault(op['cmdlet'], set())
        params.update(_bound(op))
        if op['confirm']:
            params.add('Confirm')
    return wanted


def _bound(op):
    return set(op['params']) | ({'Identity'} if op['kind'] == 'find_by_user' else set())


def misses(found):
    """What a fake lacks: 'Get-X (missing)' or 'Set-Y -Param', sorted."""
    lacking = []
    for cmdlet, params in sorted(allowed().items()):
        if cmdlet not in found:
            lacking.append('%s (missing)' % cmdlet)
            continue
        lacking.extend('%s -%s' % (cmdlet, name) for name in sorted(params - set(found[cmdlet])))
    return lacking


def powershell_commands(module):
    env = dict(os.environ, M365_FAKE_MODULE=os.path.join(REPO, MODULES[module]))
    proc = subprocess.run([need_pwsh(), '-NoProfile', '-NonInteractive', '-Command', LIST_COMMANDS], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


class ReadLog(dict):
    """The parameters as the model gets them, noting each one it looks at."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def items(self):
        self.read.update(self.keys())
        return super().items()


def _value(cmdlet, name, spec):
    """A value Exchange would accept for this parameter, in a tenant with MAILBOX and the service principal SP."""
    kind = spec['type']
    if name in ('User', 'Trustee', 'Member'):
        return SP
    if name == 'Identity':
        for noun, identity in (('ServicePrincipal', SP), ('RoleGroup', GROUP), ('ManagementScope', FREE_SCOPE),
                               ('ManagementRoleAssignment', ASSIGNMENT)):
            if noun in cmdlet:
                return identity
        return MAILBOX
    if name == 'App':
        return APP
    if name in ('SecurityGroup', 'RoleAssignee'):
        return GROUP
    if name == 'CustomResourceScope':
        return SCOPE
    if name == 'RecipientRestrictionFilter':
        return FILTER
    if name == 'Resource':
        return MAILBOX
    if kind == 'guid':
        return {'AppId': '22222222-2222-4222-8222-222222222222'}.get(name, '33333333-3333-4333-8333-333333333333')
    if kind in ('enum', 'enum_list'):
        return spec['choices'][0] if kind == 'enum' else spec['choices'][:1]
    return {'result_size': 'Unlimited', 'bool': True, 'nullable_bool': True, 'switch': True}.get(kind, 'renamed')


def _prepare(org):
    """The objects the allowed calls act on: the app's service principal, a role group, two scopes, an assignment."""
    CMDLETS['New-ServicePrincipal'](org, {'AppId': APP, 'ObjectId': SP, 'DisplayName': 'mail app'})
    if 'New-RoleGroup' in CMDLETS:
        CMDLETS['New-RoleGroup'](org, {'Name': GROUP, 'Roles': [OPERATIONS['new_role_group']['params']['Roles']['choices'][0]]})
    if 'New-ManagementScope' in CMDLETS:
        for scope in (SCOPE, FREE_SCOPE):
            CMDLETS['New-ManagementScope'](org, {'Name': scope, 'RecipientRestrictionFilter': FILTER})
        role = OPERATIONS['new_management_role_assignment']['params']['Role']['choices'][0]
        CMDLETS['New-ManagementRoleAssignment'](org, {'Name': ASSIGNMENT, 'App': APP, 'Role': role, 'CustomResourceScope': SCOPE})


def model_commands():
    """cmdlet -> the allowed parameters the model reads when called with all of them (Confirm: cmdlets.invoke drops it)."""
    found = {}
    for op in OPERATIONS.values():
        cmdlet = op['cmdlet']
        if cmdlet not in CMDLETS:
            continue
        params = dict((name, _value(cmdlet, name, op['params'].get(name, {'type': 'identity'}))) for name in _bound(op))
        required = dict((name, value) for name, value in params.items() if op['params'].get(name, {}).get('required'))
        # All parameters at once, then each optional one alone (-ResultSize is not read beside -Identity, and need not be).
        for call in [params] + [dict(required, **{name: value}) for name, value in params.items() if name not in required]:
            org = ExchangeOrg('tid', DOMAIN, [MAILBOX, 'user2@' + DOMAIN])
            _prepare(org)
            if cmdlet.startswith('Remove-') and cmdlet.replace('Remove-', 'Add-') in CMDLETS:
                CMDLETS[cmdlet.replace('Remove-', 'Add-')](org, dict(params))  # something to remove
            log = ReadLog(call)
            CMDLETS[cmdlet](org, log)  # a refusal (CmdletError) of an allowed call fails the test with its message
            found.setdefault(cmdlet, set(['Confirm'])).update(log.read)
    return found


@pytest.mark.parametrize('fake', ['Pester stub', "sandbox's module", "sandbox's cmdlet model"])
def test_each_fake_answers_every_allowed_cmdlet_and_parameter(fake):
    found = model_commands() if fake == "sandbox's cmdlet model" else powershell_commands(fake)
    assert misses(found) == [], '%s lacks what the allow-list (OPERATIONS) allows' % fake
