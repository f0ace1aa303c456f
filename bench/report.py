"""What the benchmark's records mean: extrapolation, targets, the table, the summary line, docs/performance.md.

    python bench/report.py     # redraw the chart and rewrite the figures in docs/performance.md from bench/results.json
"""

import json
import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, 'results.json')
CHART = os.path.join(BENCH, 'time_vs_mailboxes.png')
DOC = os.path.join(REPO, 'docs', 'performance.md')
BEGIN, END = '<!-- bench:results:begin -->', '<!-- bench:results:end -->'
MEMORY_METHOD = ('peak, sampled every 0.1 s, of the summed proportional set size (Pss in /proc/PID/smaps_rollup) '
                 'of ansible-playbook and every process under it')
TARGETS = {'ratio_vs_naive_n200': 10.0, 'overhead_n1000': 1.15, 'graph_calls_rerun': 8, 'memory_mb_n1000': 300.0,
           'vs_script_first_n1000': 0.6, 'vs_script_rerun_n1000': 0.3, 'scaling_n10000': 1.15, 'peak_mb_n10000': 400.0,
           'progress_cost_n1000': 0.05}
NEW_FIELDS = ('vs_script_first_n1000', 'vs_script_rerun_n1000', 'scaling_n10000', 'peak_mb_n10000')


def find(records, kind, phase, mailboxes, measured_only=False, **labels):
    for record in records:
        if (record['kind'], record['phase'], record['mailboxes']) != (kind, phase, mailboxes):
            continue
        if measured_only and record['extrapolated']:
            continue
        if all(record.get(k) == v for k, v in labels.items()):
            return record
    return None


def _fit(points):
    """Least squares a + b*N over (N, y): the fixed cost and the per-mailbox cost."""
    count = len(points)
    if count == 1:
        return 0.0, points[0][1] / points[0][0]
    mean_n = sum(n for n, _y in points) / count
    mean_y = sum(y for _n, y in points) / count
    spread = sum((n - mean_n) ** 2 for n, _y in points)
    slope = sum((n - mean_n) * (y - mean_y) for n, y in points) / spread if spread else 0.0
    return mean_y - slope * mean_n, slope


def extrapolate(records, grid):
    """Records for the grid's N not measured, from a straight-line fit of the measured ones (marked extrapolated)."""
    out = []
    for kind in ('ours', 'naive'):
        for phase in ('first', 'rerun'):
            measured = [r for r in records if (r['kind'], r['phase']) == (kind, phase) and not r['extrapolated']]
            if not measured:
                continue
            wall = _fit([(r['mailboxes'], r['wall_s']) for r in measured])
            floor = _fit([(r['mailboxes'], r['floor_s']) for r in measured])
            template = measured[-1]
            for count in grid:
                if any(r['mailboxes'] == count for r in measured):
                    continue
                wall_s, floor_s = wall[0] + wall[1] * count, floor[0] + floor[1] * count
                out.append({
                    'case': '%s-%s-n%d-extrapolated' % (kind, phase, count), 'kind': kind, 'phase': phase, 'mailboxes': count,
                    'tenants': 1, 'forks': 1, 'extrapolated': True, 'latency': template['latency'],
                    'fit': {'fixed_s': round(wall[0], 2), 'per_mailbox_s': round(wall[1], 4), 'from_n': sorted(r['mailboxes'] for r in measured)},
                    'wall_s': round(wall_s, 1), 'floor_s': round(floor_s, 1), 'overhead': round(wall_s / floor_s, 3) if floor_s else None,
                })
    return out


def _ratio(ours, theirs, digits=3):
    return round(ours['wall_s'] / theirs['wall_s'], digits) if ours and theirs and not ours['extrapolated'] and theirs['wall_s'] else None


def vs_script(records, n):
    """Our wall time / the one-shot script's, first converge and rerun, at N = n."""
    return tuple(_ratio(find(records, 'ours', phase, n, measured_only=True), find(records, 'oneshot', phase, n)) for phase in ('first', 'rerun'))


def scaling(records, base, big):
    """Our first-converge wall time per mailbox at N = big over the same at N = base, both at the scale cases' latency."""
    small, large = find(records, 'scale', 'first', base), find(records, 'scale', 'first', big)
    if not small or not large:
        return None
    return round((large['wall_s'] / big) / (small['wall_s'] / base), 3)


