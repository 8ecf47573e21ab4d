import { masters, type RedisClient } from './redis.js';

/** What `INFO memory` says about Redis's memory, in bytes. */
export interface RedisMemory {
  /** `used_memory`: what maxmemory is compared with. */
  readonly used: number;
  /** `maxmemory`; 0 when Redis has no limit. */
  readonly max: number;
}

/**
 * Reads `used_memory` and `maxmemory` with one `INFO memory` (allowed where CONFIG is not); on a
 * Cluster, of the master closest to its limit.
 */
export async function readRedisMemory(redis: RedisClient): Promise<RedisMemory> {
  // On a Cluster each master has its own memory and limit: the fullest one is what refuses writes.
  const each = await Promise.all(
    (await masters(redis)).map(async (node) => parseMemoryInfo(await node.info('memory'))),
  );
  return each.reduce((fullest, m) => (fill(m) > fill(fullest) ? m : fullest));
}

/** How full a node is: used / max, or used bytes over a huge max when it has no limit. */
function fill(m: RedisMemory): number {
  return m.max > 0 ? m.used / m.max : m.used / Number.MAX_SAFE_INTEGER;
}

/** The two fields of an `INFO memory` reply; throws when `used_memory` is missing. */
export function parseMemoryInfo(info: string): RedisMemory {
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(info);
    return match ? Number(match[1]) : undefined;
  };
  const used = field('used_memory');
  if (used === undefined) throw new Error('INFO memory has no used_memory field');
  // A reply without maxmemory (an older Redis) reads as no limit, which is what 0 means.
  return { used, max: field('maxmemory') ?? 0 };
}
