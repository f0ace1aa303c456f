"""The AWX definitions in extensions/awx/ against what the collection really reads, and AWX's own rules."""

import os
import re

import jinja2
import yaml
from jinja2 import meta

from ansible_collections.m365.mail_oauth.plugins.module_utils import argspec, auth, credential_handoff
from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import ALLOW_CUSTOM_ENDPOINTS_ENV, CLOUD_NAMES
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import args as exchange_args

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(REPO, 'extensions', 'awx')
# Until the Exchange actions read the organization from the environment, this is the name they are meant to read.
PENDING_ORGANIZATION_ENV = 'M365_EXCHANGE_ORGANIZATION'
# AWX's schema for env and extra_vars names (awx/main/fields.py CredentialTypeInjectorField).
NAME_RE = re.compile(r'^[a-zA-Z_]+[a-zA-Z0-9_]*$')


def load(name):
    with open(os.path.join(AWX_DIR, name)) as handle:
        return yaml.safe_load(handle)


CREDENTIAL_TYPE = load('credential_type.yml')
FIELDS = dict((field['id'], field) for field in CREDENTIAL_TYPE['inputs']['fields'])
INJECTORS = CREDENTIAL_TYPE['injectors']


def env_fallbacks(spec):
    return dict((option, tuple(settings['fallback'][1])) for option, settings in spec.items() if 'fallback' in settings)


def env_read_by_modules():
    """Every environment variable a module or Exchange action falls back to, from the code itself."""
    names = set()
    for env_names in auth.ENV_FALLBACKS.values():
        names.update(env_names)
    for spec in (argspec.GRAPH_AUTH_SPEC, exchange_args.EXCHANGE_CONNECTION_SPEC):
        for env_names in env_fallbacks(spec).values():
            names.update(env_names)
    names.update(credential_handoff.ENV_SECRET_FILES.values())
    return names


def variables(template):
    return meta.find_undeclared_variables(jinja2.Environment().parse(template))


def test_every_injected_env_var_is_one_the_modules_read():
    read = env_read_by_modules()
    organization = env_fallbacks(exchange_args.EXCHANGE_CONNECTION_SPEC).get('organization', (PENDING_ORGANIZATION_ENV,))
    # Read from the environment only (no option falls back to it), so that no extra var can set it.
    unknown = set(INJECTORS['env']) - read - set(organization) - {ALLOW_CUSTOM_ENDPOINTS_ENV}
    assert not unknown, 'injected but read by no module: %s' % sorted(unknown)
    assert INJECTORS['env']['AZURE_CLIENT_CERTIFICATE_PATH'].count('tower.filename.client_certificate') == 1
    # Each identity option gets exactly one name, the first the modules look for; a secret the name of its file.
    # (A person's token cache is a controller file of an interactive run, not an AWX credential's input.)
    for option, env_names in auth.ENV_FALLBACKS.items():
        if option in credential_handoff.ENV_SECRET_FILES:
            assert [name for name in env_names if name in INJECTORS['env']] == [], option
            assert INJECTORS['env'][credential_handoff.ENV_SECRET_FILES[option]].count('tower.filename.%s ' % option) == 1
        elif option not in ('access_token', 'token_cache'):
            assert [name for name in env_names if name in INJECTORS['env']] == [env_names[0]], option


def test_no_secret_input_is_in_the_environment_of_the_job():
    """Secrets go to files: a job's environment is in every process of it and in ansible-runner's artifacts
    (artifacts/<job>/command and env.list), which tests/e2e/test_ee.py searches."""
    secrets = set(name for name, field in FIELDS.items() if field.get('secret'))
    for name, template in INJECTORS['env'].items():
        used = variables(template) & secrets
        assert not used or re.fullmatch(r"\{\{ tower\.filename\.(\w+) if \1 \| default\(''\) else '' \}\}", template), name
    assert set('template.' + name for name in secrets) <= set(INJECTORS['file'])


def test_no_secret_input_reaches_extra_vars_or_a_job_setting_the_role_passes_itself():
    secrets = set(name for name, field in FIELDS.items() if field.get('secret'))
    assert {'client_secret', 'client_certificate', 'client_certificate_password'} <= secrets
    for name, template in INJECTORS['extra_vars'].items():
        assert not variables(template) & secrets, name
    # Extra vars beat host vars: a tenant id there would point every host (tenant) of the inventory at one tenant.
    assert 'mailbox_access_tenant_id' not in INJECTORS['extra_vars']


def test_extra_vars_are_role_options_with_the_same_choices():
    with open(os.path.join(REPO, 'roles', 'mailbox_access', 'meta', 'argument_specs.yml')) as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    for name in INJECTORS['extra_vars']:
        assert name in options, name
    assert FIELDS['cloud']['choices'] == options['mailbox_access_cloud']['choices']
    assert sorted(FIELDS['cloud']['choices']) == sorted(CLOUD_NAMES)
    assert FIELDS['cloud']['default'] == options['mailbox_access_cloud']['default']


