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
  readInputLineBatches,
  refuseDuplicateKeys,
} from './input-file.js';
import { findDuplicateKeyIn } from './json-strict.js';

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
  const batches = readInputLineBatches(path, {
    ...(options.stdin ? { stdin: options.stdin } : {}),
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    limitName: LIMIT_NAME,
  });
  try {
    // The lines up to the first non-blank one, and the rest of its batch.
    const head: string[] = [];
    let rest: string[] = [];
    let first = '';
    for (let next = await batches.next(); !next.done; next = await batches.next()) {
      const batch = next.value;
      const at = batch.findIndex((line) => line.trim() !== '');
      for (let i = 0; i < (at < 0 ? batch.length : at + 1); i++) head.push(batch[i]!);
      if (at >= 0) {
        first = batch[at]!.trim();
        rest = batch.slice(at + 1);
        break;
      }
    }
    if (first.startsWith('[') || (first.startsWith('{') && !tryParse(first).ok)) {
      // The same generator goes on from the batch after `first`'s.
      const lines = head.concat(rest);
      for await (const batch of batches) for (const line of batch) lines.push(line);
      return parseMetricsText(path, lines.join('\n'), options);
    }
    const entries = new EntryCollector('ndjson');
    let lineNo = head.length;
    if (first !== '') entries.addLine(lineNo, first);
    const addLines = (lines: readonly string[]): void => {
      for (const line of lines) {
        lineNo++;
        const trimmed = line.trim();
        if (trimmed !== '') entries.addLine(lineNo, trimmed);
      }
    };
    addLines(rest);
    for await (const batch of batches) addLines(batch);
    return entries.finish(path, options);
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
    await batches.return(undefined);
  }
}

/** `path` only names the source in messages. */
export function parseMetricsText(path: string, text: string, options: ReadMetricsOptions = {}): MetricsFile {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    const value = parseJsonText(path, text);
    if (!Array.isArray(value)) throw new InputFileError(path, 'expected a JSON array of metrics objects');
    const entries = new EntryCollector('json');
    for (let i = 0; i < value.length; i++) entries.add(i, value[i]);
    return entries.finish(path, options);
  }
  // A single pretty-printed object is one entry; anything else is read line by line.
  if (trimmed.startsWith('{') && trimmed.includes('\n')) {
    const single = tryParse(text);
    if (single.ok && isPlainObject(single.value)) {
      refuseDuplicateKeys(path, text, '', single);
      const entries = new EntryCollector('json');
      entries.add(0, single.value);
      return entries.finish(path, options);
    }
  }
  const entries = new EntryCollector('ndjson');
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line !== '') entries.addLine(i + 1, line);
  }
  return entries.finish(path, options);
}

/**
 * Validates entries one at a time, keeping only their metrics and problems. An entry is known by
 * its place (`at`: a 1-based line, a 0-based index), written out as `line 4` or `index 3` only
 * for a message.
 */
class EntryCollector {
  private count = 0;
  private readonly problems: MetricsFileProblem[] = [];
  private readonly metrics = new Map<string, BusinessMetrics>();
  /** Where each entry of `metrics` was, in its order: a map by id is built at the first duplicate. */
  private readonly acceptedAt: number[] = [];
  private seenAt: Map<string, number> | undefined;
  private readonly duplicated = new Set<string>();

  constructor(private readonly format: MetricsFileFormat) {}

  private where(at: number): string {
    return `${this.format === 'json' ? 'index' : 'line'} ${at}`;
  }

  /** One non-blank NDJSON line, trimmed; `n` is 1-based. */
  addLine(n: number, line: string): void {
    const parsed = tryParse(line);
    if (!parsed.ok) {
      this.addProblem(n, `not valid JSON: ${describeJsonError(parsed.error, line)}`);
      return;
    }
    const duplicate = findDuplicateKeyIn(line, parsed.value);
    if (duplicate) {
      this.addProblem(
        n,
        `the key ${JSON.stringify(duplicate.key)} is given twice in one object: keys must be unique`,
      );
      return;
    }
    this.add(n, parsed.value);
  }

  /** An NDJSON line that is not JSON: one bad line does not hide the others. */
  private addProblem(at: number, message: string): void {
    this.count++;
    this.problems.push({ where: this.where(at), businessId: null, message });
  }

  add(at: number, value: unknown): void {
    this.count++;
    const parsed = safeMetricsFromWire(value, FROM_OPERATOR_FILES);
    if (!parsed.ok) {
      this.problems.push({ where: this.where(at), ...businessIdOf(value), message: parsed.error });
      return;
    }
    const id = parsed.metrics.businessId;
    const { metrics } = this;
    const size = metrics.size;
    // One lookup: a business listed twice keeps no entry at all (finish deletes it, or strict
    // mode refuses the file), so the second overwriting the first does no harm.
    metrics.set(id, parsed.metrics);
    if (metrics.size === size) {
      const where = this.where(at);
      this.problems.push({
        where,
        businessId: id,
        message: `business_id ${id} is listed twice (${this.where(this.firstSeenAt(id))} and ${where})`,
      });
      this.duplicated.add(id);
      return;
    }
    this.acceptedAt.push(at);
    this.seenAt?.set(id, at);
  }

  private firstSeenAt(id: string): number {
    if (this.seenAt === undefined) {
      this.seenAt = new Map();
      let i = 0;
      for (const key of this.metrics.keys()) this.seenAt.set(key, this.acceptedAt[i++]!);
    }
    return this.seenAt.get(id)!;
  }

  finish(path: string, options: ReadMetricsOptions): MetricsFile {
    const { format, problems, metrics } = this;
    if (this.count === 0) {
      const why = format === 'json' ? 'the array is empty' : 'it is empty';
      throw new InputFileError(path, `no metrics in the file: ${why}`);
    }
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
