import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileMetricsSource } from '../../src/adapters/metrics/file-metrics-source.js';
import { wireMetrics } from './metrics-server.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ballast-metrics-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ndjson = (...entries: unknown[]) => `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`;

describe('file metrics source', () => {
  it('reads a JSON array', async () => {
    const path = join(dir, 'metrics.json');
    await writeFile(path, JSON.stringify([wireMetrics('a'), wireMetrics('b', { revenue: 0 })], null, 2));
    const { metrics, missing } = await createFileMetricsSource(path).fetch(['a', 'b', 'c']);
    expect(metrics.get('a')).toMatchObject({ businessId: 'a', profit: 400, margin: 40, healthScore: 80 });
    expect(metrics.get('b')).toMatchObject({ revenue: 0, margin: 0 });
    expect(missing.get('c')).toBe(`not in ${path}`);
  });

  it('reads NDJSON; an invalid entry makes only its business missing', async () => {
    const path = join(dir, 'metrics.ndjson');
    await writeFile(
      path,
      [
        JSON.stringify(wireMetrics('a')),
        '',
        JSON.stringify(wireMetrics('sick', { health_score: 140 })),
        '{"business_id": "cut-off", ',
        JSON.stringify(wireMetrics('b')),
      ].join('\n'),
    );
    const source = createFileMetricsSource(path);
    const { metrics, missing } = await source.fetch(['a', 'b', 'sick', 'cut-off']);
    expect([...metrics.keys()].sort()).toEqual(['a', 'b']);
    expect(missing.get('sick')).toMatch(
      new RegExp(`^invalid metrics in ${path} at line 3 \\(business_id sick\\): health_score: `),
    );
    // A line that is not JSON names no business: it is simply not in the file.
    expect(missing.get('cut-off')).toBe(`not in ${path}`);
    expect(source.stats()).toEqual({ calls: 1, businessesRequested: 4, errors: 2 });
  });

  it('reads the file again when it changes, and only then', async () => {
    const path = join(dir, 'edited.ndjson');
    await writeFile(path, ndjson(wireMetrics('a', { revenue: 100 })));
    const source = createFileMetricsSource(path);
    expect((await source.fetch(['a'])).metrics.get('a')?.revenue).toBe(100);
    expect((await source.fetch(['a'])).metrics.get('a')?.revenue).toBe(100);
    expect(source.stats().calls).toBe(1);

    await writeFile(path, ndjson(wireMetrics('a', { revenue: 250 }), wireMetrics('b')));
    // A distinct mtime whatever the file system's clock resolution.
    const later = new Date(Date.now() + 60_000);
    await utimes(path, later, later);
    const { metrics } = await source.fetch(['a', 'b']);
    expect(metrics.get('a')?.revenue).toBe(250);
    expect(metrics.has('b')).toBe(true);
    expect(source.stats().calls).toBe(2);
  });

  it('makes every business missing, saying why, when the file cannot be used at all, and recovers once it can', async () => {
    const path = join(dir, 'later.json');
    const source = createFileMetricsSource(path);
    const absent = await source.fetch(['a', 'b']);
    expect(absent.metrics.size).toBe(0);
    expect(Object.fromEntries(absent.missing)).toEqual({
      a: `metrics file unreadable: ${path}: cannot read: no such file`,
      b: `metrics file unreadable: ${path}: cannot read: no such file`,
    });
    await writeFile(path, '[{"business_id": ');
    const truncated = await source.fetch(['a']);
    expect(truncated.missing.get('a')).toMatch(
      new RegExp(`^metrics file unreadable: ${path}: not valid JSON`),
    );
    await writeFile(path, JSON.stringify([wireMetrics('a')]));
    const later = new Date(Date.now() + 120_000);
    await utimes(path, later, later);
    expect((await source.fetch(['a'])).metrics.has('a')).toBe(true);
  });

  it('reads a file again that could not be read, so that one caught mid-rewrite is read once whole', async () => {
    const path = join(dir, 'rewritten.json');
    const source = createFileMetricsSource(path);
    const fetching = source.fetch(['a']);
    // The first read has failed (the file is not there yet): write it before the retry.
    while (source.stats().errors === 0) await new Promise((resolve) => setImmediate(resolve));
    await writeFile(path, JSON.stringify([wireMetrics('a')]));
    const answer = await fetching;
    expect(answer.missing.size).toBe(0);
    expect(answer.metrics.has('a')).toBe(true);
  });

  it('makes every business missing when the file is over the limit, saying so, without retrying', async () => {
    const path = join(dir, 'too-big.ndjson');
    const text = ndjson(wireMetrics('a'), wireMetrics('b'));
    await writeFile(path, text);
    const size = Buffer.byteLength(text);
    const source = createFileMetricsSource(path, { maxBytes: size - 1 });
    const { metrics, missing } = await source.fetch(['a', 'b', 'c']);
    expect(metrics.size).toBe(0);
    const reason = `metrics file ${path}: too large (${size} bytes, over the limit of ${size - 1} bytes set by BALLAST_METRICS_FILE_MAX_BYTES)`;
    expect(Object.fromEntries(missing)).toEqual({ a: reason, b: reason, c: reason });
    // Refused once: waiting would not make it smaller.
    expect(source.stats()).toEqual({ calls: 0, businessesRequested: 3, errors: 1 });
    // At the limit, the same file is read.
    const fits = await createFileMetricsSource(path, { maxBytes: size }).fetch(['a', 'b']);
    expect(fits.missing.size).toBe(0);
  });

  it('leaves out a business listed twice, saying why', async () => {
    const path = join(dir, 'twice.ndjson');
    await writeFile(path, ndjson(wireMetrics('a'), wireMetrics('a', { revenue: 5 }), wireMetrics('b')));
    const { metrics, missing } = await createFileMetricsSource(path).fetch(['a', 'b']);
    expect(metrics.has('b')).toBe(true);
    expect(missing.get('a')).toMatch(/listed twice \(line 1 and line 2\)/);
  });
});
