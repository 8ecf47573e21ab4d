/**
 * Prometheus metrics of one process. Workers feed it through `observe` (the JobContext hook);
 * the queue depth, Redis's memory and the metrics-source error count are read when Prometheus
 * scrapes.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type RedisMemory, readRedisMemory } from '../adapters/redis-memory.js';
import type { App } from '../app.js';
import { withDeadline } from './deadline.js';

/** The shape of JobContext['observe'] (jobs/job.ts): a worker passes it to startWorker. */
export type Observe = (event: string, value: number, labels?: Record<string, string>) => void;

export interface PrometheusSources {
  /** Job counts by state (JobQueue.counts()); read at scrape time. */
  readonly queueCounts?: () => Promise<Record<string, number>>;
  /** Redis's used_memory and maxmemory (INFO memory); read at scrape time. */
  readonly redisMemory?: () => Promise<RedisMemory>;
  /** Errors counted by the metrics source since the process started; null when it does not count. */
  readonly sourceErrors?: () => number | null;
  /** A scrape never waits longer than this for Redis (a scrape during an outage still answers). */
  readonly scrapeTimeoutMs?: number;
  /** Process metrics (CPU, memory, event loop, GC); default true. */
  readonly processMetrics?: boolean;
}

export interface Prometheus {
  readonly registry: Registry;
  readonly observe: Observe;
  /** The text exposition format, and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** Turnover is a share of the portfolio in [0,1]: finer buckets at the small end, where most runs land. */
const TURNOVER_BUCKETS = [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1];
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createPrometheus(sources: PrometheusSources = {}): Prometheus {
  const registry = new Registry();
  const timeoutMs = sources.scrapeTimeoutMs ?? 1000;
  if (sources.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const completed = new Counter({
    name: 'ballast_jobs_completed_total',
    help: 'Jobs completed by this process, by job name',
    labelNames: ['name'],
    registers: [registry],
  });
  const failed = new Counter({
    name: 'ballast_jobs_failed_total',
    help: 'Job attempts that failed in this process, by job name (a retried job counts once per attempt)',
    labelNames: ['name'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ballast_job_duration_seconds',
    help: 'Duration of completed jobs in this process, by job name',
    labelNames: ['name'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const turnover = new Histogram({
    name: 'ballast_turnover',
    help: 'Turnover of each committed run (half the sum of weight moves, 0..1)',
    buckets: TURNOVER_BUCKETS,
    registers: [registry],
  });
  const held = new Counter({
    name: 'ballast_portfolios_held_total',
    help: 'Recommendations held for approval instead of applied, by guard (a run held by several guards counts under each)',
    labelNames: ['guard'],
    registers: [registry],
  });
  const circuitOpen = new Counter({
    name: 'ballast_run_circuit_open_total',
    help: 'Nightly runs whose circuit breaker this process opened (too many portfolios held: the rest of the run was held)',
    registers: [registry],
  });
  let observedSourceErrors = 0;
  new Counter({
    name: 'ballast_metrics_source_errors_total',
    help: 'Metrics-source failures (failed requests, invalid answers) seen by this process',
    registers: [registry],
    collect() {
      // The source keeps its own count: mirror it, plus whatever was observed through the hook.
      this.reset();
      this.inc(observedSourceErrors + (sources.sourceErrors?.() ?? 0));
    },
  });
  const queueCounts = sources.queueCounts;
  new Gauge({
    name: 'ballast_queue_jobs',
    help: 'Jobs in the queue by state, read from Redis at scrape time',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!queueCounts) return;
      const counts = await withDeadline(queueCounts(), timeoutMs, 'queue counts').catch(() => null);
      this.reset();
      // Redis did not answer in time: no sample rather than a stale or invented one.
      if (!counts) return;
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });
  // One INFO per scrape for both gauges (prom-client collects them concurrently), so that used
  // and max come from the same moment.
  const redisMemory = sources.redisMemory;
  let memoryRead: Promise<RedisMemory | null> | undefined;
  const readMemory = (): Promise<RedisMemory | null> => {
    if (!redisMemory) return Promise.resolve(null);
    memoryRead ??= withDeadline(redisMemory(), timeoutMs, 'redis memory')
      .catch(() => null)
      .finally(() => {
        memoryRead = undefined;
      });
    return memoryRead;
  };
  const memoryGauge = (name: string, help: string, value: (m: RedisMemory) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const memory = await readMemory();
        if (memory) {
          this.set(value(memory));
          return;
        }
        // Redis did not answer in time: no sample, as for ballast_queue_jobs (reset() would
        // leave a 0 behind on a gauge without labels).
        this.remove();
      },
    });
  memoryGauge(
    'ballast_redis_used_memory_bytes',
    'Memory used by Redis (INFO memory used_memory), read at scrape time',
    (m) => m.used,
  );
  memoryGauge(
    'ballast_redis_maxmemory_bytes',
    'Redis maxmemory (0: no limit), read at scrape time; at the limit, with noeviction, Redis refuses writes',
    (m) => m.max,
  );

  const observe: Observe = (event, value, labels = {}) => {
    if (!Number.isFinite(value)) return;
    const name = labels['name'] ?? 'unknown';
    switch (event) {
      case 'job_duration_seconds':
        duration.observe({ name }, value);
        completed.inc({ name });
        break;
      case 'job_failed':
        failed.inc({ name }, value);
        break;
      case 'turnover':
        turnover.observe(value);
        break;
      case 'metrics_source_errors':
        observedSourceErrors += value;
        break;
      case 'held':
        held.inc({ guard: labels['guard'] ?? 'unknown' }, value);
        break;
      case 'run_circuit_open':
        circuitOpen.inc(value);
        break;
      default:
        // Unknown events are ignored: a newer worker may report more than this registry knows.
        break;
    }
  };

  return {
    registry,
    observe,
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}

/**
 * The registry of a process built around `app`: queue depth from its queue, memory from its Redis,
 * source errors from its metrics source. `ballast start` passes `observe` to its worker and the
 * registry to its API.
 */
export function prometheusFor(
  app: App,
  options: Pick<PrometheusSources, 'processMetrics' | 'scrapeTimeoutMs'> = {},
): Prometheus {
  return createPrometheus({
    ...options,
    queueCounts: () => app.queue.counts(),
    redisMemory: () => readRedisMemory(app.redis),
    sourceErrors: () => app.metricsStats().source?.errors ?? null,
  });
}
