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
  // NaN and Infinity are what other languages' JSON writers emit for bad numbers.
  const bad = /[:[,]\s*(-?Infinity|NaN)\s*[,}\]]/.exec(text);
  if (bad) return `${bad[1]} is not a JSON number (metrics must be finite numbers)`;
  const match = /^(.*) in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(message);
  if (!match) return message.replace(/\s+/g, ' ');
  const position = Number(match[2]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${match[1]} at line ${line} column ${column}`;
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
