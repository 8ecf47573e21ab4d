/**
 * Reading files an operator hands to Ballast (a portfolio, a metrics file). Every failure is a
 * BallastError with code `invalid` whose message names the file and the problem, so the CLI can
 * print it on one line and exit 1, and the API can answer 400.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { BallastError } from '../domain/index.js';
import { decodeUtf8, findDuplicateKey, findDuplicateKeyIn, strictUtf8Decoder } from './json-strict.js';

export class InputFileError extends BallastError {
  override readonly name = 'InputFileError';
  readonly path: string;

  constructor(path: string, message: string, details: readonly string[] = []) {
    super('invalid', `${displayPath(path)}: ${message}`, details);
    this.path = path;
  }
}

/** A file over its size limit: refused before it is read when its size is known. */
export class InputTooLargeError extends InputFileError {
  /** The file's size, when known before reading (not for standard input). */
  readonly size: number | undefined;
  readonly limit: number;

  constructor(path: string, size: number | undefined, limit: number, limitName: string | undefined) {
    const what = size === undefined ? '' : `${size} bytes, `;
    const setting = limitName ? ` set by ${limitName}` : '';
    super(path, `too large (${what}over the limit of ${limit} bytes${setting})`);
    this.size = size;
    this.limit = limit;
  }
}

/** `-` stands for standard input. */
export const STDIN_PATH = '-';

/** What an operator's file may weigh unless the caller says otherwise (BALLAST_METRICS_FILE_MAX_BYTES). */
export const DEFAULT_INPUT_MAX_BYTES = 256 * 1024 * 1024;

export interface ReadInputOptions {
  readonly stdin?: NodeJS.ReadableStream;
  /** Refuse the input beyond this many bytes; default DEFAULT_INPUT_MAX_BYTES. */
  readonly maxBytes?: number;
  /** The setting that raises the limit, named in the refusal. */
  readonly limitName?: string;
}

export function displayPath(path: string): string {
  return path === STDIN_PATH ? '<stdin>' : path;
}

/** The file's text (UTF-8, byte-order mark removed), or an InputFileError saying why it cannot be read. */
export async function readInputText(
  path: string,
  stdin: NodeJS.ReadableStream = process.stdin,
  options: ReadInputOptions = {},
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of inputChunks(path, { stdin, ...options }, true)) {
    chunks.push(chunk);
    size += chunk.length;
  }
  let text: string | null;
  try {
    text = decodeUtf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  } catch {
    // ERR_STRING_TOO_LONG: V8 strings stop at about 512 MiB.
    throw new InputFileError(path, `too large to read as one JSON text (${size} bytes); use NDJSON`);
  }
  if (text === null) throw new InputFileError(path, 'not valid UTF-8: save the file as UTF-8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The file's lines as `text.split('\n')` would give them (byte-order mark removed), read as they
 * are needed: only the current line is held, never the whole file.
 */
export async function* readInputLines(path: string, options: ReadInputOptions = {}): AsyncGenerator<string> {
  for await (const batch of readInputLineBatches(path, options)) yield* batch;
}

/**
 * readInputLines a chunk of the input at a time: the lines that each chunk completes, so that a
 * reader of many short lines (NDJSON) does not wait on a promise per line. The last batch holds
 * the last line, empty after a final \n.
 */
export async function* readInputLineBatches(
  path: string,
  options: ReadInputOptions = {},
): AsyncGenerator<string[]> {
  const decoder = strictUtf8Decoder();
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch {
      throw new InputFileError(path, 'not valid UTF-8: save the file as UTF-8');
    }
  };
  // Pieces of a line that spans chunks, joined once it ends (one long line stays linear).
  let pending: string[] = [];
  let first = true;
  for await (const chunk of inputChunks(path, options)) {
    let text = decode(chunk);
    if (first && text !== '') {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const batch: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (pending.length === 0) batch.push(text.slice(start, nl));
      else {
        pending.push(text.slice(start, nl));
        batch.push(pending.join(''));
        pending = [];
      }
      start = nl + 1;
    }
    if (start < text.length) pending.push(text.slice(start));
    if (batch.length > 0) yield batch;
  }
  // The last line, empty after a final \n: joined with \n, the lines are the text again.
  yield [pending.join('') + decode()];
}

/**
 * The input's bytes chunk by chunk, refused with an InputTooLargeError past `maxBytes`: a file
 * whose size says so before anything is read, standard input (or a file that grows while it is
 * read) as soon as the count passes it. `whole`: a regular file in one read of its size, for a
 * reader that needs all of it anyway (a stream of 64 KiB chunks took twice as long).
 */
