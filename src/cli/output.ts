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
  const render = (line: readonly string[]) => renderLine(columns, widths, line);
  const header = render(columns.map((column) => column.header));
  return `${[header, ...cells.map(render)].join('\n')}\n`;
}

/**
 * A table printed a page of rows at a time, for lists too long to hold in memory: the column widths
 * come from the header and the first page (a longer cell later pushes its row out of line rather
 * than re-flowing what is printed already). The header comes with the first page.
 */
export function tableStream<Row>(columns: readonly Column<Row>[]): (rows: readonly Row[]) => string {
  let widths: number[] | undefined;
  return (rows) => {
    const cells = rows.map((row) => columns.map((column) => column.value(row)));
    let header = '';
    if (!widths) {
      const headers = columns.map((column) => column.header);
      widths = columns.map((_, c) =>
        cells.reduce((width, line) => Math.max(width, displayWidth(line[c]!)), displayWidth(headers[c]!)),
      );
      header = `${renderLine(columns, widths, headers)}\n`;
    }
    const fixed = widths;
    return header + cells.map((line) => `${renderLine(columns, fixed, line)}\n`).join('');
  };
}

function renderLine<Row>(
  columns: readonly Column<Row>[],
  widths: readonly number[],
  line: readonly string[],
): string {
  return line
    .map((cell, c) => {
      const last = c === line.length - 1;
      const align = columns[c]!.align ?? 'left';
      if (align === 'left' && last) return cell;
      const pad = ' '.repeat(Math.max(0, widths[c]! - displayWidth(cell)));
      return align === 'right' ? pad + cell : cell + pad;
    })
    .join('  ')
    .trimEnd();
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
