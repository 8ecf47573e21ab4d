/** What a run's job reads before it computes, for one portfolio or a block of them, in one round trip. */
import type { Keys } from './keys.js';
import type { RedisClient } from './redis.js';
import { crossSlot } from './redis-batch.js';
import { type RunTally, TALLY_FIELDS, tallyOf } from './run-progress.js';

export interface RunInputs {
  /** The portfolio's stored document (null: gone). */
  readonly doc: string | null;
  /** Its metrics baseline (JSON), when asked for. */
  readonly baselineJson: string | null;
  /** The run's tally (runTally), when asked for: read once, the same for every portfolio. */
  readonly tally: RunTally | null;
}

export interface RunInputsWanted {
  readonly baseline: boolean;
  readonly tally: boolean;
}

export async function readRunInputs(
  redis: RedisClient,
  keys: Keys,
  portfolioIds: readonly string[],
  runId: string,
  want: RunInputsWanted,
): Promise<RunInputs[]> {
  const batch = crossSlot(redis);
  for (const id of portfolioIds) {
    batch.hget(keys.portfolio(id), 'doc');
    if (want.baseline) batch.get(keys.metricsBaseline(id));
  }
  if (want.tally) batch.hmget(keys.run(runId), ...TALLY_FIELDS);
  const results = (await batch.exec()) ?? [];
  for (const [err] of results) if (err) throw err;
  const at = (i: number) => (results[i]?.[1] as string | null | undefined) ?? null;
  const per = want.baseline ? 2 : 1;
  const tally = want.tally ? tallyOf(results[portfolioIds.length * per]?.[1] as (string | null)[]) : null;
  return portfolioIds.map((_, i) => ({
    doc: at(i * per),
    baselineJson: want.baseline ? at(i * per + 1) : null,
    tally,
  }));
}
