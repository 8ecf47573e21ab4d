/** Bodies of the run and job visibility routes: GET /runs, GET /runs/{id}, GET /jobs, cancels. */
import { z } from 'zod';
import {
  MAX_RUN_PORTFOLIOS,
  MAX_RUNS_LIMIT,
  PORTFOLIO_OUTCOMES,
  TURNOVER_BUCKETS,
} from '../../domain/run-state.js';
import { JOB_STATES, MAX_JOBS_LIMIT } from '../../services/jobs.js';
import { limitParam, strictQuery } from './common.js';

const wholeNumber = (max: number, fallback: number) => limitParam(max, `default ${fallback}, at most ${max}`);

export const runsQuery = strictQuery({ limit: wholeNumber(MAX_RUNS_LIMIT, 20) });

export const runQuery = strictQuery({
  limit: wholeNumber(MAX_RUN_PORTFOLIOS, 200).describe('portfolios listed, those needing a look first'),
  outcome: z
    .enum(PORTFOLIO_OUTCOMES as [string, ...string[]], {
      error: `must be one of ${PORTFOLIO_OUTCOMES.join(', ')}`,
    })
    .optional()
    .describe('only portfolios with this outcome'),
});

export const jobsQuery = strictQuery({
  state: z
    .enum(JOB_STATES, { error: `must be one of ${JOB_STATES.join(', ')}` })
    .optional()
    .describe('only jobs in this state; default waiting, active and delayed'),
  limit: wholeNumber(MAX_JOBS_LIMIT, 50),
});

const counts = z.object({
  changed: z.number(),
  unchanged: z.number(),
  held: z.number(),
  advisory: z.number(),
  skipped: z.number(),
  dry_run: z.number(),
  cancelled: z.number(),
  gone: z.number(),
  failed: z.number(),
});

const iso = z.string().nullable();

export const runWire = z
  .object({
    run_id: z.string(),
    trigger: z.string().nullable(),
    slot: iso.describe('the cron slot of a scheduled or backfilled run'),
    actor: z
      .string()
      .nullable()
      .describe('who asked for it: scheduler:<host>, api:<token>, cli:<user>@<host>'),
    catch_up: z.boolean(),
    queued_at: iso,
    started_at: iso,
    finished_at: iso,
    cancelled_at: iso,
    cancelled_by: z.string().nullable(),
    state: z.enum(['queued', 'fanning-out', 'running', 'finished', 'fan-out-failed', 'cancelled', 'unknown']),
    total: z.number().nullable().describe('portfolios fanned out; null until the fan-out ends'),
    done: z.number(),
    counts,
    circuit_open: z.string().nullable(),
  })
  .meta({ id: 'Run' });

export const runsResponse = z.object({ runs: z.array(runWire) });

export const runDetailResponse = runWire
  .extend({
    turnover: z
      .array(z.object({ bucket: z.string(), count: z.number() }))
      .describe(`portfolios by turnover: ${TURNOVER_BUCKETS.map((b) => b.label).join(', ')}`),
    portfolios_total: z.number(),
    portfolios: z.array(
      z.object({
        portfolio_id: z.string(),
        outcome: z.string(),
        report_id: z.string().nullable(),
        changes: z.number().nullable(),
        turnover: z.number().nullable(),
        skipped: z.string().nullable(),
        held: z.array(z.object({ guard: z.string(), detail: z.string() })).nullable(),
        error: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'RunDetail' });

export const cancelRunResponse = z.object({
  run_id: z.string(),
  cancelled: z.number().describe('portfolio jobs removed before they started'),
  fan_out_cancelled: z.boolean(),
  state: z.string(),
});

export const jobsResponse = z.object({
  jobs: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      state: z.string(),
      run_id: z.string().nullable(),
      portfolio_id: z.string().nullable(),
      created_at: z.string(),
      attempts_made: z.number(),
      failed_reason: z.string().nullable(),
    }),
  ),
});

export const cancelJobResponse = z.object({
  job_id: z.string(),
  name: z.string(),
  run_id: z.string().nullable(),
  portfolio_id: z.string().nullable(),
  cancelled: z.literal(true),
});
