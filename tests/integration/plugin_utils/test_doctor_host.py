"""The doctor's facts script in real pwsh: it answers in FullLanguage and in ConstrainedLanguage (App Control hosts)."""

import json
import subprocess

import pytest

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.doctor_host import FACTS_SCRIPT
from m365_sandbox.testing import need_pwsh


@pytest.mark.parametrize('mode', ['FullLanguage', 'ConstrainedLanguage'])
def test_facts_script_answers_in_every_language_mode(mode):
    pwsh = need_pwsh()
    prefix = '$ExecutionContext.SessionState.LanguageMode = "ConstrainedLanguage"\n' if mode == 'ConstrainedLanguage' else ''
    out = subprocess.run([pwsh, '-NoProfile', '-NonInteractive', '-Command', prefix + FACTS_SCRIPT],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    facts = json.loads(out.strip().splitlines()[-1])
    assert facts['m365_doctor'] == 1 and facts['language_mode'] == mode
    assert facts['edition'] == 'Core' and facts['ps_version'].startswith('7.')
