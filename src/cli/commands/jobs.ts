/** `ballast jobs ...`: the queue's jobs, and cancelling one that has not started. */
import { type Command, InvalidArgumentError } from 'commander';
import { cliActor } from '../../services/actor.js';
import { DEFAULT_JOBS_LIMIT, JOB_STATES, type JobStateFilter, MAX_JOBS_LIMIT } from '../../services/jobs.js';
import type { CliContext } from '../context.js';
import { withApp } from '../lazy-with-app.js';
import { integerIn } from '../option-parsers.js';
import { formatJson } from '../output.js';
import { formatJobCancelText, formatJobListText } from '../run-text.js';

const services = () => import('../../services/jobs.js');

function parseState(value: string): JobStateFilter {
  const found = JOB_STATES.find((s) => s === value);
  if (!found) {
    throw new InvalidArgumentError(
      `unknown state ${JSON.stringify(value)}: use one of ${JOB_STATES.join(', ')}`,
    );
  }
  return found;
}

function parseJobId(value: string): string {
  if (value.length === 0 || value.length > 200 || /[\s\p{Cc}]/u.test(value)) {
    throw new InvalidArgumentError(`${JSON.stringify(value.slice(0, 50))} is not a job id`);
  }
  return value;
}

export function registerJobsCommand(program: Command, ctx: CliContext): void {
  const jobs = program.command('jobs').description("the queue's jobs: what waits, runs or failed");

  jobs
    .command('list')
    .description('jobs newest first: waiting, active and delayed ones unless --state says otherwise')
    .option('--state <state>', `only jobs in this state: ${JOB_STATES.join(', ')}`, parseState)
    .option(
      '--limit <n>',
      `at most this many (default ${DEFAULT_JOBS_LIMIT}, up to ${MAX_JOBS_LIMIT})`,
      integerIn(1, MAX_JOBS_LIMIT),
    )
    .option(
      '--json',
      'print an array of {id, name, state, run_id, portfolio_id, created_at, attempts_made, failed_reason}',
    )
    .action(async (options: { state?: JobStateFilter; limit?: number; json?: boolean }) => {
      const list = await withApp(ctx, async (app) =>
        (await services()).listJobs(app, { state: options.state, limit: options.limit }),
      );
      ctx.out(options.json ? formatJson(list) : formatJobListText(list));
    });

  jobs
    .command('cancel')
    .description('remove a job that has not started (waiting or delayed); a running job is refused')
    .argument('<job-id>', 'the job id, as `jobs list` or `enqueue` print it', parseJobId)
    .option('--json', 'print {job_id, name, run_id, portfolio_id, cancelled}')
    .action(async (jobId: string, options: { json?: boolean }) => {
      const result = await withApp(ctx, async (app) =>
        (await services()).cancelJob(app, jobId, cliActor(app.config.actor)),
      );
      ctx.out(options.json ? formatJson(result) : formatJobCancelText(result));
    });
}
