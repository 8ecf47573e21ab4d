import { type RedisClient, scanKeys, unlinkKeys } from './redis.js';

/**
 * Deletes every key of one Ballast prefix: `<prefix>:...` and BullMQ's `{<prefix>}:...`. SCAN
 * and UNLINK only: never FLUSHDB, so a shared Redis keeps everything else.
 */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9_-]+$/.test(prefix))
    throw new Error(`refusing to delete keys of prefix ${JSON.stringify(prefix)}`);
  let deleted = 0;
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    for await (const keys of scanKeys(redis, pattern)) deleted += await unlinkKeys(redis, keys);
  }
  return deleted;
}
