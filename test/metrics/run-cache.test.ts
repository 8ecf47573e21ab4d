import { describe, expect, it } from 'vitest';
import type { MetricsResult, MetricsSource } from '../../src/adapters/metrics/metrics-source.js';
import { createRunCachedSource } from '../../src/adapters/metrics/run-cache.js';
import { type BusinessMetrics, metricsFromWire } from '../../src/domain/index.js';
import { deferred, wireMetrics } from './metrics-server.js';

/**
 * A source that counts what it is asked and answers only when the test releases it, so that
 * fetches overlap for sure. Ids starting with `none` have no metrics.
 */
function gatedSource() {
  const asked = new Map<string, number>();
  const calls: string[][] = [];
  const signals: AbortSignal[] = [];
  let gate = deferred();
  let failNext: Error | undefined;
  const source: MetricsSource = {
    kind: 'http',
    async fetch(ids, signal) {
      calls.push([...ids]);
      if (signal) signals.push(signal);
      for (const id of ids) asked.set(id, (asked.get(id) ?? 0) + 1);
      const failure = failNext;
      failNext = undefined;
      await Promise.race([
        gate.promise,
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
      ]);
      if (failure) throw failure;
      const metrics = new Map<string, BusinessMetrics>();
      const missing = new Map<string, string>();
      for (const id of ids) {
        if (id.startsWith('none')) missing.set(id, 'not found (HTTP 404)');
        else metrics.set(id, metricsFromWire(wireMetrics(id)));
      }
      return { metrics, missing } satisfies MetricsResult;
    },
  };
  return {
    source,
    asked,
    calls,
    signals,
    release: () => gate.resolve(),
    /** Later fetches wait again until the next release. */
    rearm: () => {
      gate = deferred();
    },
    failNextFetch: (err: Error) => {
      failNext = err;
    },
  };
}

const PORTFOLIOS = [
  ['a', 'b', 'c'],
  ['b', 'c', 'd', 'none-1'],
  ['c', 'd', 'e', 'none-1', 'a'],
];

