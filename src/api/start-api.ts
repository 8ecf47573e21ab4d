/** Listening: `ballast api` runs this alone, `ballast start` next to a worker and a scheduler. */
import type { App } from '../app.js';
import type { Config } from '../config.js';
import type { Prometheus } from '../observability/prometheus.js';
import type { ApiServer } from './context.js';
import { createApiServer } from './server.js';

export interface StartApiOptions {
  /** Serve without a token; then only on 127.0.0.1, whatever BALLAST_API_HOST says. */
  readonly insecureNoAuth?: boolean | undefined;
  /** Overrides BALLAST_API_PORT (0: any free port). */
  readonly port?: number | undefined;
  /** Shared with a worker in the same process (`ballast start`). */
  readonly prometheus?: Prometheus | undefined;
  readonly applyTimeoutMs?: number | undefined;
}

export interface RunningApi {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly server: ApiServer;
  /** Stops accepting connections, finishes the requests in flight, closes the API's own readers. */
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

export async function startApi(app: App, config: Config, options: StartApiOptions = {}): Promise<RunningApi> {
  const insecure = options.insecureNoAuth === true;
  const server = createApiServer(app, {
    tokens: insecure ? undefined : config.api.tokens,
    insecureNoAuth: insecure,
    metricsPublic: config.api.metricsPublic,
    prometheus: options.prometheus,
    applyTimeoutMs: options.applyTimeoutMs,
  });
  const host = insecure ? LOOPBACK : config.api.host;
  if (insecure) {
    app.log.warn(
      { host, configuredHost: config.api.host },
      'API started WITHOUT AUTH (--insecure-no-auth): anyone on this machine can change portfolios; bound to 127.0.0.1 only',
    );
  }
  try {
    await server.listen({ host, port: options.port ?? config.api.port });
  } catch (err) {
    await server.close().catch(() => undefined);
    throw err;
  }
  const address = server.server.address();
  const port =
    typeof address === 'object' && address !== null ? address.port : (options.port ?? config.api.port);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close: () => {
      closing ??= server.close();
      return closing;
    },
  };
}
