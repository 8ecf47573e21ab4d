/**
 * bench:pipeline's results: a row per run measured against its no-op baseline, the JSON result
 * with its targets, and the printed report.
 */
import type { ProfileSummary } from './cpuprofile.js';
import type { SentCounts } from './pipeline-command-count.js';
import { ballastCommands, COMMIT_SCRIPT_CALLS_TOTAL, type CommandStats } from './redis.js';
import { fmt, formatTable } from './table.js';

/** What buildResult needs of the bench's options. */
interface Options {
  readonly portfolios: number;
  readonly size: number;
}

export const RSS_TARGET_BYTES = 200 * 1024 * 1024;
export const RATIO_TARGET = 0.5;
export const COMMANDS_TARGET = 6;
/** The fan-out's chunk (BALLAST_FANOUT_CHUNK default): the baseline adds its jobs the same way. */

export type Source = 'redis' | 'http';

export interface Measurement {
  readonly jobs: number;
  readonly ms: number;
  readonly perSecond: number;
  readonly rssPeak: number;
  readonly rssIdle: number;
  readonly commands: CommandStats;
  /** Growth of Redis's used_memory over the run (reports, job hashes). */
  readonly redisMemory: number;
  /** CPU time over the run's wall time, in percent of one core. */
  readonly workerCpu: number;
  readonly redisCpu: number;
  /** What the worker process sent, counted inside it (pipeline-command-count.ts); null if not written. */
  readonly sent: SentCounts | null;
}

export interface PipelineRow {
  readonly concurrency: number;
  readonly source: Source;
  /** A pass whose worker auto-pipelined its app connection (--auto-pipeline): compared, not judged. */
  readonly autoPipeline: boolean;
  readonly portfolios: number;
  readonly seconds: number;
  readonly portfoliosPerSecond: number;
  readonly baselineJobsPerSecond: number;
  readonly ratio: number;
  readonly rssPeakMb: number;
  readonly rssIdleMb: number;
  /**
   * Ballast's Redis commands per recalculation, as sent by the worker (script internals apart):
   * counted in the worker, minus the no-op worker's per job (BullMQ's own); without those counts,
   * Redis's less the commit script's nominal calls.
   */
  readonly commandsPerRecalculation: number;
  /**
   * BullMQ scripts the pipeline's worker runs per portfolio beyond a no-op job's: the nightly
   * job's adds (addBulk), which the baseline's jobs get from the bench process. Not in
   * commandsPerRecalculation.
   */
  readonly bullmqExtraPerRecalculation: number | null;
  /** Ballast's socket writes per recalculation (commands alone, pipelines), BullMQ's apart. */
  readonly writesPerRecalculation: number | null;
  /** The no-op worker's (BullMQ's own) commands and writes per job, counted in that process. */
  readonly bullmqCommandsPerJob: number | null;
  readonly bullmqWritesPerJob: number | null;
  /** Worker CPU per job in ms, and the no-op worker's (BullMQ's own per-job cost). */
  readonly workerCpuMsPerJob: number;
  readonly baselineWorkerCpuMsPerJob: number;
  /** Ballast's commands per recalculation as Redis executes them, script internals included. */
  readonly commandsExecutedPerRecalculation: number;
  readonly perCommand: Record<string, number>;
  readonly metricsCallsPerBusiness: number;
  /** Redis used_memory growth over the run, in MB (deleted again before the next run). */
  readonly redisMemoryMb: number;
  /** Percent of one core over the run: the worker process, the Redis server, the baseline's worker. */
  readonly workerCpuPercent: number;
  readonly redisCpuPercent: number;
  readonly baselineWorkerCpuPercent: number;
  readonly baselineRedisCpuPercent: number;
}

