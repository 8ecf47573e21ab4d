import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';

/** The Redis chosen by the global setup. */
export function redisUrl(): string {
  const url = inject('redisUrl') ?? process.env.REDIS_URL;
  if (!url) throw new Error('no Redis URL: run the tests through vitest (test/setup/global-setup.ts)');
  return url;
}

/** A key prefix no other test file (or run) uses: `ballast-test-<name>-<random hex>`. */
export function testPrefix(name: string): string {
  return `ballast-test-${name}-${randomBytes(4).toString('hex')}`;
}

/** A connected client that BullMQ accepts for Workers too (maxRetriesPerRequest: null). */
export async function connect(): Promise<Redis> {
  const client = new Redis(redisUrl(), { maxRetriesPerRequest: null, lazyConnect: true });
  await client.connect();
  return client;
}

/** Deletes the keys under `prefix` only (SCAN + UNLINK, never FLUSHDB); returns how many. */
export async function deleteByPrefix(client: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error('deleteByPrefix needs a non-empty prefix');
  const escaped = prefix.replace(/[*?[\]\\]/g, '\\$&');
  let deleted = 0;
  // `{prefix...` too: BullMQ's keys carry the prefix as a hash tag.
  for (const pattern of [`${escaped}*`, `\\{${escaped}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

export interface RedisPrefixFixture {
  readonly prefix: string;
  /** Available from beforeAll on. */
  readonly client: Redis;
}

/**
 * One prefix and client per test file. Its keys are deleted after the file only if every test
 * passed: a failure keeps them for inspection (the prefix is printed).
 */
export function useRedisPrefix(name: string): RedisPrefixFixture {
  const prefix = testPrefix(name);
  let client: Redis | undefined;
  let failed = false;

  beforeAll(async () => {
    client = await connect();
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });
  afterAll(async () => {
    if (!client) return;
    if (failed) console.warn(`[ballast tests] kept Redis keys under ${prefix}* for inspection`);
    else await deleteByPrefix(client, prefix);
    await client.quit();
  });

  return {
    prefix,
    get client() {
      if (!client) throw new Error('useRedisPrefix: the client exists only from beforeAll on');
      return client;
    },
  };
}