def progress_cost(records, n):
    """What showing progress (-v) costs at N = n: the progress case's wall time over ours first converge's, minus 1."""
    plain, shown = find(records, 'ours', 'first', n, measured_only=True), find(records, 'progress', 'first', n)
    return round(shown['wall_s'] / plain['wall_s'] - 1, 3) if plain and shown else None


def summary(records, script_n=1000, big=None):
    big = big or {'ours': [1000, 10000]}
    ours200, naive200 = find(records, 'ours', 'first', 200), find(records, 'naive', 'first', 200)
    first1000 = find(records, 'ours', 'first', 1000)
    rerun1000 = find(records, 'ours', 'rerun', 1000, measured_only=True)
    first_1000, rerun_1000 = vs_script(records, 1000)
    large = find(records, 'scale', 'first', 10000)
    small = {}
    if script_n and script_n != 1000:
        small['vs_script_first_n%d' % script_n], small['vs_script_rerun_n%d' % script_n] = vs_script(records, script_n)
        small['progress_cost_n%d' % script_n] = progress_cost(records, script_n)
    base, top = big['ours'][0], big['ours'][-1]
    if top != 10000:
        small['scaling_n%d' % top] = scaling(records, base, top)
        record = find(records, 'scale', 'first', top)
        small['peak_mb_n%d' % top] = record['peak_memory_mb'] if record else None
    return {
        'vs_script_first_n1000': first_1000,
        'vs_script_rerun_n1000': rerun_1000,
        'scaling_n10000': scaling(records, 1000, 10000),
        'peak_mb_n10000': large['peak_memory_mb'] if large else None,
        'small': small,
        'ratio_vs_naive_n200': round(naive200['wall_s'] / ours200['wall_s'], 1) if ours200 and naive200 else None,
        'ratio_extrapolated': bool(ours200 and naive200 and (ours200['extrapolated'] or naive200['extrapolated'])),
        'overhead_n1000': first1000['overhead'] if first1000 else None,
        'exo_connections_n1000': None if first1000 is None or first1000['extrapolated'] else first1000['exchange_connections'],
        'graph_calls_rerun': rerun1000['graph_calls'] if rerun1000 else None,
        'progress_cost_n1000': progress_cost(records, 1000),
    }


def summary_line(values):
    return ' '.join('%s=%s' % (k, 'n/a' if values.get(k) is None else values[k])
                    for k in NEW_FIELDS + ('ratio_vs_naive_n200', 'overhead_n1000', 'exo_connections_n1000', 'graph_calls_rerun',
                                           'progress_cost_n1000'))


def small_line(values):
    """QUICK's own N: the new ratios where its cases measured them."""
    small = values.get('small') or {}
    return ' '.join('%s=%s' % (k, 'n/a' if v is None else v) for k, v in sorted(small.items())) or 'none'


def _check(name, ok, detail):
    return {'target': name, 'ok': ok, 'detail': detail}