export interface PipelineResult {
  readonly bench: 'pipeline';
  readonly date: string;
  readonly portfolios: number;
  readonly businessesPerPortfolio: number;
  readonly distinctBusinesses: number;
  readonly seedSeconds: number;
  /** Load average (1 min) when the bench started and ended: other work on the machine. */
  readonly loadAverage: readonly [number, number];
  readonly baselineRuns: readonly { concurrency: number; before: number; after: number; combined: number }[];
  readonly baselinePerJobCommands: Record<string, number>;
  readonly rows: readonly PipelineRow[];
  readonly best: Record<Source, PipelineRow | null>;
  readonly profile: (ProfileSummary & { concurrency: number; source: Source }) | null;
  /** One more redis pass at the best concurrency with other node flags (a heap limit). */
  readonly variant: {
    readonly nodeArgs: string;
    readonly concurrency: number;
    readonly portfoliosPerSecond: number;
    readonly ratio: number;
    readonly rssPeakMb: number;
  } | null;
  readonly targets: {
    readonly ratio: { target: number; value: number | null; pass: boolean };
    readonly rssMb: { target: number; value: number; pass: boolean };
    readonly commands: { target: number; value: number | null; pass: boolean };
    readonly metricsCalls: { target: number; value: number | null; pass: boolean };
  };
}

export function toRow(
  concurrency: number,
  source: Source,
  m: Measurement,
  base: Measurement,
  distinct: number,
  httpRequests: number,
  autoPipeline = false,
  block = 1,
): PipelineRow {
  // BullMQ's own commands come per job: with blocks, a job carries `block` portfolios.
  const baseJobs = base.jobs * block;
  const { perCommand, total } = ballastCommands(m.commands, m.jobs, base.commands, baseJobs);
  const sent = sentPerJob(m, base, baseJobs);
  const hgetall =
    (m.commands.get('hgetall') ?? 0) - ((base.commands.get('hgetall') ?? 0) * m.jobs) / baseJobs;
  return {
    concurrency,
    source,
    autoPipeline,
    portfolios: m.jobs,
    seconds: m.ms / 1000,
    portfoliosPerSecond: m.perSecond,
    baselineJobsPerSecond: base.perSecond,
    ratio: m.perSecond / base.perSecond,
    rssPeakMb: m.rssPeak / 1024 / 1024,
    rssIdleMb: m.rssIdle / 1024 / 1024,
    commandsPerRecalculation: sent ? sent.commands - sent.bullmqExtra : total - COMMIT_SCRIPT_CALLS_TOTAL,
    bullmqExtraPerRecalculation: sent?.bullmqExtra ?? null,
    writesPerRecalculation: sent?.writes ?? null,
    bullmqCommandsPerJob: sent?.baseCommands ?? null,
    bullmqWritesPerJob: sent?.baseWrites ?? null,
    workerCpuMsPerJob: (m.workerCpu / 100) * (m.ms / m.jobs),
    baselineWorkerCpuMsPerJob: (base.workerCpu / 100) * (base.ms / base.jobs),
    commandsExecutedPerRecalculation: total,
    perCommand: Object.fromEntries(
      [...(sent?.perCommand ?? perCommand)].map(([k, v]) => [k, Math.round(v * 1000) / 1000]),
    ),
    metricsCallsPerBusiness: source === 'http' ? httpRequests / distinct : hgetall / distinct,
    redisMemoryMb: m.redisMemory / 1024 / 1024,
    workerCpuPercent: m.workerCpu,
    redisCpuPercent: m.redisCpu,
    baselineWorkerCpuPercent: base.workerCpu,
    baselineRedisCpuPercent: base.redisCpu,
  };
}

/** Commands and writes per job the worker sent, less the no-op worker's (null without counts). */
function sentPerJob(m: Measurement, base: Measurement, baseJobs: number) {
  if (!m.sent || !base.sent) return null;
  const total = (counts: SentCounts) => Object.values(counts.commands).reduce((a, b) => a + b, 0);
  const perCommand = new Map<string, number>();
  for (const name of new Set([...Object.keys(m.sent.commands), ...Object.keys(base.sent.commands)])) {
    const residual = (m.sent.commands[name] ?? 0) / m.jobs - (base.sent.commands[name] ?? 0) / baseJobs;
    if (Math.abs(residual) >= 0.005) perCommand.set(name, residual);
  }
  let bullmqExtra = 0;
  for (const [name, n] of perCommand)
    if (name.startsWith('evalsha:') && !name.startsWith('evalsha:ballast')) bullmqExtra += n;
  return {
    bullmqExtra,
    commands: total(m.sent) / m.jobs - total(base.sent) / baseJobs,
    writes: m.sent.writes / m.jobs - base.sent.writes / baseJobs,
    baseCommands: total(base.sent) / base.jobs,
    baseWrites: base.sent.writes / base.jobs,
    perCommand: new Map([...perCommand].sort(([a], [b]) => a.localeCompare(b))),
  };
}