def test_definition_follows_awx_schema():
    ids = [field['id'] for field in CREDENTIAL_TYPE['inputs']['fields']]
    assert len(ids) == len(set(ids))
    assert set(CREDENTIAL_TYPE['inputs']['required']) <= set(ids)
    assert CREDENTIAL_TYPE['kind'] == 'cloud'
    for field in FIELDS.values():
        assert field['type'] in ('string', 'boolean'), field
        assert set(field) <= {'id', 'label', 'type', 'secret', 'multiline', 'help_text', 'choices', 'default', 'format'}
    assert set(INJECTORS) <= {'env', 'file', 'extra_vars'}
    for name, template in list(INJECTORS['env'].items()) + list(INJECTORS['extra_vars'].items()):
        assert NAME_RE.match(name) and not name.startswith('ANSIBLE_') and isinstance(template, str), name
    # Several files: labels template.NAME, referenced as tower.filename.NAME (AWX's syntax).
    labels = [label.split('.', 1)[1] for label in INJECTORS['file']]
    assert all(label.startswith('template.') for label in INJECTORS['file']) and len(labels) > 1
    referenced = set()
    for template in list(INJECTORS['env'].values()) + list(INJECTORS['extra_vars'].values()):
        referenced.update(re.findall(r'tower\.filename\.(\w+)', template))
        assert not re.search(r'tower\.filename\b(?!\.)', template), template
    assert referenced == set(labels)


def test_every_input_is_used_and_only_inputs_are_referenced():
    templates = list(INJECTORS['env'].values()) + list(INJECTORS['extra_vars'].values()) + list(INJECTORS['file'].values())
    used = set()
    for template in templates:
        used |= variables(template)
    assert used - {'tower'} == set(FIELDS), (used, set(FIELDS))


def test_secret_like_inputs_are_secret():
    for name, field in FIELDS.items():
        if re.search('secret|password|certificate$', name):
            assert field.get('secret') is True, name
        if field.get('multiline'):
            assert name in INJECTORS['file'] or 'template.%s' % name in INJECTORS['file'], name


def test_job_templates_provision_and_audit_in_check_mode_with_diff():
    templates = dict((template['playbook'], template) for template in load('job_templates.yml'))
    assert set(templates) == {'playbooks/provision.yml', 'playbooks/audit.yml'}
    for playbook, template in templates.items():
        assert os.path.exists(os.path.join(REPO, playbook)), playbook
        assert template['job_slice_count'] > 1 and template['forks'] > 1
    assert templates['playbooks/audit.yml']['job_type'] == 'check' and templates['playbooks/audit.yml']['diff_mode'] is True
    assert templates['playbooks/provision.yml']['job_type'] == 'run'


# What launch-time input must never reach: the admin app's identity, where its credentials go, certificate checks,
# the Windows connection and the files secrets are written to.
LAUNCH_FORBIDDEN = re.compile(r'^(ansible_|m365_)|_auth$|tenant_id|handover|vault|winrm|certificate|secret|'
                              r'authority|graph_url|validate_certs|ca_path|exchange_host')
# AWX's survey question types (awx/main/models/mixins.py SurveyJobTemplateMixin).
SURVEY_TYPES = {'text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'}


def test_launch_time_input_is_a_survey_of_harmless_fields():
    with open(os.path.join(REPO, 'roles', 'mailbox_access', 'meta', 'argument_specs.yml')) as handle:
        role_options = yaml.safe_load(handle)['argument_specs']['main']['options']
    for template in load('job_templates.yml'):
        # Free-form extra vars beat every other variable: they could redirect the admin app's secret.
        assert template['ask_variables_on_launch'] is False, template['name']
        assert template['survey_enabled'] is True, template['name']
        spec = template['survey_spec']
        assert set(spec) == {'name', 'description', 'spec'} and spec['spec'], template['name']
        for question in spec['spec']:
            assert {'question_name', 'variable', 'type', 'required'} <= set(question), question
            assert question['type'] in SURVEY_TYPES, question
            assert NAME_RE.match(question['variable']), question
            assert not LAUNCH_FORBIDDEN.search(question['variable']), question
            if question['type'] in ('multiplechoice', 'multiselect'):
                assert question['default'] in question['choices'], question
            playbook = os.path.join(REPO, template['playbook'])
            with open(playbook) as handle:
                known = question['variable'] in role_options or question['variable'] in handle.read()
            assert known, question['variable']


def test_custom_endpoints_are_allowed_only_through_the_credential():
    template = INJECTORS['env'][ALLOW_CUSTOM_ENDPOINTS_ENV]
    assert variables(template) == {'allowed_endpoint_hosts'}
    assert ALLOW_CUSTOM_ENDPOINTS_ENV not in INJECTORS['extra_vars']
    # No option of any module or action falls back to it: only the environment carries it.
    for spec in (argspec.GRAPH_AUTH_SPEC, exchange_args.EXCHANGE_CONNECTION_SPEC):
        for env_names in env_fallbacks(spec).values():
            assert ALLOW_CUSTOM_ENDPOINTS_ENV not in env_names
