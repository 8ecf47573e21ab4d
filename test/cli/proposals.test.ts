/**
 * `ballast proposals list | show | approve | reject`, `portfolio create|update --apply-mode
 * --max-auto-turnover` and `enqueue recalculate --wait [--fail-on-held]` against a real Redis,
 * in-process, with a worker in-process and BALLAST_ACTOR naming who each command says it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { Portfolio, WireAuditEntry, WireProposal } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import type { HistoryPage } from '../../src/services/history.js';
import type { ApproveResult } from '../../src/services/proposals.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext, type InProcessResult } from './in-process.js';

const redis = useRedisPrefix('cli-proposals');
const source = new MemoryMetricsSource();
let app: App;
let worker: RunningWorker;

beforeAll(async () => {
  // testApp's queue is `q`: the CLI below is told the same, so its jobs reach this worker.
  app = testApp(redis.prefix, { metricsSource: source });
  worker = await startWorker(app);
});

afterAll(async () => {
  await worker?.close();
  await app?.close();
});

const ALICE = 'ops:alice';
const BOB = 'ops:bob';

/** `ballast ...` in-process as `actor` (BALLAST_ACTOR). */
async function as(actor: string, ...argv: string[]): Promise<InProcessResult> {
  const { ctx, output } = cliContext(redis.prefix);
  const env = { ...ctx.env, BALLAST_QUEUE: 'q', BALLAST_ACTOR: actor };
  const code = await runCli(argv, { ...ctx, env });
  return { code, ...output() };
}

/** A command that must succeed with --json: its parsed output. */
async function json<T>(actor: string, ...argv: string[]): Promise<T> {
  const result = await as(actor, ...argv, '--json');
  expect(result.stderr, argv.join(' ')).toBe('');
  expect(result.code, argv.join(' ')).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const weights = (p: Portfolio) => Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));
const proposed = (p: WireProposal) =>
  Object.fromEntries(p.actions.map((a) => [a.business_id, a.recommended_weight]));
const stored = (id: string) => app.store.require(id);

/**
 * Creates `id` (revenue, no drift threshold, `extra` create options) holding `${id}1..3` of
 * revenue 1000, 1300, 1600: a run moves the first and the last by ~7.7 points.
 */
async function seed(id: string, ...extra: string[]): Promise<void> {
  source.set(wire(`${id}1`, 1000, 400), wire(`${id}2`, 1300, 500), wire(`${id}3`, 1600, 600));
  await json(
    ALICE,
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
  );
  for (const b of [`${id}1`, `${id}2`, `${id}3`]) await json(ALICE, 'portfolio', 'add-business', id, b);
}

const QUEUED = /^queued job manual-\S+ \(run manual-\S+\); waiting for it\n$/;

/** `enqueue recalculate --portfolio id --wait` that must hold the recommendation (exit 0). */
async function hold(id: string): Promise<InProcessResult> {
  const result = await as(ALICE, 'enqueue', 'recalculate', '--portfolio', id, '--wait');
  // Only the job and run ids, printed before the wait.
  expect(result.stderr, result.stderr).toMatch(QUEUED);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`^portfolio ${id}, run manual-\\S+: held \\(`));
  return result;
}

