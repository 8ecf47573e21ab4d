/**
 * Issue 15: bin/ballast.js prints `ballast --help` from command-list.json (root-help.cts), and a
 * command line loads only the command it names. Both must show exactly what the full command tree
 * shows, so these tests fail when the list and the commands drift apart.
 */
import { createRequire } from 'node:module';
import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_TABLE } from '../../src/cli/command-table.js';
import { buildProgram } from '../../src/cli/program.js';
import { ballast } from './cli-process.js';
import { cliContext, runIn } from './in-process.js';

const PREFIX = 'ballast-test-command-table';

// CommonJS, as the bin requires it: from the build (`npm test` builds first, through pretest).
const { rootHelp } = createRequire(import.meta.url)('../../dist/src/cli/root-help.cjs') as {
  rootHelp: (helpWidth?: number) => string;
};

/** The full tree (every command loaded), as before issue 15. */
async function fullProgram() {
  const { ctx, output } = cliContext(PREFIX);
  return { program: await buildProgram(ctx), output };
}

/** What the full tree prints for `argv` (a --help), stdout and stderr together with the exit code. */
async function fullTreeOutput(argv: readonly string[]) {
  const { program, output } = await fullProgram();
  let code = 0;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    code = err.exitCode;
  }
  return { code, ...output() };
}

function* paths(command: Command, path: readonly string[] = []): Generator<readonly string[]> {
  for (const child of command.commands) {
    const childPath = [...path, child.name()];
    yield childPath;
    yield* paths(child, childPath);
  }
}

describe('the command table', () => {
  it('lists every command of the tree, in order, with its help term and summary', async () => {
    const { program } = await fullProgram();
    const help = program.createHelp();
    const listed = program.commands.map((command) => ({
      name: command.name(),
      term: help.subcommandTerm(command),
      summary: help.subcommandDescription(command),
    }));
    expect(COMMAND_TABLE.map(({ name, term, summary }) => ({ name, term, summary }))).toEqual(listed);
  });

  it('loads each command alone: its module registers that command and nothing else', async () => {
    for (const entry of COMMAND_TABLE) {
      const { ctx } = cliContext(PREFIX);
      const program = await buildProgram(ctx, [entry.name, '--help']);
      expect(program.commands.map((command) => command.name())).toEqual([entry.name]);
    }
  });
});

describe('ballast --help from the table', () => {
  it('is the full tree’s help byte for byte, at any width', async () => {
    const { program } = await fullProgram();
    for (const width of [20, 40, 41, 60, 79, 80, 81, 100, 132, 200, 400]) {
      program.configureOutput({ getOutHelpWidth: () => width });
      expect(rootHelp(width), `width ${width}`).toBe(program.helpInformation());
    }
    // Not a terminal: commander's 80 columns.
    expect(rootHelp()).toBe(rootHelp(80));
  });

  it('is what the process prints for --help and -h (exit 0, nothing on stderr)', async () => {
    const tree = await fullTreeOutput(['--help']);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toBe(rootHelp(process.stdout.isTTY ? process.stdout.columns : undefined));
    for (const flag of ['--help', '-h']) {
      const result = await ballast([flag]);
      expect(result).toEqual({ code: 0, stdout: rootHelp(), stderr: '' });
    }
  });
});

describe('a command line loads only the command it names', () => {
  it('prints the same help for every command and subcommand as the full tree', async () => {
    const { program } = await fullProgram();
    const all = [...paths(program)];
    expect(all.length).toBeGreaterThan(COMMAND_TABLE.length);
    for (const path of all) {
      const alone = await runIn(PREFIX, [...path, '--help']);
      const tree = await fullTreeOutput([...path, '--help']);
      expect(alone, path.join(' ')).toEqual(tree);
    }
  });

  it('keeps commander’s usage errors and suggestions', async () => {
    const unknown = await runIn(PREFIX, ['plna']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toBe(
      "ballast: unknown command 'plna'\n(Did you mean plan?)\n(run with --help for usage)\n",
    );
    const sub = await runIn(PREFIX, ['portfolio', 'shwo']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("ballast: unknown command 'shwo'\n(Did you mean show?)\n");
    // --json is added to every leaf command after registration, and suggested like the rest.
    const option = await runIn(PREFIX, ['plan', '--portfolio', 'p', '--metrics', 'm', '--jsn']);
    expect(option).toMatchObject({ code: 2, stdout: '' });
    expect(option.stderr).toBe(
      "ballast: unknown option '--jsn'\n(Did you mean --json?)\n(run with --help for usage)\n",
    );
    const none = await runIn(PREFIX, []);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(rootHelp(process.stderr.isTTY ? process.stderr.columns : undefined));
  });
});
