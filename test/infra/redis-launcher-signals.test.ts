/**
 * A private redis-server never outlives the process that started it: not when a signal ends
 * that process (`ballast demo` Ctrl-C'd or SIGTERM'd), which 'exit' handlers never see.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

const LAUNCHER = new URL('../../dist/src/adapters/redis-launcher.js', import.meta.url).href;

/** A node process that starts a private Redis, prints its pid and dir, and waits. */
function holder(ownHandler: boolean) {
  const script = `
    const { startPrivateRedis } = await import(${JSON.stringify(LAUNCHER)});
    const server = await startPrivateRedis();
    ${
      ownHandler
        ? `process.once('SIGTERM', async () => { await server.stop(); console.log('stopped'); process.exit(0); });`
        : ''
    }
    console.log(JSON.stringify({ pid: server.pid(), dir: server.dir }));
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const started = new Promise<{ pid: number; dir: string }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`holder exited (${code}) before starting Redis`)));
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, started, exited, output: () => out };
}

/** Gone, or a zombie waiting to be reaped: no longer running. */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILL has been sent when the holder ends; the kernel takes a moment to finish the server. */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await delay(20);
  }
  return true;
}

describe('a private redis-server and signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`is killed, and its dir removed, when ${signal} ends the process`, async () => {
      const h = holder(false);
      const { pid, dir } = await h.started;
      expect(running(pid)).toBe(true);
      expect(existsSync(dir)).toBe(true);
      h.child.kill(signal);
      // The process still ends by that signal, as it would have without the guard.
      expect(await h.exited).toBe(signal);
      expect(existsSync(dir)).toBe(false);
      expect(await until(() => !running(pid))).toBe(true);
    });
  }

  it('is left to a process that handles the signal itself, which stops it', async () => {
    const h = holder(true);
    const { pid, dir } = await h.started;
    h.child.kill('SIGTERM');
    expect(await h.exited).toBe(0);
    expect(h.output()).toContain('stopped');
    expect(existsSync(dir)).toBe(false);
    expect(running(pid)).toBe(false);
  });
});