describe('run cache', () => {
  it('asks for each business once per run, however many portfolios share it', async () => {
    const fake = gatedSource();
    const cache = createRunCachedSource(fake.source);
    const r1 = cache.forRun('r1');
    const pending = PORTFOLIOS.map((ids) => r1.fetch(ids));
    fake.release();
    const answers = await Promise.all(pending);

    expect(Object.fromEntries(fake.asked)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1, 'none-1': 1 });
    PORTFOLIOS.forEach((ids, i) => {
      const { metrics, missing } = answers[i]!;
      expect([...metrics.keys(), ...missing.keys()].sort()).toEqual([...ids].sort());
      if (ids.includes('none-1')) expect(missing.get('none-1')).toBe('not found (HTTP 404)');
    });
    expect(answers[2]!.metrics.get('c')).toEqual(metricsFromWire(wireMetrics('c')));

    // Settled answers, metrics and missing alike, are served from the cache.
    await cache.forRun('r1').fetch(['a', 'none-1']);
    expect(fake.asked.get('a')).toBe(1);
    expect(fake.asked.get('none-1')).toBe(1);
    expect(cache.stats()).toEqual({ runs: 1, entries: 6, hits: 8, misses: 6 });
  });

  it('asks again in a new run, and keeps only the two most recently used fan-out runs', async () => {
    const fake = gatedSource();
    fake.release();
    const cache = createRunCachedSource(fake.source);
    const fanOut = { fanOut: true };
    await cache.forRun('r1', fanOut).fetch(['a', 'b']);
    await cache.forRun('r2', fanOut).fetch(['a', 'b']);
    expect(fake.asked.get('a')).toBe(2);

    await cache.forRun('r1', fanOut).fetch(['a']); // r1 is now the most recently used
    await cache.forRun('r3', fanOut).fetch(['a']); // so r2 goes
    expect(cache.stats().runs).toBe(2);
    expect(fake.asked.get('a')).toBe(3);
    await cache.forRun('r1', fanOut).fetch(['a', 'b']);
    expect(fake.asked.get('a')).toBe(3);
    await cache.forRun('r2', fanOut).fetch(['a']);
    expect(fake.asked.get('a')).toBe(4);
  });

  it('never lets single-portfolio runs evict a fan-out run, and keeps four of them', async () => {
    const fake = gatedSource();
    fake.release();
    const cache = createRunCachedSource(fake.source);
    await cache.forRun('nightly', { fanOut: true }).fetch(['shared']);
    // Operator runs, each with its own run id, between two children of the nightly run.
    for (let i = 1; i <= 10; i++) await cache.forRun(`manual-${i}`).fetch(['own']);
    await cache.forRun('nightly', { fanOut: true }).fetch(['shared']);
    expect(fake.asked.get('shared')).toBe(1);
    expect(cache.stats()).toMatchObject({ runs: 5, entries: 5 });
    // The four most recent single runs are kept (a run's recompute after an edit asks nothing again).
    await cache.forRun('manual-7').fetch(['own']);
    expect(fake.asked.get('own')).toBe(10);
    await cache.forRun('manual-6').fetch(['own']);
    expect(fake.asked.get('own')).toBe(11);
  });

  it('drops single-portfolio runs before a fan-out run when maxEntries is reached', async () => {
    const fake = gatedSource();
    fake.release();
    const cache = createRunCachedSource(fake.source, { maxEntries: 4 });
    await cache.forRun('nightly', { fanOut: true }).fetch(['a', 'b']);
    await cache.forRun('manual-1').fetch(['c', 'd']);
    await cache.forRun('manual-2').fetch(['e']);
    expect(cache.stats()).toMatchObject({ runs: 2, entries: 3 });
    await cache.forRun('nightly', { fanOut: true }).fetch(['a', 'b']);
    expect(fake.asked.get('a')).toBe(1);
  });

  it('stays within maxEntries, dropping the oldest run first', async () => {
    const fake = gatedSource();
    fake.release();
    const cache = createRunCachedSource(fake.source, { maxEntries: 4 });
    await cache.forRun('r1').fetch(['a', 'b', 'c']);
    await cache.forRun('r2').fetch(['a', 'b']);
    expect(cache.stats()).toMatchObject({ runs: 1, entries: 2 });
    await cache.forRun('r2').fetch(['c', 'd', 'e']);
    expect(cache.stats().entries).toBeLessThanOrEqual(4);
  });

  it('does not keep a failed request: the next fetch asks again', async () => {
    const fake = gatedSource();
    fake.release();
    const cache = createRunCachedSource(fake.source);
    fake.failNextFetch(new Error('redis is down'));
    await expect(cache.forRun('r1').fetch(['a', 'b'])).rejects.toThrow('redis is down');
    expect(cache.stats().entries).toBe(0);
    const { metrics } = await cache.forRun('r1').fetch(['a', 'b']);
    expect(metrics.size).toBe(2);
    expect(fake.asked.get('a')).toBe(2);
  });

  it("stops waiting on the caller's abort; the shared request is aborted only when nobody waits", async () => {
    const fake = gatedSource();
    const cache = createRunCachedSource(fake.source);
    const first = new AbortController();
    const second = new AbortController();
    const p1 = cache.forRun('r1').fetch(['a', 'b'], first.signal);
    const p2 = cache.forRun('r1').fetch(['b'], second.signal);
    expect(fake.calls).toEqual([['a', 'b']]);

    first.abort(new Error('job 1 cancelled'));
    await expect(p1).rejects.toThrow('job 1 cancelled');
    expect(fake.signals[0]!.aborted).toBe(false);

    second.abort(new Error('job 2 cancelled'));
    await expect(p2).rejects.toThrow('job 2 cancelled');
    expect(fake.signals[0]!.aborted).toBe(true);

    // The aborted request left nothing behind: a later fetch asks again.
    fake.release();
    const { metrics } = await cache.forRun('r1').fetch(['a', 'b']);
    expect(metrics.size).toBe(2);
    expect(fake.asked.get('b')).toBe(2);
  });

  it('passes the kind of the underlying source', () => {
    expect(createRunCachedSource(gatedSource().source).forRun('r1').kind).toBe('http');
  });
});
