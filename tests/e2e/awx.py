"""AWX as the tests see it: awx.awx's own argument specs, and credential injectors rendered as AWX renders them."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
import zipfile

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from playbook import BIN, LOG_DIR, REPO
AWX_DIR = os.path.join(REPO, 'extensions', 'awx')
CONFIGURE = os.path.join(REPO, 'playbooks', 'awx_configure.yml')
# awx.awx comes inside the PyPI package (no Galaxy server is reachable); pinned so the specs do not move under us.
ANSIBLE_PACKAGE = 'ansible==12.3.0'
WHEEL_CACHE = os.path.join(REPO, '.build', 'pypi')
AWX_COLLECTIONS = os.path.join(REPO, '.build', 'awx-collections')
AWX_PREFIX = 'ansible_collections/awx/awx/'


def load_definition(name):
    with open(os.path.join(AWX_DIR, name)) as handle:
        return yaml.safe_load(handle)


def awx_collections_path():
    """A collections root holding only awx.awx, extracted once from the ansible wheel (downloaded once from PyPI)."""
    if os.path.exists(os.path.join(AWX_COLLECTIONS, AWX_PREFIX, 'MANIFEST.json')):
        return AWX_COLLECTIONS
    version = ANSIBLE_PACKAGE.split('==')[1]
    wheel = os.path.join(WHEEL_CACHE, 'ansible-%s-py3-none-any.whl' % version)
    if not os.path.exists(wheel):
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:',
                        '--dest', WHEEL_CACHE, ANSIBLE_PACKAGE], check=True, timeout=600)
    os.makedirs(os.path.dirname(AWX_COLLECTIONS), exist_ok=True)
    # Extract beside the target and rename, so a run killed half way (or a parallel one) never leaves half a tree.
    staging = tempfile.mkdtemp(dir=os.path.dirname(AWX_COLLECTIONS), prefix='awx-collections-')
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(staging, [n for n in archive.namelist() if n.startswith(AWX_PREFIX)])
    try:
        os.rename(staging, AWX_COLLECTIONS)
    except OSError:
        shutil.rmtree(staging)  # another run got there first
    return AWX_COLLECTIONS


def collections_path_with_awx():
    """ANSIBLE_COLLECTIONS_PATH for a playbook that uses this collection and awx.awx."""
    return os.pathsep.join([os.path.join(REPO, '.build', 'collections'), awx_collections_path()])


def module_docs(modules):
    """{fully qualified module: its documented options}, from ansible-doc over the extracted awx.awx."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=awx_collections_path())
    proc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-j'] + sorted(modules), capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert set(docs) == set(modules), 'ansible-doc does not know %s' % (set(modules) - set(docs))
    return dict((name, doc['doc']['options']) for name, doc in docs.items())


def action_group(name):
    """Module names in one of awx.awx's action groups (what module_defaults group/awx.awx.NAME applies to)."""
    with open(os.path.join(awx_collections_path(), AWX_PREFIX, 'meta', 'runtime.yml')) as handle:
        return ['awx.awx.' + module for module in yaml.safe_load(handle)['action_groups'][name]]


def is_template(value):
    return isinstance(value, str) and ('{{' in value or '{%' in value)


def option_problems(module, args, options):
    """Why args are not valid for the module's options (empty when they are), for literal values and names."""
    by_name = {}
    for name, spec in options.items():
        for alias in [name] + list(spec.get('aliases') or []):
            by_name[alias] = spec
    problems = []
    for name, value in args.items():
        spec = by_name.get(name)
        if spec is None:
            problems.append('%s: unknown option %s' % (module, name))
            continue
        if is_template(value):
            continue
        choices = spec.get('choices')
        if choices is not None and value not in choices:
            problems.append('%s: %s=%r is not one of %s' % (module, name, value, choices))
        kind = spec.get('type', 'str')
        if kind == 'bool' and not isinstance(value, bool):
            problems.append('%s: %s=%r is not a boolean' % (module, name, value))
        if kind == 'int' and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append('%s: %s=%r is not an integer' % (module, name, value))
    missing = [name for name, spec in options.items() if spec.get('required') and name not in args]
    problems.extend('%s: required option %s missing' % (module, name) for name in missing)
    return problems


