/** `ballast metrics import FILE`: business metrics into the redis metrics source. */
import type { Command } from 'commander';
import { importMetrics } from '../../adapters/metrics/redis-metrics-source.js';
import { readMetricsFile } from '../../adapters/metrics-file.js';
import type { CliContext } from '../context.js';
import { withApp } from '../lazy-with-app.js';
import { formatJson } from '../output.js';

interface ImportOptions {
  readonly json?: boolean;
}

export function registerMetricsCommand(program: Command, ctx: CliContext): void {
  const metrics = program.command('metrics').description('business metrics for the redis metrics source');
  metrics
    .command('import')
    .description(
      "validate every entry of a metrics file, then write each business's metrics hash " +
        '(replacing what was there); one invalid entry and nothing is written',
    )
    .argument('<file>', 'a JSON array or NDJSON (one object per line) of business metrics; - for stdin')
    .option('--json', 'print {"imported": N, "business_ids": [...]}')
    .addHelpText('after', '\nExample:\n  ballast metrics import examples/metrics.json\n')
    .action(async (path: string, options: ImportOptions) => {
      // The whole file is read and validated before Redis is touched (and even when it is down).
      const file = await readMetricsFile(path, { stdin: ctx.stdin });
      // An empty file or array is refused by readMetricsFile ("no metrics in the file").
      const imported = await withApp(ctx, (app) => importMetrics(app.redis, app.keys, file.metrics.values()));
      if (options.json) {
        ctx.out(formatJson({ imported, business_ids: [...file.metrics.keys()] }));
        return;
      }
      ctx.out(`imported ${imported} ${imported === 1 ? 'business' : 'businesses'}\n`);
    });
}
