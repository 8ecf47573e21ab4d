import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/job.js';
import type { ApiServer } from '../../src/api/context.js';
import { createApiServer } from '../../src/api/server.js';
import type { App } from '../../src/app.js';
import { type Prometheus, prometheusFor } from '../../src/observability/prometheus.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { AUTH, inject, TOKEN } from './api-fixture.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

/** A source that keeps its own error count, as the real ones do (for ballast_metrics_source_errors_total). */
class CountingSource extends MemoryMetricsSource {
  stats() {
    return { calls: 0, businessesRequested: 0, errors: 3 };
  }
}

const redis = useRedisPrefix('api-observability');
const source = new CountingSource();
let app: App;
let prometheus: Prometheus;
let worker: RunningWorker;
let server: ApiServer;

beforeAll(async () => {
  app = testApp(redis.prefix, { metricsSource: source });
  prometheus = prometheusFor(app);
  // The worker and the API share one registry, as in `ballast start`.
  worker = await startWorker(app, prometheus.observe);
  server = createApiServer(app, { token: TOKEN, prometheus });
  await server.ready();
});
afterAll(async () => {
  await worker?.close();
  await server?.close();
  await app?.close();
});

const call = (method: 'GET' | 'POST', url: string, body?: unknown) => inject(server, method, url, body, AUTH);

describe('GET /metrics', () => {
  it('is valid Prometheus text with job, turnover, source-error, queue and process metrics', async () => {
    source.set(wire('ob-a', 300, 10), wire('ob-b', 100, 10));
    await call('POST', '/portfolios', { id: 'ob', name: 'ob', owner_id: 'o', strategy: 'revenue' });
    await call('POST', '/portfolios/ob/businesses', { business_id: 'ob-a' });
    await call('POST', '/portfolios/ob/businesses', { business_id: 'ob-b' });
    expect((await call('POST', '/portfolios/ob/rebalance')).json.status).toBe('rebalanced');
    // A job that fails: an archived portfolio, enqueued behind the API's back.
    await call('POST', '/portfolios', { id: 'ob-gone', name: 'x', owner_id: 'o', status: 'archived' });
    const events = await app.queue.events(app.redis);
    try {
      await app.queue.add({
        name: 'recalculate',
        data: { portfolioId: 'ob-gone', runId: 'manual-fails', trigger: 'manual' },
        jobId: 'manual-fails.ob-gone',
        priority: 0,
      });
      await expect(app.queue.waitFor('manual-fails.ob-gone', events, 20_000)).rejects.toThrow(/archived/);
    } finally {
      await events.close();
    }

    const r = await call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(r.text);
    const types = Object.fromEntries([...families.values()].map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      ballast_jobs_completed_total: 'counter',
      ballast_jobs_failed_total: 'counter',
      ballast_job_duration_seconds: 'histogram',
      ballast_turnover: 'histogram',
      ballast_metrics_source_errors_total: 'counter',
      ballast_queue_jobs: 'gauge',
      process_cpu_user_seconds_total: 'counter',
      nodejs_eventloop_lag_seconds: 'gauge',
    });
    for (const f of families.values()) expect(f.help, f.name).toEqual(expect.any(String));
    expect(sampleValue(families, 'ballast_jobs_completed_total', { name: 'recalculate' })).toBe(1);
    expect(sampleValue(families, 'ballast_jobs_failed_total', { name: 'recalculate' })).toBe(1);
    expect(sampleValue(families, 'ballast_job_duration_seconds_count', { name: 'recalculate' })).toBe(1);
    expect(
      sampleValue(families, 'ballast_job_duration_seconds_bucket', { name: 'recalculate', le: '+Inf' }),
    ).toBe(1);
    expect(sampleValue(families, 'ballast_turnover_count')).toBe(1);
    expect(sampleValue(families, 'ballast_turnover_sum')).toBeCloseTo(0.25, 9);
    expect(sampleValue(families, 'ballast_metrics_source_errors_total')).toBe(3);
    expect(sampleValue(families, 'ballast_queue_jobs', { state: 'completed' })).toBe(1);
    expect(sampleValue(families, 'ballast_queue_jobs', { state: 'failed' })).toBe(1);
    expect(sampleValue(families, 'ballast_queue_jobs', { state: 'waiting' })).toBe(0);
  });

  it('needs the token unless BALLAST_METRICS_PUBLIC', async () => {
    expect((await inject(server, 'GET', '/metrics')).status).toBe(401);
    const open = createApiServer(app, { token: TOKEN, metricsPublic: true });
    try {
      const r = await inject(open, 'GET', '/metrics');
      expect(r.status).toBe(200);
      parsePrometheusText(r.text);
      expect((await inject(open, 'GET', '/portfolios/ob')).status).toBe(401);
    } finally {
      await open.close();
    }
  });

  it('matches the worker hook signature', () => {
    const hook: JobContext['observe'] = prometheus.observe;
    expect(hook).toBeTypeOf('function');
    // Unknown events and non-finite values are ignored, never thrown.
    prometheus.observe('something_new', 1);
    prometheus.observe('turnover', Number.NaN);
  });
});