export function buildResult(
  opts: Pick<Options, 'portfolios' | 'size'>,
  distinct: number,
  seedSeconds: number,
  base: Measurement | undefined,
  rows: PipelineRow[],
  best: Record<Source, PipelineRow | null>,
  profile: PipelineResult['profile'],
  extra: Pick<PipelineResult, 'loadAverage' | 'baselineRuns' | 'variant'>,
): PipelineResult {
  const main = best.redis ?? best.http;
  const rssPeak = Math.max(...rows.map((r) => r.rssPeakMb));
  const calls = rows.map((r) => r.metricsCallsPerBusiness);
  return {
    bench: 'pipeline',
    date: new Date().toISOString(),
    portfolios: opts.portfolios,
    businessesPerPortfolio: opts.size,
    distinctBusinesses: distinct,
    seedSeconds,
    ...extra,
    baselinePerJobCommands: base
      ? Object.fromEntries([...base.commands].map(([k, v]) => [k, Math.round((v / base.jobs) * 1000) / 1000]))
      : {},
    rows,
    best,
    profile,
    targets: {
      ratio: {
        target: RATIO_TARGET,
        value: main?.ratio ?? null,
        pass: (main?.ratio ?? 0) >= RATIO_TARGET,
      },
      rssMb: {
        target: RSS_TARGET_BYTES / 1024 / 1024,
        value: rssPeak,
        pass: rssPeak < RSS_TARGET_BYTES / 1024 / 1024,
      },
      commands: {
        target: COMMANDS_TARGET,
        value: main?.commandsPerRecalculation ?? null,
        pass: (main?.commandsPerRecalculation ?? Infinity) <= COMMANDS_TARGET,
      },
      metricsCalls: {
        target: 1,
        value: calls.length > 0 ? Math.max(...calls) : null,
        pass: calls.every((c) => Math.abs(c - 1) < 0.01),
      },
    },
  };
}