async function* inputChunks(path: string, options: ReadInputOptions, whole = false): AsyncGenerator<Buffer> {
  const max = options.maxBytes ?? DEFAULT_INPUT_MAX_BYTES;
  const tooLarge = (size?: number) => new InputTooLargeError(path, size, max, options.limitName);
  let stream: NodeJS.ReadableStream = options.stdin ?? process.stdin;
  if (path !== STDIN_PATH) {
    const handle = await open(path, 'r').catch(cannotRead(path));
    let size: number | undefined;
    try {
      const stats = await handle.stat().catch(cannotRead(path));
      if (stats.isDirectory()) throw new InputFileError(path, 'cannot read: it is a directory');
      if (stats.size > max) throw tooLarge(stats.size);
      if (whole && stats.isFile()) size = stats.size;
    } catch (err) {
      await handle.close();
      throw err;
    }
    if (size !== undefined) {
      yield* fileChunks(path, handle, size, max, tooLarge);
      return;
    }
    // The stream owns the handle from here: it closes it at the end, on an error or when the
    // reader stops early (a for-await that is left destroys the stream).
    stream = handle.createReadStream();
  }
  let total = 0;
  try {
    for await (const raw of stream) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
      total += chunk.length;
      if (total > max) throw tooLarge();
      yield chunk;
    }
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    cannotRead(path)(err);
  }
}

/** Chunks of a regular file: first as much as its size said, then more only if it grew meanwhile. */
async function* fileChunks(
  path: string,
  handle: FileHandle,
  size: number,
  max: number,
  tooLarge: () => InputFileError,
): AsyncGenerator<Buffer> {
  try {
    let buffer = Buffer.allocUnsafe(size + 1);
    let total = 0;
    for (;;) {
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      total += filled;
      if (total > max) throw tooLarge();
      if (filled > 0) yield buffer.subarray(0, filled);
      if (filled < buffer.length) return;
      buffer = Buffer.allocUnsafe(GROWTH_CHUNK);
    }
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    cannotRead(path)(err);
  } finally {
    await handle.close();
  }
}

/** What a file that grows while it is read is read on by. */
const GROWTH_CHUNK = 64 * 1024;

function cannotRead(path: string): (err: unknown) => never {
  return (err) => {
    throw new InputFileError(path, `cannot read: ${describeFsError(err)}`);
  };
}

/** JSON.parse with the position turned into a line and column an editor can jump to. */
export function parseJsonText(path: string, text: string, where = ''): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new InputFileError(path, `${where}not valid JSON: ${describeJsonError(message, text)}`);
  }
  refuseDuplicateKeys(path, text, where, { value });
  return value;
}

/**
 * A key given twice in one object is refused: JSON.parse would silently keep the last one.
 * `parsed`, what JSON.parse made of `text`, makes the check cheaper.
 */
export function refuseDuplicateKeys(
  path: string,
  text: string,
  where = '',
  parsed?: { readonly value: unknown },
): void {
  const duplicate = parsed ? findDuplicateKeyIn(text, parsed.value) : findDuplicateKey(text);
  if (duplicate) {
    throw new InputFileError(
      path,
      `${where}the key ${JSON.stringify(duplicate.key)} is given twice in one object (at ${lineAndColumn(text, duplicate.offset)}): keys must be unique`,
    );
  }
}

export async function readJsonFile(path: string, stdin?: NodeJS.ReadableStream): Promise<unknown> {
  const text = await readInputText(path, stdin);
  if (text.trim() === '') throw new InputFileError(path, 'the file is empty');
  return parseJsonText(path, text);
}

/** JSON.parse's message on one line, with a line and column instead of a character position. */
export function describeJsonError(message: string, text: string): string {
  // NaN and Infinity are what other languages' JSON writers emit for bad numbers: name the
  // field they stand for (a portfolio's "weight" as much as a metric's "revenue").
  const bad = /(?:"((?:[^"\\]|\\.)*)"\s*:|[[,])\s*(-?Infinity|NaN)\s*[,}\]\r\n]/.exec(text);
  if (bad) {
    const at = bad.index + bad[0].indexOf(bad[2]!, bad[1] === undefined ? 0 : bad[1].length + 2);
    const field = bad[1] === undefined ? '' : ` for "${bad[1]}"`;
    return `${bad[2]}${field} at ${lineAndColumn(text, at)} is not a JSON number (numbers must be finite)`;
  }
  const match = /^(.*) in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(message);
  if (!match) return message.replace(/\s+/g, ' ');
  return `${match[1]} at ${lineAndColumn(text, Number(match[2]))}`;
}

/** "line 3 column 20"; just "column 20" for one line of text (an NDJSON line names its own). */
function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return text.includes('\n') ? `line ${line} column ${column}` : `column ${column}`;
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
