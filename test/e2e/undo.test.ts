/**
 * "Undo a night", end to end with real processes: two nights on different metrics, an operator's
 * edit, `runs revert` of the second night, then history and audit, all through `ballast`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio, type Portfolio } from '../../src/domain/index.js';
import { TEST_EDIT } from '../helpers/app.js';
import { type BallastProcess, runBallast, spawnBallast } from '../helpers/process.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { TARGETS } from '../helpers/targets.js';

const fixture = useRedisPrefix('e2e-undo');

// The same scenario on one Redis and on a Redis Cluster (test/helpers/targets.ts).
describe.each(TARGETS)('on $name', (target) => {
  const T = '2026-11-25T00:00:00.000Z';
  const COUNT = 30;
  const BUSINESSES = 12;
  let app: App;
  let worker: BallastProcess | undefined;
  let dir: string;

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...target.env(),
    BALLAST_PREFIX: fixture.prefix,
    BALLAST_QUEUE: 'q',
    BALLAST_METRICS_SOURCE: 'redis',
    BALLAST_LOG_LEVEL: 'warn',
    BALLAST_ACTOR: 'ops:night-desk',
    ...extra,
  });

  async function ballast(args: string[], extra: Record<string, string> = {}) {
    const result = await runBallast(args, env(extra));
    expect(result.code, `ballast ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  const pid = (i: number) => `u${String(i).padStart(2, '0')}`;
  const weightsOf = (p: Portfolio) => Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));

  async function allWeights(): Promise<Map<string, Record<string, number>>> {
    const out = new Map<string, Record<string, number>>();
    for (const p of await app.store.getMany(Array.from({ length: COUNT }, (_, i) => pid(i))))
      out.set(p.id, weightsOf(p));
    return out;
  }

  /** A night's metrics: revenue by business, shifted by `night` so that the two nights differ. */
  async function importNight(night: number): Promise<void> {
    const file = join(dir, `night-${night}.json`);
    const metrics = Array.from({ length: BUSINESSES }, (_, b) => ({
      business_id: `biz${b}`,
      revenue: 1000 + ((b * 7 + night * 5) % BUSINESSES) * 900,
      expenses: 100,
      growth_rate: 5,
      health_score: 70,
    }));
    await writeFile(file, JSON.stringify(metrics));
    await ballast(['metrics', 'import', file]);
  }

  async function night(): Promise<string> {
    const out = JSON.parse(await ballast(['enqueue', 'nightly', '--wait', '--json'])) as {
      run_id: string;
      completed: number;
      failed: number;
    };
    expect(out).toMatchObject({ completed: COUNT, failed: 0 });
    return out.run_id;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ballast-undo-'));
    app = target.app(fixture.prefix);
    for (let i = 0; i < COUNT; i++) {
      let p = createPortfolio(
        { id: pid(i), name: pid(i), ownerId: 'ops', strategy: 'revenue', driftThreshold: 0 },
        T,
      );
      for (let b = 0; b < 4; b++) p = addBusiness(p, `biz${(i + b * 3) % BUSINESSES}`, {}, T);
      await app.store.create(p, TEST_EDIT);
    }
    // The two nights swap revenues by up to 9x between businesses: the jump and turnover guards would
    // hold them. Undo is the subject here (guardrails: test/e2e/guardrails.test.ts).
    worker = spawnBallast(['worker'], env({ BALLAST_LOG_LEVEL: 'info', BALLAST_GUARDS: 'off' }));
    await worker.waitFor(/worker started/);
  });

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('undo a night', () => {
    it('reverts the second night: 29 portfolios back to exactly the first night, the edited one a conflict; history and audit tell it all', async () => {
      await importNight(1);
      const first = await night();
      const afterFirst = await allWeights();
      await importNight(2);
      const second = await night();
      const afterSecond = await allWeights();
      const moved = [...afterSecond.keys()].filter(
        (id) => JSON.stringify(afterSecond.get(id)) !== JSON.stringify(afterFirst.get(id)),
      );
      expect(moved).toHaveLength(COUNT);

      // An operator edits one portfolio after the night.
      const edited = pid(0);
      const victim = (await app.store.require(edited)).allocations[1]!.businessId;
      await ballast(['portfolio', 'set-allocation', edited, victim, '--priority', '9'], {
        BALLAST_ACTOR: 'ops:dana',
      });

      const dry = JSON.parse(await ballast(['runs', 'revert', second, '--dry-run', '--json']));
      expect(dry.reverted).toHaveLength(COUNT - 1);
      expect(await allWeights()).toEqual(new Map([...afterSecond]));

      const revert = await runBallast(['runs', 'revert', second, '--json'], env());
      // Exit 1: a conflict was left, so scripts notice; the JSON still says what was done.
      expect(revert.code).toBe(1);
      const result = JSON.parse(revert.stdout);
      expect(result.run_id).toBe(second);
      expect(result.reverted).toHaveLength(COUNT - 1);
      expect(result.reverted).not.toContain(edited);
      expect(result.conflicts).toEqual([
        expect.objectContaining({
          portfolio_id: edited,
          changed_since: expect.objectContaining({ actor: 'ops:dana' }),
        }),
      ]);
      expect(result.already_reverted).toEqual([]);
      expect(result.unchanged).toEqual([]);

      const now = await allWeights();
      for (const id of result.reverted as string[]) expect(now.get(id), id).toEqual(afterFirst.get(id));
      expect(now.get(edited)).toEqual(afterSecond.get(edited));

      // A second revert changes nothing more.
      const again = JSON.parse((await runBallast(['runs', 'revert', second, '--json'], env())).stdout);
      expect(again.reverted).toEqual([]);
      expect(again.already_reverted).toHaveLength(COUNT - 1);
      expect(await allWeights()).toEqual(now);

      const history = JSON.parse(await ballast(['portfolio', 'history', pid(1), '--json']));
      expect(
        history.history
          .slice(0, 3)
          .map((r: { cause: { type: string; run_id?: string } }) => [r.cause.type, r.cause.run_id]),
      ).toEqual([
        ['revert', second],
        ['run', second],
        ['run', first],
      ]);
      expect(history.history[0].actor).toBe('ops:night-desk');
      const table = await ballast(['portfolio', 'history', pid(1)]);
      expect(table).toContain(`revert`);
      expect(table).toContain(second);

      const audit = JSON.parse(await ballast(['audit', '--actor', 'ops:dana', '--json']));
      expect(audit.entries).toHaveLength(1);
      expect(audit.entries[0]).toMatchObject({
        portfolio_id: edited,
        actor: 'ops:dana',
        cause: { type: 'edit' },
      });
      expect(audit.entries[0].changes).toContain(`${victim} priority`);
    });
  });
});
