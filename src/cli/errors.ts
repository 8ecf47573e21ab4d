import { CommanderError } from 'commander';
import { clusterHint } from '../adapters/cluster-hint.js';
// Not the domain's index: that loads zod, and every command loads this module (issue 15).
import { isBallastError } from '../domain/errors.js';

export const EXIT_OK = 0;
/** A refused request: bad input file, domain refusal, unknown portfolio... anything the user can fix. */
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
/** `--fail-on-held`: the run finished, and a guard or the apply mode held a recommendation. */
export const EXIT_HELD = 3;

/** Bad usage that commander cannot see (two options that exclude each other, a bad combination). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ErrorOutcome {
  readonly exitCode: number;
  /** One line for stderr; null when commander has already printed its own message. */
  readonly message: string | null;
  /** Whether this is a bug rather than a refusal: its stack helps (with BALLAST_DEBUG=1). */
  readonly unexpected: boolean;
}

/** A run that held recommendations, for scripts that asked (`--fail-on-held`): exit 3. */
export class HeldError extends Error {
  override readonly name = 'HeldError';
}

/** Maps anything a command throws to an exit code and the line to print. */
export function describeError(err: unknown): ErrorOutcome {
  if (err instanceof CommanderError) {
    // Help and --version end through here with code 0; commander has printed everything already.
    const exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return { exitCode, message: null, unexpected: false };
  }
  if (err instanceof HeldError)
    return { exitCode: EXIT_HELD, message: oneLine(err.message), unexpected: false };
  if (err instanceof UsageError)
    return { exitCode: EXIT_USAGE, message: oneLine(err.message), unexpected: false };
  if (isBallastError(err))
    return { exitCode: EXIT_REFUSED, message: oneLine(err.message), unexpected: false };
  const message = err instanceof Error ? err.message : String(err);
  const hint = clusterHint(message);
  if (hint) return { exitCode: EXIT_REFUSED, message: oneLine(hint), unexpected: false };
  return { exitCode: EXIT_REFUSED, message: `unexpected error: ${oneLine(message)}`, unexpected: true };
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