describe('apply mode and max auto turnover on the command line', () => {
  it('portfolio create --apply-mode approve --max-auto-turnover sets them; text says what they mean', async () => {
    const created = await as(
      ALICE,
      'portfolio',
      'create',
      '--id',
      'modes',
      '--name',
      'modes',
      '--owner',
      'ops',
      '--apply-mode',
      'approve',
      '--max-auto-turnover',
      '0.1',
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Created portfolio modes \(version 1\)/);
    expect(created.stdout).toMatch(
      /Apply mode\s+approve \(every change waits for approval: ballast proposals\)/,
    );
    expect(created.stdout).toMatch(/Max auto turnover\s+0\.1 \(a run turning over more than 10\.0% waits/);
    expect(await stored('modes')).toMatchObject({ applyMode: 'approve', maxAutoTurnover: 0.1 });

    const updated = await json<{ apply_mode: string; max_auto_turnover: number | null }>(
      BOB,
      'portfolio',
      'update',
      'modes',
      '--apply-mode',
      'advisory',
      '--max-auto-turnover',
      'none',
    );
    expect(updated).toMatchObject({ apply_mode: 'advisory', max_auto_turnover: null });
  });

  it('refuses an unknown mode and an out-of-range turnover with a clear message, writing nothing', async () => {
    const before = await stored('modes');
    const bogus = await as(BOB, 'portfolio', 'update', 'modes', '--apply-mode', 'bogus');
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toBe('ballast: unknown apply mode "bogus": use one of auto, approve, advisory\n');
    expect(bogus.stdout).toBe('');
    const sometimes = await as(
      ALICE,
      'portfolio',
      'create',
      '--name',
      'x',
      '--owner',
      'o',
      '--apply-mode',
      'sometimes',
    );
    expect(sometimes.code).toBe(1);
    expect(sometimes.stderr).toMatch(
      /^ballast: unknown apply mode "sometimes": use one of auto, approve, advisory/,
    );
    const high = await as(BOB, 'portfolio', 'update', 'modes', '--max-auto-turnover', '2');
    expect(high.code).toBe(1);
    expect(high.stderr).toMatch(/^ballast: max_auto_turnover must be a number between 0 and 1, got 2/);
    const word = await as(BOB, 'portfolio', 'update', 'modes', '--max-auto-turnover', 'abc');
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(
      /^ballast: option '--max-auto-turnover <fraction>' argument 'abc' is invalid/,
    );
    expect(await stored('modes')).toEqual(before);
  });
});

describe('proposals list and show', () => {
  it('says so when nothing is pending', async () => {
    expect(await as(ALICE, 'proposals', 'list')).toEqual({
      code: 0,
      stdout: 'no pending proposals\n',
      stderr: '',
    });
    expect(await json<WireProposal[]>(ALICE, 'proposals', 'list')).toEqual([]);
  });

  it('enqueue recalculate --wait prints held with the reasons and the approve hint, and moves nothing', async () => {
    await seed('lt', '--max-auto-turnover', '0');
    const before = await stored('lt');
    const held = await hold('lt');
    expect(held.stdout).toContain('held (turnover)');
    expect(held.stdout).toMatch(
      /\nheld for approval:\n {2}- turnover: turnover \S+ is above max_auto_turnover 0/,
    );
    expect(held.stdout).toContain(
      'approve: ballast proposals approve lt   reject: ballast proposals reject lt',
    );
    expect(await stored('lt')).toEqual(before);

    await seed('la', '--apply-mode', 'approve');
    const approval = await hold('la');
    expect(approval.stdout).toContain('held (approval-required)');
    expect(approval.stdout).toContain(
      '  - approval-required: apply_mode is approve: every change waits for an operator',
    );
  });

  it('list prints a table (longest-waiting first) and the hint; --json an array; --limit cuts it', async () => {
    const list = await json<WireProposal[]>(ALICE, 'proposals', 'list');
    expect(list.map((p) => p.portfolio_id)).toEqual(['lt', 'la']);
    expect(list[0]).toMatchObject({ version: (await stored('lt')).version, changes: 2, supersedes: null });
    expect(list[0]!.reasons.map((r) => r.guard)).toEqual(['turnover']);

    const text = await as(ALICE, 'proposals', 'list');
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^portfolio\s+version\s+held at\s+moves\s+turnover\s+why$/);
    expect(lines[1]).toMatch(/^lt\s+\d+\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\s+2\s+\S+%\s+turnover$/);
    expect(lines[2]).toMatch(/^la\s+\d+\s+\S+Z\s+2\s+\S+%\s+approval-required$/);
    expect(text.stdout).toContain(
      'approve or reject with: ballast proposals approve|reject PORTFOLIO_ID [--note TEXT]',
    );

    const one = await json<WireProposal[]>(ALICE, 'proposals', 'list', '--limit', '1');
    expect(one).toEqual([list[0]]);
    const oneText = await as(ALICE, 'proposals', 'list', '--limit', '1');
    expect(oneText.stdout).toContain('(1 of 2 shown, the longest-waiting first; --limit shows more)');
    for (const limit of ['0', '1001', 'x']) {
      const bad = await as(ALICE, 'proposals', 'list', '--limit', limit);
      expect(bad.code, limit).toBe(2);
      expect(bad.stderr, limit).toMatch(/^ballast: option '--limit <n>' argument .* is invalid/);
    }
  });

  it('show prints why it was held, the weights it would set and how to approve; --json the proposal', async () => {
    const proposal = await json<WireProposal>(ALICE, 'proposals', 'show', 'lt');
    expect(proposal).toMatchObject({ portfolio_id: 'lt', strategy: 'revenue', changes: 2 });
    const text = await as(ALICE, 'proposals', 'show', 'lt');
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(new RegExp(`report\\s+${proposal.report_id.replace(/\./g, '\\.')}`));
    expect(text.stdout).toMatch(
      new RegExp(`version\\s+${proposal.version} \\(approval applies only to this version\\)`),
    );
    expect(text.stdout).toContain(`held because:\n  - turnover: ${proposal.reasons[0]!.detail}\n`);
    expect(text.stdout).toMatch(/^business\s+action\s+current\s+proposed\s+reason$/m);
    expect(text.stdout).toMatch(/^lt1\s+decrease\s+33\.3%\s+25\.6%/m);
    expect(text.stdout).toContain(
      'approve: ballast proposals approve lt   reject: ballast proposals reject lt\n',
    );

    const unknown = await as(ALICE, 'proposals', 'show', 'nope');
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: 'ballast: portfolio nope not found\n' });
    await seed('lnone');
    const none = await as(ALICE, 'proposals', 'show', 'lnone');
    expect(none).toMatchObject({ code: 1, stderr: 'ballast: portfolio lnone has no pending proposal\n' });
  });
});

