import { isCluster, type RedisClient, serverIsCluster } from '../adapters/redis.js';
import type { Logger } from '../logger.js';
import { withDeadline } from '../observability/deadline.js';

/** A Redis setting that puts Ballast's data at risk (docs/operations.md, "Redis settings"). */
export interface RedisSettingProblem {
  readonly setting: string;
  readonly value: string;
  readonly recommended: string;
  readonly risk: string;
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * Reads maxmemory-policy, appendonly and appendfsync with CONFIG GET (one setting per call, which
 * every Redis version accepts). Returns the settings that put data at risk, or null when CONFIG
 * is not available to this client (renamed or disabled, refused by an ACL, a managed Redis).
 */
export async function checkRedisSettings(redis: RedisClient): Promise<RedisSettingProblem[] | null> {
  let values: Map<string, string>;
  try {
    const replies = await Promise.all(
      ['maxmemory-policy', 'appendonly', 'appendfsync'].map((name) =>
        withDeadline(redis.config('GET', name) as Promise<string[]>, CHECK_TIMEOUT_MS, 'CONFIG GET'),
      ),
    );
    values = new Map(replies.flatMap((pairs) => (pairs.length >= 2 ? [[pairs[0]!, pairs[1]!]] : [])));
  } catch {
    return null;
  }
  const problems: RedisSettingProblem[] = [];
  const policy = values.get('maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') {
    problems.push({
      setting: 'maxmemory-policy',
      value: policy,
      recommended: 'noeviction',
      risk: 'at maxmemory Redis evicts keys: portfolios, run markers (a run could then apply twice) and queued jobs can silently disappear',
    });
  }
  const appendonly = values.get('appendonly');
  if (appendonly !== undefined && appendonly !== 'yes') {
    problems.push({
      setting: 'appendonly',
      value: appendonly,
      recommended: 'yes',
      risk: 'a Redis restart loses everything written since the last snapshot: portfolio edits, applied runs, reports and queued jobs',
    });
  } else if (values.get('appendfsync') === 'no') {
    problems.push({
      setting: 'appendfsync',
      value: 'no',
      recommended: 'everysec',
      risk: 'a crash of the Redis host may lose the last ~30 s of writes (the OS decides when to flush)',
    });
  }
  return problems;
}

/**
 * A Redis Cluster node reached with a single-Redis client (BALLAST_REDIS_CLUSTER unset) answers
 * MOVED to most commands: said once, as an error, at start. Never throws.
 */
async function checkClusterMode(redis: RedisClient, log: Logger): Promise<void> {
  const server = await withDeadline(serverIsCluster(redis), CHECK_TIMEOUT_MS, 'INFO cluster').catch(
    () => null,
  );
  if (server === true && !isCluster(redis)) {
    log.error(
      'Redis is a Redis Cluster node but BALLAST_REDIS_CLUSTER is not set: most commands will fail with MOVED; set BALLAST_REDIS_CLUSTER=true and list the nodes in REDIS_URL',
    );
  }
}

/** Logs a warning per risky setting; says so when the settings cannot be read. Never throws. */
export async function warnAboutRedisSettings(redis: RedisClient, log: Logger): Promise<void> {
  await checkClusterMode(redis, log);
  const problems = await checkRedisSettings(redis);
  if (problems === null) {
    log.info(
      'could not read the Redis settings (CONFIG GET refused): check maxmemory-policy and appendonly by hand',
    );
    return;
  }
  for (const p of problems) {
    log.warn(
      { setting: p.setting, value: p.value, recommended: p.recommended },
      `Redis ${p.setting} is ${p.value}, not ${p.recommended}: ${p.risk} (see docs/operations.md)`,
    );
  }
}

/**
 * warnAboutRedisSettings once `redis` is connected, now or later, without waiting for it: for the
 * API, which starts and serves (its data routes answer 503) while Redis is unreachable.
 */
export function warnAboutRedisSettingsWhenConnected(redis: RedisClient, log: Logger): void {
  if (redis.status === 'ready') {
    void warnAboutRedisSettings(redis, log);
    return;
  }
  const onReady = () => {
    redis.off('end', onEnd);
    void warnAboutRedisSettings(redis, log);
  };
  // Closed before it ever connected: nothing to check.
  const onEnd = () => redis.off('ready', onReady);
  redis.once('ready', onReady);
  redis.once('end', onEnd);
}