describe('/docs', () => {
  it('serves a valid OpenAPI 3 document that lists every route', async () => {
    const r = await call('GET', '/docs/json');
    expect(r.status).toBe(200);
    const doc = r.json as OpenAPIV3.Document;
    expect(doc.openapi).toMatch(/^3\./);
    await SwaggerParser.validate(structuredClone(doc) as never);
    const expected: Record<string, string[]> = {
      '/portfolios': ['post'],
      '/portfolios/{id}': ['get', 'patch', 'delete'],
      '/portfolios/owner/{owner_id}': ['get'],
      '/portfolios/{id}/businesses': ['post'],
      '/portfolios/{id}/businesses/{business_id}': ['delete'],
      '/portfolios/{id}/businesses/{business_id}/allocation': ['put'],
      '/portfolios/{id}/metrics': ['get'],
      '/portfolios/{id}/ranking': ['get'],
      '/portfolios/{id}/rebalance': ['get', 'post'],
      '/portfolios/{id}/recalculate': ['post'],
      '/portfolios/{id}/reports': ['get'],
      '/runs/nightly': ['post'],
      '/runs/{run_id}/revert': ['post'],
      '/portfolios/{id}/history': ['get'],
      '/portfolios/{id}/restore': ['post'],
      '/audit': ['get'],
      '/proposals': ['get'],
      '/portfolios/{id}/proposal': ['get'],
      '/portfolios/{id}/proposal/approve': ['post'],
      '/portfolios/{id}/proposal/reject': ['post'],
      '/jobs/{job_id}': ['get', 'delete'],
      '/jobs': ['get'],
      '/runs': ['get'],
      '/runs/{run_id}': ['get'],
      '/runs/{run_id}/pending': ['delete'],
      '/schedule': ['get'],
      '/schedule/pause': ['post'],
      '/schedule/resume': ['post'],
      '/schedule/trigger': ['post'],
      '/schedule/backfill': ['post'],
      '/healthz': ['get'],
      '/readyz': ['get'],
      '/metrics': ['get'],
    };
    expect(Object.keys(doc.paths).sort()).toEqual(Object.keys(expected).sort());
    for (const [path, methods] of Object.entries(expected)) {
      expect(
        Object.keys(doc.paths[path]!)
          .filter((k) => k !== 'parameters')
          .sort(),
        path,
      ).toEqual(methods.sort());
    }
    expect(doc.components?.securitySchemes).toHaveProperty('bearer');
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    const create = doc.paths['/portfolios']!.post!.requestBody as OpenAPIV3.RequestBodyObject;
    const ref = (create.content['application/json']!.schema as OpenAPIV3.ReferenceObject).$ref;
    const body = doc.components!.schemas![ref.split('/').pop()!] as OpenAPIV3.SchemaObject;
    expect(body.required).toEqual(['name', 'owner_id']);
    expect(body.additionalProperties).toBe(false);
  });

  it('documents the common error responses on every operation (400, 401, 413/415 with bodies, 503)', async () => {
    const doc = (await call('GET', '/docs/json')).json as OpenAPIV3.Document;
    const publicPaths = new Set(['/healthz', '/readyz']);
    const withoutRedis = new Set(['/healthz', '/metrics']);
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        const operation = item?.[method];
        if (!operation) continue;
        operations++;
        const codes = Object.keys(operation.responses);
        const expected = ['400'];
        if (!publicPaths.has(path)) expected.push('401');
        if (method !== 'get') expected.push('413', '415');
        if (!withoutRedis.has(path)) expected.push('503');
        expect(codes, `${method} ${path}`).toEqual(expect.arrayContaining(expected));
        const shown = operation.responses['400'] as OpenAPIV3.ResponseObject;
        expect(shown.description, `${method} ${path}`).toEqual(expect.any(String));
      }
    }
    expect(operations).toBe(37);
    expect(Object.keys(doc.paths['/runs/nightly']!.post!.responses).sort()).toEqual(
      ['202', '400', '401', '413', '415', '503'].sort(),
    );
  });

  it('says per route what a 503 means (only a write may have happened), the body limit as configured, and /metrics as text', async () => {
    const doc = (await call('GET', '/docs/json')).json as OpenAPIV3.Document;
    const metricsRoutes = [
      '/portfolios/{id}/metrics',
      '/portfolios/{id}/ranking',
      '/portfolios/{id}/rebalance',
    ];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        const unavailable = item?.[method]?.responses['503'] as OpenAPIV3.ResponseObject | undefined;
        if (!unavailable || path === '/readyz') continue;
        const where = `${method} ${path}`;
        if (method === 'get') {
          expect(unavailable.description, where).toContain('this is a read: nothing was changed');
          expect(unavailable.description, where).not.toContain('may or may not');
          if (metricsRoutes.includes(path))
            expect(unavailable.description, where).toContain('metrics source');
        } else {
          expect(unavailable.description, where).toContain(
            'a change may or may not have been made before it passed; read it back before retrying',
          );
        }
      }
    }
    const tooLarge = doc.paths['/portfolios']!.post!.responses['413'] as OpenAPIV3.ResponseObject;
    expect(tooLarge.description).toBe('Body over the limit (64 KiB)');
    const scrape = doc.paths['/metrics']!.get!.responses['200'] as OpenAPIV3.ResponseObject;
    expect(scrape.description).toContain('Prometheus text exposition format');
    expect(scrape.content).toEqual({ 'text/plain': { schema: { type: 'string' } } });

    // Another limit, another description.
    const small = createApiServer(app, { token: TOKEN, bodyLimit: 2048 });
    try {
      const smallDoc = (await inject(small, 'GET', '/docs/json', undefined, AUTH)).json as OpenAPIV3.Document;
      const said = smallDoc.paths['/portfolios/{id}']!.patch!.responses['413'] as OpenAPIV3.ResponseObject;
      expect(said.description).toBe('Body over the limit (2 KiB)');
    } finally {
      await small.close();
    }
  });

  it('every documented operation is served (no documented path answers "no route")', async () => {
    const doc = (await call('GET', '/docs/json')).json as OpenAPIV3.Document;
    for (const [path, item] of Object.entries(doc.paths)) {
      const url = path
        .replace('{id}', 'ob')
        .replace('{business_id}', 'ob-a')
        .replace('{owner_id}', 'o')
        .replace('{job_id}', 'x.y');
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        if (!item?.[method]) continue;
        const r = await server.inject({ method: method.toUpperCase() as 'GET', url, headers: AUTH });
        expect(r.body, `${method} ${url}`).not.toContain('no route');
      }
    }
  });

  it('serves Swagger UI at /docs behind the token', async () => {
    const ui = await call('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    expect((await inject(server, 'GET', '/docs')).status).toBe(401);
    expect((await inject(server, 'GET', '/docs/json')).status).toBe(401);
  });
});

describe('/admin/queues', () => {
  it('serves the bull-board dashboard and its API behind the token (Basic auth for browsers)', async () => {
    const page = await call('GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<base href="/admin/queues/"');
    const queues = await call('GET', '/admin/queues/api/queues');
    expect(queues.status).toBe(200);
    expect(queues.json.queues[0].name).toBe('q');
    expect((await inject(server, 'GET', '/admin/queues')).status).toBe(401);
    expect((await inject(server, 'GET', '/admin/queues/api/queues')).status).toBe(401);
    const basic = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`;
    expect((await inject(server, 'GET', '/admin/queues', undefined, { authorization: basic })).status).toBe(
      200,
    );
  });
});
