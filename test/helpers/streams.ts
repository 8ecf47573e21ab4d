import { duplicate, type RedisClient } from '../../src/adapters/redis.js';

/**
 * Reads a report stream with blocking XREAD until `enough(reports)` holds: waits on Redis, not
 * on a timer. Returns every report JSON read, parsed.
 */
export async function readReportsUntil(
  client: RedisClient,
  stream: string,
  enough: (reports: Record<string, unknown>[]) => boolean,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>[]> {
  const reader = duplicate(client);
  const reports: Record<string, unknown>[] = [];
  const deadline = Date.now() + timeoutMs;
  let last = '0';
  try {
    while (!enough(reports)) {
      if (Date.now() > deadline) throw new Error(`timed out with ${reports.length} reports on ${stream}`);
      const result = await reader.xread('COUNT', 1000, 'BLOCK', 500, 'STREAMS', stream, last);
      for (const [, entries] of result ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          reports.push(JSON.parse(fields[1]!) as Record<string, unknown>);
        }
      }
    }
    return reports;
  } finally {
    reader.disconnect();
  }
}
