/** Following a report stream with XREAD BLOCK on a connection of its own (`reports tail`). */
import { duplicate, type RedisClient } from './redis.js';

export interface StreamReport {
  readonly id: string;
  /** The entry's report (a portfolio's stream) or summary (the global stream), as JSON. */
  readonly report: string;
}

export async function* tailStream(
  redis: RedisClient,
  key: string,
  options: { from?: string; signal?: AbortSignal },
): AsyncGenerator<StreamReport> {
  const reader = duplicate(redis);
  // A duplicate has none of the original's listeners: without one, every failed reconnect while
  // Redis is down would print ioredis's "Unhandled error event". The original reports outages.
  reader.on('error', () => {});
  let last = options.from ?? '$';
  // While Redis is down the read waits in ioredis's offline queue, which disconnect() does not
  // flush: the read is raced against the signal, or Ctrl-C during an outage would never return.
  let stopped: () => void = () => {};
  const stop = new Promise<null>((resolve) => {
    stopped = () => resolve(null);
  });
  const abort = () => {
    stopped();
    reader.disconnect();
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    while (!options.signal?.aborted) {
      const read = reader.xread('BLOCK', 1000, 'STREAMS', key, last).catch((err: unknown) => {
        if (options.signal?.aborted) return null;
        throw err;
      });
      const result = await Promise.race([read, stop]);
      if (!result) continue;
      for (const [, entries] of result) {
        for (const [id, fields] of entries) {
          last = id;
          // The global stream's entries are summaries; a portfolio's are full reports.
          yield { id, report: fieldValue(fields, 'report') || fieldValue(fields, 'summary') };
        }
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    // Not twice: a second disconnect() of a closed connection arms ioredis's 2 s "still open"
    // timer, which nothing clears, and keeps the process alive that long after Ctrl-C.
    if (reader.status !== 'end') reader.disconnect();
  }
}

export function fieldValue(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  return '';
}
