import type { RedisClient } from './redis.js';

/**
 * Lua scripts, registered once per connection. The `#!lua` shebang makes Redis 7 refuse a
 * script up front when it is out of memory (noeviction), so a script never half-writes.
 *
 * History and audit records are appended by the script that writes the change they record, with
 * their retention (count and age) applied in the same call: no cleaner process. Their stream ids
 * take the milliseconds of the app's clock (never less than the stream's last id), so age-based
 * trimming follows the same clock that stamps the records, an injected one included. Trimming is
 * exact (`=`): one append evicts at most the few entries past the limit, and the limits mean what
 * they say (approximate trimming keeps up to a whole stream node, 100 entries, more).
 */
const APPEND = `
local function append(key, field, value, nowMs, maxLen, maxAgeMs)
  local ms = tonumber(nowMs)
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if last[1] then
    local lastMs = tonumber(string.match(last[1][1], '^(%d+)'))
    if lastMs and lastMs > ms then ms = lastMs end
  end
  local id = redis.call('XADD', key, 'MAXLEN', '=', maxLen, string.format('%.0f', ms) .. '-*', field, value)
  local age = tonumber(maxAgeMs)
  if age > 0 then
    redis.call('XTRIM', key, 'MINID', '=', string.format('%.0f', tonumber(nowMs) - age))
  end
  return id
end
`;

/**
 * Write one portfolio (compare-and-set on its version, or 'create' when it must not exist) and
 * append its history record; with a third key, the audit entry too. KEYS: portfolio, history
 * [, audit]. ARGV: expected | 'create', newVersion, doc, record, audit, nowMs, historyMaxLen,
 * auditMaxLen, maxAgeMs. Returns 0, -1 (exists), -2 (gone), or the stored version.
 */
const WRITE_PORTFOLIO = `#!lua
${APPEND}
local v = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == 'create' then
  if v then return -1 end
elseif not v then
  return -2
elseif v ~= ARGV[1] then
  return tonumber(v)
end
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'version', ARGV[2])
append(KEYS[2], 'record', ARGV[4], ARGV[6], ARGV[7], ARGV[9])
if #KEYS == 3 then append(KEYS[3], 'record', ARGV[5], ARGV[6], ARGV[8], ARGV[9]) end
return 0
`;

/**
 * Create a portfolio: the document, the global index, the owner index, its first history record
 * and the audit entry together, or nothing when the id exists (a refused create leaves no trace).
 * KEYS: portfolio, global index, owner index, history, audit. ARGV: id, version, doc, record,
 * audit, nowMs, historyMaxLen, auditMaxLen, maxAgeMs. Several hash slots: on Redis Cluster the
 * store writes the document with WRITE_PORTFOLIO and the indexes after it.
 */
const CREATE_PORTFOLIO = `#!lua
${APPEND}
if redis.call('HGET', KEYS[1], 'version') then return -1 end
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'version', ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
append(KEYS[4], 'record', ARGV[4], ARGV[6], ARGV[7], ARGV[9])
append(KEYS[5], 'record', ARGV[5], ARGV[6], ARGV[8], ARGV[9])
return 0
`;

/**
 * Append one entry to one stream with its retention (on Redis Cluster: the audit entry, the
 * global report stream's summary). ARGV: value, nowMs, maxLen, maxAgeMs [, field (default record)].
 */
const APPEND_RECORD = `#!lua
${APPEND}
return append(KEYS[1], ARGV[5] or 'record', ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`;

/**
 * Remove an index entry whose document is gone (KEYS: portfolio, global index; ARGV: id; also a
 * proposal and the proposals index). Returns 1 when it removed one, 0 when the document exists
 * (or the entry was not there).
 */
const PRUNE_INDEX_ENTRY = `#!lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
return redis.call('ZREM', KEYS[2], ARGV[1])
`;

