import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  addBusiness,
  createPortfolio,
  isBallastError,
  type Portfolio,
  type SetAllocationInput,
  setAllocation,
} from '../../src/domain/index.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { type BallastProcess, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { type MetricsServer, sendJson, startMetricsServer, wireMetrics } from '../metrics/metrics-server.js';
import { figures, killAll, portfolioRunReports, startNightly, T, weightSum, workerEnv } from './support.js';

const fixture = useRedisPrefix('faults-edits');
const COUNT = 160;
const BUSINESSES = ['a', 'b', 'c', 'd', 'e'];
const EDITORS = 6;
/** Metrics answers take this long: a run reads a portfolio, waits, then applies. */
const ANSWER_DELAY_MS = 30;
const started: BallastProcess[] = [];
let server: MetricsServer;
let app: App;

const pid = (i: number) => `e${String(i).padStart(3, '0')}`;
/** Every fourth portfolio is edited while its run waits for its metrics: its first apply is stale. */
const isHot = (id: string) => Number(id.slice(1)) % 4 === 0;

/** A seeded PRNG (mulberry32): a failing run can be replayed with BALLAST_TEST_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const seed = Number(process.env.BALLAST_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = prng(seed);

interface Edit {
  readonly businessId: string;
  readonly input: SetAllocationInput;
}

/** Every version of every portfolio the test wrote (seed and operator edits), as returned by the store. */
const written = new Map<string, Map<number, Portfolio>>();
/** The operator edits that were applied, per portfolio, with the version each one wrote. */
const edits = new Map<string, { version: number; edit: Edit }[]>();
let serial = 0;

function remember(p: Portfolio, edit?: Edit): void {
  if (!written.has(p.id)) written.set(p.id, new Map());
  written.get(p.id)!.set(p.version, p);
  if (edit) {
    if (!edits.has(p.id)) edits.set(p.id, []);
    edits.get(p.id)!.push({ version: p.version, edit });
  }
}

/**
 * One operator edit through the store, as the API and the CLI make it: lock (at the current
 * weight or at a new one), unlock, re-weight, or re-prioritise one allocation. Every edit also
 * sets a unique target weight (a field no run touches), so that a lost edit cannot go unseen.
 */
async function operatorEdit(id: string, only?: SetAllocationInput): Promise<void> {
  const businessId = `${id}${BUSINESSES[Math.floor(random() * BUSINESSES.length)]}`;
  const weight = Math.round((0.05 + random() * 0.25) * 1000) / 1000;
  const kinds: SetAllocationInput[] = [
    { locked: true },
    { locked: true, weight },
    { locked: false },
    { weight },
    { priority: 1 + Math.floor(random() * 10) },
  ];
  const input = { ...(only ?? kinds[Math.floor(random() * kinds.length)]!), targetWeight: ++serial / 1e6 };
  try {
    const after = await app.store.update(id, (p) => setAllocation(p, businessId, input, T), TEST_EDIT);
    remember(after, { businessId, input });
  } catch (err) {
    // A refused edit (e.g. the locked allocations leave no room for the new weight) changes nothing.
    if (!isBallastError(err) || err.code === 'conflict') throw err;
  }
}

beforeAll(async () => {
  server = await startMetricsServer(async (req, res) => {
    const id = req.id ?? 'x';
    const portfolio = id.slice(0, -1);
    if (id.endsWith('a') && req.hit === 1 && isHot(portfolio)) {
      // A priority edit is never refused: the run that asked is now certainly stale.
      await operatorEdit(portfolio, { priority: 1 + Math.floor(random() * 10) });
    }
    await new Promise((resolve) => setTimeout(resolve, ANSWER_DELAY_MS));
    sendJson(res, wireMetrics(id, figures(id)));
  });
  app = testApp(fixture.prefix);
});
afterAll(async () => {
  killAll(started);
  await app?.close();
  await server?.close();
});

function worker(): BallastProcess {
  const p = spawnBallast(
    ['worker'],
    workerEnv(redisUrl(), fixture.prefix, {
      BALLAST_CONCURRENCY: '4',
      BALLAST_METRICS_SOURCE: 'http',
      BALLAST_METRICS_URL: server.url,
    }),
  );
  started.push(p);
  return p;
}

async function seedPortfolios(): Promise<void> {
  await Promise.all(
    Array.from({ length: COUNT }, async (_, i) => {
      const id = pid(i);
      // Operators' random edits make runs move a lot: applied, not held by the turnover guard
      // (the subject is concurrency; the guards have their own tests).
      let p = createPortfolio(
        { id, name: id, ownerId: 'ops', strategy: 'performance', driftThreshold: 0, maxAutoTurnover: 1 },
        T,
      );
      for (const b of BUSINESSES) p = addBusiness(p, `${id}${b}`, {}, T);
      // Some allocations start locked.
      if (i % 3 === 0) p = setAllocation(p, `${id}e`, { locked: true, weight: 0.3 }, T);
      remember(await app.store.create(p, TEST_EDIT));
    }),
  );
}

function sumsToOne(weights: readonly number[], what: string): void {
  expect(Math.abs(weightSum(weights) - 1), `${what} sums to ${weightSum(weights)}`).toBeLessThanOrEqual(1e-9);
}

