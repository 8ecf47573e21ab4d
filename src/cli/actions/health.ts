import { hostname } from 'node:os';
import type { App } from '../../app.js';
import type { Config } from '../../config.js';
import { RefusedError } from '../../domain/index.js';
import { HEARTBEAT_ROLES, HEARTBEAT_TTL_MS, type HeartbeatRole } from '../../runtime/heartbeat.js';
import type { CliContext } from '../context.js';
import { formatJson } from '../output.js';
import { withApp } from '../with-app.js';

export interface HealthOptions {
  role?: HeartbeatRole | 'api';
  json?: boolean;
}

interface Alive {
  readonly role: HeartbeatRole | 'api';
  readonly detail: string;
  readonly pid: number | null;
  readonly beatAgoMs: number | null;
}

const API_TIMEOUT_MS = 2000;

/**
 * `ballast health`: Redis answers (withApp refuses within 3 s otherwise) and the role runs on
 * this host: its heartbeat key is fresh (worker, scheduler, start), or the API answers /healthz.
 * Without --role, any of them: in a container, the one process the container runs.
 */
export async function runHealth(ctx: CliContext, options: HealthOptions): Promise<void> {
  await withApp(ctx, async (app) => {
    const host = hostname();
    const roles = options.role ? [options.role] : [...HEARTBEAT_ROLES, 'api' as const];
    let alive: Alive | null = null;
    for (const role of roles) {
      alive = role === 'api' ? await apiAlive(app.config) : await heartbeat(app, role, host);
      if (alive) break;
    }
    if (!alive) {
      const what = options.role
        ? `no ${options.role} runs on ${host}: ${
            options.role === 'api'
              ? `http://${apiHost(app.config)}:${app.config.api.port}/healthz does not answer 200`
              : `its heartbeat ${app.keys.heartbeat(options.role, host)} is older than ${HEARTBEAT_TTL_MS / 1000} s (not running, stuck, or not writing to Redis)`
          }`
        : `no Ballast role runs on ${host}: no fresh heartbeat (worker, scheduler, start) and no API answering on port ${app.config.api.port}`;
      throw new RefusedError(`unhealthy: ${what}`);
    }
    if (options.json) {
      ctx.out(
        formatJson({
          healthy: true,
          host,
          redis: 'ok',
          role: alive.role,
          pid: alive.pid,
          beat_ago_ms: alive.beatAgoMs,
        }),
      );
    } else {
      ctx.out(`healthy: Redis answers; ${alive.role} on ${host} ${alive.detail}\n`);
    }
  });
}

async function heartbeat(app: App, role: HeartbeatRole, host: string): Promise<Alive | null> {
  const key = app.keys.heartbeat(role, host);
  const [pid, ttl] = await Promise.all([app.redis.get(key), app.redis.pttl(key)]);
  if (pid === null) return null;
  const beatAgoMs = ttl > 0 ? Math.max(0, HEARTBEAT_TTL_MS - ttl) : null;
  return {
    role,
    pid: Number(pid),
    beatAgoMs,
    detail: `(pid ${pid}, last heartbeat ${beatAgoMs === null ? '?' : Math.round(beatAgoMs / 1000)} s ago)`,
  };
}

/** The API listens on every address in a container: ask it on loopback then. */
function apiHost(config: Config): string {
  const host = config.api.host;
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

async function apiAlive(config: Config): Promise<Alive | null> {
  try {
    const url = `http://${apiHost(config)}:${config.api.port}/healthz`;
    const response = await fetch(url, { signal: AbortSignal.timeout(API_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.ok ? { role: 'api', pid: null, beatAgoMs: null, detail: `(${url} answers)` } : null;
  } catch {
    return null;
  }
}
