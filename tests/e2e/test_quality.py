"""ansible-test sanity and ansible-lint (production profile), run on a copy of the collection as ansible-test wants it."""

import os
import shutil
import subprocess
import sys

import pytest

from awx import awx_collections_path

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
GET_PIP_CACHE = os.path.expanduser('~/.ansible/test/cache/get_pip_24_2.py')


@pytest.fixture(scope='module')
def staged_collection(tmp_path_factory):
    """The tracked and new (not ignored) files at .../ansible_collections/m365/mail_oauth, outside any git work tree."""
    root = tmp_path_factory.mktemp('sanity')
    dest = root / 'ansible_collections' / 'm365' / 'mail_oauth'
    dest.mkdir(parents=True)
    files = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=REPO,
                           capture_output=True, check=True).stdout.split(b'\0')
    for name in filter(None, files):
        source = os.path.join(REPO, name.decode())
        if not os.path.isfile(source):
            continue  # deleted in the work tree but still in the index
        target = dest / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


def test_ansible_test_sanity(staged_collection):
    # ansible-test downloads a pip bootstrap script from a host CI cannot reach; the stand-in installs pip from ensurepip.
    if not os.path.exists(GET_PIP_CACHE):
        os.makedirs(os.path.dirname(GET_PIP_CACHE), exist_ok=True)
        shutil.copy(os.path.join(REPO, 'tests', 'tools', 'get_pip_standin.py'), GET_PIP_CACHE)
    proc = subprocess.run([os.path.join(BIN, 'ansible-test'), 'sanity', '--python', '3.11', '--color', 'no'],
                          cwd=staged_collection, capture_output=True, text=True, timeout=1500, check=False)
    report = '\n'.join(line for line in (proc.stdout + proc.stderr).splitlines()
                       if line.startswith(('ERROR', 'FATAL', 'Running sanity', 'WARNING: Skipping')) or ': ' in line[:200] and 'pip' not in line)
    returncode = proc.returncode
    assert returncode == 0, report[-15000:]


def test_ansible_lint_production(staged_collection):
    # playbooks/awx_configure.yml uses awx.awx, which offline lint can only resolve from the extracted copy.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(staged_collection.parents[2]), awx_collections_path()]))
    proc = subprocess.run([os.path.join(BIN, 'ansible-lint'), '--offline', '--profile', 'production', '--nocolor'],
                          cwd=staged_collection, capture_output=True, text=True, timeout=600, env=env, check=False)
    returncode, output = proc.returncode, proc.stdout + proc.stderr
    assert returncode == 0, output[-15000:]


def test_docs_render_with_antsibull_docs(tmp_path):
    """Every module, action, filter and the role renders; a broken DOCUMENTATION block fails here, not on a docs site."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    proc = subprocess.run([os.path.join(BIN, 'antsibull-docs'), 'collection', '--use-current', '--squash-hierarchy',
                           '--output-format', 'simplified-rst', '--dest-dir', str(tmp_path), 'm365.mail_oauth'],
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    returncode, output = proc.returncode, proc.stdout + proc.stderr
    assert returncode == 0, output[-5000:]
    rendered = sorted(p.name for p in tmp_path.iterdir())
    for name in ('azure_app_registration_module.rst', 'app_secret_module.rst', 'api_permission_module.rst',
                 'exchange_service_principal_module.rst', 'mailbox_permission_module.rst', 'mailbox_protocols_module.rst',
                 'mail_oauth_check_module.rst', 'drift_report_filter.rst', 'mailbox_access_role.rst'):
        assert name in rendered, rendered
    assert 'ERROR' not in output, output[-5000:]
