import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { shutdownDeadline } from '../../src/runtime/shutdown.js';

type Line = Record<string, unknown>;

/** A logger whose lines are kept, parsed; `exit` records the code instead of ending the process. */
function harness() {
  const lines: Line[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
        done();
      },
    }),
  );
  const exits: number[] = [];
  let signal: (value: string) => void = () => {};
  const stop = new Promise<string>((resolve) => {
    signal = resolve;
  });
  return { lines, log, exits, exit: (code: number) => exits.push(code), stop, signal };
}

const never = () => new Promise<void>(() => {});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('shutdownDeadline', () => {
  it('runs the steps in order and does not exit when they finish in time', async () => {
    const h = harness();
    const deadline = shutdownDeadline({ log: h.log, timeoutMs: 3000, stop: h.stop, exit: h.exit });
    const order: string[] = [];
    h.signal('SIGTERM');
    await deadline.close([
      { name: 'a', close: async () => void order.push('a') },
      undefined,
      { name: 'b', close: async () => void order.push('b') },
    ]);
    expect(order).toEqual(['a', 'b']);
    expect(h.exits).toEqual([]);
    expect(h.lines.filter((l) => l.level === 50)).toEqual([]);
  });

  it('counts from the signal, then logs the steps still open and what the role was doing, and exits 1', async () => {
    const h = harness();
    const deadline = shutdownDeadline({
      log: h.log,
      timeoutMs: 3000,
      stop: h.stop,
      exit: h.exit,
      openWork: () => ({ activeJobs: [{ jobId: 'j1' }] }),
    });
    h.signal('SIGTERM');
    await vi.advanceTimersByTimeAsync(1000);
    const closing = deadline.close([
      { name: 'scheduler', close: async () => {} },
      { name: 'worker', close: never },
      { name: 'connections', close: async () => {} },
    ]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(h.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.exits).toEqual([1]);
    const line = h.lines.find((l) => l.level === 50);
    expect(line).toMatchObject({
      msg: expect.stringMatching(/still open/),
      timeoutMs: 3000,
      phase: 'closing',
      stillOpen: ['worker', 'connections'],
      activeJobs: [{ jobId: 'j1' }],
    });
    void closing;
  });

  it('names the start when the signal came while the role was still starting', async () => {
    const h = harness();
    shutdownDeadline({ log: h.log, timeoutMs: 1000, stop: h.stop, exit: h.exit });
    h.signal('SIGINT');
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.exits).toEqual([1]);
    expect(h.lines.find((l) => l.level === 50)).toMatchObject({ phase: 'starting', stillOpen: ['start'] });
  });

  it('runs the remaining steps after one fails, then throws its error', async () => {
    const h = harness();
    const deadline = shutdownDeadline({ log: h.log, timeoutMs: 3000, stop: h.stop, exit: h.exit });
    const ran: string[] = [];
    await expect(
      deadline.close([
        {
          name: 'api',
          close: async () => {
            throw new Error('boom');
          },
        },
        { name: 'connections', close: async () => void ran.push('connections') },
      ]),
    ).rejects.toThrow('boom');
    expect(ran).toEqual(['connections']);
    expect(h.lines.find((l) => l.msg === 'close failed')).toMatchObject({ step: 'api', err: 'boom' });
  });

  it('once everything closed, exits with the exit code already set if something still holds the process a second later', async () => {
    const h = harness();
    // close() without a signal (a start that failed) starts the count as well.
    const deadline = shutdownDeadline({ log: h.log, timeoutMs: 10_000, stop: h.stop, exit: h.exit });
    await deadline.close([{ name: 'connections', close: async () => {} }]);
    await vi.advanceTimersByTimeAsync(999);
    expect(h.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.exits).toEqual([typeof process.exitCode === 'number' ? process.exitCode : 0]);
    expect(h.lines.filter((l) => l.level === 50)).toEqual([]);
    expect(h.lines.at(-1)).toMatchObject({ msg: expect.stringMatching(/left over/) });
  });
});
