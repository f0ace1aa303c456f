"""Issue 21 through ansible-playbook: a name any later step would refuse is refused before anything is written, and a
rotation whose clean-up fails after addPassword is reported by its first failure and repaired by the next run at once."""

import os

from refusals import FailedCleanUp, refused_names, run_refused_names
from test_role_playbooks import token_works


def test_every_name_the_exchange_table_refuses_is_refused_by_the_role_before_anything_is_written(tenant, tmp_path):
    cases = refused_names()
    assert len(cases) >= 20 and ('mailbox_access_app_display_name', 'Mail reader ') in cases
    run, cases, writes, problems = run_refused_names(tenant, tmp_path)
    assert not problems, '\n'.join(problems) + repr(run)
    assert writes == 0 and tenant.stats()['graph_total'] == 0, (writes, tenant.stats()['graph'])


def test_a_failed_clean_up_after_a_rotation_is_named_and_the_next_provision_repairs_it_at_once(tenant, tmp_path):
    case = FailedCleanUp(tenant, tmp_path)
    assert case.setup().rc == 0
    old = case.held()['key_id']
    failed = case.failed_rotation()
    assert failed.rc != 0 and tenant.stats()['server_errors'] >= 2, failed
    new = case.held()
    # The first failure (removePassword), with what it left; not the lease's release error instead of it.
    expected = 'the new secret %s exists and is in %s; the old ones could not be removed (Graph POST /applications/' % (
        new['key_id'], case.handover)
    assert expected in failed.output and '/removePassword failed: 500' in failed.output, failed
    assert 'the next run removes them' in failed.output, failed
    assert case.unheld() == [old]
    assert os.path.exists(str(case.handover) + '.pending')  # the lease could not be given back: its marker stays

    repaired, seconds = case.repair()
    assert repaired.rc == 0, repaired
    assert case.unheld() == [] and seconds < 120, (case.unheld(), seconds)  # at once, not after the 600 s lease
    assert case.held()['key_id'] == new['key_id']
    assert token_works(tenant, 0, new['client_id'], new['client_secret'])
    assert not os.path.exists(str(case.handover) + '.pending')
