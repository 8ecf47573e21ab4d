/**
 * Child processes of the benches: spawned with `node`, their output to a log file (as a
 * service's would be), their memory read from /proc/<pid>/status.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Exit code, or the signal's name. */
  readonly exited: Promise<number | string>;
  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<number | string>;
}

export function spawnNode(
  args: readonly string[],
  env: Record<string, string>,
  logFile: string,
  nodeArgs: readonly string[] = [],
): NodeProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not spawn node ${args.join(' ')}`);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  // A bench that crashes must not leave a worker behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  return {
    child,
    pid: child.pid,
    exited,
    async stop(graceMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM...), or null once the process is gone. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in seconds; null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS = 100;

export interface RssSample {
  readonly atMs: number;
  readonly rss: number;
}

/** Polls a process's VmRSS every `intervalMs` until stopped. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();

  constructor(
    readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number | null {
    const rss = procStatusBytes(this.pid, 'VmRSS');
    if (rss !== null) this.samples.push({ atMs: performance.now() - this.started, rss });
    return rss;
  }

  stop(): { first: number; peak: number; last: number } {
    clearInterval(this.timer);
    this.sample();
    const values = this.samples.map((s) => s.rss);
    return { first: values[0] ?? 0, peak: Math.max(0, ...values), last: values.at(-1) ?? 0 };
  }
}

export function machine(): { nproc: number; memTotal: string; node: string; cpu: string } {
  let cpu = 'unknown';
  let memTotal = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
    const kb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
    if (kb > 0) memTotal = `${(kb / 1024 / 1024).toFixed(1)} GiB`;
  } catch {
    // Not Linux: the bench still runs, the machine line says less.
  }
  return { nproc: availableParallelism(), memTotal, node: process.version, cpu };
}
