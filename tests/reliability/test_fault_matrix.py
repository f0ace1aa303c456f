"""The fault matrix through ansible-playbook: every fault converges, one app, no lost or leaked secret, a clean rerun."""

import pytest

from m365_reliability.matrix import MATRIX, run_fault


def _param(fault):
    return pytest.param(fault, id=fault.name, marks=() if fault.fast else (pytest.mark.soak,))


@pytest.mark.parametrize('fault', [_param(f) for f in MATRIX])
def test_fault_converges(rel, tmp_path, fault):
    entry = run_fault(rel, tmp_path, fault)
    assert not entry['problems'], '\n'.join(entry['problems'])
    assert entry['converged'] and entry['duplicates'] == 0 and entry['lost_secrets'] == 0, entry
    assert entry.get('lost_access', 0) == 0, entry
    assert entry['leaked_secret_bytes'] == 0, entry['leaks']
    injected = entry['injected']
    # A fault that never fired proves nothing.
    assert any(injected.values()) or fault.winrm == 'refused' or entry['faulted_rc'] != 0, entry
