/**
 * Operator conveniences against a real Redis: `portfolio set-allocations` (one version), `portfolio
 * delete` (every key gone, audited, refused while a job runs) and `portfolio import` (the whole
 * file checked first, idempotent).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { WireAuditEntry } from '../../src/domain/index.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { runIn } from './in-process.js';

const fixture = useRedisPrefix('cli-convenience');

/** What the tests read of `portfolio ... --json`. */
interface WirePortfolio {
  readonly id: string;
  readonly version: number;
  readonly name: string;
  readonly allocations: Record<string, { readonly weight: number }>;
}
let app: App;
let dir: string;
const run = (argv: readonly string[], stdin?: string) =>
  runIn(fixture.prefix, argv, stdin === undefined ? {} : { stdin });

async function json<T>(...argv: string[]): Promise<T> {
  const result = await run([...argv, '--json']);
  expect(result.stderr, argv.join(' ')).toBe('');
  expect(result.code, argv.join(' ')).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function seed(id: string): Promise<WirePortfolio> {
  await json('portfolio', 'create', '--id', id, '--name', id, '--owner', 'ops', '--strategy', 'custom');
  let p: WirePortfolio | undefined;
  for (const b of ['a', 'b', 'c', 'd']) p = await json<WirePortfolio>('portfolio', 'add-business', id, b);
  return p!;
}

beforeAll(async () => {
  app = testApp(fixture.prefix, { env: { BALLAST_QUEUE: 'ballast' } });
  dir = await mkdtemp(join(tmpdir(), 'ballast-import-'));
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the rules the CLI shares with the API', () => {
  it('refuses the reserved id owner, as POST /portfolios does', async () => {
    const refused = await run(['portfolio', 'create', '--id', 'owner', '--name', 'x', '--owner', 'o']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/"owner" cannot be a portfolio id/);
    expect(await app.store.get('owner')).toBeNull();
  });

  it('an update that changes nothing keeps the version, as PATCH does', async () => {
    await json('portfolio', 'create', '--id', 'same', '--name', 'Same', '--owner', 'ops');
    const first = await json<WirePortfolio>('portfolio', 'update', 'same', '--name', 'Renamed');
    const again = await json<WirePortfolio>('portfolio', 'update', 'same', '--name', 'Renamed');
    expect(again.version).toBe(first.version);
  });
});

describe('portfolio set-allocations', () => {
  it('sets several weights as one version, the rest re-spread once', async () => {
    const before = await seed('sa');
    const p = await json<WirePortfolio>('portfolio', 'set-allocations', 'sa', 'a=0.4', 'b=0.3');
    expect(p.version).toBe(before.version + 1);
    expect(p.allocations.a!.weight).toBe(0.4);
    expect(p.allocations.b!.weight).toBe(0.3);
    expect(p.allocations.c!.weight).toBeCloseTo(0.15, 12);
    expect(p.allocations.d!.weight).toBeCloseTo(0.15, 12);
    const history = await json<{ history: { cause: { command?: string } }[] }>('portfolio', 'history', 'sa');
    expect(history.history[0]!.cause.command).toBe('portfolio set-allocations');
  });

  it('refuses bad input and writes nothing', async () => {
    const before = await app.store.require('sa');
    const bad = await run(['portfolio', 'set-allocations', 'sa', 'a0.4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"a0.4" is not BUSINESS=WEIGHT/);
    const unknown = await run(['portfolio', 'set-allocations', 'sa', 'zz=0.1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/business zz is not in portfolio sa/);
    const twice = await run(['portfolio', 'set-allocations', 'sa', 'a=0.1', 'a=0.2']);
    expect(twice.code).toBe(2);
    expect((await app.store.require('sa')).version).toBe(before.version);
  });
});

describe('portfolio delete', () => {
  it('needs --yes, then removes every key of the portfolio and its index entries; the audit keeps it', async () => {
    await seed('del');
    const refused = await run(['portfolio', 'delete', 'del']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/add --yes to confirm/);
    expect(await app.store.get('del')).not.toBeNull();

    // The pattern matches the portfolio's keys before the delete: its emptiness after means gone.
    expect((await fixture.client.keys(`${fixture.prefix}:{del}:*`)).length).toBeGreaterThanOrEqual(2);
    const deleted = await json<{ deleted: boolean; version: number }>('portfolio', 'delete', 'del', '--yes');
    expect(deleted).toMatchObject({ portfolio_id: 'del', deleted: true, businesses: 4 });
    expect(await app.store.get('del')).toBeNull();
    const keys = await fixture.client.keys(`${fixture.prefix}:{del}:*`);
    expect(keys).toEqual([]);
    expect(await fixture.client.zscore(app.keys.portfolioIndex, 'del')).toBeNull();
    expect(await fixture.client.sismember(app.keys.ownerIndex('ops'), 'del')).toBe(0);
    const { entries: audit } = await json<{ entries: WireAuditEntry[] }>(
      'audit',
      '--portfolio',
      'del',
      '--limit',
      '1',
    );
    expect(audit[0]).toMatchObject({ portfolio_id: 'del', note: 'portfolio deleted' });
    expect(audit[0]!.cause).toMatchObject({ type: 'edit', command: 'portfolio delete' });

    const again = await run(['portfolio', 'delete', 'del', '--yes']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/portfolio del not found/);
  });
});

describe('portfolio import', () => {
  it('creates and updates from portfolio show --json output; a second import changes nothing', async () => {
    const shown = await json<WirePortfolio>('portfolio', 'show', 'sa');
    const edited = { ...shown, name: 'renamed', allocations: { ...shown.allocations } };
    const fresh = { ...shown, id: 'imp', name: 'imported' };
    const path = join(dir, 'portfolios.ndjson');
    await writeFile(path, `${JSON.stringify(edited)}\n\n${JSON.stringify(fresh)}\n`);
    const first = await json<{ created: string[]; updated: string[]; unchanged: string[] }>(
      'portfolio',
      'import',
      path,
    );
    expect(first).toEqual({ created: ['imp'], updated: ['sa'], unchanged: [] });
    expect((await app.store.require('sa')).name).toBe('renamed');
    const imported = await app.store.require('imp');
    expect(imported.allocations.map((a) => [a.businessId, a.weight])).toEqual(
      Object.entries(shown.allocations).map(([id, a]) => [id, a.weight]),
    );
    const second = await json('portfolio', 'import', path);
    expect(second).toEqual({ created: [], updated: [], unchanged: ['sa', 'imp'] });
    // A JSON array from stdin works too.
    const viaStdin = await run(['portfolio', 'import', '-'], JSON.stringify([fresh]));
    expect(viaStdin).toMatchObject({ code: 0, stdout: '0 created, 0 updated, 1 unchanged\n' });
  });

  it('checks the whole file first: one bad entry and nothing is written', async () => {
    const shown = await json<WirePortfolio>('portfolio', 'show', 'sa');
    const path = join(dir, 'bad.json');
    await writeFile(
      path,
      JSON.stringify([
        { ...shown, id: 'imp2', name: 'fine' },
        { ...shown, id: 'imp3', strategy: 'perfomance' },
        { ...shown, owner_id: 'someone-else' },
      ]),
    );
    const result = await run(['portfolio', 'import', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nothing imported: 2 problems/);
    expect(result.stderr).toMatch(/index 1: .*did you mean performance\?/);
    expect(result.stderr).toMatch(/owner_id someone-else differs from the stored owner ops/);
    expect(await app.store.get('imp2')).toBeNull();
    await writeFile(path, '{"id": "x", "name": "x", "owner_id": "o", "name": "y"}');
    const duplicate = await run(['portfolio', 'import', path]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/the key "name" is given twice/);
  });
});
