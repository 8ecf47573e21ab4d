/**
 * Random JSON bodies (duplicate keys, any Unicode), paths, ids, query strings and headers at every
 * route: never a 5xx, every 4xx carries a message, and a refused request changes nothing. Seeded: FC_SEED=<n> replays a run; fast-check prints the seed,
 * the path and the shrunk request on failure.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Portfolio, STATUSES, STRATEGIES } from '../../src/domain/index.js';
import { wire } from '../helpers/memory-metrics.js';
import { TOKEN, useApi } from './api-fixture.js';

const SEED = readSeed(process.env['FC_SEED']);
/** FC_RUNS=<n> for a longer soak; the default keeps the file at a few seconds. */
const NUM_RUNS = Number(process.env['FC_RUNS'] ?? 300);

const api = useApi({ name: 'api-fuzz', worker: true, server: { applyTimeoutMs: 10_000 } });

beforeAll(async () => {
  api.source.set(wire('fz-a', 500, 50), wire('fz-b', 300, -20), wire('fz-c', 100, 5));
  const created = await api.call('POST', '/portfolios', {
    id: 'fz',
    name: 'fuzz',
    owner_id: 'fz-owner',
    strategy: 'revenue',
  });
  expect(created.status).toBe(200);
  for (const business_id of ['fz-a', 'fz-b', 'fz-c']) {
    expect((await api.call('POST', '/portfolios/fz/businesses', { business_id })).status).toBe(200);
  }
});

const oddSegments = [
  '..',
  '.',
  '%',
  '%00',
  '%2F',
  'a%2Fb',
  '%E0%A4%A',
  '__proto__',
  'constructor',
  'prototype',
  'x'.repeat(300),
  '%20',
  '-',
  '_',
  'fz%00',
  'null',
  'undefined',
  '%F0%9F%92%A5',
];

const id = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('fz', 'fz-a', 'fz-b', 'fz-owner', 'nobody') },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
  { weight: 2, arbitrary: fc.string({ maxLength: 80 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom(...oddSegments) },
);

const idOtherThanFz = id.filter((p) => p !== 'fz');
const runId = fc.oneof(fc.constantFrom('cron-20260101T020000Z', 'manual-x', 'nope'), id);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
type Method = (typeof METHODS)[number];

/**
 * A route and what it takes: the query parameters it knows and whether it reads a body (the
 * API's own routes; null for the dashboard, the docs and random paths, which are not checked).
 */
interface Route {
  readonly method: Method;
  readonly path: string;
  readonly query: readonly string[] | null;
  readonly body: boolean | null;
}
const ours = (method: Method, path: string, body: boolean, query: readonly string[] = []): Route => ({
  method,
  path,
  query,
  body,
});
const theirs = (method: Method, path: string): Route => ({ method, path, query: null, body: null });

/** Every route of the API with the method it answers, ids drawn at random. */
const route: fc.Arbitrary<Route> = fc.oneof(
  fc.constant(ours('POST', '/portfolios', true)),
  id.map((p) => ours('GET', `/portfolios/${p}`, false)),
  id.map((o) => ours('GET', `/portfolios/owner/${o}`, false)),
  id.map((p) => ours('PATCH', `/portfolios/${p}`, true)),
  id.map((p) => ours('POST', `/portfolios/${p}/businesses`, true)),
  fc.tuple(id, id).map(([p, b]) => ours('DELETE', `/portfolios/${p}/businesses/${b}`, false)),
  fc.tuple(id, id).map(([p, b]) => ours('PUT', `/portfolios/${p}/businesses/${b}/allocation`, true)),
  fc
    .tuple(id, fc.constantFrom('metrics', 'ranking', 'rebalance'))
    .map(([p, r]) => ours('GET', `/portfolios/${p}/${r}`, false)),
  id.map((p) => ours('GET', `/portfolios/${p}/reports`, false, ['limit'])),
  // The routes that run something, the reviewer's dry-run cases: drawn more often.
  { weight: 3, arbitrary: id.map((p) => ours('POST', `/portfolios/${p}/rebalance`, false)) },
  { weight: 3, arbitrary: id.map((p) => ours('POST', `/portfolios/${p}/recalculate`, false, ['dry_run'])) },
  { weight: 2, arbitrary: fc.constant(ours('POST', '/runs/nightly', false)) },
  id.map((j) => ours('GET', `/jobs/${j}`, false)),
  // The routes of runs, jobs, the schedule and delete (fz itself is never deleted: the check
  // after each refused request reads it).
  idOtherThanFz.map((p) => ours('DELETE', `/portfolios/${p}`, false)),
  fc.constant(ours('GET', '/runs', false, ['limit'])),
  runId.map((r) => ours('GET', `/runs/${r}`, false, ['limit', 'outcome'])),
  runId.map((r) => ours('DELETE', `/runs/${r}/pending`, false)),
  fc.constant(ours('GET', '/jobs', false, ['state', 'limit'])),
  id.map((j) => ours('DELETE', `/jobs/${j}`, false)),
  fc.constantFrom(
    ours('GET', '/schedule', false),
    ours('POST', '/schedule/pause', true),
    ours('POST', '/schedule/resume', false),
    ours('POST', '/schedule/trigger', false),
    ours('POST', '/schedule/backfill', true),
  ),
  fc.constantFrom(
    ours('GET', '/healthz', false),
    ours('GET', '/readyz', false),
    ours('GET', '/metrics', false),
    theirs('GET', '/docs/json'),
    theirs('GET', '/admin/queues/api/queues'),
  ),
  fc
    .tuple(
      fc.constantFrom<Method>('GET', 'PUT', 'POST', 'DELETE'),
      fc.array(
        fc.oneof(id, fc.constantFrom('q', 'queues', 'jobs', 'retry', 'clean', 'pause', 'failed', 'logs')),
        { maxLength: 5 },
      ),
    )
    .map(([m, parts]) => theirs(m, `/admin/queues/api/${parts.join('/')}`)),
  fc
    .tuple(fc.constantFrom(...METHODS), fc.array(id, { minLength: 0, maxLength: 5 }), fc.boolean())
    .map(([m, parts, slash]) => theirs(m, `/${parts.join('/')}${slash ? '/' : ''}`)),
);

const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', '1', '0', '20', '-1', '1001', 'NaN', ''),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);
/** Known names, near misses of them (the typo that ran for real), tokens, and anything. */
const queryName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'dry_run',
      'limit',
      'state',
      'outcome',
      'note',
      'dryrun',
      'dryRun',
      'dry-run',
      'DRY_RUN',
      'limits',
      'token',
      'access_token',
      'x',
      '__proto__',
      'constructor',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,11}$/) },
);
const query = fc.option(
  fc.dictionary(queryName, queryValue, { maxKeys: 3 }).map((q) =>
    Object.entries(q)
      .map(([k, v]) => `${k}=${v}`)
      .join('&'),
  ),
  // Half the requests carry no query at all, so that enough of them get past the strict query
  // check to reach the routes (with a query on four in five, a run could see fewer than 10 2xx).
  { nil: undefined, freq: 2 },
);