/**
 * Commit one run of one portfolio: unless this run was committed before, check the version,
 * write the new portfolio and its history record ('write'; 'check' only checks the version, for
 * a run that changes nothing or is held; 'none' for a dry run or a skipped portfolio), set or
 * clear its proposal and its metrics baseline, append the report to the portfolio's stream (the
 * one full copy kept per night, trimmed by count and age), set the latest report and mark the run
 * with the report's summary and stream id.
 * KEYS: portfolio, stream, latest, marker, history, proposal, baseline, and optionally global
 * stream, audit, run's portfolios, run, proposals index: then the summary also goes to the global
 * stream and the pub/sub channel, the audit entry to the audit stream, the outcome to the run's
 * hash (counted in the run's tally), the proposal to the index, in the same script. Those are other
 * hash slots, so on Redis Cluster (BALLAST_REDIS_CLUSTER) the 7-key form is used and the rest
 * follows in a second round trip.
 * ARGV: mode, expectedVersion, newVersion, doc, report, summary (JSON object; the script adds
 * "stream_id"), markerTtl, channel, record, audit, nowMs, historyMaxLen, auditMaxLen, maxAgeMs,
 * portfolioId, outcome, proposalOp (keep | clear | set), proposal, proposalTtlMs, baseline (the
 * proposal's with set, else written unless ''), reportId, runId, tally ('' | decided | held),
 * reportsMaxLen, globalMaxLen, finishedAt (a nightly run's portfolio: '' for none).
 * With the run's gone set and failed hash as KEYS 13 and 14 (the 14-key form) and a finishedAt,
 * the script also judges the run's end, as jobs/circuit.ts checkRunEnd does in its own round trip:
 * when every portfolio the run fanned out is done, it records finished_at (once: HSETNX).
 * Returns {status, value, published}: ok with the stored summary, dup with the earlier one, stale
 * with the version, gone. The 14-key form's ok adds the run's decided, held, total ('' before the
 * fan-out ends), done, circuit_open ('' when closed) and finished ('1' for the commit that ended it).
 */
