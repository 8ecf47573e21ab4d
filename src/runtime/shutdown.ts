/**
 * A role's stop under one deadline (BALLAST_SHUTDOWN_TIMEOUT), counted from the first signal.
 * Every role closes through it: its steps run in order (scheduler, API, worker, heartbeat,
 * connections) and active jobs get the time to finish. A BullMQ Worker waits for Redis without
 * a deadline when it closes, so a Redis that is down or hangs would keep a stopping process up
 * for good; past the deadline the process logs what was still open, at error level, and exits 1.
 * Jobs it leaves active keep their lock until it lapses, then BullMQ's stalled check hands them
 * to another worker (the run markers make them apply once).
 */
import type { Logger } from '../logger.js';

export interface CloseStep {
  /** Named in the log line when the deadline passes before the step finished. */
  readonly name: string;
  readonly close: () => Promise<void>;
}

export interface ShutdownDeadlineOptions {
  readonly log: Logger;
  readonly timeoutMs: number;
  /** Counts from here once it resolves (the role's shutdownSignal()); close() counts too if first. */
  readonly stop: Promise<unknown>;
  /** What the role is still working on, for the log line (the worker's active jobs). */
  readonly openWork?: () => Record<string, unknown>;
  /** Ends the process (tests of this module replace it). */
  readonly exit?: (code: number) => void;
}

export interface ShutdownDeadline {
  /**
   * Runs the steps in order (an undefined one is skipped). A step that fails is logged and the
   * next ones still run; then the first failure is thrown.
   */
  close(steps: readonly (CloseStep | undefined)[]): Promise<void>;
}

type Phase = 'starting' | 'closing' | 'closed';

/**
 * Once every step has closed, how long the event loop may take to drain before the process
 * leaves anyway. A BullMQ Worker whose close began while Redis was unreachable never finishes
 * it, and its lock-renewal and stalled-check timers would keep the process up for good.
 */
const DRAIN_MS = 1000;

export function shutdownDeadline(options: ShutdownDeadlineOptions): ShutdownDeadline {
  const { log, timeoutMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let phase: Phase = 'starting';
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let armedAt: number | undefined;

  const expire = () => {
    if (phase === 'closed') {
      // Everything closed, yet something still holds the event loop: nothing is lost by leaving.
      log.info(
        { resources: process.getActiveResourcesInfo() },
        'stopped; exiting although timers or handles are left over',
      );
      exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      return;
    }
    log.error(
      {
        timeoutMs,
        phase,
        // Before close() began, the role was still giving up its start (waiting on Redis).
        stillOpen: phase === 'starting' ? ['start'] : pending,
        ...options.openWork?.(),
      },
      'shutdown deadline passed (BALLAST_SHUTDOWN_TIMEOUT): exiting 1 with work still open',
    );
    exit(1);
  };
  const arm = (ms = timeoutMs) => {
    clearTimeout(timer);
    timer = setTimeout(expire, ms);
    // It must not keep a process up that has nothing left to do.
    timer.unref();
  };
  const start = () => {
    if (armedAt !== undefined) return;
    armedAt = Date.now();
    arm();
  };
  void options.stop.then(start);

  return {
    async close(steps) {
      start();
      const todo = steps.filter((s): s is CloseStep => s !== undefined);
      pending = todo.map((s) => s.name);
      phase = 'closing';
      let failure: unknown;
      for (const step of todo) {
        try {
          await step.close();
        } catch (err) {
          log.error(
            { step: step.name, err: err instanceof Error ? err.message : String(err) },
            'close failed',
          );
          failure ??= err;
        }
        pending = pending.filter((name) => name !== step.name);
      }
      phase = 'closed';
      arm(Math.min(DRAIN_MS, Math.max(0, (armedAt ?? 0) + timeoutMs - Date.now())));
      if (failure !== undefined) throw failure;
    },
  };
}
