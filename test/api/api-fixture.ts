/** One app, API server and in-memory metrics source per test file, on the file's own Redis prefix. */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { ApiServer } from '../../src/api/context.js';
import { type ApiServerOptions, createApiServer } from '../../src/api/server.js';
import type { App } from '../../src/app.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` } as const;

export interface ApiFixture {
  readonly prefix: string;
  readonly app: App;
  readonly server: ApiServer;
  readonly source: MemoryMetricsSource;
  /** fastify.inject with the token, JSON in and out. */
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
  readonly json: any;
}

export interface ApiFixtureOptions {
  readonly name: string;
  /** Run a worker in-process on the same queue (for the apply path). */
  readonly worker?: boolean;
  readonly server?: ApiServerOptions;
  readonly env?: Record<string, string>;
}

export function useApi(options: ApiFixtureOptions): ApiFixture {
  const redis = useRedisPrefix(options.name);
  const source = new MemoryMetricsSource();
  let app: App | undefined;
  let server: ApiServer | undefined;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    app = testApp(redis.prefix, { metricsSource: source, ...(options.env ? { env: options.env } : {}) });
    server = createApiServer(app, { token: TOKEN, ...options.server });
    await server.ready();
    if (options.worker) worker = await startWorker(app);
  });
  afterAll(async () => {
    await worker?.close();
    await server?.close();
    await app?.close();
  });

  const fixture: ApiFixture = {
    prefix: redis.prefix,
    source,
    get app() {
      if (!app) throw new Error('useApi: the app exists from beforeAll on');
      return app;
    },
    get server() {
      if (!server) throw new Error('useApi: the server exists from beforeAll on');
      return server;
    },
    call: (method, url, body, headers = {}) =>
      inject(fixture.server, method, url, body, { ...AUTH, ...headers }),
  };
  return fixture;
}

export async function inject(
  server: ApiServer,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const response = await server.inject({
    method,
    url,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text: response.body, json };
}
