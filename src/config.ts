import cron from 'node-cron';
import { z } from 'zod';
import { BallastError, DEFAULT_GUARDS, type GuardSettings, ID_PATTERN } from './domain/index.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, { message: 'must be a number such as 0.25' })
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const MIB = 1024 * 1024;
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: MIB, gib: 1024 * MIB };

/** `16777216`, `16MiB`, `512KiB`, `1GiB`: bytes. Binary units only, so that 16MB is not a guess. */
const byteSize = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+\s*(b|kib|mib|gib)?$/i, { message: 'must be a size in bytes such as 16777216 or 16MiB' })
    .transform((v) => {
      const [, digits, unit = ''] = /^(\d+)\s*([a-z]*)$/i.exec(v)!;
      return Number(digits) * BYTE_UNITS[unit.toLowerCase()]!;
    })
    .pipe(
      z
        .number()
        .min(min, { message: `must be at least ${min} byte${min === 1 ? '' : 's'}` })
        .max(max, { message: `must be at most ${max / MIB} MiB` }),
    );

/** `90s`, `30m`, `48h`, `7d`: milliseconds. */
const duration = (minMs: number, maxMs: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?[smhd]$/, { message: 'must be a duration such as 90s, 30m, 48h or 7d' })
    .transform((v) => Number(v.slice(0, -1)) * DURATION_UNITS[v.slice(-1)]!)
    .pipe(
      z
        .number()
        .min(minMs, { message: `must be at least ${minMs / 1000}s` })
        .max(maxMs, { message: `must be at most ${maxMs / 86_400_000}d` }),
    );

const prefixSchema = z.string().regex(ID_PATTERN, { message: 'must be 1..64 characters of [A-Za-z0-9_-]' });

const redisUrlSchema = z.url({ protocol: /^rediss?$/ });
const isRedisUrl = (value: string): boolean => redisUrlSchema.safeParse(value).success;

