import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/ballast.js', import.meta.url));

export interface BallastProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when a stderr/stdout line matches (e.g. a pino log message); rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Runs the real `ballast` binary (built by `npm test`'s pretest) with the given environment. */
export function spawnBallast(args: readonly string[], env: Record<string, string>): BallastProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const scan = () => {
    for (const w of [...waiters]) {
      const line = `${out}\n${err}`.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    scan();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    scan();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}; stderr:\n${err.slice(-2000)}`)),
          timeoutMs,
        );
        const done = (line: string) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ pattern, resolve: done });
        scan();
        void exited.then((code) => {
          clearTimeout(timer);
          reject(
            new Error(
              `ballast ${args.join(' ')} exited (${code}) before ${pattern}; stderr:\n${err.slice(-2000)}`,
            ),
          );
        });
      }),
  };
}

/** Runs a ballast command to completion. */
export async function runBallast(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = spawnBallast(args, env);
  const code = await p.exited;
  // Let the pipes drain.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