/** The last value each field of each allocation was given by an operator, and the doc of that edit. */
function lastOperatorValues(id: string) {
  const seeded = [...written.get(id)!.values()].reduce((a, b) => (a.version < b.version ? a : b));
  const last = new Map<
    string,
    { locked: boolean; priority: number; targetWeight?: number; lockedWeight: number }
  >();
  for (const a of seeded.allocations) {
    last.set(a.businessId, {
      locked: a.locked,
      priority: a.priority,
      targetWeight: a.targetWeight,
      lockedWeight: a.weight,
    });
  }
  for (const { version, edit } of (edits.get(id) ?? []).sort((x, y) => x.version - y.version)) {
    const doc = written.get(id)!.get(version)!;
    const allocation = doc.allocations.find((a) => a.businessId === edit.businessId)!;
    const entry = last.get(edit.businessId)!;
    if (edit.input.locked !== undefined) entry.locked = edit.input.locked;
    if (edit.input.priority !== undefined) entry.priority = edit.input.priority;
    entry.targetWeight = edit.input.targetWeight ?? undefined;
    // What the allocation weighed right after the operator's last edit of it.
    entry.lockedWeight = allocation.weight;
  }
  return last;
}

describe('operators editing allocations while a nightly run applies', () => {
  it('loses no edit, never moves a locked allocation, and keeps every weight vector summing to 1', async ({
    onTestFailed,
  }) => {
    onTestFailed(() => console.error(`[concurrent-edits] replay with BALLAST_TEST_SEED=${seed}`));
    await seedPortfolios();
    const workers = [worker(), worker()];
    await Promise.all(workers.map((w) => w.waitFor(/worker started/)));

    let editing = true;
    const editors = Array.from({ length: EDITORS }, async () => {
      while (editing) {
        await operatorEdit(pid(Math.floor(random() * COUNT)));
        // Operators pause between edits (a few ms): the runs get a chance to apply between them.
        await new Promise((resolve) => setTimeout(resolve, random() * 4));
      }
    });
    const run = await startNightly(app, 'cron-20261130T020000Z');
    let progress: Awaited<typeof run.done>;
    try {
      progress = await run.done;
    } finally {
      editing = false;
      await Promise.all(editors);
      await run.close();
    }
    expect(progress).toMatchObject({ total: COUNT, completed: COUNT, failed: 0 });
    for (const w of workers) {
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    }
    // The hot portfolios' first applies were stale and were recomputed, never written.
    const recomputed = workers.flatMap((w) => w.stderr().match(/recomputing/g) ?? []).length;
    expect(recomputed).toBeGreaterThanOrEqual(COUNT / 4);
    const editCount = [...edits.values()].reduce((n, e) => n + e.length, 0);
    expect(editCount).toBeGreaterThan(COUNT);

    for (let i = 0; i < COUNT; i++) {
      const id = pid(i);
      const versions = written.get(id)!;
      const seedVersion = Math.min(...versions.keys());
      for (const doc of versions.values())
        sumsToOne(
          doc.allocations.map((a) => a.weight),
          `${id} v${doc.version}`,
        );

      // The run applied exactly once, to a version that an operator (or the seed) wrote.
      const reports = await portfolioRunReports(fixture.client, app, id, run.runId);
      expect(reports, id).toHaveLength(1);
      const report = reports[0]!;
      expect(report.applied).toBe(true);
      const read = versions.get(report.version_before);
      expect(
        read,
        `${id}: the run read version ${report.version_before}, which no operator wrote`,
      ).toBeDefined();
      // A run that moved something wrote version_before + 1 itself, so no operator wrote it too; one
      // that moved nothing wrote nothing and kept the version.
      if (report.changes > 0) {
        expect(report.version_after).toBe(report.version_before + 1);
        expect(versions.has(report.version_before + 1), `${id}: the run's version was written twice`).toBe(
          false,
        );
      } else {
        expect(report.version_after).toBe(report.version_before);
      }
      sumsToOne(
        report.actions.map((a) => a.recommended_weight),
        `${id} report`,
      );
      report.actions.forEach((action, k) => {
        const a = read!.allocations[k]!;
        expect(action.business_id).toBe(a.businessId);
        expect(action.current_weight).toBe(a.weight);
        // Locked at the time of the run: reported as such and kept.
        if (a.locked) {
          expect(action, `${id}/${a.businessId}`).toMatchObject({
            action: 'locked',
            recommended_weight: a.weight,
          });
        } else {
          expect(action.action).not.toBe('locked');
        }
      });

      // Every write is there: the seed, each operator edit (each sets a new target, so each is a
      // change), and the run when it moved a weight.
      const final = await app.store.require(id);
      const moved = report.changes > 0 ? 1 : 0;
      expect(final.version, id).toBe(seedVersion + (edits.get(id)?.length ?? 0) + moved);
      expect(final.lastRun?.runId).toBe(moved ? run.runId : undefined);
      sumsToOne(
        final.allocations.map((a) => a.weight),
        `${id} final`,
      );
      // No lost update: each allocation holds what its last operator edit set.
      const expected = lastOperatorValues(id);
      for (const a of final.allocations) {
        const e = expected.get(a.businessId)!;
        expect(
          { locked: a.locked, priority: a.priority, targetWeight: a.targetWeight },
          `${id}/${a.businessId}`,
        ).toEqual({ locked: e.locked, priority: e.priority, targetWeight: e.targetWeight });
        // A locked allocation weighs what it weighed after the operator's last edit of it.
        if (a.locked) expect(a.weight, `${id}/${a.businessId} (locked)`).toBe(e.lockedWeight);
      }
    }
  }, 50_000);
});
