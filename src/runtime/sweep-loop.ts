/**
 * The scheduler's sweeps: one at a time (a trigger arriving meanwhile asks for one more sweep
 * after it), and re-armed after each one for the next, at most `sweepMs` apart and at each slot as
 * the scheduler computes it (node-cron skips some at DST changes).
 */
import { abortableSleep } from '../timing.js';
import type { FireOutcome } from './slot-decision.js';

export interface SweepLoopOptions {
  /** One sweep: decides the due slots (`fired`: the slot node-cron fired, if any); the last outcome. */
  readonly sweep: (fired: Date | null, closing: AbortSignal) => Promise<FireOutcome | null>;
  /** How long until the next sweep should run (ms), or null for none. */
  readonly nextDelay: () => number | null;
  /** Aborted by stop(): the slot decisions in flight see it too. */
  readonly closing: AbortController;
}

export class SweepLoop {
  #running: Promise<FireOutcome | null> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SweepLoopOptions) {}

  /** Sweeps now, or once more after the sweep running now; resolves with its last outcome. */
  kick(fired: Date | null = null): Promise<FireOutcome | null> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const work = this.#loop(fired).finally(() => {
      this.#running = null;
      this.#arm();
    });
    this.#running = work;
    return work;
  }

  /** No more sweeps; waits up to `waitMs` for the one running (a slot being queued) to end. */
  async stop(waitMs: number): Promise<void> {
    this.options.closing.abort();
    clearTimeout(this.#timer);
    if (!this.#running) return;
    // The wait ends with the sweep: a sleep left running would keep the process up for waitMs.
    const done = new AbortController();
    await Promise.race([this.#running.finally(() => done.abort()), abortableSleep(waitMs, done.signal)]);
  }

  async #loop(fired: Date | null): Promise<FireOutcome | null> {
    let last: FireOutcome | null = null;
    let hint = fired;
    do {
      this.#again = false;
      const outcome = await this.options.sweep(hint, this.options.closing.signal);
      if (outcome !== null) last = outcome;
      hint = null;
    } while (this.#again && !this.options.closing.signal.aborted);
    return last;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.options.closing.signal.aborted) return;
    const delay = this.options.nextDelay();
    if (delay === null) return;
    this.#timer = setTimeout(() => void this.kick(), delay);
  }
}
