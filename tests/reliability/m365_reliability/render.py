"""docs/reliability.md from the ledger of the last soak."""


# The soak's one summary line (report.py prints it, the page shows it): races first, then trust, then the rest.
SUMMARY_LINE = ('races=%(races)d races_ok=%(races_ok)d trust_cases=%(trust_cases)d trust_held=%(trust_held)d '
                'faults=%(faults)d converged=%(converged)d duplicates=%(duplicates)d lost_secrets=%(lost_secrets)d '
                'leaked_secret_bytes=%(leaked_secret_bytes)d bad_inputs=%(bad_inputs)d clear_errors=%(clear_errors)d '
                'lost_access=%(lost_access)d repair_seconds=%(repair_seconds).1f')


def summary(entries):
    runs = [e for e in entries if e['kind'] in ('fault', 'interrupt')]
    # A failed clean-up repaired by the next run (tests/reliability/test_failure_repair.py): its stray secret counts as
    # lost until repaired, and the slowest repair is the figure.
    repairs = [e for e in entries if e['kind'] == 'repair']
    bad = [e for e in entries if e['kind'] == 'bad_input']
    trust = [e for e in entries if e['kind'] == 'trust']
    races = [e for e in entries if e['kind'] == 'race']
    return {
        'races': len(races),
        'races_ok': len([e for e in races if e['ok']]),
        'trust_cases': len(trust),
        'trust_held': len([e for e in trust if e['held']]),
        'faults': len(runs),
        'converged': len([e for e in runs if e['converged'] and not e['problems']]),
        'duplicates': sum(e.get('duplicates', 0) for e in runs),
        'lost_secrets': sum(e.get('lost_secrets', 0) for e in runs + repairs),
        'leaked_secret_bytes': sum(e.get('leaked_secret_bytes', 0) for e in entries),
        'bad_inputs': len(bad),
        'clear_errors': len([e for e in bad if e['clear']]),
        # Listed mailboxes that lost FullAccess in a faulted run (a failed read must never remove access).
        'lost_access': sum(e.get('lost_access', 0) for e in runs),
        'repair_seconds': max([e['repair_seconds'] for e in repairs] or [0]),
    }


def _yes(value):
    return 'yes' if value else '**no**'


def _injected(entry):
    shown = ['%s %d' % (k.replace('_', ' '), v) for k, v in sorted(entry.get('injected', {}).items()) if v]
    return ', '.join(shown) or '-'


HEADER = '''# Reliability and security figures

Rendered by `make soak` (`tests/reliability/report.py`) from `tests/output/reliability/results.json`, the ledger
of the last soak run; do not edit by hand. What each case does and checks is in `tests/reliability/`.

Every case runs `playbooks/provision.yml` (the role, one tenant, three mailboxes) through real `ansible-playbook`
at `-vvvvv` against the sandbox tenant and the emulated Exchange host over WinRM, with its own application, then:
a rerun when the faulted run had to fail, a last rerun with `--diff` that must report `changed=0`, and checks on the
tenant: exactly one application and service principal, exactly one secret named `mail-client` and it is the one in the
handover file (by its SHA-256 in the sandbox) and gets a token, IMAP and SMTP consent and no Graph permission, one
Exchange service principal with the right ids, FullAccess on exactly the listed mailboxes and the protocol switches.
Every run's output, diff, results file, leftover temporary files and the command lines of every process (sampled
from `/proc` every 0.1 s while it runs, PowerShell `-EncodedCommand` decoded) are scanned for the admin secret, every
handover secret, anything shaped like an Entra client secret, a JWT or a PEM private key.

'''


RACES_TEXT = '''
## Overlapping runs

Two playbooks for the same application started together; a barrier in the failpoint (`M365_BARRIER`) holds each run's
first matching Graph request until both have reached it (or 15 s, when a lease keeps the second run out), so the race is
the same every time. Counted ok when a handover file holds a secret that is on the application and gets a token, and
every run ended ok or failed with a clear message. What the runs do is described in docs/procedure.md.

| runs | held at | arrived | exit codes | working handover files | secrets of the name | ok |
|---|---|---|---|---|---|---|
'''