def targets(records):
    """The issue's targets, each with what was measured; a target that was not measured is not met."""
    values = summary(records)
    measured = [r for r in records if not r['extrapolated']]
    ratio = values['ratio_vs_naive_n200']
    out = [_check('ratio vs naive at N=200 >= %g' % TARGETS['ratio_vs_naive_n200'],
                  ratio is not None and ratio >= TARGETS['ratio_vs_naive_n200'] and not values['ratio_extrapolated'],
                  '%s%s' % (ratio, ' (extrapolated)' if values['ratio_extrapolated'] else ''))]
    big = [find(records, 'ours', phase, 1000, measured_only=True) for phase in ('first', 'rerun')]
    big = [r for r in big if r]
    out.append(_check('overhead at N=1000 <= %g' % TARGETS['overhead_n1000'],
                      bool(big) and all(r['overhead'] is not None and r['overhead'] <= TARGETS['overhead_n1000'] for r in big),
                      ', '.join('%s %s' % (r['phase'], r['overhead']) for r in big) or 'not measured'))
    # Issue 16 changed this target: a task opens one Exchange session per 20 mailboxes, at most exchange_sessions (3), so
    # connections equal the sessions the tasks report, and one per task below 40 mailboxes.

    def wrong_sessions(r):
        sessions = r.get('exchange_sessions', r['exchange_tasks'])
        return (r['exchange_connections'] != sessions or (r['mailboxes'] < 40 and r['exchange_connections'] != r['exchange_tasks'])
                or r['exchange_connections'] > 3 * r['exchange_tasks'])

    wrong = ['%s: %d connections for %d tasks reporting %s sessions'
             % (r['case'], r['exchange_connections'], r['exchange_tasks'], r.get('exchange_sessions'))
             for r in measured if r['kind'] != 'oneshot' and wrong_sessions(r)]
    out.append(_check('Exchange connections == the sessions the tasks report (1 per task below 40 mailboxes, at most 3)', not wrong,
                      '; '.join(wrong) or 'in all %d runs' % len([r for r in measured if r['kind'] != 'oneshot'])))
    reruns = dict((r['mailboxes'], r['graph_calls']) for r in measured if (r['kind'], r['phase']) == ('ours', 'rerun'))
    out.append(_check('Graph calls on a rerun <= %d, the same at N=1 and N=1000' % TARGETS['graph_calls_rerun'],
                      1 in reruns and 1000 in reruns and reruns[1] == reruns[1000] and max(reruns.values()) <= TARGETS['graph_calls_rerun'],
                      ', '.join('N=%d: %d' % item for item in sorted(reruns.items()))))
    out.append(_check('controller memory at N=1000 < %g MB' % TARGETS['memory_mb_n1000'],
                      bool(big) and all(r['peak_memory_mb'] < TARGETS['memory_mb_n1000'] for r in big),
                      ', '.join('%s %s MB' % (r['phase'], r['peak_memory_mb']) for r in big) or 'not measured'))
    for name, limit in (('vs_script_first_n1000', TARGETS['vs_script_first_n1000']), ('vs_script_rerun_n1000', TARGETS['vs_script_rerun_n1000']),
                        ('scaling_n10000', TARGETS['scaling_n10000']), ('peak_mb_n10000', TARGETS['peak_mb_n10000'])):
        value = values[name]
        out.append(_check('%s <= %g' % (name, limit), value is not None and value <= limit, 'not measured' if value is None else str(value)))
    shown = find(records, 'progress', 'first', 1000)
    value = values['progress_cost_n1000']
    out.append(_check('progress at -v costs <= %d%% at N=1000, and its lines were shown' % round(TARGETS['progress_cost_n1000'] * 100),
                      value is not None and value <= TARGETS['progress_cost_n1000'] and bool(shown and shown.get('progress_lines')),
                      'not measured' if value is None else '%+.1f%%, %d progress lines' % (value * 100, shown.get('progress_lines', 0))))
    return out


def target_lines(checks):
    return ['%s  %s: %s' % ('MET   ' if c['ok'] else 'MISSED', c['target'], c['detail']) for c in checks]


COLUMNS = (('case', 'case'), ('N', 'mailboxes'), ('tenants', 'tenants'), ('forks', 'forks'), ('scale', 'scale'), ('wall s', 'wall_s'),
           ('floor s', 'floor_s'), ('wall/floor', 'overhead'), ('EXO tasks', 'exchange_tasks'), ('EXO conn.', 'exchange_connections'),
           ('WinRM trips', 'winrm_round_trips'), ('cmdlets', 'cmdlets'), ('Graph calls', 'graph_calls'), ('token req.', 'token_requests'),
           ('peak MB', 'peak_memory_mb'))


def _label(record):
    label = '%s %s' % (record['kind'], record['phase'])
    return label + (' (extrapolated)' if record['extrapolated'] else '')


def _order(record):
    kinds = ('ours', 'progress', 'oneshot', 'naive', 'tenants', 'scale', 'exclusive')
    rank = kinds.index(record['kind']) if record['kind'] in kinds else len(kinds)
    return (rank, record['phase'] != 'first', record['mailboxes'], record['forks'])


def table(records):
    """A Markdown table (it reads well on a terminal too); extrapolated rows carry only time."""
    rows = [[name for name, _key in COLUMNS]]
    for record in sorted(records, key=_order):
        row = []
        for _name, key in COLUMNS:
            value = _label(record) if key == 'case' else record.get(key)
            row.append('-' if value is None else ('%.1f' % value if key in ('wall_s', 'floor_s', 'peak_memory_mb') else
                                                  '%.2f' % value if key == 'overhead' else str(value)))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ['| ' + ' | '.join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)) + ' |' for row in rows]
    lines.insert(1, '|' + '|'.join('-' * (w + 1) + ':' if i else '-' * (w + 2) for i, w in enumerate(widths)) + '|')
    return lines


