/**
 * The `ballast` command tree. Each top-level command lives in its own module under commands/ and
 * exports a `register…Command(program, ctx)`; adding one is an entry in command-list.json (name,
 * help term, summary) and its module in command-table.ts.
 *
 * Only the command that argv names is loaded (`ballast plan ...` never loads the worker's or the
 * API's modules), and `ballast --help` is printed by bin/ballast.js from command-list.json without
 * loading any (issue 15). Anything else (no command, an unknown one, `help <command>`) loads them
 * all, so commander's usage errors and "did you mean" suggestions are what they always were. A
 * command that needs bullmq, ioredis, pino or fastify should still load them inside its action
 * (`const { startWorker } = await import('../../runtime/worker.js')`), and the rest of its module
 * stay light: `ballast <command> --help` loads that module.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { COMMAND_TABLE, type CommandEntry, PROGRAM_DESCRIPTION, PROGRAM_NAME } from './command-table.js';
import { type CliContext, processContext } from './context.js';

export const JSON_FLAG = '--json';

/**
 * The program with the commands `argv` can reach: the one its first word names, or, without
 * argv or when it names none, all of them.
 */
export async function buildProgram(
  ctx: CliContext = processContext(),
  argv?: readonly string[],
): Promise<Command> {
  const program = new Command(PROGRAM_NAME)
    .description(PROGRAM_DESCRIPTION)
    .version(packageVersion(), '-V, --version')
    // The program's options (-V/--version) only before a command: `portfolio restore --version N`
    // is the command's own option, not the program's version.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true);
  const registers = await Promise.all(commandsFor(argv).map((entry) => entry.load()));
  for (const register of registers) register(program, ctx);
  for (const command of walk(program)) configure(command, ctx);
  return program;
}

function commandsFor(argv: readonly string[] | undefined): readonly CommandEntry[] {
  const named = COMMAND_TABLE.find((entry) => entry.name === argv?.[0]);
  return named ? [named] : COMMAND_TABLE;
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
