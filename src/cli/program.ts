/**
 * The `ballast` command tree. Each command lives in its own module under commands/ and exports a
 * `register…Command(program, ctx)`; adding one is an import and a line in COMMANDS.
 *
 * Every module here is imported on every start, `ballast --help` and the offline `plan` included:
 * a command that needs bullmq, ioredis, pino or fastify should load them inside its action
 * (`const { startWorker } = await import('../../runtime/worker.js')`), not at the top of its file.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerApiCommand } from './commands/api.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEnqueueCommand } from './commands/enqueue.js';
import { registerHealthCommand } from './commands/health.js';
import { registerJobsCommand } from './commands/jobs.js';
import { registerMetricsCommand } from './commands/metrics.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerPortfolioCommand } from './commands/portfolio.js';
import { registerProposalsCommand } from './commands/proposals.js';
import { registerReportsCommand } from './commands/reports.js';
import { registerRunsCommand } from './commands/runs.js';
import { registerScheduleCommand } from './commands/schedule.js';
import { registerSchedulerCommand } from './commands/scheduler.js';
import { registerStartCommand } from './commands/start.js';
import { registerWorkerCommand } from './commands/worker.js';
import { type CliContext, processContext } from './context.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** In the order `ballast --help` lists them. */
const COMMANDS: readonly RegisterCommand[] = [
  registerDemoCommand,
  registerPlanCommand,
  registerPortfolioCommand,
  registerMetricsCommand,
  registerEnqueueCommand,
  registerReportsCommand,
  registerRunsCommand,
  registerJobsCommand,
  registerProposalsCommand,
  registerAuditCommand,
  registerWorkerCommand,
  registerSchedulerCommand,
  registerScheduleCommand,
  registerApiCommand,
  registerStartCommand,
  registerHealthCommand,
];

export const JSON_FLAG = '--json';

export function buildProgram(ctx: CliContext = processContext()): Command {
  const program = new Command('ballast')
    .description('Unattended portfolio rebalancing on BullMQ and Redis')
    .version(packageVersion(), '-V, --version')
    // The program's options (-V/--version) only before a command: `portfolio restore --version N`
    // is the command's own option, not the program's version.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true);
  for (const register of COMMANDS) register(program, ctx);
  for (const command of walk(program)) configure(command, ctx);
  return program;
}

/**
 * Applied to every command after registration, so a command built with `new Command()` and
 * `addCommand` behaves like the rest: errors are thrown to runCli (which picks the exit code),
 * messages go through the context, and every leaf command takes --json.
 */
function configure(command: Command, ctx: CliContext): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: ctx.out,
    writeErr: ctx.err,
    outputError: (message, write) => write(`ballast: ${message.replace(/^error: /, '')}`),
  });
  const isLeaf = command.commands.length === 0 && command.parent !== null;
  if (isLeaf && !command.options.some((option) => option.long === JSON_FLAG)) {
    command.option(JSON_FLAG, 'print machine-readable JSON (snake_case wire format)');
  }
}

function* walk(command: Command): Generator<Command> {
  yield command;
  for (const child of command.commands) yield* walk(child);
}

/** From the package.json above this module (dist/src/cli or src/cli). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'ballast' && pkg.version) return pkg.version;
    } catch {
      // Not at this level; try the next one.
    }
  }
  return '0.0.0';
}
