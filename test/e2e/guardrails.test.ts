/**
 * Guardrails end to end with real processes: a worker on the redis metrics source, portfolios
 * made with `ballast portfolio create`, metrics brought in with `ballast metrics import`. A sane
 * night applies; an absurd one (one business per portfolio at 100x its revenue) is held as
 * proposals, nothing moves, and the run's circuit breaker opens; then `proposals approve`,
 * approve after an edit (refused, naming it) and `proposals reject`. An advisory portfolio never
 * moves.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Portfolio, WireProposal } from '../../src/domain/index.js';

import { type BallastProcess, runBallast, spawnBallast } from '../helpers/process.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { ONE_REDIS, TARGETS } from '../helpers/targets.js';

const fixture = useRedisPrefix('e2e-guardrails');

// The same scenario on one Redis and on a Redis Cluster (test/helpers/targets.ts), a job per
// portfolio; and on one Redis with a job per block of 2 portfolios (BALLAST_FANOUT_BLOCK).
const VARIANTS = [
  ...TARGETS.map((target) => ({ ...target, block: 1 })),
  { ...ONE_REDIS, name: 'one Redis, 2 portfolios per job', block: 2 },
];
describe.each(VARIANTS)('on $name', (target) => {
  const prefix = target.block === 1 ? fixture.prefix : `${fixture.prefix}-blocks`;
  const AUTO = ['g1', 'g2', 'g3', 'g4'];
  const ADVISORY = 'gadv';
  const ALL = [...AUTO, ADVISORY];
  let app: App;
  let worker: BallastProcess | undefined;
  let dir: string;

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...target.env(),
    BALLAST_PREFIX: prefix,
    BALLAST_QUEUE: 'q',
    BALLAST_FANOUT_BLOCK: String(target.block),
    BALLAST_METRICS_SOURCE: 'redis',
    BALLAST_LOG_LEVEL: 'warn',
    BALLAST_ACTOR: 'ops:night-desk',
    ...extra,
  });

  /** A command that must exit 0: its stdout. */
  async function ballast(args: string[], extra: Record<string, string> = {}): Promise<string> {
    const result = await runBallast(args, env(extra));
    expect(result.code, `ballast ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  const weightsOf = (p: Portfolio) => Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));
  const proposed = (p: WireProposal) =>
    Object.fromEntries(p.actions.map((a) => [a.business_id, a.recommended_weight]));

  async function snapshot(): Promise<Map<string, { version: number; weights: Record<string, number> }>> {
    const out = new Map<string, { version: number; weights: Record<string, number> }>();
    for (const p of await app.store.getMany(ALL))
      out.set(p.id, { version: p.version, weights: weightsOf(p) });
    return out;
  }

  /**
   * Each portfolio holds `<id>a` and `<id>b` of revenue 1000 and 1300 (a revenue portfolio moves
   * ~6.5% from half each: under the 25% turnover guard); `absurd` puts every `<id>a` at 100x.
   */
  async function importMetrics(name: string, absurd: boolean): Promise<void> {
    const asOf = new Date().toISOString();
    const metrics = ALL.flatMap((id) => [
      { business_id: `${id}a`, revenue: absurd ? 100_000 : 1000, expenses: 600 },
      { business_id: `${id}b`, revenue: 1300, expenses: 800 },
    ]).map((m) => ({ ...m, growth_rate: 5, health_score: 70, as_of: asOf }));
    const file = join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(metrics));
    const out = await ballast(['metrics', 'import', file]);
    expect(out).toBe(`imported ${metrics.length} businesses\n`);
  }

  async function createPortfolio(id: string, ...extra: string[]): Promise<void> {
    await ballast([
      'portfolio',
      'create',
      '--id',
      id,
      '--name',
      id,
      '--owner',
      'ops',
      '--strategy',
      'revenue',
      '--drift-threshold',
      '0',
      ...extra,
    ]);
    for (const b of ['a', 'b']) await ballast(['portfolio', 'add-business', id, `${id}${b}`]);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ballast-guardrails-'));
    app = target.app(prefix);
    worker = spawnBallast(['worker'], env({ BALLAST_LOG_LEVEL: 'info' }));
    await Promise.all([
      worker.waitFor(/worker started/),
      ...AUTO.map((id) => createPortfolio(id)),
      createPortfolio(ADVISORY, '--apply-mode', 'advisory'),
    ]);
    // 15 `ballast` processes (about a second of CPU each) on a machine that may be running the rest
    // of the suite: more room than the default 30 s hook timeout.
  }, 60_000);

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('guardrails, two nights', () => {
    it('applies a sane night, holds an absurd one (breaker open, exit 3), then approve, refused approve and reject', async () => {
      const created = await snapshot();
      expect(created.get(ADVISORY)).toBeDefined();
      expect((await app.store.require(ADVISORY)).applyMode).toBe('advisory');

      // Night 1: sane metrics, everything applies (the advisory portfolio only reports).
      await importMetrics('night-1', false);
      const first = await runBallast(['enqueue', 'nightly', '--wait'], env());
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/: 5 of 5 portfolios done, 0 failed\n/);
      expect(first.stdout).toContain('4 changed, 0 unchanged, 0 held for approval, 1 advisory\n');
      expect(first.stdout).not.toContain('CIRCUIT BREAKER OPEN');
      expect(first.stdout).toMatch(new RegExp(`^${ADVISORY}\\s+revenue\\s+advisory \\(not applied\\)`, 'm'));
      const afterFirst = await snapshot();
      for (const id of AUTO) {
        expect(afterFirst.get(id)!.version, id).toBe(created.get(id)!.version + 1);
        expect(afterFirst.get(id)!.weights, id).not.toEqual(created.get(id)!.weights);
      }
      expect(afterFirst.get(ADVISORY)).toEqual(created.get(ADVISORY));
      expect(JSON.parse(await ballast(['proposals', 'list', '--json']))).toEqual([]);

      // Night 2: one business per portfolio at 100x its revenue.
      await importMetrics('night-2', true);
      const second = await runBallast(['enqueue', 'nightly', '--wait', '--fail-on-held'], env());
      expect(second.code, second.stderr).toBe(3);
      const runId = /^run (\S+): /m.exec(second.stdout)![1]!;
      expect(second.stdout).toContain(': 5 of 5 portfolios done, 0 failed\n');
      expect(second.stdout).toContain('0 changed, 0 unchanged, 4 held for approval, 1 advisory\n');
      expect(second.stdout).toMatch(
        /^CIRCUIT BREAKER OPEN: circuit breaker open: 4 of the first \d+ portfolios of this run were held \(more than 20(\.0)?%\); the rest of the run is held$/m,
      );
      expect(second.stdout).toContain('held recommendations wait for approval: ballast proposals list\n');
      for (const id of AUTO)
        expect(second.stdout).toMatch(new RegExp(`^${id}\\s+revenue\\s+held \\(metric-jump`, 'm'));
      expect(second.stderr).toContain(
        `ballast: 4 of 5 portfolios were held for approval in run ${runId} (--fail-on-held)\n`,
      );
      // The worker logged the breaker once, as an error.
      await worker!.waitFor(/circuit breaker open: 4 of the first/);
      const afterSecond = await snapshot();
      expect(afterSecond).toEqual(afterFirst);

      const proposals = JSON.parse(await ballast(['proposals', 'list', '--json'])) as WireProposal[];
      expect(proposals.map((p) => p.portfolio_id).sort()).toEqual(AUTO);
      for (const p of proposals) {
        const id = p.portfolio_id;
        expect(p, id).toMatchObject({
          run_id: runId,
          version: afterFirst.get(id)!.version,
          supersedes: null,
        });
        expect(p.reasons, id).toContainEqual({
          guard: 'metric-jump',
          business_id: `${id}a`,
          detail: 'revenue 1000 -> 100000 (x100, limit x5)',
        });
      }
      const byId = new Map(proposals.map((p) => [p.portfolio_id, p]));

      // Approve g1: exactly the proposal's weights.
      const approved = await ballast(['proposals', 'approve', 'g1', '--note', 'the acquisition closed'], {
        BALLAST_ACTOR: 'ops:erin',
      });
      expect(approved).toMatch(/^approved \S+: portfolio g1 version \d+ -> \d+ /);
      const g1 = await app.store.require('g1');
      expect(g1.version).toBe(afterFirst.get('g1')!.version + 1);
      expect(weightsOf(g1)).toEqual(proposed(byId.get('g1')!));
      expect(weightsOf(g1)).not.toEqual(afterFirst.get('g1')!.weights);

      // Edit g2, then approve it: refused, naming the edit; nothing written.
      await ballast(['portfolio', 'set-allocation', 'g2', 'g2b', '--priority', '9'], {
        BALLAST_ACTOR: 'ops:dana',
      });
      const edited = await app.store.require('g2');
      const refused = await runBallast(['proposals', 'approve', 'g2'], env({ BALLAST_ACTOR: 'ops:erin' }));
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(
        new RegExp(
          `^ballast: portfolio g2 changed since proposal ${byId.get('g2')!.report_id.replace(/\./g, '\\.')} was computed on version ${afterFirst.get('g2')!.version} \\(now version ${edited.version}\\): version ${edited.version} at \\S+ by ops:dana: g2b priority 5 -> 9;`,
        ),
      );
      expect(await app.store.require('g2')).toEqual(edited);
      expect(weightsOf(edited)).toEqual(afterFirst.get('g2')!.weights);

      // Reject g3: the weights stay.
      const rejected = await ballast(['proposals', 'reject', 'g3', '--note', 'bad feed'], {
        BALLAST_ACTOR: 'ops:erin',
      });
      expect(rejected).toBe(
        `rejected ${byId.get('g3')!.report_id}: portfolio g3 stays at version ${afterFirst.get('g3')!.version}\n`,
      );
      const now = await snapshot();
      expect(now.get('g3')).toEqual(afterFirst.get('g3'));
      const left = JSON.parse(await ballast(['proposals', 'list', '--json'])) as WireProposal[];
      expect(left.map((p) => p.portfolio_id).sort()).toEqual(['g2', 'g4']);

      const audit = JSON.parse(await ballast(['audit', '--actor', 'ops:erin', '--json']));
      expect(
        audit.entries.map((e: { portfolio_id: string; cause: { type: string }; note: string }) => [
          e.portfolio_id,
          e.cause.type,
          e.note,
        ]),
      ).toEqual([
        ['g3', 'reject', 'bad feed'],
        ['g1', 'approve', 'the acquisition closed'],
      ]);

      // The advisory portfolio never moved across both nights.
      expect(now.get(ADVISORY)).toEqual(created.get(ADVISORY));
    }, 60_000);
  });
});