const COMMIT_RUN = `#!lua
${APPEND}
local existing = redis.call('HGET', KEYS[4], 'summary') or redis.call('HGET', KEYS[4], 'report')
if existing then
  return {'dup', existing, redis.call('HGET', KEYS[4], 'published') or '0'}
end
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return {'gone', '', '0'} end
if ARGV[1] ~= 'none' then
  if v ~= ARGV[2] then return {'stale', v, '0'} end
end
if ARGV[1] == 'write' then
  redis.call('HSET', KEYS[1], 'doc', ARGV[4], 'version', ARGV[3])
  append(KEYS[5], 'record', ARGV[9], ARGV[11], ARGV[12], ARGV[14])
end
local op = ARGV[17]
if op == 'set' then
  local old = redis.call('HMGET', KEYS[6], 'report_id', 'run_id')
  redis.call('DEL', KEYS[6])
  redis.call('HSET', KEYS[6], 'report_id', ARGV[21], 'run_id', ARGV[22], 'proposal', ARGV[18], 'baseline', ARGV[20])
  if old[1] then
    redis.call('HSET', KEYS[6], 'supersedes_report', old[1], 'supersedes_run', old[2])
  end
  redis.call('PEXPIRE', KEYS[6], ARGV[19])
elseif op == 'clear' then
  redis.call('DEL', KEYS[6])
end
if op ~= 'set' and ARGV[20] ~= '' then
  redis.call('SET', KEYS[7], ARGV[20])
end
local id = append(KEYS[2], 'report', ARGV[5], ARGV[11], ARGV[24], ARGV[14])
redis.call('SET', KEYS[3], ARGV[5])
local summary = string.sub(ARGV[6], 1, -2) .. ',"stream_id":"' .. id .. '"}'
local published = '0'
if #KEYS >= 12 then
  append(KEYS[8], 'summary', summary, ARGV[11], ARGV[25], ARGV[14])
  redis.call('PUBLISH', ARGV[8], summary)
  if ARGV[1] == 'write' then
    append(KEYS[9], 'record', ARGV[10], ARGV[11], ARGV[13], ARGV[14])
  end
  if redis.call('HSET', KEYS[10], ARGV[15], ARGV[16]) == 1 and ARGV[23] ~= '' then
    redis.call('HINCRBY', KEYS[11], 'decided', 1)
    if ARGV[23] == 'held' then redis.call('HINCRBY', KEYS[11], 'held', 1) end
    redis.call('EXPIRE', KEYS[11], ARGV[7])
  end
  redis.call('EXPIRE', KEYS[10], ARGV[7])
  if op == 'set' then
    redis.call('ZADD', KEYS[12], tonumber(ARGV[11]) + tonumber(ARGV[19]), ARGV[15])
    redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', '(' .. ARGV[11])
  elseif op == 'clear' then
    redis.call('ZREM', KEYS[12], ARGV[15])
  end
  published = '1'
end
redis.call('HSET', KEYS[4], 'summary', summary, 'id', id, 'published', published)
if #KEYS == 7 then
  -- What the second round trip owes, for a retry to pay should this process die before it.
  local audit = ''
  if ARGV[1] == 'write' then audit = ARGV[10] end
  redis.call('HSET', KEYS[4], 'outcome', ARGV[16], 'tally', ARGV[23], 'proposal_op', op, 'audit', audit,
    'tail', ARGV[11] .. ',' .. ARGV[12] .. ',' .. ARGV[13] .. ',' .. ARGV[14])
end
redis.call('EXPIRE', KEYS[4], ARGV[7])
if #KEYS == 14 and ARGV[26] ~= '' then
  local run = redis.call('HMGET', KEYS[11], 'decided', 'held', 'total', 'circuit_open')
  local done = redis.call('HLEN', KEYS[10]) + redis.call('SCARD', KEYS[13]) + redis.call('HLEN', KEYS[14])
  local finished = '0'
  if run[3] and done >= tonumber(run[3]) and redis.call('HSETNX', KEYS[11], 'finished_at', ARGV[26]) == 1 then
    redis.call('EXPIRE', KEYS[11], ARGV[7])
    finished = '1'
  end
  return {'ok', summary, published, run[1] or '0', run[2] or '0', run[3] or '', tostring(done), run[4] or '', finished}
end
return {'ok', summary, published}
`;

/**
 * Approve or reject a portfolio's pending proposal, if it is still the one the operator saw
 * (its report id). Approve: compare-and-set the portfolio to the approved version, append its
 * history record, accept the proposal's metrics as the baseline. Both: remove the proposal; with
 * the 6-key form, append the audit entry and remove it from the index in the same script.
 * KEYS: proposal, portfolio, history, baseline [, audit, proposals index].
 * ARGV: approve | reject, reportId, expectedVersion, newVersion, doc, record, audit, nowMs,
 * historyMaxLen, auditMaxLen, maxAgeMs, portfolioId.
 * Returns {'ok'}, {'gone'} (no such proposal any more), {'missing'} (no portfolio), {'stale', v}.
 */
const RESOLVE_PROPOSAL = `#!lua
${APPEND}
if redis.call('HGET', KEYS[1], 'report_id') ~= ARGV[2] then return {'gone'} end
if ARGV[1] == 'approve' then
  local v = redis.call('HGET', KEYS[2], 'version')
  if not v then return {'missing'} end
  if v ~= ARGV[3] then return {'stale', v} end
  redis.call('HSET', KEYS[2], 'doc', ARGV[5], 'version', ARGV[4])
  append(KEYS[3], 'record', ARGV[6], ARGV[8], ARGV[9], ARGV[11])
  local baseline = redis.call('HGET', KEYS[1], 'baseline')
  if baseline and baseline ~= '' then redis.call('SET', KEYS[4], baseline) end
end
redis.call('DEL', KEYS[1])
if #KEYS == 6 then
  if ARGV[7] ~= '' then append(KEYS[5], 'record', ARGV[7], ARGV[8], ARGV[10], ARGV[11]) end
  redis.call('ZREM', KEYS[6], ARGV[12])
end
return {'ok'}
`;

