import type { Keys } from './keys.js';
import type { RedisClient } from './redis.js';

export interface ScheduleState {
  readonly paused: boolean;
  readonly pausedAt: string | null;
  /** Who paused it, and why, while it is paused. */
  readonly pausedBy: string | null;
  readonly pauseNote: string | null;
  /** The last resume, and who did it. */
  readonly resumedAt: string | null;
  readonly resumedBy: string | null;
  /** The last pause that has ended: slots between these two were not run and never will be. */
  readonly lastPause: { readonly from: string; readonly until: string } | null;
  /** The last slot decided, run or skipped. */
  readonly lastRunId: string | null;
  readonly lastSlot: string | null;
  /** When the last slot was enqueued; null when it was skipped. */
  readonly lastEnqueuedAt: string | null;
  readonly lastCatchUp: boolean;
  /** Why the last slot was not run (e.g. "schedule paused"), if it was not. */
  readonly lastSkipped: string | null;
}

/** Who holds a slot: a replica enqueueing it (since `claimedAt`), or the pause that skipped it. */
export type SlotClaim =
  | { readonly kind: 'enqueue'; readonly value: string; readonly holder: string; readonly claimedAt: number }
  /** The slot's run was enqueued: never taken over, whatever became of its job and run record. */
  | { readonly kind: 'enqueued'; readonly value: string }
  | { readonly kind: 'paused'; readonly value: string; readonly at: string };

/** A claim this old whose run does not exist was left by a holder that died before enqueueing. */
export const STALE_CLAIM_MS = 2 * 60 * 1000;

/** Whether a slot at `t` (ms) fell in the last pause that has ended: it was skipped, and stays so. */
export function inLastPause(state: ScheduleState, t: number): boolean {
  return (
    state.lastPause !== null && t >= Date.parse(state.lastPause.from) && t < Date.parse(state.lastPause.until)
  );
}

/** What acquiring a slot came to: claimed (perhaps from a dead holder), run already, paused, or held. */
export type SlotAcquired =
  | { readonly kind: 'claimed'; readonly value: string; readonly tookOverFrom: string | null }
  | { readonly kind: 'enqueued' }
  | { readonly kind: 'paused' }
  /** Another claimant's live claim (holder null: it changed hands while we looked). */
  | { readonly kind: 'held'; readonly holder: string | null };

const PAUSED = 'paused';
const ENQUEUED = 'enqueued';

// Our own claim only: a claim another replica took over meanwhile is left alone.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const TAKE_OVER = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
const MARK_ENQUEUED = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 end return 0`;
// Pausing twice keeps the first pause (its start, who and why): the pause began then.
const PAUSE = `if redis.call('HGET', KEYS[1], 'paused') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'paused', '1', 'paused_at', ARGV[1], 'paused_by', ARGV[2], 'pause_note', ARGV[3])
return 1`;
const RESUME = `local paused = redis.call('HGET', KEYS[1], 'paused')
local from = redis.call('HGET', KEYS[1], 'paused_at')
redis.call('HSET', KEYS[1], 'paused', '0', 'paused_at', '', 'paused_by', '', 'pause_note', '')
if paused ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'resumed_at', ARGV[1], 'resumed_by', ARGV[2])
if from and from ~= '' then
  redis.call('HSET', KEYS[1], 'last_pause_from', from, 'last_pause_until', ARGV[1]) end
