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

/** Elements of a long array stringified together, about this many at a time. */
const JSON_SLICE = 512;

/**
 * formatJson's text in slices: an object's long arrays (a report's ranking and actions) a few
 * hundred elements at a time, so that 60 MB of JSON is written as it is made rather than held as
 * one string. Byte for byte what formatJson prints. `mappers` turn the elements of the array under
 * their key into what is printed, a slice at a time (a report's entries into the wire shape):
 * what formatJson prints of the value with those arrays mapped.
 */
export function* formatJsonChunks(
  value: unknown,
  mappers: Readonly<Record<string, (element: never) => unknown>> = {},
): Generator<string> {
  if (!isPlainRecord(value)) {
    yield formatJson(value);
    return;
  }
  let open = '{\n';
  let fields = 0;
  for (const key of Object.keys(value)) {
    const mapper = Object.hasOwn(mappers, key) ? (mappers[key] as (element: unknown) => unknown) : undefined;
    const raw = value[key];
    const field = mapper && Array.isArray(raw) && raw.length <= JSON_SLICE ? raw.map((e) => mapper(e)) : raw;
    const name = `${open}  ${JSON.stringify(key)}: `;
    if (Array.isArray(field) && field.length > JSON_SLICE) {
      yield `${name}[\n`;
      for (let start = 0; start < field.length; start += JSON_SLICE) {
        const elements = field.slice(start, start + JSON_SLICE);
        const slice = JSON.stringify(mapper ? elements.map((e) => mapper(e)) : elements, null, 2);
        // "[\n  a,\n  b\n]" one level deeper: the brackets off, every line indented two more.
        const inner = `  ${slice.slice(2, -2).replaceAll('\n', '\n  ')}`;
        yield start + JSON_SLICE < field.length ? `${inner},\n` : inner;
      }
      yield '\n  ]';
    } else {
      const text = JSON.stringify(field, null, 2) as string | undefined;
      // JSON.stringify leaves out what has no JSON form (undefined, functions).
      if (text === undefined) continue;
      yield `${name}${text.replaceAll('\n', '\n  ')}`;
    }
    open = ',\n';
    fields++;
  }
  yield fields === 0 ? '{}\n' : '\n}\n';
}

/** An object that JSON.stringify writes key by key: no toJSON of its own, not an array. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !('toJSON' in value);
}

const SURROGATE = /[\ud800-\udfff]/;

/** Code points, not UTF-16 units, so accented names line up (wide CJK glyphs still will not). */
export function displayWidth(text: string): number {
  if (!SURROGATE.test(text)) return text.length;
  let width = 0;
  for (const _ of text) width++;
  return width;
}
