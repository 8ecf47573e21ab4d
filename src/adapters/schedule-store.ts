import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface ScheduleState {
  readonly paused: boolean;
  readonly pausedAt: string | null;
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

const PAUSED = 'paused';
const ENQUEUED = 'enqueued';

// Our own claim only: a claim another replica took over meanwhile is left alone.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const TAKE_OVER = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
const MARK_ENQUEUED = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 end return 0`;
// Pausing twice keeps the first start: the pause began then.
const PAUSE = `if redis.call('HGET', KEYS[1], 'paused') ~= '1' then
  redis.call('HSET', KEYS[1], 'paused', '1', 'paused_at', ARGV[1]) end return 1`;
const RESUME = `local paused = redis.call('HGET', KEYS[1], 'paused')
local from = redis.call('HGET', KEYS[1], 'paused_at')
redis.call('HSET', KEYS[1], 'paused', '0', 'paused_at', '')
if paused == '1' and from and from ~= '' then
  redis.call('HSET', KEYS[1], 'last_pause_from', from, 'last_pause_until', ARGV[1]) end
return 1`;

/** The nightly schedule's shared state: every scheduler replica reads and obeys it. */
export class ScheduleStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
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
   */
  async setPaused(paused: boolean, at: string): Promise<void> {
    await this.redis.eval(paused ? PAUSE : RESUME, 1, this.key, at);
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

  private slotKey(runId: string): string {
    return `${this.key}:slot:${runId}`;
  }
}
