/** Plain-text tables and JSON for command output. Pure: they return strings, the caller prints. */

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  /** Numbers read best right-aligned. Default left. */
  readonly align?: 'left' | 'right';
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, c) =>
    cells.reduce((width, line) => Math.max(width, displayWidth(line[c]!)), displayWidth(column.header)),
  );
  const render = (line: readonly string[]) =>
    line
      .map((cell, c) => {
        const last = c === line.length - 1;
        const align = columns[c]!.align ?? 'left';
        if (align === 'left' && last) return cell;
        const pad = ' '.repeat(widths[c]! - displayWidth(cell));
        return align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const header = render(columns.map((column) => column.header));
  return `${[header, ...cells.map(render)].join('\n')}\n`;
}

/** `label  value` lines with the values aligned, indented by `indent` spaces. */
export function formatPairs(pairs: readonly (readonly [string, string])[], indent = 2): string {
  const width = pairs.reduce((w, [label]) => Math.max(w, displayWidth(label)), 0);
  const prefix = ' '.repeat(indent);
  const lines = pairs.map(([label, value]) => `${prefix}${label.padEnd(width)}  ${value}`.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** Two-space indented JSON and a newline: what every `--json` prints. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Code points, not UTF-16 units, so accented names line up (wide CJK glyphs still will not). */
function displayWidth(text: string): number {
  let width = 0;
  for (const _ of text) width++;
  return width;
}
