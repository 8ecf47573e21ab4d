import type { Redis } from 'ioredis';

/** What `INFO memory` says about Redis's memory, in bytes. */
export interface RedisMemory {
  /** `used_memory`: what maxmemory is compared with. */
  readonly used: number;
  /** `maxmemory`; 0 when Redis has no limit. */
  readonly max: number;
}

/** Reads `used_memory` and `maxmemory` with one `INFO memory` (allowed where CONFIG is not). */
export async function readRedisMemory(redis: Redis): Promise<RedisMemory> {
  return parseMemoryInfo(await redis.info('memory'));
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