const number = fc.oneof(
  fc.double(),
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(0, 0.5, 1, 1.5, -3, 99),
);
const field = fc.oneof(
  number,
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Bodies close to the real ones (so that validation and the domain are reached), and anything else. */
const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          name: fc.oneof(fc.string({ maxLength: 30 }), field),
          owner_id: fc.oneof(id, field),
          id: fc.oneof(id, field),
          business_id: fc.oneof(id, field),
          strategy: fc.oneof(fc.constantFrom(...STRATEGIES, 'bogus', 'EQUAL'), field),
          status: fc.oneof(fc.constantFrom(...STATUSES, 'deleted'), field),
          total_budget: field,
          weight: field,
          priority: field,
          locked: field,
          min_weight: field,
          max_weight: field,
          target_weight: field,
          max_turnover: field,
          drift_threshold: field,
          target_roi: field,
        },
        { requiredKeys: [] },
      )
      .map((b) => JSON.stringify(b)),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"name":"x","owner_id":"o","total_budget":1e999}',
      '{"weight": 1e309}',
      '{"dry_run":true}',
      '{"dry_run":"true"}',
      '{}',
      ' ',
      '{',
      '[]',
      'null',
      '""',
      '\u0000',
      '{"a":'.repeat(200),
    ),
  },
  // Keys given twice (JSON.parse would keep the last), names with invisible or any Unicode.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('name', 'weight', 'id', 'owner_id', 'status'), field, field)
      .map(
        ([k, a, b]) =>
          `{${JSON.stringify(k)}:${JSON.stringify(a)},"x":1,${JSON.stringify(k)}:${JSON.stringify(b)}}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 12 }),
          fc.string({ unit: 'binary', maxLength: 12 }),
          fc.constantFrom('a\u202eb', 'a\u200bb', 'Cafe\u0301', '\ud800'),
        ),
        fc.oneof(id, fc.constant('fz')),
      )
      .map(([name, pid]) => JSON.stringify({ name, id: pid, owner_id: 'o', business_id: pid })),
  },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    'application/vnd.api+json',
  ),
  fc.stringMatching(/^[a-z]{1,8}\/[a-z+.-]{1,12}$/),
);
const authorization = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 40 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, '')}`),
  },
);
const extraHeaders = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,16}$/),
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  { maxKeys: 3 },
);

