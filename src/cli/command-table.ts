/**
 * The top-level commands, in the order `ballast --help` lists them. Their names, help terms and
 * summaries are in command-list.json, which bin/ballast.js reads through root-help.cts to print
 * the root help without loading any command (issue 15); here each gets the module to load when
 * argv names it (program.ts). The summaries repeat the commands' own descriptions:
 * test/cli/command-table.test.ts fails when the two drift apart.
 */
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

interface CommandList {
  readonly name: string;
  readonly description: string;
  readonly commands: readonly {
    /** `ballast <name> ...` */
    readonly name: string;
    /** As the root help lists it: the name, then `[options]` when the command has any (--json counts). */
    readonly term: string;
    /** The command's summary, or its description when it has none. */
    readonly summary: string;
  }[];
}

export type CommandEntry = CommandList['commands'][number] & {
  readonly load: () => Promise<RegisterCommand>;
};

// Through require: an ES module's JSON import needs an import attribute, experimental in Node 20.
const list = createRequire(import.meta.url)('./command-list.json') as CommandList;

const LOADERS: Readonly<Record<string, () => Promise<RegisterCommand>>> = {
  demo: async () => (await import('./commands/demo.js')).registerDemoCommand,
  plan: async () => (await import('./commands/plan.js')).registerPlanCommand,
  portfolio: async () => (await import('./commands/portfolio.js')).registerPortfolioCommand,
  metrics: async () => (await import('./commands/metrics.js')).registerMetricsCommand,
  enqueue: async () => (await import('./commands/enqueue.js')).registerEnqueueCommand,
  reports: async () => (await import('./commands/reports.js')).registerReportsCommand,
  runs: async () => (await import('./commands/runs.js')).registerRunsCommand,
  jobs: async () => (await import('./commands/jobs.js')).registerJobsCommand,
  proposals: async () => (await import('./commands/proposals.js')).registerProposalsCommand,
  audit: async () => (await import('./commands/audit.js')).registerAuditCommand,
  worker: async () => (await import('./commands/worker.js')).registerWorkerCommand,
  scheduler: async () => (await import('./commands/scheduler.js')).registerSchedulerCommand,
  schedule: async () => (await import('./commands/schedule.js')).registerScheduleCommand,
  api: async () => (await import('./commands/api.js')).registerApiCommand,
  start: async () => (await import('./commands/start.js')).registerStartCommand,
  health: async () => (await import('./commands/health.js')).registerHealthCommand,
};

export const PROGRAM_NAME = list.name;
export const PROGRAM_DESCRIPTION = list.description;

export const COMMAND_TABLE: readonly CommandEntry[] = list.commands.map((command) => {
  const load = LOADERS[command.name];
  if (!load)
    throw new Error(`command-list.json names ${command.name}, which has no module in command-table.ts`);
  return { ...command, load };
});

const unlisted = Object.keys(LOADERS).filter(
  (name) => !list.commands.some((command) => command.name === name),
);
if (unlisted.length > 0) {
  throw new Error(`command-table.ts loads ${unlisted.join(', ')}, which command-list.json does not list`);
}
