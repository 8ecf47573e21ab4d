/** Runs `ballast` commands in this process against the test's Redis prefix, capturing the output. */
import { Readable } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/run-cli.js';
import { redisUrl } from '../helpers/redis.js';

export const NOW = '2026-03-01T12:00:00.000Z';

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface InProcessOptions {
  readonly stdin?: string;
  /** Called with each chunk written to stderr (to wait for `reports tail` to start). */
  readonly onErr?: (text: string) => void;
  readonly onInterrupt?: CliContext['onInterrupt'];
  readonly noWorkerWarnMs?: number;
}

export function cliContext(prefix: string, options: InProcessOptions = {}) {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
      options.onErr?.(text);
    },
    env: { REDIS_URL: redisUrl(), BALLAST_PREFIX: prefix, BALLAST_LOG_LEVEL: 'silent' },
    stdin: Readable.from([options.stdin ?? '']),
    interactive: false,
    now: () => new Date(NOW),
    ...(options.onInterrupt ? { onInterrupt: options.onInterrupt } : {}),
    ...(options.noWorkerWarnMs !== undefined ? { noWorkerWarnMs: options.noWorkerWarnMs } : {}),
  };
  return { ctx, output: () => ({ stdout, stderr }) };
}

export async function runIn(
  prefix: string,
  argv: readonly string[],
  options: InProcessOptions = {},
): Promise<InProcessResult> {
  const { ctx, output } = cliContext(prefix, options);
  const code = await runCli(argv, ctx);
  return { code, ...output() };
}