const envSchema = z.object({
  // One URL; on Redis Cluster one or more nodes' URLs, comma-separated (the client finds the rest).
  REDIS_URL: z
    .string()
    .refine((value) => value.split(',').every((part) => isRedisUrl(part.trim())), {
      error: 'must be a redis:// or rediss:// URL (on Redis Cluster: several, comma-separated)',
    })
    .default('redis://127.0.0.1:6379'),
  BALLAST_PREFIX: prefixSchema.default('ballast'),
  BALLAST_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1..64 characters of [A-Za-z0-9_-]' })
    .default('ballast'),
  BALLAST_CONCURRENCY: int(1, 1000).default(10),
  BALLAST_CRON: z
    .string()
    .refine((expr) => cron.validate(expr), {
      error: (issue) =>
        `not a valid cron expression (5 fields, or 6 with seconds): ${cronProblem(String(issue.input))}`,
    })
    .default('0 2 * * *'),
  BALLAST_TZ: z
    .string()
    .refine(isTimeZone, { message: 'not a known IANA time zone (e.g. UTC, Europe/Paris)' })
    .default('UTC'),
  BALLAST_CATCH_UP: bool.default(true),
  BALLAST_CATCH_UP_WINDOW_HOURS: int(0, 24 * 31).default(6),
  BALLAST_METRICS_SOURCE: z
    .enum(['http', 'redis', 'file'], { error: 'must be http, redis or file' })
    .default('redis'),
  BALLAST_METRICS_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional(),
  BALLAST_METRICS_FILE: z.string().min(1).optional(),
  BALLAST_METRICS_TIMEOUT_MS: int(1, 600_000).default(5000),
  BALLAST_METRICS_RETRIES: int(0, 20).default(2),
  BALLAST_METRICS_CONCURRENCY: int(1, 1000).default(16),
  BALLAST_METRICS_BATCH_SIZE: int(0, 1000).default(0),
  // A decoded answer becomes one string: V8 refuses strings over ~512 MiB.
  BALLAST_METRICS_MAX_BYTES: byteSize(1, 256 * MIB).default(16 * MIB),
  BALLAST_METRICS_FILE_MAX_BYTES: byteSize(1, 4096 * MIB).default(256 * MIB),
  BALLAST_API_HOST: z.string().min(1).default('127.0.0.1'),
  BALLAST_API_PORT: int(0, 65535).default(8080),
  BALLAST_API_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  BALLAST_API_TOKENS: z
    .string()
    .transform((value, ctx) => {
      const tokens = parseNamedTokens(value);
      if (typeof tokens === 'string') {
        ctx.addIssue({ code: 'custom', message: tokens });
        return z.NEVER;
      }
      return tokens;
    })
    .optional(),
  BALLAST_ACTOR: z
    .string()
    .max(128, { message: 'must be at most 128 characters' })
    .regex(/^[^\p{Cc}\p{Cf}\s][^\p{Cc}\p{Cf}]*$/u, {
      message: 'must be printable, without control characters or leading space',
    })
    .optional(),
  BALLAST_RETENTION_DAYS: int(1, 36_500).default(90),
  BALLAST_RETENTION_PER_PORTFOLIO: int(1, 1_000_000).default(400),
  BALLAST_RETENTION_GLOBAL: int(1, 100_000_000).default(100_000),
  BALLAST_GUARDS: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  BALLAST_GUARD_MAX_METRICS_AGE: duration(1000, 3650 * 86_400_000).default(48 * 3_600_000),
  BALLAST_GUARD_MAX_JUMP: decimal(1, 1e12).default(5),
  BALLAST_GUARD_MAX_TURNOVER: decimal(0, 1).default(0.25),
  BALLAST_GUARD_MAX_MISSING: decimal(0, 1).default(0.5),
  BALLAST_GUARD_RUN_HOLD_SHARE: decimal(0, 1).default(0.2),
  BALLAST_PROPOSAL_TTL: duration(60_000, 365 * 86_400_000).default(7 * 86_400_000),
  BALLAST_METRICS_PUBLIC: bool.default(false),
  BALLAST_REDIS_CLUSTER: bool.default(false),
  BALLAST_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  /** Deprecated alias: the count limit of both report streams (see retention). */
  BALLAST_REPORT_STREAM_MAXLEN: int(1, 10_000_000).optional(),
  BALLAST_RUN_MARKER_TTL_S: int(60, 365 * 86400).default(14 * 86400),
  BALLAST_FANOUT_CHUNK: int(1, 10_000).default(500),
  BALLAST_FANOUT_BLOCK: int(1, 500).default(1),
  BALLAST_JOB_ATTEMPTS: int(1, 100).default(5),
  BALLAST_JOB_BACKOFF_MS: int(0, 3_600_000).default(2000),
  BALLAST_KEEP_COMPLETED: int(0, 10_000_000).default(1000),
  BALLAST_KEEP_FAILED: int(0, 10_000_000).default(10_000),
  BALLAST_LOCK_DURATION_MS: int(1000, 3_600_000).default(30_000),
  BALLAST_STALLED_INTERVAL_MS: int(1000, 3_600_000).default(30_000),
  BALLAST_SHUTDOWN_TIMEOUT: duration(1000, 86_400_000).default(10_000),
});

export interface NamedToken {
  readonly name: string;
  readonly token: string;
}

const TOKEN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `name1:token1,name2:token2`: the name says who acted (`api:<name>` in history and audit). The
 * message of a bad entry names its position and its name, never the token.
 */
function parseNamedTokens(value: string): NamedToken[] | string {
  const out: NamedToken[] = [];
  const entries = value.split(',').map((e) => e.trim());
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? entry : entry.slice(0, colon);
    const token = colon < 0 ? '' : entry.slice(colon + 1);
    const where = `entry ${i + 1}`;
    if (!TOKEN_NAME.test(name))
      return `${where}: the name must be 1..64 characters of [A-Za-z0-9_-] (name:token,...)`;
    if (token.length < 16) return `${where} (${name}): the token must be at least 16 characters`;
    if (out.some((t) => t.name === name)) return `${where}: the name ${name} is given twice`;
    if (out.some((t) => t.token === token)) return `${where} (${name}): the same token is given to two names`;
    out.push({ name, token });
  }
  return out;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function cronProblem(expr: string): string {
  const errors = cron.validateDetailed(expr).errors;
  return errors.length > 0 ? errors.map((e) => `${e.field}: ${e.message}`).join(', ') : JSON.stringify(expr);
}

