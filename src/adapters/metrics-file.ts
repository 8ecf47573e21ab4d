/**
 * Business metrics from a file: a JSON array of metrics objects, or NDJSON (one object per line),
 * each in the snake_case wire shape and validated by the domain's wire schema. Used by
 * `ballast plan`, `ballast metrics import` and the `file` metrics source.
 *
 * Files are written by operators, so they are read strictly: an unknown field is refused (a
 * typo such as "customer" would otherwise be dropped without a word), so are a blank name, a
 * name with control characters and a timestamp without a time zone (an operator can fix them;
 * the http and redis sources repair them instead), and so is a file with no metrics at all
 * (else a plan would run with every business no-metrics and exit 0). The http and redis sources
 * keep ignoring fields they do not know: other systems may send more.
 */
import {
  type BusinessMetrics,
  FROM_OPERATOR_FILES,
  isValidId,
  safeMetricsFromWire,
} from '../domain/index.js';
import {
  describeJsonError,
  InputFileError,
  parseJsonText,
  readInputLines,
  refuseDuplicateKeys,
} from './input-file.js';
import { findDuplicateKey } from './json-strict.js';

export type MetricsFileFormat = 'json' | 'ndjson';

export interface MetricsFileProblem {
  /** `line 4` (NDJSON, 1-based) or `index 3` (JSON array, 0-based). */
  readonly where: string;
  /** The entry's business_id when it has a usable one, so a caller can report that business. */
  readonly businessId: string | null;
  /** The entry's business_id as written when it is a string but not a valid id (`"acme:1"`). */
  readonly invalidId?: string;
  readonly message: string;
}

export interface MetricsFile {
  readonly format: MetricsFileFormat;
  /** Valid entries by business id, in file order. */
  readonly metrics: ReadonlyMap<string, BusinessMetrics>;
  /** Refused entries (lenient mode only: strict mode throws instead). */
  readonly problems: readonly MetricsFileProblem[];
}

export interface ReadMetricsOptions {
  /**
   * true (default): any invalid entry or duplicate business_id throws an InputFileError naming
   * where and why. false: such entries are left out and listed in `problems`; a business listed
   * twice is left out altogether, since nothing says which entry is right.
   */
  readonly strict?: boolean;
  readonly stdin?: NodeJS.ReadableStream;
  /** Refuse a larger file (BALLAST_METRICS_FILE_MAX_BYTES); default 256 MiB. */
  readonly maxBytes?: number;
}

/** The setting named when a file is refused for its size. */
const LIMIT_NAME = 'BALLAST_METRICS_FILE_MAX_BYTES';

/** Problems quoted in a strict-mode error before "and N more". */
const QUOTED_PROBLEMS = 3;

/**
 * NDJSON is read line by line, each line validated as it comes, so that the file's text is never
 * held whole, only its metrics. A JSON array, or one pretty-printed object, is read whole (under
 * the size limit): the first non-blank line says which.
 */
export async function readMetricsFile(path: string, options: ReadMetricsOptions = {}): Promise<MetricsFile> {
  const lines = readInputLines(path, {
    ...(options.stdin ? { stdin: options.stdin } : {}),
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    limitName: LIMIT_NAME,
  });
  try {
    const head: string[] = [];
    let next = await lines.next();
    for (; !next.done; next = await lines.next()) {
      head.push(next.value);
      if (next.value.trim() !== '') break;
    }
    const first = next.done ? '' : next.value.trim();
    if (first.startsWith('[') || (first.startsWith('{') && !tryParse(first).ok)) {
      // The same generator goes on from the line after `first`.
      for await (const line of lines) head.push(line);
      return parseMetricsText(path, head.join('\n'), options);
    }
    const entries = new EntryCollector();
    let lineNo = head.length;
    if (first !== '') entries.add(lineEntry(lineNo, first));
    for await (const line of lines) {
      lineNo++;
      const trimmed = line.trim();
      if (trimmed !== '') entries.add(lineEntry(lineNo, trimmed));
    }
    return entries.finish(path, 'ndjson', options);
  } catch (err) {
    // V8 strings stop at about 512 MiB: a limit raised past that meets them in one line or array.
    if (err instanceof RangeError) {
      throw new InputFileError(
        path,
        'too large to read as one JSON text; write it as NDJSON, one object per line',
      );
    }
    throw err;
  } finally {
    // Closes the file when a line was not read to the end (an error); a no-op otherwise.
    await lines.return(undefined);
  }
}

interface RawEntry {
  readonly where: string;
  readonly value?: unknown;
  /** An NDJSON line that is not JSON: one bad line does not hide the others. */
  readonly syntaxError?: string;
}

