import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputFileError, InputTooLargeError } from '../../src/adapters/input-file.js';
import { parseMetricsText, readMetricsFile } from '../../src/adapters/metrics-file.js';

const a = { business_id: 'a', revenue: 100, expenses: 60, growth_rate: 5, health_score: 80 };
const b = {
  business_id: 'b',
  revenue: 50,
  profit: -10,
  growth_rate: -2,
  health_score: 30,
  stage: 'declining',
};

function refusal(text: string): string {
  try {
    parseMetricsText('m.json', text);
  } catch (err) {
    expect(err).toBeInstanceOf(InputFileError);
    return (err as Error).message;
  }
  throw new Error('expected an InputFileError');
}

describe('parseMetricsText', () => {
  it('reads a JSON array and derives profit, expenses and margin', () => {
    const file = parseMetricsText('m.json', JSON.stringify([a, b]));
    expect(file.format).toBe('json');
    expect([...file.metrics.keys()]).toEqual(['a', 'b']);
    expect(file.metrics.get('a')).toMatchObject({ profit: 40, margin: 40, stage: 'unknown', customers: 0 });
    expect(file.metrics.get('b')).toMatchObject({ expenses: 60, profit: -10, margin: -20 });
  });

  it('reads NDJSON with blank lines and CRLF line ends', () => {
    const file = parseMetricsText('m.ndjson', `${JSON.stringify(a)}\r\n\r\n${JSON.stringify(b)}\r\n`);
    expect(file.format).toBe('ndjson');
    expect([...file.metrics.keys()]).toEqual(['a', 'b']);
  });

  it('reads one pretty-printed object as a single entry', () => {
    const file = parseMetricsText('m.json', JSON.stringify(a, null, 2));
    expect([...file.metrics.keys()]).toEqual(['a']);
  });

  it('refuses an empty file and an empty array, in lenient mode too', () => {
    // Before: accepted, and `plan` ran with every business no-metrics and exited 0.
    expect(refusal('')).toBe('m.json: no metrics in the file: it is empty');
    expect(refusal(' \n\n')).toBe('m.json: no metrics in the file: it is empty');
    expect(refusal('[]')).toBe('m.json: no metrics in the file: the array is empty');
    expect(() => parseMetricsText('m.json', '[ ]', { strict: false })).toThrow(/no metrics in the file/);
  });

  it('refuses fields it does not know, naming them (an operator typo is not silently dropped)', () => {
    const { expenses: _, ...withoutExpenses } = a;
    const typo = { ...withoutExpenses, customer: 500, expense: 60 };
    expect(refusal(JSON.stringify([typo]))).toBe(
      'm.json: invalid metrics: index 0 (business_id a): unknown fields "customer", "expense"; expenses: give expenses or profit (or both)',
    );
    expect(refusal(JSON.stringify({ ...a, colour: 'blue' }))).toMatch(
      /line 1 \(business_id a\): unknown field "colour"/,
    );
    // Lenient (the file source): that business is left out, with the reason.
    const file = parseMetricsText('m.json', JSON.stringify([a, { ...b, colour: 'blue' }]), { strict: false });
    expect([...file.metrics.keys()]).toEqual(['a']);
    expect(file.problems[0]?.message).toBe('unknown field "colour"');
  });

  it('names the index, the business and the field of an invalid array entry', () => {
    expect(refusal(JSON.stringify([a, { ...b, health_score: 101 }]))).toMatch(
      /^m\.json: invalid metrics: index 1 \(business_id b\): health_score: Too big/,
    );
  });

  it('names the line of an invalid NDJSON entry, and NaN literals', () => {
    const text = `${JSON.stringify(a)}\n{"business_id":"b","revenue":NaN,"profit":1,"growth_rate":1,"health_score":1}\n`;
    expect(refusal(text)).toBe(
      'm.json: invalid metrics: line 2: not valid JSON: NaN for "revenue" at column 30 is not a JSON number (numbers must be finite)',
    );
  });

  it('refuses a key given twice in one object, in every format, naming it', () => {
    const twice = '{"business_id": "a", "revenue": 100, "expenses": 60, "revenue": 900}';
    expect(refusal(`[${twice}]`)).toMatch(/the key "revenue" is given twice in one object \(at column \d+\)/);
    expect(refusal(`${JSON.stringify(b)}\n${twice}\n`)).toMatch(/line 2: the key "revenue" is given twice/);
    expect(refusal(twice.replace(', "expenses"', ',\n "expenses"'))).toMatch(/"revenue" is given twice/);
  });

  it('refuses a business listed twice', () => {
    expect(refusal(JSON.stringify([a, b, a]))).toMatch(
      /index 2 \(business_id a\): business_id a is listed twice \(index 0 and index 2\)/,
    );
  });

  it('quotes the first problems and counts the rest', () => {
    const bad = Array.from({ length: 5 }, (_, i) => ({ ...a, business_id: `x${i}`, revenue: 'lots' }));
    const message = refusal(JSON.stringify(bad));
    expect(message.match(/revenue: /g)).toHaveLength(3);
    expect(message).toMatch(/; and 2 more invalid entries$/);
  });

  it('refuses a JSON value that is not an array of objects', () => {
    expect(refusal('[1]')).toMatch(/index 0: Invalid input: expected object, received number/);
    expect(refusal('[{"business_id": "a",')).toMatch(/^m\.json: not valid JSON/);
  });

  describe('lenient mode', () => {
    it('keeps the valid entries and lists the others with their business ids', () => {
      const text = [
        JSON.stringify(a),
        JSON.stringify({ ...b, revenue: 'NaN' }),
        'not json',
        JSON.stringify({ ...a, business_id: 'bad id' }),
        JSON.stringify({ ...a, business_id: 'c' }),
      ].join('\n');
      const file = parseMetricsText('m.ndjson', text, { strict: false });
      expect([...file.metrics.keys()]).toEqual(['a', 'c']);
      expect(file.problems.map((p) => [p.where, p.businessId])).toEqual([
        ['line 2', 'b'],
        ['line 3', null],
        ['line 4', null],
      ]);
      expect(file.problems[2]).toMatchObject({ invalidId: 'bad id' });
    });

    it('leaves out a business listed twice altogether', () => {
      const file = parseMetricsText('m.json', JSON.stringify([a, b, { ...a, revenue: 1 }]), {
        strict: false,
      });
      expect([...file.metrics.keys()]).toEqual(['b']);
      expect(file.problems).toEqual([
        { where: 'index 2', businessId: 'a', message: 'business_id a is listed twice (index 0 and index 2)' },
      ]);
    });
  });
});