/**
 * Delete a portfolio, compare-and-delete on its version: its document, report stream, latest
 * report, history, proposal and metrics baseline; its entries in the global, owner and proposals
 * indexes; and the audit entry that says so. KEYS: portfolio, global index, owner index, reports,
 * latest, history, proposal, baseline, proposals index [, audit]. ARGV: expected version, id,
 * audit, nowMs, historyMaxLen, auditMaxLen, maxAgeMs. Returns 0, -2 (gone) or the stored version.
 * On Redis Cluster (several slots) the store runs it without the indexes and the audit stream.
 */
const DELETE_PORTFOLIO = `#!lua
${APPEND}
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return -2 end
if v ~= ARGV[1] then return tonumber(v) end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
if #KEYS >= 9 then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[2])
  redis.call('ZREM', KEYS[9], ARGV[2])
end
if #KEYS == 10 then append(KEYS[10], 'record', ARGV[3], ARGV[4], ARGV[6], ARGV[7]) end
return 0
`;

type Args = string[];

export type ScriptedRedis = RedisClient & {
  ballastWritePortfolio(...keysAndArgs: Args): Promise<number>;
  ballastWritePortfolioAudited(...keysAndArgs: Args): Promise<number>;
  ballastCreatePortfolio(...keysAndArgs: Args): Promise<number>;
  ballastAppendRecord(...keysAndArgs: Args): Promise<string>;
  ballastPruneIndexEntry(portfolioKey: string, indexKey: string, id: string): Promise<number>;
  ballastCommitRun(...keysAndArgs: Args): Promise<[string, string, string]>;
  ballastCommitRunAndPublish(...keysAndArgs: Args): Promise<[string, string, string, ...string[]]>;
  ballastResolveProposal(...keysAndArgs: Args): Promise<string[]>;
  ballastResolveProposalAudited(...keysAndArgs: Args): Promise<string[]>;
  ballastDeletePortfolio(...keysAndArgs: Args): Promise<number>;
  ballastDeletePortfolioAudited(...keysAndArgs: Args): Promise<number>;
};

export function withScripts(redis: RedisClient): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.ballastWritePortfolio !== 'function') {
    redis.defineCommand('ballastWritePortfolio', { numberOfKeys: 2, lua: WRITE_PORTFOLIO });
    redis.defineCommand('ballastWritePortfolioAudited', { numberOfKeys: 3, lua: WRITE_PORTFOLIO });
    redis.defineCommand('ballastCreatePortfolio', { numberOfKeys: 5, lua: CREATE_PORTFOLIO });
    redis.defineCommand('ballastAppendRecord', { numberOfKeys: 1, lua: APPEND_RECORD });
    redis.defineCommand('ballastPruneIndexEntry', { numberOfKeys: 2, lua: PRUNE_INDEX_ENTRY });
    redis.defineCommand('ballastCommitRun', { numberOfKeys: 7, lua: COMMIT_RUN });
    redis.defineCommand('ballastCommitRunAndPublish', { numberOfKeys: 14, lua: COMMIT_RUN });
    redis.defineCommand('ballastResolveProposal', { numberOfKeys: 4, lua: RESOLVE_PROPOSAL });
    redis.defineCommand('ballastResolveProposalAudited', { numberOfKeys: 6, lua: RESOLVE_PROPOSAL });
    redis.defineCommand('ballastDeletePortfolio', { numberOfKeys: 8, lua: DELETE_PORTFOLIO });
    redis.defineCommand('ballastDeletePortfolioAudited', { numberOfKeys: 10, lua: DELETE_PORTFOLIO });
  }
  return r;
}
