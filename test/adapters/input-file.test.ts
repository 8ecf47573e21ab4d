import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_INPUT_MAX_BYTES,
  InputTooLargeError,
  readInputLineBatches,
  readInputLines,
  readInputText,
} from '../../src/adapters/input-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ballast-input-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('readInputLines', () => {
  it('hands a line over as soon as it ends, before the rest of the input has come', async () => {
    const stdin = new PassThrough();
    const lines = readInputLines('-', { stdin });
    stdin.write('{"a":1}\n{"b"');
    expect(await lines.next()).toEqual({ done: false, value: '{"a":1}' });
    stdin.end(':2}\n');
    expect(await collect(lines)).toEqual(['{"b":2}', '']);
  });

  it("gives text.split('\\n') whatever the chunks: lines and characters cut between chunks", async () => {
    const text = 'caf\u00e9 \u20ac1\r\n\nlast';
    const bytes = Buffer.from(`\ufeff${text}`);
    // One byte per chunk: the byte-order mark and every multi-byte character are cut.
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    expect(await collect(readInputLines('-', { stdin: Readable.from(chunks) }))).toEqual(text.split('\n'));
  });

  it('refuses a file over the limit before reading it, and input that passes it while read', async () => {
    const path = join(dir, 'ten.txt');
    await writeFile(path, '0123456789');
    await expect(collect(readInputLines(path, { maxBytes: 9, limitName: 'X_MAX' }))).rejects.toThrow(
      `${path}: too large (10 bytes, over the limit of 9 bytes set by X_MAX)`,
    );
    expect(await collect(readInputLines(path, { maxBytes: 10 }))).toEqual(['0123456789']);
    const stdin = Readable.from(['01234', '56789']);
    const error = await collect(readInputLines('-', { stdin, maxBytes: 9 })).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputTooLargeError);
    expect(error).toMatchObject({
      size: undefined,
      limit: 9,
      message: '<stdin>: too large (over the limit of 9 bytes)',
    });
  });
});

describe('readInputText', () => {
  it('reads under the limit and refuses over it, 256 MiB by default', async () => {
    const path = join(dir, 'doc.json');
    await writeFile(path, '\ufeff{"x": 1}');
    expect(await readInputText(path)).toBe('{"x": 1}');
    expect(DEFAULT_INPUT_MAX_BYTES).toBe(256 * 1024 * 1024);
    await expect(readInputText(path, undefined, { maxBytes: 4 })).rejects.toThrow(
      /doc\.json: too large \(11 bytes, over the limit of 4 bytes\)$/,
    );
  });
});

describe('reading a whole file, and lines a batch at a time', () => {
  it('reads a regular file in one piece: the same text, the byte-order mark removed', async () => {
    const path = join(dir, 'whole.json');
    const text = `{"caf\u00e9": "${'\u20ac'.repeat(100_000)}"}`;
    await writeFile(path, `\ufeff${text}`);
    expect(await readInputText(path)).toBe(text);
    await writeFile(path, '');
    expect(await readInputText(path)).toBe('');
  });

  it('gives the lines of readInputLines, in batches', async () => {
    const path = join(dir, 'lines.ndjson');
    const text = Array.from({ length: 30_000 }, (_, i) => `{"n": ${i}, "x": "${'y'.repeat(i % 7)}"}`).join(
      '\n',
    );
    await writeFile(path, `${text}\n`);
    const batches: string[][] = [];
    for await (const batch of readInputLineBatches(path)) batches.push(batch);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(await collect(readInputLines(path)));
    expect(batches.flat()).toEqual(`${text}\n`.split('\n'));
  });
});
