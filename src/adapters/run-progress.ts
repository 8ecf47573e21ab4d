/** A nightly run's figures as Redis returns them: its guard tally and how far it has got. */

/** A run's tally and how many of its portfolios are done: what its end is judged on. */
export interface RunProgress {
  readonly decided: number;
  readonly held: number;
  /** Portfolios fanned out; null until the fan-out has ended. */
  readonly total: number | null;
  /** Committed (any outcome, cancelled included), gone, or failed for good. */
  readonly done: number;
  readonly circuitOpen: string | null;
}

/** A run's progress as a commit saw it, and whether that commit recorded the run's end. */
export interface RunEndProgress extends RunProgress {
  readonly finished: boolean;
}

/** The guards' tally of a run so far, and whether (why) its circuit breaker opened. */
export type RunTally = Omit<RunProgress, 'done'>;

/** The run hash's fields that runTally reads, in tallyOf's order. */
export const TALLY_FIELDS = ['decided', 'held', 'total', 'circuit_open'] as const;

export function tallyOf([decided, held, total, circuit]: readonly (string | null | undefined)[]): RunTally {
  return {
    decided: Number(decided ?? 0),
    held: Number(held ?? 0),
    total: total === null || total === undefined ? null : Number(total),
    circuitOpen: circuit ?? null,
  };
}

/** The run's figures the 14-key commit script returns after its summary (null without them). */
export function runEndOf(fields: readonly string[]): RunEndProgress | null {
  const [decided, held, total, done, circuit, finished] = fields;
  if (done === undefined) return null;
  return {
    decided: Number(decided),
    held: Number(held),
    total: total ? Number(total) : null,
    done: Number(done),
    circuitOpen: circuit || null,
    finished: finished === '1',
  };
}