const request = fc.record({
  route,
  query,
  body,
  contentType: fc.option(contentType, { nil: undefined }),
  authorization,
  extraHeaders,
});

const PUBLIC = new Set(['/healthz', '/readyz']);

/** Names in a query string as the server reads them (decoded). */
function queryNames(q: string | undefined): string[] {
  return q === undefined || q === '' ? [] : [...new URLSearchParams(q).keys()];
}

/** What reaches a route as "no body": nothing, blanks with a JSON type, or `{}`. */
function isEmptyBody(body: string | undefined): boolean {
  if (body === undefined || body.trim() === '') return true;
  try {
    const value: unknown = JSON.parse(body);
    return (
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0
    );
  } catch {
    return false;
  }
}

describe('any request', () => {
  it(`never gets a 5xx, every 4xx says why, and a 2xx ignored nothing it was sent (FC_SEED=${SEED})`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const { method, path } = r.route;
        const url = r.query === undefined ? path : `${path}?${r.query}`;
        const headers: Record<string, string> = { ...r.extraHeaders };
        if (r.authorization !== undefined) headers.authorization = r.authorization;
        if (r.contentType !== undefined && r.body !== undefined) headers['content-type'] = r.contentType;
        const before = editable(await api.app.store.get('fz'));
        const response = await api.server.inject({
          method,
          url,
          headers,
          ...(r.body === undefined || method === 'GET' || method === 'HEAD' ? {} : { payload: r.body }),
        });
        const where = `${method} ${url} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode, where).toBeLessThan(500);
        if (r.authorization !== `Bearer ${TOKEN}` && !PUBLIC.has(path.replace(/\/$/, ''))) {
          expect(response.statusCode, where).toBe(401);
        }
        // A refused request stores nothing (weights aside: the worker applies queued runs meanwhile).
        if (response.statusCode >= 400)
          expect(editable(await api.app.store.get('fz')), where).toEqual(before);
        if (response.statusCode >= 400 && method !== 'HEAD') {
          const parsed = JSON.parse(response.body) as { message?: unknown };
          expect(typeof parsed.message, where).toBe('string');
          expect((parsed.message as string).length, where).toBeGreaterThan(0);
        }
        // Served means understood: no unknown query parameter, no body on a route that takes
        // none (`POST .../rebalance?dry_run=true` applying for real was such a silent success).
        if (response.statusCode < 300 && r.route.query !== null) {
          const known = r.route.query;
          expect(
            queryNames(r.query).filter((name) => !known.includes(name)),
            where,
          ).toEqual([]);
          const sent = method === 'GET' || method === 'HEAD' ? undefined : r.body;
          if (r.route.body === false) expect(isEmptyBody(sent), where).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
    // The requests reached the routes, not only the validators and the auth hook.
    // (About 20 of 300 requests are served, 200 or 202; fewer than 5 would mean the generator
    // no longer gets past the validators.)
    const served = (statuses.get(200) ?? 0) + (statuses.get(202) ?? 0);
    expect(served, JSON.stringify([...statuses])).toBeGreaterThanOrEqual(5);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(10);
    // The portfolio the requests hammered still holds its invariant.
    const p = await api.app.store.get('fz');
    if (p && p.allocations.length > 0) {
      expect(p.allocations.reduce((sum, a) => sum + a.weight, 0)).toBeCloseTo(1, 9);
    }
  }, 60_000);
});

/**
 * What a request may change of a portfolio and a run may not: its settings and its businesses (a
 * run rewrites the document with new weights, and may add settings it now writes by default).
 */
function editable(p: Portfolio | null) {
  if (!p) return null;
  return {
    ownerId: p.ownerId,
    name: p.name,
    status: p.status,
    strategy: p.strategy,
    totalBudget: p.totalBudget,
    targetRoi: p.targetRoi,
    driftThreshold: p.driftThreshold,
    attentionHoursPerWeek: p.attentionHoursPerWeek,
    maxTurnover: p.maxTurnover ?? null,
    applyMode: p.applyMode ?? 'auto',
    maxAutoTurnover: p.maxAutoTurnover ?? null,
    rebalanceTrigger: p.rebalanceTrigger ?? 'allocation',
    driftType: p.driftType ?? 'absolute',
    minTrade: p.minTrade ?? null,
    businesses: p.allocations.map((a) => [
      a.businessId,
      a.locked,
      a.priority,
      a.minWeight ?? null,
      a.maxWeight ?? null,
      a.targetWeight ?? null,
    ]),
  };
}

/** fast-check keeps 32 bits of a seed: so do we, so that the seed it prints and ours agree. */
function readSeed(raw: string | undefined): number {
  if (raw === undefined || raw === '') return Date.now() | 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed | 0;
}