class _Namespace(types.SimpleNamespace):
    """What AWX calls TowerNamespace: `tower.filename`, or `tower.filename.NAME` with several files."""


def render_injectors(credential_type, inputs, private_data_dir):
    """env, extra vars and files of a credential, as AWX's CredentialType.inject_credential makes them.

    Inputs left empty are not in the template namespace (AWX drops them); booleans missing default to False.
    StrictUndefined is stricter than current AWX (which renders a missing input as empty) and what older AWX
    did: templates that render here render on both.
    """
    namespace = dict((k, v) for k, v in inputs.items() if isinstance(v, bool) or len(v))
    for field in credential_type['inputs']['fields']:
        if field['type'] == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = False
    tower = _Namespace()
    namespace['tower'] = tower
    jinja = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    injectors = credential_type['injectors']
    env_dir = os.path.join(str(private_data_dir), 'env')
    os.makedirs(env_dir, exist_ok=True)
    files = {}
    for label, template in injectors.get('file', {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w') as out:
            out.write(jinja.from_string(template).render(**namespace))
        os.chmod(path, 0o600)
        files[label] = path
        if '.' not in label:
            tower.filename = path
        else:
            if not hasattr(tower, 'filename'):
                tower.filename = _Namespace()
            setattr(tower.filename, label.split('.', 1)[1], path)
    env = {}
    for name, template in injectors.get('env', {}).items():
        assert not name.startswith('ANSIBLE_'), 'AWX refuses to inject %s' % name
        env[name] = jinja.from_string(template).render(**namespace)
    extra_vars = dict((name, jinja.from_string(template).render(**namespace))
                      for name, template in injectors.get('extra_vars', {}).items())
    extra_vars_file = None
    if extra_vars:
        handle, extra_vars_file = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w') as out:
            out.write(unsafe_yaml(extra_vars))
        os.chmod(extra_vars_file, 0o400)
    return types.SimpleNamespace(env=env, extra_vars=extra_vars, extra_vars_file=extra_vars_file, files=files)


class _UnsafeDumper(yaml.SafeDumper):
    """AWX's safe_dump: every string tagged !unsafe, so injected values are never templated by Ansible."""

    def represent_data(self, data):
        if isinstance(data, str):
            return self.represent_scalar('!unsafe', data)
        return super().represent_data(data)


def unsafe_yaml(data):
    return yaml.dump(data, Dumper=_UnsafeDumper, default_flow_style=False)


def run_job(private_data_dir, playbook, inventory, credential, job_type='run', diff_mode=False, extra_vars=None,
            env=None, name='awx-job'):
    """One AWX job: ansible-runner over the project checkout, the credential's injectors in its environment.

    As in AWX, the credential's extra vars go on the command line as `-e @file` (not in the job's extravars),
    and check mode and diff come from the job template's job_type and diff_mode.
    """
    import ansible_runner  # only the e2e runs need it; the unit tests import the rest of this module

    injected = render_injectors(load_definition('credential_type.yml'), credential, private_data_dir)
    cmdline = []
    if injected.extra_vars_file:
        cmdline += ['-e', '@%s' % injected.extra_vars_file]
    if job_type == 'check':
        cmdline.append('--check')
    if diff_mode:
        cmdline.append('--diff')
    envvars = dict(injected.env)
    envvars.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.build', 'collections'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DEPRECATION_WARNINGS': 'False',
        'ANSIBLE_LOCAL_TEMP': os.path.join(str(private_data_dir), 'ansible-tmp'),
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    envvars.update(env or {})
    runner = ansible_runner.run(private_data_dir=str(private_data_dir), project_dir=REPO, playbook=playbook,
                                inventory=str(inventory), envvars=envvars, extravars=extra_vars or {},
                                cmdline=' '.join(cmdline), quiet=True, ident=name, timeout=600)
    runner.injected = injected
    runner.output = runner.stdout.read()
    os.makedirs(LOG_DIR, exist_ok=True)
    # Beside the ansible-playbook logs, so whoever reads those finds the runner's output too.
    with open(os.path.join(LOG_DIR, '%s-%d.runner.log' % (name, int(time.time() * 1000))), 'w') as log:
        log.write(runner.output)
    return runner
