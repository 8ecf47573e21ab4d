import { setFlagsFromString } from 'node:v8';

const FLAG = 'heap-growing-percent';
let applied = false;

/**
 * A worker's heap grows by half its live size at each step, not V8's default (up to 4x on a big
 * machine): the same throughput at ~145 MB RSS rather than 205-238 MB over a 10k-portfolio night
 * (docs/performance.md). Once per process; left alone when the operator set the flag
 * (NODE_OPTIONS or node's own arguments).
 */
export function tightenHeapGrowth(env: NodeJS.ProcessEnv = process.env): void {
  if (applied) return;
  applied = true;
  const given = `${env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  if (given.includes(FLAG) || given.includes(FLAG.replaceAll('-', '_'))) return;
  setFlagsFromString(`--${FLAG}=50`);
}
