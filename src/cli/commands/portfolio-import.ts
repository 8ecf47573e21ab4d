/** `ballast portfolio import FILE`: create or update portfolios from `portfolio show --json` output. */
import type { Command } from 'commander';
import type { ImportEntry } from '../../services/portfolio-import.js';
import type { CliContext } from '../context.js';
import { cliEdit } from '../edit-meta.js';
import { withApp } from '../lazy-with-app.js';
import { formatJson } from '../output.js';

export function registerPortfolioImport(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('import')
    .description(
      'create or update portfolios from FILE (- for stdin) in the `portfolio show --json` shape: a ' +
        'JSON array, one object, or NDJSON. The whole file is checked first: one bad entry and ' +
        'nothing is written. Importing the same file twice changes nothing the second time',
    )
    .argument('<file>', 'the file, or - for standard input')
    .option('--json', 'print {created, updated, unchanged}: the portfolio ids of each')
    .action(async (file: string, options: { json?: boolean }) => {
      const entries = await readEntries(file, ctx.stdin);
      const result = await withApp(ctx, async (app) => {
        const { importPortfolios } = await import('../../services/portfolio-import.js');
        return importPortfolios(app, entries, cliEdit(app.config, 'portfolio import'));
      });
      ctx.out(
        options.json
          ? formatJson(result)
          : `${result.created.length} created, ${result.updated.length} updated, ${result.unchanged.length} unchanged\n`,
      );
    });
}

async function readEntries(file: string, stdin: NodeJS.ReadableStream): Promise<ImportEntry[]> {
  const { InputFileError, parseJsonText, readInputText } = await import('../../adapters/input-file.js');
  const text = await readInputText(file, stdin);
  const trimmed = text.trim();
  if (trimmed === '') throw new InputFileError(file, 'the file is empty');
  if (trimmed.startsWith('[')) {
    const value = parseJsonText(file, text);
    if (!Array.isArray(value)) throw new InputFileError(file, 'expected a JSON array of portfolios');
    return value.map((item, i) => ({ where: `index ${i}`, value: item }));
  }
  // One object (pretty-printed, as `portfolio show --json` prints it), else NDJSON.
  if (!trimmed.includes('\n') || isJson(text))
    return [{ where: 'index 0', value: parseJsonText(file, text) }];
  const entries: ImportEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '')
      entries.push({ where: `line ${i + 1}`, value: parseJsonText(file, line, `line ${i + 1}: `) });
  });
  return entries;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