describe('proposals approve', () => {
  it("applies exactly the proposal's weights (exit 0), recorded in history with the note; again is exit 1", async () => {
    const proposal = await json<WireProposal>(ALICE, 'proposals', 'show', 'lt');
    const before = await stored('lt');
    const approved = await as(BOB, 'proposals', 'approve', 'lt', '--note', 'checked with finance');
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toBe(
      `approved ${proposal.report_id}: portfolio lt version ${before.version} -> ${before.version + 1} (2 allocations moved)\n`,
    );
    const after = await stored('lt');
    expect(after.version).toBe(before.version + 1);
    expect(weights(after)).toEqual(proposed(proposal));

    const page = await json<HistoryPage>(ALICE, 'portfolio', 'history', 'lt', '--limit', '1');
    expect(page.history[0]).toMatchObject({
      version: before.version + 1,
      actor: BOB,
      cause: { type: 'approve', report_id: proposal.report_id },
      note: 'checked with finance',
    });

    const again = await as(BOB, 'proposals', 'approve', 'lt');
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'ballast: portfolio lt has no pending proposal\n' });
    expect(await stored('lt')).toEqual(after);
  });

  it('--json prints the result', async () => {
    const proposal = await json<WireProposal>(ALICE, 'proposals', 'show', 'la');
    const result = await json<ApproveResult>(ALICE, 'proposals', 'approve', 'la');
    expect(result).toMatchObject({
      portfolio_id: 'la',
      report_id: proposal.report_id,
      version_before: proposal.version,
      version_after: proposal.version + 1,
      changes: 2,
      portfolio: { id: 'la', version: proposal.version + 1 },
    });
    expect(weights(await stored('la'))).toEqual(proposed(proposal));
  });

  it('after an edit of the portfolio is refused (exit 1) naming the change, and writes nothing', async () => {
    await seed('ae', '--apply-mode', 'approve');
    await hold('ae');
    const proposal = await json<WireProposal>(ALICE, 'proposals', 'show', 'ae');
    await json(BOB, 'portfolio', 'set-allocation', 'ae', 'ae2', '--priority', '9');
    const edited = await stored('ae');
    const refused = await as(ALICE, 'proposals', 'approve', 'ae');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^ballast: portfolio ae changed since proposal ${proposal.report_id.replace(/\./g, '\\.')} was computed on version ${proposal.version} \\(now version ${edited.version}\\): version ${edited.version} at \\S+ by ops:bob: ae2 priority 5 -> 9; `,
      ),
    );
    expect(await stored('ae')).toEqual(edited);
    // Still pending: it can be rejected.
    expect((await json<WireProposal>(ALICE, 'proposals', 'show', 'ae')).report_id).toBe(proposal.report_id);
  });
});

describe('proposals reject', () => {
  it('--note keeps the weights and records the rejection in audit; --note "" is a usage error', async () => {
    const before = await stored('ae');
    const proposal = await json<WireProposal>(ALICE, 'proposals', 'show', 'ae');

    const empty = await as(ALICE, 'proposals', 'reject', 'ae', '--note', '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^ballast: option '--note <text>' argument '' is invalid/);
    const long = await as(ALICE, 'proposals', 'approve', 'ae', '--note', 'x'.repeat(501));
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/--note/);
    expect((await json<WireProposal>(ALICE, 'proposals', 'show', 'ae')).report_id).toBe(proposal.report_id);

    const rejected = await as(ALICE, 'proposals', 'reject', 'ae', '--note', 'priorities changed');
    expect(rejected.stderr).toBe('');
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toBe(
      `rejected ${proposal.report_id}: portfolio ae stays at version ${before.version}\n`,
    );
    expect(await stored('ae')).toEqual(before);

    const { entries } = await json<{ entries: WireAuditEntry[] }>(
      ALICE,
      'audit',
      '--portfolio',
      'ae',
      '--limit',
      '1',
    );
    expect(entries[0]).toMatchObject({
      actor: ALICE,
      cause: { type: 'reject', report_id: proposal.report_id },
      note: 'priorities changed',
      version_before: before.version,
      version_after: before.version,
    });
    const again = await as(ALICE, 'proposals', 'reject', 'ae');
    expect(again).toMatchObject({ code: 1, stderr: 'ballast: portfolio ae has no pending proposal\n' });
  });
});

describe('enqueue --fail-on-held', () => {
  it('exits 3 when the recommendation was held, 0 when it applied', async () => {
    await seed('fh', '--apply-mode', 'approve');
    const held = await as(ALICE, 'enqueue', 'recalculate', '--portfolio', 'fh', '--wait', '--fail-on-held');
    expect(held.code).toBe(3);
    expect(held.stdout).toContain('held (approval-required)');
    expect(held.stderr).toMatch(
      /^queued job \S+ \(run \S+\); waiting for it\nballast: the recommendation for fh was held for approval \(--fail-on-held\)\n$/,
    );
    // A later run replaces the proposal and says so.
    const first = await json<WireProposal>(ALICE, 'proposals', 'show', 'fh');
    const json3 = await as(
      ALICE,
      'enqueue',
      'recalculate',
      '--portfolio',
      'fh',
      '--wait',
      '--fail-on-held',
      '--json',
    );
    expect(json3.code).toBe(3);
    expect(JSON.parse(json3.stdout)).toMatchObject({
      portfolio_id: 'fh',
      applied: false,
      held: { reasons: [{ guard: 'approval-required' }] },
    });
    expect((await json<WireProposal>(ALICE, 'proposals', 'show', 'fh')).supersedes).toEqual({
      report_id: first.report_id,
      run_id: first.run_id,
    });

    await seed('fa');
    const applied = await as(
      ALICE,
      'enqueue',
      'recalculate',
      '--portfolio',
      'fa',
      '--wait',
      '--fail-on-held',
    );
    expect(applied.stderr).toMatch(QUEUED);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^portfolio fa, run \S+: applied, 2 changes/);
  });

  it('without --wait is a usage error (exit 2) and queues nothing', async () => {
    const before = await stored('fa');
    const jobs = async () => Object.values(await app.queue.counts()).reduce((a, b) => a + b, 0);
    const queued = await jobs();
    for (const kind of [['recalculate', '--portfolio', 'fa'], ['nightly']]) {
      const result = await as(ALICE, 'enqueue', ...kind, '--fail-on-held');
      expect(result.code, kind[0]).toBe(2);
      expect(result.stderr, kind[0]).toBe('ballast: --fail-on-held needs --wait\n');
      expect(result.stdout, kind[0]).toBe('');
    }
    expect(await jobs()).toBe(queued);
    expect(await stored('fa')).toEqual(before);
  });
});