export interface Config {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly queueName: string;
  readonly concurrency: number;
  readonly cron: string;
  readonly timezone: string;
  readonly catchUp: boolean;
  readonly catchUpWindowHours: number;
  readonly metrics: {
    readonly source: 'http' | 'redis' | 'file';
    readonly url: string | undefined;
    readonly file: string | undefined;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly concurrency: number;
    readonly batchSize: number;
    /** Largest answer of the `http` source, in decoded bytes (BALLAST_METRICS_MAX_BYTES). */
    readonly maxBytes: number;
    /** Largest metrics file: the `file` source and `metrics import` (BALLAST_METRICS_FILE_MAX_BYTES). */
    readonly fileMaxBytes: number;
  };
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly token: string | undefined;
    /** Every accepted token with its name: BALLAST_API_TOKENS, and BALLAST_API_TOKEN as `default`. */
    readonly tokens: readonly NamedToken[];
    readonly metricsPublic: boolean;
  };
  /** Who the CLI says made a change (BALLAST_ACTOR); unset, the CLI uses cli:<user>@<host>. */
  readonly actor: string | undefined;
  /**
   * How long what grows with nights is kept, by age and by count: each portfolio's reports and
   * history (perPortfolio), the global report stream and the audit stream (global).
   */
  readonly retention: {
    readonly days: number;
    /** Entries of each portfolio's history stream. */
    readonly perPortfolio: number;
    /** Entries of the audit stream. */
    readonly global: number;
    /** Entries of each portfolio's report stream (perPortfolio, or the deprecated alias). */
    readonly reportsPerPortfolio: number;
    /** Entries of the global report stream (global, or the deprecated alias). */
    readonly reportsGlobal: number;
  };
  /** Lines a role logs at warn level when it starts (deprecated variables). */
  readonly warnings: readonly string[];
  /** Guardrails (BALLAST_GUARD_*): when a run's recommendation is held instead of applied. */
  readonly guards: GuardSettings;
  /** How long a held recommendation waits for an operator (BALLAST_PROPOSAL_TTL). */
  readonly proposalTtlMs: number;
  readonly logLevel: string;
  /** Keep every script on one hash slot (Redis Cluster): the global publish takes its own round trip. */
  readonly redisCluster: boolean;
  readonly runMarkerTtlSeconds: number;
  readonly fanOutChunk: number;
  /** Portfolios per job of a nightly run: 1 is a job per portfolio; more run as one block job. */
  readonly fanOutBlock: number;
  readonly jobs: {
    readonly attempts: number;
    readonly backoffMs: number;
    readonly keepCompleted: number;
    readonly keepFailed: number;
    readonly lockDurationMs: number;
    readonly stalledIntervalMs: number;
  };
  /** How long a role may take to stop after SIGTERM/SIGINT before it exits 1 (BALLAST_SHUTDOWN_TIMEOUT). */
  readonly shutdownTimeoutMs: number;
}

/** A bad environment variable: the process stops with a message naming it (CLI exit 1). */
export class ConfigError extends BallastError {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super('invalid', message);
  }
}