/** `path` only names the source in messages. */
export function parseMetricsText(path: string, text: string, options: ReadMetricsOptions = {}): MetricsFile {
  const { format, entries } = splitEntries(path, text);
  const collector = new EntryCollector();
  for (const entry of entries) collector.add(entry);
  return collector.finish(path, format, options);
}

/** Validates entries one at a time, keeping only their metrics and problems. */
class EntryCollector {
  private count = 0;
  private readonly problems: MetricsFileProblem[] = [];
  private readonly metrics = new Map<string, BusinessMetrics>();
  private readonly seenAt = new Map<string, string>();
  private readonly duplicated = new Set<string>();

  add(entry: RawEntry): void {
    this.count++;
    if (entry.syntaxError !== undefined) {
      this.problems.push({ where: entry.where, businessId: null, message: entry.syntaxError });
      return;
    }
    const parsed = safeMetricsFromWire(entry.value, FROM_OPERATOR_FILES);
    if (!parsed.ok) {
      this.problems.push({ where: entry.where, ...businessIdOf(entry.value), message: parsed.error });
      return;
    }
    const id = parsed.metrics.businessId;
    const first = this.seenAt.get(id);
    if (first !== undefined) {
      this.problems.push({
        where: entry.where,
        businessId: id,
        message: `business_id ${id} is listed twice (${first} and ${entry.where})`,
      });
      this.duplicated.add(id);
      return;
    }
    this.seenAt.set(id, entry.where);
    this.metrics.set(id, parsed.metrics);
  }

  finish(path: string, format: MetricsFileFormat, options: ReadMetricsOptions): MetricsFile {
    if (this.count === 0) {
      const why = format === 'json' ? 'the array is empty' : 'it is empty';
      throw new InputFileError(path, `no metrics in the file: ${why}`);
    }
    const { problems, metrics } = this;
    for (const id of this.duplicated) metrics.delete(id);
    if ((options.strict ?? true) && problems.length > 0) {
      const quoted = problems.slice(0, QUOTED_PROBLEMS).map(describeProblem);
      const more = problems.length - quoted.length;
      const suffix = more > 0 ? `; and ${more} more invalid ${more === 1 ? 'entry' : 'entries'}` : '';
      throw new InputFileError(
        path,
        `invalid metrics: ${quoted.join('; ')}${suffix}`,
        problems.map(describeProblem),
      );
    }
    return { format, metrics, problems };
  }
}

export function describeProblem(problem: MetricsFileProblem): string {
  const who =
    problem.businessId !== null
      ? ` (business_id ${problem.businessId})`
      : problem.invalidId !== undefined
        ? ` (business_id ${JSON.stringify(problem.invalidId)})`
        : '';
  return `${problem.where}${who}: ${problem.message}`;
}

function splitEntries(path: string, text: string): { format: MetricsFileFormat; entries: RawEntry[] } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    const value = parseJsonText(path, text);
    if (!Array.isArray(value)) throw new InputFileError(path, 'expected a JSON array of metrics objects');
    return { format: 'json', entries: value.map((item, i) => ({ where: `index ${i}`, value: item })) };
  }
  // A single pretty-printed object is one entry; anything else is read line by line.
  if (trimmed.startsWith('{') && trimmed.includes('\n')) {
    const single = tryParse(text);
    if (single.ok && isPlainObject(single.value)) {
      refuseDuplicateKeys(path, text);
      return { format: 'json', entries: [{ where: 'index 0', value: single.value }] };
    }
  }
  const entries: RawEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line !== '') entries.push(lineEntry(i + 1, line));
  }
  return { format: 'ndjson', entries };
}

/** One non-blank NDJSON line, trimmed; `n` is 1-based. */
function lineEntry(n: number, line: string): RawEntry {
  const parsed = tryParse(line);
  if (!parsed.ok) {
    return { where: `line ${n}`, syntaxError: `not valid JSON: ${describeJsonError(parsed.error, line)}` };
  }
  const duplicate = findDuplicateKey(line);
  if (duplicate) {
    return {
      where: `line ${n}`,
      syntaxError: `the key ${JSON.stringify(duplicate.key)} is given twice in one object: keys must be unique`,
    };
  }
  return { where: `line ${n}`, value: parsed.value };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ') };
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function businessIdOf(value: unknown): { businessId: string | null; invalidId?: string } {
  const id = isPlainObject(value) ? value['business_id'] : undefined;
  if (typeof id !== 'string') return { businessId: null };
  return isValidId(id) ? { businessId: id } : { businessId: null, invalidId: id };
}
