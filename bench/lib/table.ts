export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Numbers read best right-aligned; text left. Default: left. */
  readonly align?: 'left' | 'right';
}

/** A plain-text table (two spaces between columns), as printed by every bench. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((line) => line[i]!.length)));
  const render = (line: readonly string[]) =>
    line
      .map((cell, i) => (columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header)), ...cells.map(render)].join('\n');
}

export const fmt = {
  int: (n: number): string => Math.round(n).toLocaleString('en-US'),
  fixed: (n: number, digits = 1): string => n.toFixed(digits),
  mb: (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
  ms: (ms: number): string =>
    ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`,
};
