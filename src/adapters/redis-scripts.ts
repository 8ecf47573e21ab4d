import type { Redis } from 'ioredis';

/**
 * Lua scripts, registered once per connection. The `#!lua` shebang makes Redis 7 refuse a
 * script up front when it is out of memory (noeviction), so a script never half-writes.
 */
const WRITE_PORTFOLIO = `#!lua
local v = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == 'create' then
  if v then return -1 end
elseif not v then
  return -2
elseif v ~= ARGV[1] then
  return tonumber(v)
end
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'version', ARGV[2])
return 0
`;

/**
 * Create a portfolio: the document, the global index and the owner index together, or nothing
 * when the id exists (a refused create leaves no trace in any index). KEYS: portfolio, global
 * index, owner index. ARGV: id, version, doc. Three hash slots: on Redis Cluster the store
 * writes the document with WRITE_PORTFOLIO and the indexes after it.
 */
const CREATE_PORTFOLIO = `#!lua
if redis.call('HGET', KEYS[1], 'version') then return -1 end
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'version', ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 0
`;

/**
 * Remove an index entry whose document is gone (KEYS: portfolio, global index; ARGV: id). Returns
 * 1 when it removed one, 0 when the portfolio exists (or the entry was not there).
 */
const PRUNE_INDEX_ENTRY = `#!lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
return redis.call('ZREM', KEYS[2], ARGV[1])
`;

/**
 * Commit one run of one portfolio: unless this run was committed before, check the version,
 * write the new portfolio (unless dry-run), append the report to the portfolio's stream, set the
 * latest report and mark the run. KEYS: portfolio, stream, latest, marker, and optionally the
 * global stream: then the report also goes to the global stream and the pub/sub channel
 * (ARGV[8]) in the same script, and crosses the socket once instead of three times. That
 * touches two hash slots, so on Redis Cluster (BALLAST_REDIS_CLUSTER) the 4-key form is used
 * and the global publish follows in a second round trip.
 * ARGV: apply(1|0), expectedVersion, newVersion, doc, report, maxlen, markerTtl[, channel].
 */
const COMMIT_RUN = `#!lua
local existing = redis.call('HGET', KEYS[4], 'report')
if existing then
  return {'dup', existing, redis.call('HGET', KEYS[4], 'published') or '0'}
end
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return {'gone', '', '0'} end
if ARGV[1] == '1' then
  if v ~= ARGV[2] then return {'stale', v, '0'} end
  redis.call('HSET', KEYS[1], 'doc', ARGV[4], 'version', ARGV[3])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'report', ARGV[5])
redis.call('SET', KEYS[3], ARGV[5])
local published = '0'
if #KEYS == 5 then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'report', ARGV[5])
  redis.call('PUBLISH', ARGV[8], ARGV[5])
  published = '1'
end
redis.call('HSET', KEYS[4], 'report', ARGV[5], 'published', published)
redis.call('EXPIRE', KEYS[4], ARGV[7])
return {'ok', '', published}
`;

export interface ScriptedRedis extends Redis {
  ballastWritePortfolio(key: string, expected: string, next: string, doc: string): Promise<number>;
  ballastCreatePortfolio(
    portfolioKey: string,
    indexKey: string,
    ownerIndexKey: string,
    id: string,
    version: string,
    doc: string,
  ): Promise<number>;
  ballastPruneIndexEntry(portfolioKey: string, indexKey: string, id: string): Promise<number>;
  ballastCommitRun(
    portfolioKey: string,
    streamKey: string,
    latestKey: string,
    markerKey: string,
    apply: string,
    expectedVersion: string,
    newVersion: string,
    doc: string,
    report: string,
    maxLen: string,
    markerTtl: string,
  ): Promise<[string, string, string]>;
  ballastCommitRunAndPublish(
    portfolioKey: string,
    streamKey: string,
    latestKey: string,
    markerKey: string,
    globalStreamKey: string,
    apply: string,
    expectedVersion: string,
    newVersion: string,
    doc: string,
    report: string,
    maxLen: string,
    markerTtl: string,
    channel: string,
  ): Promise<[string, string, string]>;
}

export function withScripts(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.ballastWritePortfolio !== 'function') {
    redis.defineCommand('ballastWritePortfolio', { numberOfKeys: 1, lua: WRITE_PORTFOLIO });
    redis.defineCommand('ballastCreatePortfolio', { numberOfKeys: 3, lua: CREATE_PORTFOLIO });
    redis.defineCommand('ballastPruneIndexEntry', { numberOfKeys: 2, lua: PRUNE_INDEX_ENTRY });
    redis.defineCommand('ballastCommitRun', { numberOfKeys: 4, lua: COMMIT_RUN });
    redis.defineCommand('ballastCommitRunAndPublish', { numberOfKeys: 5, lua: COMMIT_RUN });
  }
  return r;
}
