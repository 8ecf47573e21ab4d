/** `ballast metrics import FILE`: business metrics into the redis metrics source. */
import type { Command } from 'commander';
import { readMetricsFile } from '../../adapters/metrics-file.js';
import { loadConfig } from '../../config.js';
import {
  describeWarning,
  ImportRefusedError,
  type ImportWarning,
  importMetricsChecked,
} from '../../services/metrics-import.js';
import type { CliContext } from '../context.js';
import { withApp } from '../lazy-with-app.js';
import { formatJson } from '../output.js';

interface ImportOptions {
  readonly json?: boolean;
  readonly strict?: boolean;
}

const WARNINGS_HELP = `
Warnings (on stderr, or under "warnings" with --json); the file is imported all the same:
  not-in-portfolio  the business is in no portfolio (a typo in business_id?)
  invalid-metrics   profit is not revenue - expenses (1% tolerance), or margin is
                    off by more than 1 point
  stale-metrics     as_of is older than BALLAST_GUARD_MAX_METRICS_AGE (default 48h)
  metric-jump       revenue, profit or customers changed by more than
                    BALLAST_GUARD_MAX_JUMP (default x5) against the stored metrics
With BALLAST_GUARDS=off only not-in-portfolio is checked. --strict refuses a file
with any warning: exit 1, nothing written.

A file over BALLAST_METRICS_FILE_MAX_BYTES (default 256MiB) is refused before it is
read: exit 1, nothing written. NDJSON is read line by line; a JSON array whole.

Example:
  ballast metrics import examples/metrics.json
  ballast metrics import --strict nightly.ndjson
`;

export function registerMetricsCommand(program: Command, ctx: CliContext): void {
  const metrics = program.command('metrics').description('business metrics for the redis metrics source');
  metrics
    .command('import')
    .description(
      "validate every entry of a metrics file, then write each business's metrics hash " +
        '(replacing what was there); one invalid entry and nothing is written; ' +
        'suspicious metrics are imported with a warning',
    )
    .argument('<file>', 'a JSON array or NDJSON (one object per line) of business metrics; - for stdin')
    .option('--strict', 'refuse the file (exit 1, nothing written) when there is any warning')
    .option(
      '--json',
      'print {"imported": N, "business_ids": [...], "warnings": [{business_id, check, detail}]}',
    )
    .addHelpText('after', WARNINGS_HELP)
    .action(async (path: string, options: ImportOptions) => {
      // The whole file is read and validated before Redis is touched (and even when it is down);
      // NDJSON line by line, and a file over BALLAST_METRICS_FILE_MAX_BYTES not at all.
      const { fileMaxBytes } = loadConfig(ctx.env).metrics;
      const file = await readMetricsFile(path, { stdin: ctx.stdin, maxBytes: fileMaxBytes });
      // An empty file or array is refused by readMetricsFile ("no metrics in the file").
      const result = await withApp(ctx, (app) =>
        // The command's clock, not the app's: stale as_of is judged against the CLI's now.
        importMetricsChecked({ ...app, clock: ctx.now }, file.metrics, { strict: options.strict === true }),
      ).catch((err: unknown) => {
        if (err instanceof ImportRefusedError && !options.json) printWarnings(ctx, err.warnings);
        throw err;
      });
      if (options.json) {
        ctx.out(formatJson(result));
        return;
      }
      const { imported } = result;
      ctx.out(`imported ${imported} ${imported === 1 ? 'business' : 'businesses'}\n`);
      if (result.warnings.length > 0) {
        printWarnings(ctx, result.warnings);
        ctx.err('(--strict refuses such files)\n');
      }
    });
}

function printWarnings(ctx: CliContext, warnings: readonly ImportWarning[]): void {
  for (const w of warnings) ctx.err(`warning: ${describeWarning(w)}\n`);
}
