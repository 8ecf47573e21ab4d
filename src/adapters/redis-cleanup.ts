import type { Redis } from 'ioredis';

/**
 * Deletes every key of one Ballast prefix: `<prefix>:...` and BullMQ's `{<prefix>}:...`. SCAN
 * and UNLINK only: never FLUSHDB, so a shared Redis keeps everything else.
 */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9_-]+$/.test(prefix))
    throw new Error(`refusing to delete keys of prefix ${JSON.stringify(prefix)}`);
  let deleted = 0;
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}