describe('readMetricsFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ballast-metrics-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file, ignoring a byte-order mark', async () => {
    const path = join(dir, 'bom.json');
    await writeFile(path, `\ufeff${JSON.stringify([a])}`);
    expect([...(await readMetricsFile(path)).metrics.keys()]).toEqual(['a']);
  });

  it('reads standard input for -', async () => {
    const file = await readMetricsFile('-', { stdin: Readable.from([JSON.stringify(b)]) });
    expect([...file.metrics.keys()]).toEqual(['b']);
  });

  it('says when the file cannot be read', async () => {
    await expect(readMetricsFile(join(dir, 'nope.json'))).rejects.toThrow(
      /nope\.json: cannot read: no such file$/,
    );
    await expect(readMetricsFile(dir)).rejects.toThrow(/cannot read: it is a directory$/);
  });

  it('refuses a file over the limit before reading it, naming the file, its size and the limit', async () => {
    const path = join(dir, 'big.ndjson');
    const text = `${JSON.stringify(a)}\n`.repeat(20);
    await writeFile(path, text);
    const error = await readMetricsFile(path, { maxBytes: 100 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputTooLargeError);
    expect((error as Error).message).toBe(
      `${path}: too large (${Buffer.byteLength(text)} bytes, over the limit of 100 bytes set by BALLAST_METRICS_FILE_MAX_BYTES)`,
    );
    // At the limit exactly, it is read.
    const limit = Buffer.byteLength(text);
    await expect(readMetricsFile(path, { maxBytes: limit, strict: false })).resolves.toMatchObject({
      format: 'ndjson',
    });
  });

  it('refuses standard input once it passes the limit', async () => {
    const lines = Array.from({ length: 50 }, () => `${JSON.stringify(b)}\n`);
    await expect(readMetricsFile('-', { stdin: Readable.from(lines), maxBytes: 1000 })).rejects.toThrow(
      '<stdin>: too large (over the limit of 1000 bytes set by BALLAST_METRICS_FILE_MAX_BYTES)',
    );
  });

  it('reads a large NDJSON file line by line, with the line numbers of the text', async () => {
    const path = join(dir, 'many.ndjson');
    const count = 50_000;
    const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ ...a, business_id: `b${i}` }));
    // A bad line near the end, and CRLF line ends: numbered as parseMetricsText numbers them.
    lines[count - 2] = '{"business_id": "cut';
    const text = `\r\n${lines.join('\r\n')}\r\n`;
    await writeFile(path, text);
    const file = await readMetricsFile(path, { strict: false });
    expect(file.format).toBe('ndjson');
    expect(file.metrics.size).toBe(count - 1);
    expect(file.problems.map((p) => p.where)).toEqual([`line ${count}`]);
    expect(file.problems).toEqual(parseMetricsText(path, text, { strict: false }).problems);
  });

  it('reads JSON arrays and a pretty-printed object whole, whatever their layout', async () => {
    const cases: [string, string, string[]][] = [
      ['array.json', JSON.stringify([a, b], null, 2), ['a', 'b']],
      ['array-late.json', `\n\n  [${JSON.stringify(a)},\n${JSON.stringify(b)}]`, ['a', 'b']],
      ['pretty.json', `\ufeff${JSON.stringify(a, null, 2)}\n`, ['a']],
      ['one-line.json', JSON.stringify(b), ['b']],
    ];
    for (const [name, text, ids] of cases) {
      const path = join(dir, name);
      await writeFile(path, text);
      const file = await readMetricsFile(path);
      expect([...file.metrics.keys()], name).toEqual(ids);
      expect(file.metrics, name).toEqual(parseMetricsText(path, text.replace(/^\ufeff/, '')).metrics);
    }
    // Refusals read the same as parseMetricsText's.
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '[\n  {"business_id": "a",\n');
    await expect(readMetricsFile(broken)).rejects.toThrow(/broken\.json: not valid JSON: .* line 3 column 1/);
    const empty = join(dir, 'blank.ndjson');
    await writeFile(empty, '\n \n');
    await expect(readMetricsFile(empty)).rejects.toThrow(
      /blank\.ndjson: no metrics in the file: it is empty$/,
    );
  });
});

describe('readMetricsFile and UTF-8', () => {
  it('refuses a file that is not UTF-8 instead of replacing its bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ballast-utf8-'));
    try {
      const path = join(dir, 'latin1.ndjson');
      await writeFile(path, Buffer.from('{"business_id": "a", "name": "caf\xe9", "revenue": 1}\n', 'latin1'));
      await expect(readMetricsFile(path)).rejects.toThrow(/not valid UTF-8/);
      const json = join(dir, 'latin1.json');
      await writeFile(json, Buffer.from('[{"business_id": "a", "name": "caf\xe9", "revenue": 1}]', 'latin1'));
      await expect(readMetricsFile(json)).rejects.toThrow(/not valid UTF-8/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
