"""The guides as antsibull-docs extra docs (docs/docsite/): generated from docs/*.md without drift, accepted by
antsibull-docs' own linter, and rendered beside the module docs."""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, os.path.join(REPO, 'tests', 'tools'))
import docsite  # noqa: E402  pylint: disable=wrong-import-position


def _antsibull(*args, cwd=REPO):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    return subprocess.run([os.path.join(BIN, 'antsibull-docs')] + list(args), cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env, check=False)


@pytest.mark.parametrize('name', docsite.GUIDES)
def test_each_page_is_what_its_markdown_gives(name):
    with open(os.path.join(docsite.RST_DIR, name + '.rst'), encoding='utf-8') as handle:
        committed = handle.read()
    if committed != docsite.pages()[name + '.rst']:
        pytest.fail('docs/docsite/rst/%s.rst differs from docs/%s.md: run .venv/bin/python tests/tools/docsite.py' % (name, name))


def test_extra_docs_pass_antsibull_docs_lint():
    proc = _antsibull('lint-collection-docs', '.')
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]


def test_guides_render_beside_the_module_docs(tmp_path):
    proc = _antsibull('collection', '--use-current', '--dest-dir', str(tmp_path), 'm365.mail_oauth')
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    root = tmp_path / 'collections' / 'm365' / 'mail_oauth'
    assert sorted(p.name for p in (root / 'docsite').iterdir()) == sorted(name + '.rst' for name in docsite.GUIDES)
    index = (root / 'index.rst').read_text(encoding='utf-8')
    for name in docsite.GUIDES:
        assert 'docsite/%s' % name in index, index
    assert (root / 'mailbox_permission_module.rst').is_file()
