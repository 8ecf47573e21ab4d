import type { CliContext } from './context.js';
import { describeError, EXIT_OK } from './errors.js';
import { buildProgram } from './program.js';

/**
 * Runs one command line (without the `node ballast` part) and returns the exit code. Never
 * throws: a refusal prints `ballast: <reason>` on one line; a stack trace is printed only for an
 * unexpected error and only with BALLAST_DEBUG=1.
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  try {
    await (await buildProgram(ctx, argv)).parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    const outcome = describeError(err);
    if (outcome.message !== null) ctx.err(`ballast: ${outcome.message}\n`);
    if (ctx.env['BALLAST_DEBUG'] === '1' && outcome.message !== null && err instanceof Error && err.stack) {
      ctx.err(`${err.stack}\n`);
    }
    return outcome.exitCode;
  }
}