return 1`;

/** What a running scheduler says of itself: the configuration it obeys, as `schedule status` shows it. */
export interface SchedulerPresence {
  /** `<host>:<pid>`, as its slot claims name it. */
  readonly holder: string;
  readonly host: string;
  readonly pid: number;
  readonly cron: string;
  readonly timezone: string;
  readonly catchUp: boolean;
  readonly catchUpWindowHours: number;
  readonly version: string;
  /** When it last wrote this (its clock). */
  readonly writtenAt: string;
}

/** The nightly schedule's shared state: every scheduler replica reads and obeys it. */
export class ScheduleStore {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    keys: Keys,
    name = 'nightly',
  ) {
    this.key = keys.schedule(name);
  }

  async state(): Promise<ScheduleState> {
    const h = await this.redis.hgetall(this.key);
    return {
      paused: h.paused === '1',
      pausedAt: h.paused_at || null,
      pausedBy: h.paused === '1' ? h.paused_by || null : null,
      pauseNote: h.paused === '1' ? h.pause_note || null : null,
      resumedAt: h.resumed_at || null,
      resumedBy: h.resumed_by || null,
      lastPause:
        h.last_pause_from && h.last_pause_until
          ? { from: h.last_pause_from, until: h.last_pause_until }
          : null,
      lastRunId: h.last_run_id || null,
      lastSlot: h.last_slot || null,
      lastEnqueuedAt: h.last_enqueued_at || null,
      lastCatchUp: h.last_catch_up === '1',
      lastSkipped: h.last_skipped || null,
    };
  }

  /**
   * Pausing records since when; resuming records the pause that ended, so that a scheduler
   * that was down during it still knows its slots were skipped and must not catch them up.
   * False when nothing changed (paused already, or not paused).
   */
  async setPaused(
    paused: boolean,
    at: string,
    by: { readonly actor?: string; readonly note?: string | undefined } = {},
  ): Promise<boolean> {
    const args = paused ? [at, by.actor ?? '', by.note ?? ''] : [at, by.actor ?? ''];
    return (await this.redis.eval(paused ? PAUSE : RESUME, 1, this.key, ...args)) === 1;
  }

  /**
   * A running scheduler's configuration, kept `ttlMs` (it rewrites it well before): a stopped
   * scheduler's disappears by itself. A set indexes them (no SCAN of the keyspace); it expires
   * with the last of them, and members whose entry is gone are dropped as they are found.
   */
  async writePresence(p: SchedulerPresence, ttlMs: number): Promise<void> {
    const key = this.presenceKey(p.holder);
    await this.redis.hset(key, {
      host: p.host,
      pid: String(p.pid),
      cron: p.cron,
      timezone: p.timezone,
      catch_up: p.catchUp ? '1' : '0',
      catch_up_window_hours: String(p.catchUpWindowHours),
      version: p.version,
      written_at: p.writtenAt,
    });
    await this.redis.pexpire(key, ttlMs);
    await this.redis.sadd(this.presenceIndex, p.holder);
    // Never shortens a longer life another scheduler gave the index.
    if ((await this.redis.pttl(this.presenceIndex)) < ttlMs)
      await this.redis.pexpire(this.presenceIndex, ttlMs);
  }

  async removePresence(holder: string): Promise<void> {
    await this.redis.del(this.presenceKey(holder));
    await this.redis.srem(this.presenceIndex, holder);
  }

  /** The schedulers running now (their entries have not expired), by host and pid. */
  async presences(): Promise<SchedulerPresence[]> {
    const holders = (await this.redis.smembers(this.presenceIndex)).sort();
    if (holders.length === 0) return [];
    // One command each, not a pipeline: on Redis Cluster the entries live in different slots.
    const entries = await Promise.all(holders.map((holder) => this.redis.hgetall(this.presenceKey(holder))));
    const out: SchedulerPresence[] = [];
    const gone: string[] = [];
    holders.forEach((holder, i) => {
      const fields = entries[i];
      if (!fields?.cron || !fields.timezone) {
        gone.push(holder);
        return;
      }
      out.push({
        holder,
        host: fields.host ?? holder,
        pid: Number(fields.pid ?? 0),
        cron: fields.cron,
        timezone: fields.timezone,
        catchUp: fields.catch_up === '1',
        catchUpWindowHours: Number(fields.catch_up_window_hours ?? 0),
        version: fields.version ?? '',
        writtenAt: fields.written_at ?? '',
      });
    });
    if (gone.length > 0) await this.redis.srem(this.presenceIndex, ...gone);
    return out;
  }

  /**
   * Claims a slot for this replica (SET NX PX): exactly one replica enqueues a slot. The value
   * names the holder and the time of the claim, so that a claim left by a replica that died
   * between claim and enqueue can be told from one still at work (see takeOver).
   */
  async claimSlot(runId: string, holder: string, at: number, ttlMs: number): Promise<string | null> {
    const value = `${holder}|${at}`;
    const result = await this.redis.set(this.slotKey(runId), value, 'PX', ttlMs, 'NX');
    return result === 'OK' ? value : null;
  }

  async slotClaim(runId: string): Promise<SlotClaim | null> {
    const value = await this.redis.get(this.slotKey(runId));
    if (value === null) return null;
    if (value.startsWith(`${ENQUEUED}|`)) return { kind: 'enqueued', value };
    if (value === PAUSED || value.startsWith(`${PAUSED}|`)) {
      return { kind: 'paused', value, at: value.slice(PAUSED.length + 1) };
    }
    const bar = value.lastIndexOf('|');
    // A claim written before claims carried their time (`host:pid`): as old as can be.
    const claimedAt = bar < 0 ? 0 : Number(value.slice(bar + 1));
    return {
      kind: 'enqueue',
      value,
      holder: bar < 0 ? value : value.slice(0, bar),
      claimedAt: Number.isFinite(claimedAt) ? claimedAt : 0,
    };
  }

  /** Deletes the claim if it is still `value` (a failed enqueue gives its slot back). */
  async releaseClaim(runId: string, value: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.slotKey(runId), value)) === 1;
  }

  /**
   * Turns our claim into a record that the run was enqueued, for the rest of the claim's life:
   * a claim left as it was would look, once the nightly job is trimmed and the run record has
   * expired (a short BALLAST_RUN_MARKER_TTL_S), like one whose holder died before enqueueing,
   * and another replica would take it over and run the slot again.
   */
  async markEnqueued(runId: string, claim: string): Promise<boolean> {
    const result = await this.redis.eval(
      MARK_ENQUEUED,
      1,
      this.slotKey(runId),
      claim,
      `${ENQUEUED}|${claim}`,
    );
    return result === 1;
  }

  /**
   * Claims a slot for `holder` as every claimant does (the schedulers' sweeps and backfills): SET
   * NX; else a claim given back meanwhile is claimed again, and one whose holder died between
   * claim and enqueue (older than STALE_CLAIM_MS) is taken over. Otherwise says who has it.
   */
  async acquireSlot(runId: string, holder: string, nowMs: number, ttlMs: number): Promise<SlotAcquired> {
    const claim = await this.claimSlot(runId, holder, nowMs, ttlMs);
    if (claim !== null) return { kind: 'claimed', value: claim, tookOverFrom: null };
    const current = await this.slotClaim(runId);
    if (current === null) {
      const again = await this.claimSlot(runId, holder, nowMs, ttlMs);
      return again === null
        ? { kind: 'held', holder: null }
        : { kind: 'claimed', value: again, tookOverFrom: null };
    }
    if (current.kind === 'enqueued' || current.kind === 'paused') return { kind: current.kind };
    if (nowMs - current.claimedAt < STALE_CLAIM_MS) return { kind: 'held', holder: current.holder };
    // Its holder died between claim and enqueue (a failed enqueue gives its claim back).
    const taken = await this.takeOver(runId, current.value, holder, nowMs, ttlMs);
    return taken === null
      ? { kind: 'held', holder: null }
      : { kind: 'claimed', value: taken, tookOverFrom: current.holder };
  }

  /** Replaces a stale claim, if it is still `stale`; returns the new claim's value. */
  async takeOver(
    runId: string,
    stale: string,
    holder: string,
    at: number,
    ttlMs: number,
  ): Promise<string | null> {
    const value = `${holder}|${at}`;
    const result = await this.redis.eval(TAKE_OVER, 1, this.slotKey(runId), stale, value, String(ttlMs));
    return result === 1 ? value : null;
  }

  /**
   * Marks a slot as skipped by the pause, for as long as a claim lives: no replica runs it
   * later, after a resume. False if the slot was claimed already (by a replica enqueueing it).
   */
  async markPaused(runId: string, at: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.slotKey(runId), `${PAUSED}|${at}`, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async recordRun(runId: string, slot: Date, at: string, catchUp: boolean): Promise<void> {
    await this.redis.hset(this.key, {
      last_run_id: runId,
      last_slot: slot.toISOString(),
      last_enqueued_at: at,
      last_catch_up: catchUp ? '1' : '0',
      last_skipped: '',
    });
  }

  /** The slot was decided and not run: it becomes the last slot, marked skipped. */
  async recordSkip(runId: string, slot: Date, reason: string): Promise<void> {
    await this.redis.hset(this.key, {
      last_run_id: runId,
      last_slot: slot.toISOString(),
      last_enqueued_at: '',
      last_catch_up: '0',
      last_skipped: reason,
    });
  }

  private get presenceIndex(): string {
    return `${this.key}:schedulers`;
  }

  private presenceKey(holder: string): string {
    return `${this.key}:scheduler:${holder}`;
  }

  private slotKey(runId: string): string {
    return `${this.key}:slot:${runId}`;
  }
}