/** Parse the environment once; every bad variable is named. Nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') present[key] = value;
  }
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.BALLAST_METRICS_SOURCE === 'http' && !e.BALLAST_METRICS_URL) {
    throw new ConfigError(
      'invalid configuration:\n  BALLAST_METRICS_URL: required when BALLAST_METRICS_SOURCE=http',
    );
  }
  if (e.BALLAST_METRICS_SOURCE === 'file' && !e.BALLAST_METRICS_FILE) {
    throw new ConfigError(
      'invalid configuration:\n  BALLAST_METRICS_FILE: required when BALLAST_METRICS_SOURCE=file',
    );
  }
  const tokens: NamedToken[] = [...(e.BALLAST_API_TOKENS ?? [])];
  if (e.BALLAST_API_TOKEN !== undefined) {
    if (tokens.some((t) => t.name === 'default')) {
      throw new ConfigError(
        "invalid configuration:\n  BALLAST_API_TOKENS: the name default is BALLAST_API_TOKEN's; give that token another name",
      );
    }
    tokens.push({ name: 'default', token: e.BALLAST_API_TOKEN });
  }
  return Object.freeze({
    redisUrl: e.REDIS_URL,
    prefix: e.BALLAST_PREFIX,
    queueName: e.BALLAST_QUEUE,
    concurrency: e.BALLAST_CONCURRENCY,
    cron: e.BALLAST_CRON,
    timezone: e.BALLAST_TZ,
    catchUp: e.BALLAST_CATCH_UP,
    catchUpWindowHours: e.BALLAST_CATCH_UP_WINDOW_HOURS,
    metrics: Object.freeze({
      source: e.BALLAST_METRICS_SOURCE,
      url: e.BALLAST_METRICS_URL,
      file: e.BALLAST_METRICS_FILE,
      timeoutMs: e.BALLAST_METRICS_TIMEOUT_MS,
      retries: e.BALLAST_METRICS_RETRIES,
      concurrency: e.BALLAST_METRICS_CONCURRENCY,
      batchSize: e.BALLAST_METRICS_BATCH_SIZE,
      maxBytes: e.BALLAST_METRICS_MAX_BYTES,
      fileMaxBytes: e.BALLAST_METRICS_FILE_MAX_BYTES,
    }),
    api: Object.freeze({
      host: e.BALLAST_API_HOST,
      port: e.BALLAST_API_PORT,
      token: e.BALLAST_API_TOKEN,
      tokens: Object.freeze(tokens),
      metricsPublic: e.BALLAST_METRICS_PUBLIC,
    }),
    logLevel: e.BALLAST_LOG_LEVEL,
    actor: e.BALLAST_ACTOR,
    retention: Object.freeze({
      days: e.BALLAST_RETENTION_DAYS,
      perPortfolio: e.BALLAST_RETENTION_PER_PORTFOLIO,
      global: e.BALLAST_RETENTION_GLOBAL,
      reportsPerPortfolio: e.BALLAST_REPORT_STREAM_MAXLEN ?? e.BALLAST_RETENTION_PER_PORTFOLIO,
      reportsGlobal: e.BALLAST_REPORT_STREAM_MAXLEN ?? e.BALLAST_RETENTION_GLOBAL,
    }),
    warnings: Object.freeze(
      e.BALLAST_REPORT_STREAM_MAXLEN === undefined
        ? []
        : [
            `BALLAST_REPORT_STREAM_MAXLEN is deprecated: it still caps both report streams at ${e.BALLAST_REPORT_STREAM_MAXLEN} entries; use BALLAST_RETENTION_PER_PORTFOLIO (each portfolio's reports and history) and BALLAST_RETENTION_GLOBAL (the global report stream and the audit), with BALLAST_RETENTION_DAYS`,
          ],
    ),
    guards: Object.freeze({
      ...DEFAULT_GUARDS,
      enabled: e.BALLAST_GUARDS === 'on',
      maxMetricsAgeMs: e.BALLAST_GUARD_MAX_METRICS_AGE,
      maxJump: e.BALLAST_GUARD_MAX_JUMP,
      maxTurnover: e.BALLAST_GUARD_MAX_TURNOVER,
      maxMissing: e.BALLAST_GUARD_MAX_MISSING,
      runHoldShare: e.BALLAST_GUARD_RUN_HOLD_SHARE,
    }),
    proposalTtlMs: e.BALLAST_PROPOSAL_TTL,
    redisCluster: e.BALLAST_REDIS_CLUSTER,
    runMarkerTtlSeconds: e.BALLAST_RUN_MARKER_TTL_S,
    fanOutChunk: e.BALLAST_FANOUT_CHUNK,
    fanOutBlock: e.BALLAST_FANOUT_BLOCK,
    jobs: Object.freeze({
      attempts: e.BALLAST_JOB_ATTEMPTS,
      backoffMs: e.BALLAST_JOB_BACKOFF_MS,
      keepCompleted: e.BALLAST_KEEP_COMPLETED,
      keepFailed: e.BALLAST_KEEP_FAILED,
      lockDurationMs: e.BALLAST_LOCK_DURATION_MS,
      stalledIntervalMs: e.BALLAST_STALLED_INTERVAL_MS,
    }),
    shutdownTimeoutMs: e.BALLAST_SHUTDOWN_TIMEOUT,
  });
}