def chart(records, path):
    """Wall time against N on log scales, ours against naive; None when matplotlib is missing."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use('Agg')
        from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
    except ImportError:
        print('matplotlib is not installed: no chart (pip install -r requirements-dev.txt)')
        return None
    figure, axes = pyplot.subplots(figsize=(8, 5.5))
    series = (('ours', 'first', 'wall_s', 'ours, first converge', '-o', 'tab:blue'),
              ('ours', 'rerun', 'wall_s', 'ours, rerun (nothing to change)', '-s', 'tab:cyan'),
              ('ours', 'first', 'floor_s', 'floor: emulated server time, ours first', ':', 'tab:gray'),
              ('naive', 'first', 'wall_s', 'naive loop, first converge', '-o', 'tab:red'),
              ('naive', 'rerun', 'wall_s', 'naive loop, rerun', '-s', 'tab:orange'))
    for kind, phase, key, label, style, colour in series:
        points = sorted((r['mailboxes'], r[key], r['extrapolated']) for r in records
                        if (r['kind'], r['phase']) == (kind, phase))
        measured = [(n, y) for n, y, extra in points if not extra]
        if measured:
            axes.plot([n for n, _y in measured], [y for _n, y in measured], style, color=colour, label=label)
        if measured and any(extra for _n, _y, extra in points):
            # Dashed through every point, so the fitted ones join the measured line where they belong.
            axes.plot([n for n, _y, _e in points], [y for _n, y, _e in points], '--', color=colour, alpha=0.6, zorder=1,
                      label=label + ' (extrapolated)')
    axes.set_xscale('log')
    axes.set_yscale('log')
    axes.set_xlabel('mailboxes (one tenant)')
    axes.set_ylabel('wall time, seconds')
    axes.set_title('m365.mail_oauth: converge time against the naive per-mailbox loop')
    axes.grid(True, which='both', alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


def render(document):
    """The figures block of docs/performance.md."""
    latency = document['latency']
    lines = [BEGIN, '', 'Run of %s, %s, %.0f s in all. Latency model: %s.' % (
        document.get('finished', 'unknown date'), 'QUICK (N <= 100 only)' if document['quick'] else 'full',
        document['seconds'], ', '.join('%s %g ms' % (k, v * 1000) for k, v in latency.items())), '']
    lines += table(document['records'])
    lines += ['', 'Targets:', '']
    lines += ['- %s' % line for line in target_lines(document['targets'])]
    lines += ['', 'Summary line (the last line `make bench` prints):', '', '```', summary_line(document['summary']), '```', '']
    lines += ['How wall time grows with N (least-squares line through the measured runs of one tenant; '
              'the extrapolated rows above come from these lines):', '']
    for kind, phase in (('ours', 'first'), ('ours', 'rerun'), ('naive', 'first'), ('naive', 'rerun')):
        measured = [r for r in document['records'] if (r['kind'], r['phase']) == (kind, phase) and not r['extrapolated']]
        if measured:
            fixed, per = _fit([(r['mailboxes'], r['wall_s']) for r in measured])
            floor = _fit([(r['mailboxes'], r['floor_s']) for r in measured])
            lines.append('- %s %s: %.1f s + %.3f s x N (floor %.1f s + %.3f s x N; from N = %s)' % (
                kind, phase, fixed, per, floor[0], floor[1], ', '.join(str(r['mailboxes']) for r in measured)))
    lines += ['', END]
    return '\n'.join(lines)


def update_docs(document, path=DOC):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    if BEGIN not in text or END not in text:
        raise SystemExit('%s has no %s ... %s block to fill' % (path, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(head + render(document) + tail)
    print('figures written to %s' % os.path.relpath(path, REPO))


def main():
    with open(RESULTS, encoding='utf-8') as handle:
        document = json.load(handle)
    chart(document['records'], CHART)
    print('\n'.join(table(document['records'])))
    for line in target_lines(document['targets']):
        print(line)
    if not document['quick']:
        update_docs(document)
    print(summary_line(document['summary']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
