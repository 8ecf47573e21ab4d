/**
 * Finds a Redis to talk to, or starts a private one from the `redis-server` binary, so a new
 * machine needs nothing but Debian's redis-server package (or a REDIS_URL).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const NOT_FOUND_MESSAGE =
  'redis-server not found on PATH; install it (Debian: apt-get install redis-server) or set REDIS_URL';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_LIMIT = 8_192;

export interface PrivateRedis {
  url: string;
  port: number;
  /** Its data dir (removed on stop when it was created for it). */
  dir: string;
  /** The redis-server's pid while it runs. */
  pid(): number | undefined;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes the data dir it created. */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port and dir (with appendonly, data survives). */
  restart(): Promise<void>;
}

export interface StartPrivateRedisOptions {
  appendonly?: boolean;
  /** Data dir; left in place on stop. Without it a temporary dir is created and removed. */
  dir?: string;
  extraArgs?: string[];
}

export interface ResolvedRedis {
  url: string;
  stop(): Promise<void>;
  private: boolean;
}

/** True if `url` answers PING within `timeoutMs`; never retries and never leaves a socket open. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Without a listener ioredis reports connection errors as unhandled 'error' events.
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = (async () => {
    await client.connect();
    return (await client.ping()) === 'PONG';
  })().catch(() => false);
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
}

interface RunningServer {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Signals that end a process by default: a private redis-server must not outlive it. */
const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** The signal guards of every private server of this process (see startPrivateRedis). */
const signalGuards = new Set<(...args: never[]) => void>();

export async function startPrivateRedis(opts: StartPrivateRedisOptions = {}): Promise<PrivateRedis> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'ballast-redis-')));
  /** The server running or being started: what the guards below kill. */
  let child: ChildProcess | undefined;
  const onSpawn = (spawned: ChildProcess) => {
    child = spawned;
  };
  const killNow = () => {
    child?.kill('SIGKILL');
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  // A crashed or interrupted process must not leave an orphaned redis-server (nor its dir) behind.
  // 'exit' does not come when a signal ends the process: a signal that would end it (no other
  // listener: nobody is shutting down gracefully) kills the server, then ends the process as it
  // would have. With another listener, that one shuts down and calls stop(); 'exit' stays the backstop.
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listeners(signal).some((listener) => !signalGuards.has(listener))) return;
    removeGuards();
    killNow();
    // The last guard ends the process, after every server is killed.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const removeGuards = () => {
    process.removeListener('exit', killNow);
    signalGuards.delete(onSignal);
    for (const signal of FATAL_SIGNALS) process.removeListener(signal, onSignal);
  };
  process.once('exit', killNow);
  signalGuards.add(onSignal);
  for (const signal of FATAL_SIGNALS) process.on(signal, onSignal);

  let port = 0;
  let server: RunningServer | undefined;
  try {
    // Another process can take the port between findFreePort and redis binding it: retry.
    for (let attempt = 1; server === undefined; attempt++) {
      port = await findFreePort();
      try {
        server = await launch(port, dir, opts, onSpawn);
      } catch (error) {
        if (attempt >= 3 || !(error instanceof Error) || !/Address already in use/i.test(error.message)) {
          throw error;
        }
      }
    }
  } catch (error) {
    removeGuards();
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let current: RunningServer | undefined = server;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => (current?.child.exitCode === null ? current.child.pid : undefined),
    async stop() {
      const running = current;
      current = undefined;
      // The guards stay until the end: a second Ctrl-C while the server stops still kills it.
      if (running) await terminate(running);
      if (ownDir) await rm(dir, { recursive: true, force: true });
      removeGuards();
    },
    async restart() {
      if (!current) throw new Error('private redis-server was stopped; cannot restart it');
      await terminate(current);
      current = await launch(port, dir, opts, onSpawn);
    },
  };
}

/** REDIS_URL if set (it must answer), else the default local Redis if it answers, else a private one. */
export async function resolveRedis(env: { REDIS_URL?: string | undefined }): Promise<ResolvedRedis> {
  const noop = async () => {};
  const configured = env.REDIS_URL?.trim();
  if (configured) {
    if (!(await pingRedis(configured))) {
      throw new Error(
        `REDIS_URL=${redactUrl(configured)} does not answer PING; start that Redis or unset REDIS_URL`,
      );
    }
    return { url: configured, stop: noop, private: false };
  }
  if (await pingRedis(DEFAULT_REDIS_URL)) {
    return { url: DEFAULT_REDIS_URL, stop: noop, private: false };
  }
  const server = await startPrivateRedis();
  return { url: server.url, stop: () => server.stop(), private: true };
}

async function launch(
  port: number,
  dir: string,
  opts: StartPrivateRedisOptions,
  onSpawn: (child: ChildProcess) => void,
): Promise<RunningServer> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      failure = error.code === 'ENOENT' ? new Error(NOT_FOUND_MESSAGE) : error;
      resolve();
    });
    child.once('exit', (code, signal) => {
      failure ??= new Error(`redis-server exited (${signal ?? `code ${code}`})`);
      resolve();
    });
  });

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (failure === undefined) {
    if (await pingRedis(url, 200)) return { child, exited };
    if (Date.now() >= deadline) {
      await terminate({ child, exited });
      throw new Error(
        `redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms\n${output.trim()}`,
      );
    }
    await sleep(50);
  }
  throw failure.message === NOT_FOUND_MESSAGE
    ? failure
    : new Error(`could not start redis-server on port ${port}: ${failure.message}\n${output.trim()}`);
}

async function terminate({ child, exited }: RunningServer): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
