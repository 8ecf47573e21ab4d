/**
 * Reading files an operator hands to Ballast (a portfolio, a metrics file). Every failure is a
 * BallastError with code `invalid` whose message names the file and the problem, so the CLI can
 * print it on one line and exit 1, and the API can answer 400.
 */
import { readFile } from 'node:fs/promises';
import { BallastError } from '../domain/index.js';

export class InputFileError extends BallastError {
  override readonly name = 'InputFileError';
  readonly path: string;

  constructor(path: string, message: string, details: readonly string[] = []) {
    super('invalid', `${displayPath(path)}: ${message}`, details);
    this.path = path;
  }
}

/** `-` stands for standard input. */
export const STDIN_PATH = '-';

export function displayPath(path: string): string {
  return path === STDIN_PATH ? '<stdin>' : path;
}

/** The file's text (UTF-8, byte-order mark removed), or an InputFileError saying why it cannot be read. */
export async function readInputText(
  path: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  let text: string;
  try {
    text = path === STDIN_PATH ? await readStream(stdin) : await readFile(path, 'utf8');
  } catch (err) {
    throw new InputFileError(path, `cannot read: ${describeFsError(err)}`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** JSON.parse with the position turned into a line and column an editor can jump to. */
export function parseJsonText(path: string, text: string, where = ''): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new InputFileError(path, `${where}not valid JSON: ${describeJsonError(message, text)}`);
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

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
