import { getHeapStatistics } from 'node:v8';

/**
 * The V8 heap limit in MB: NODE_OPTIONS=--max-old-space-size when set, else derived from the
 * host's memory. Logged at start because it decides how much memory a busy worker holds
 * (docs/operations.md, "Worker memory").
 */
export function heapLimitMb(): number {
  return Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
}