export function report(r: PipelineResult): string {
  const table = formatTable(
    [
      { header: 'concurrency', value: (x: PipelineRow) => String(x.concurrency), align: 'right' },
      { header: 'metrics', value: (x) => (x.autoPipeline ? `${x.source} +auto-pipelining` : x.source) },
      { header: 'portfolios/s', value: (x) => fmt.int(x.portfoliosPerSecond), align: 'right' },
      { header: 'no-op jobs/s', value: (x) => fmt.int(x.baselineJobsPerSecond), align: 'right' },
      { header: 'ratio', value: (x) => x.ratio.toFixed(2), align: 'right' },
      { header: 'run s', value: (x) => x.seconds.toFixed(2), align: 'right' },
      { header: 'RSS peak MB', value: (x) => x.rssPeakMb.toFixed(1), align: 'right' },
      { header: 'cmds/recalc', value: (x) => x.commandsPerRecalculation.toFixed(2), align: 'right' },
      { header: '(executed)', value: (x) => x.commandsExecutedPerRecalculation.toFixed(2), align: 'right' },
      { header: 'writes/recalc', value: (x) => x.writesPerRecalculation?.toFixed(2) ?? '-', align: 'right' },
      {
        header: 'CPU ms/job (no-op)',
        value: (x) => `${x.workerCpuMsPerJob.toFixed(3)} (${x.baselineWorkerCpuMsPerJob.toFixed(3)})`,
        align: 'right',
      },
      {
        header: 'metrics calls/business',
        value: (x) => x.metricsCallsPerBusiness.toFixed(2),
        align: 'right',
      },
      { header: 'Redis +MB', value: (x) => x.redisMemoryMb.toFixed(0), align: 'right' },
      {
        header: 'CPU% worker/Redis (no-op)',
        value: (x) =>
          `${x.workerCpuPercent.toFixed(0)}/${x.redisCpuPercent.toFixed(0)} (${x.baselineWorkerCpuPercent.toFixed(0)}/${x.baselineRedisCpuPercent.toFixed(0)})`,
        align: 'right',
      },
    ],
    r.rows,
  );
  const main = r.best.redis ?? r.best.http;
  const perCommand = main
    ? Object.entries(main.perCommand)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')
    : '';
  const t = r.targets;
  const mark = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  const lines = [
    table,
    `no-op baseline before/after the passes: ${r.baselineRuns
      .map((b) => `c=${b.concurrency} ${fmt.int(b.before)}/${fmt.int(b.after)} jobs/s`)
      .join(
        ', ',
      )}; load average ${r.loadAverage[0].toFixed(2)} at start, ${r.loadAverage[1].toFixed(2)} at end`,
    '',
    main?.writesPerRecalculation === null || main?.writesPerRecalculation === undefined
      ? `Ballast's commands per recalculation at c=${main?.concurrency} (${main?.source}), pipeline minus no-op baseline per job: ${perCommand}\n` +
        `  = ${main?.commandsExecutedPerRecalculation.toFixed(2)} executed by Redis, of which ${COMMIT_SCRIPT_CALLS_TOTAL} inside the commit script: ${main?.commandsPerRecalculation.toFixed(2)} sent by the worker`
      : `Ballast's commands sent per recalculation at c=${main?.concurrency} (${main?.source}), counted in the worker, minus the no-op worker's per job: ${perCommand}\n` +
        `  = ${main.commandsPerRecalculation.toFixed(2)} of Ballast's, ${main.bullmqExtraPerRecalculation?.toFixed(2)} of BullMQ's scripts (the fan-out's adds), in ${main.writesPerRecalculation.toFixed(2)} socket writes (BullMQ's own per no-op job: ${main.bullmqCommandsPerJob?.toFixed(2)} commands in ${main.bullmqWritesPerJob?.toFixed(2)} writes); ${main.commandsExecutedPerRecalculation.toFixed(2)} executed by Redis, script internals included`,
    `${mark(t.ratio.pass)}: throughput ratio ${t.ratio.value?.toFixed(2)} at the best concurrency (target >= ${t.ratio.target})`,
    `${mark(t.rssMb.pass)}: worker RSS peak ${t.rssMb.value.toFixed(1)} MB over every run (target < ${t.rssMb.target} MB)`,
    `${mark(t.commands.pass)}: ${t.commands.value?.toFixed(2)} Redis commands sent per recalculation apart from BullMQ's (aim <= ${t.commands.target})`,
    `${mark(t.metricsCalls.pass)}: metrics-source calls per distinct business per run ${t.metricsCalls.value?.toFixed(2)} at most (target 1)`,
  ];
  if (r.variant) {
    const v = r.variant;
    lines.push(
      `With node ${v.nodeArgs} (c=${v.concurrency}, redis): ${fmt.int(v.portfoliosPerSecond)} portfolios/s, ratio ${v.ratio.toFixed(2)}, RSS peak ${v.rssPeakMb.toFixed(1)} MB`,
    );
  }
  if (r.profile) {
    const p = r.profile;
    lines.push(
      '',
      `Worker CPU profile (c=${p.concurrency}, ${p.source}; ${fmt.int(p.busyMs)} ms busy of ${fmt.int(p.totalMs)} ms), self time by area:`,
      formatTable(
        [
          { header: 'area', value: (e: ProfileSummary['areas'][number]) => e.name },
          { header: 'self ms', value: (e) => fmt.int(e.ms), align: 'right' },
          { header: '% busy', value: (e) => e.share.toFixed(1), align: 'right' },
        ],
        p.areas.slice(0, 10),
      ),
      '',
      'Top functions by self time:',
      formatTable(
        [
          { header: 'function', value: (e: ProfileSummary['functions'][number]) => e.name },
          { header: 'self ms', value: (e) => fmt.int(e.ms), align: 'right' },
          { header: '% busy', value: (e) => e.share.toFixed(1), align: 'right' },
        ],
        p.functions,
      ),
      '',
      "Ballast's functions by inclusive time (the steps of a job):",
      formatTable(
        [
          { header: 'function', value: (e: ProfileSummary['functions'][number]) => e.name },
          { header: 'total ms', value: (e) => fmt.int(e.ms), align: 'right' },
          { header: '% busy', value: (e) => e.share.toFixed(1), align: 'right' },
        ],
        p.ballastInclusive.slice(0, 15),
      ),
    );
  }
  return lines.join('\n');
}
