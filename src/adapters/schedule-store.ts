import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface ScheduleState {
  readonly paused: boolean;
  readonly pausedAt: string | null;
  readonly lastRunId: string | null;
  readonly lastSlot: string | null;
  readonly lastEnqueuedAt: string | null;
  readonly lastCatchUp: boolean;
  /** Why the last slot was not run (e.g. "paused"), if it was not. */
  readonly lastSkipped: string | null;
}

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
      pausedAt: h.paused_at ?? null,
      lastRunId: h.last_run_id ?? null,
      lastSlot: h.last_slot ?? null,
      lastEnqueuedAt: h.last_enqueued_at ?? null,
      lastCatchUp: h.last_catch_up === '1',
      lastSkipped: h.last_skipped ?? null,
    };
  }

  async isPaused(): Promise<boolean> {
    return (await this.redis.hget(this.key, 'paused')) === '1';
  }

  async setPaused(paused: boolean, at: string): Promise<void> {
    await this.redis.hset(this.key, 'paused', paused ? '1' : '0', 'paused_at', paused ? at : '');
  }

  /**
   * Claims a slot for this replica (SET NX PX): exactly one replica wins a slot, and a slot
   * that any replica has run is never caught up again while the claim lives.
   */
  async claimSlot(runId: string, holder: string, ttlMs: number): Promise<boolean> {
    const result = await this.redis.set(`${this.key}:slot:${runId}`, holder, 'PX', ttlMs, 'NX');
    return result === 'OK';
  }

  async slotClaimed(runId: string): Promise<boolean> {
    return (await this.redis.exists(`${this.key}:slot:${runId}`)) === 1;
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

  async recordSkip(runId: string, slot: Date, reason: string): Promise<void> {
    await this.redis.hset(this.key, { last_skipped: `${runId} (${slot.toISOString()}): ${reason}` });
  }
}
