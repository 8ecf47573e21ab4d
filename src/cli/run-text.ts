/** Plain text for `ballast runs list|show|cancel` and `ballast jobs list|cancel`. Pure. */
import type { CancelJobResult, WireJob } from '../services/jobs.js';
import type { CancelResult, RunCounts, WireRun, WireRunDetail, WireRunPortfolio } from '../services/runs.js';
import { formatPairs, formatTable } from './output.js';

/** `3 changed, 1 held, 2 failed`: the non-zero counts, in the order an operator reads them. */
export function describeCounts(c: RunCounts): string {
  const parts: string[] = [];
  const add = (n: number, label: string) => {
    if (n > 0) parts.push(`${n} ${label}`);
  };
  add(c.changed, 'changed');
  add(c.held, 'held');
  add(c.failed, 'failed');
  add(c.advisory, 'advisory');
  add(c.unchanged, 'unchanged');
  add(c.skipped, 'skipped');
  add(c.cancelled, 'cancelled');
  add(c.gone, 'gone');
  add(c.dry_run, 'dry-run');
  return parts.length > 0 ? parts.join(', ') : 'nothing done yet';
}

const time = (iso: string | null) => (iso ? iso.replace(/\.\d{3}Z$/, 'Z') : '-');

export function formatRunListText(runs: readonly WireRun[]): string {
  if (runs.length === 0) return 'no runs recorded (runs are kept as long as their run markers)\n';
  return formatTable(
    [
      { header: 'run', value: (r: WireRun) => r.run_id },
      { header: 'trigger', value: (r) => `${r.trigger ?? '-'}${r.catch_up ? ' (catch-up)' : ''}` },
      { header: 'slot', value: (r) => time(r.slot) },
      { header: 'started', value: (r) => time(r.started_at ?? r.queued_at) },
      { header: 'finished', value: (r) => time(r.finished_at) },
      { header: 'state', value: (r) => r.state },
      { header: 'portfolios', value: (r) => `${r.done}/${r.total ?? '?'}`, align: 'right' },
      { header: 'counts', value: (r) => describeCounts(r.counts) },
    ],
    runs,
  );
}

export function formatRunHeadText(run: WireRun): string {
  const pairs: [string, string][] = [
    ['run', run.run_id],
    ['state', run.state],
    [
      'trigger',
      `${run.trigger ?? '-'}${run.catch_up ? ' (catch-up)' : ''}${run.actor ? `, by ${run.actor}` : ''}`,
    ],
  ];
  if (run.slot) pairs.push(['slot', run.slot]);
  pairs.push(['queued', time(run.queued_at)], ['started', time(run.started_at)]);
  pairs.push(['finished', time(run.finished_at)]);
  if (run.cancelled_at) pairs.push(['cancelled', `${time(run.cancelled_at)} by ${run.cancelled_by ?? '?'}`]);
  pairs.push(
    ['portfolios', `${run.done} of ${run.total ?? '?'} done`],
    ['outcomes', describeCounts(run.counts)],
  );
  if (run.circuit_open) pairs.push(['CIRCUIT BREAKER', run.circuit_open]);
  return formatPairs(pairs, 0);
}

export function formatRunText(run: WireRunDetail): string {
  const lines = [formatRunHeadText(run)];
  lines.push(`turnover  ${run.turnover.map((b) => `${b.bucket}: ${b.count}`).join('  ')}\n`);
  if (run.portfolios.length > 0) {
    lines.push(
      formatTable(
        [
          { header: 'portfolio', value: (p: WireRunPortfolio) => p.portfolio_id },
          { header: 'outcome', value: (p) => p.outcome },
          { header: 'changes', value: (p) => (p.changes === null ? '-' : String(p.changes)), align: 'right' },
          {
            header: 'turnover',
            value: (p) => (p.turnover === null ? '-' : `${(p.turnover * 100).toFixed(1)}%`),
            align: 'right',
          },
          { header: 'why', value: (p) => why(p) },
        ],
        run.portfolios,
      ),
    );
  }
  if (run.portfolios_total > run.portfolios.length) {
    lines.push(`... ${run.portfolios_total - run.portfolios.length} more (--limit N, --outcome OUTCOME)\n`);
  }
  if (run.counts.held > 0) lines.push('held recommendations wait for approval: ballast proposals list\n');
  return lines.join('');
}

function why(p: WireRunPortfolio): string {
  if (p.error) return p.error;
  if (p.held) return p.held.map((h) => (h.detail ? `${h.guard}: ${h.detail}` : h.guard)).join('; ');
  if (p.skipped) return p.skipped;
  return '';
}

export function formatRunCancelText(result: CancelResult): string {
  const fanOut = result.fan_out_cancelled ? ' and its fan-out (no portfolio runs)' : '';
  return `run ${result.run_id}: ${result.cancelled} queued portfolio job(s) cancelled${fanOut}; now ${result.state}\n`;
}

export function formatJobListText(jobs: readonly WireJob[]): string {
  if (jobs.length === 0) return 'no jobs\n';
  return formatTable(
    [
      { header: 'job', value: (j: WireJob) => j.id },
      { header: 'name', value: (j) => j.name },
      { header: 'state', value: (j) => j.state },
      { header: 'created', value: (j) => time(j.created_at) },
      { header: 'attempts', value: (j) => String(j.attempts_made), align: 'right' },
      { header: 'failure', value: (j) => j.failed_reason ?? '' },
    ],
    jobs,
  );
}

export function formatJobCancelText(result: CancelJobResult): string {
  return `job ${result.job_id} (${result.name}) cancelled\n`;
}