def render(entries, figures, seconds=None):
    lines = [HEADER]
    lines.append('**Last run:** `%s`' % SUMMARY_LINE % figures)
    if seconds:
        lines.append(' in %.1f minutes' % (seconds / 60.0))
    stamp = max((e['at'] for e in entries), default='')
    lines.append(' (finished %s).\n\n' % stamp)
    lines.append('## Fault matrix\n\n| fault | injected | faulted run | converged | duplicates | lost secrets | leaked bytes | '
                 'Graph call types hit |\n|---|---|---|---|---|---|---|---|\n')
    for e in [e for e in entries if e['kind'] == 'fault']:
        lines.append('| %s | %s | %s, %.0f s | %s | %d | %d | %d | %d of %d |\n' % (
            e['name'], _injected(e), 'ok' if e['faulted_rc'] == 0 else 'failed as expected' if not e['problems'] else 'failed',
            e['faulted_seconds'], _yes(e['converged'] and not e['problems']), e['duplicates'], e['lost_secrets'],
            e['leaked_secret_bytes'], len(e.get('faulted_call_types', [])), len(e.get('call_types', []))))
    hit = sorted(set(t for e in entries if e['kind'] == 'fault' for t in e.get('faulted_call_types', [])))
    seen = sorted(set(t for e in entries if e['kind'] == 'fault' for t in e.get('call_types', [])))
    lines.append('\nGraph call types that got a 429/5xx in some case: %d of the %d the runs made (%s).\n' % (
        len(hit), len(seen), ', '.join('`%s`' % t for t in hit)))
    lines.append('\n## Interrupted runs\n\n`ansible-playbook` and its whole process group killed at the point, then run again '
                 'twice.\n\n| killed | signal | after | converged | orphans reported and removed | duplicates | lost secrets | '
                 'leaked bytes |\n|---|---|---|---|---|---|---|---|\n')
    for e in [e for e in entries if e['kind'] == 'interrupt']:
        lines.append('| %s | %s | %.1f s | %s | %d | %d | %d | %d |\n' % (
            e['name'], e['signal'], e['killed_after_seconds'], _yes(e['converged'] and not e['problems']), e['orphans_removed'],
            e['duplicates'], e['lost_secrets'], e['leaked_secret_bytes']))
    lines.append(RACES_TEXT)
    for e in [e for e in entries if e['kind'] == 'race']:
        lines.append('| %s | `%s` | %d of 2 | %s | %d | %d | %s |\n' % (
            e['name'], e['barrier'], e['arrived'], ', '.join(str(rc) for rc in e['rcs']), e['working_handover_files'],
            e['secrets_on_app'], _yes(e['ok'])))
    for e in [e for e in entries if e['kind'] == 'repair']:
        lines.append('\n## Failed clean-up\n\n%s (`tests/reliability/test_failure_repair.py`): first failure and new secret named '
                     '%s; secrets nobody holds after the failed run %d, after the next provision %d (%.1f s); converged %s.\n' % (
                         e['name'], _yes(e['first_failure_named']), e['stray_after_failure'], e['stray_after_repair'],
                         e['repair_seconds'], _yes(e['converged'])))
    bad = [e for e in entries if e['kind'] == 'bad_input']
    lines.append('\n## Bad input\n\n%d cases (Graph modules, Exchange actions, the role, injection attempts); %d failed with a '
                 'message naming the option, no traceback and no remote change (sandbox and Exchange state compared, zero WinRM '
                 'commands for the Exchange actions).\n' % (len(bad), len([e for e in bad if e['clear']])))
    unclear = [e for e in bad if not e['clear']]
    for e in unclear:
        lines.append('- **%s**: %s\n' % (e['name'], '; '.join(e['problems'])))
    trust = [e for e in entries if e['kind'] == 'trust']
    if trust:
        lines.append('\n## Trust boundary, transport, vault and directory input\n\nLaunch-time overrides of the login/Graph '
                     'endpoints and certificate checks without M365_ALLOW_CUSTOM_ENDPOINTS in the environment, plain http, '
                     'WinRM Basic over http, vault password files (scripts, blank passwords), display names and mailbox '
                     'identities that must be refused before the first write (`tests/reliability/test_trust_boundary.py`).'
                     '\n\n| case | held |\n|---|---|\n')
        for e in trust:
            lines.append('| %s | %s |\n' % (e['name'], _yes(e['held']) + ('' if e['held'] else ': ' + '; '.join(e['problems']))))
    privilege = [e for e in entries if e['kind'] == 'privilege']
    if privilege:
        lines.append('\n## Least privilege\n\n| run | as expected |\n|---|---|\n')
        for e in privilege:
            lines.append('| %s | %s |\n' % (e['name'], _yes(e['ok'])))
    hygiene = [e for e in entries if e['kind'] == 'hygiene']
    for e in hygiene:
        lines.append('\n## Secret hygiene\n\n%s: %d leaked bytes, %d command-line samples.\n' % (
            e['name'], e['leaked_secret_bytes'], e['command_line_samples']))
    return ''.join(lines)
