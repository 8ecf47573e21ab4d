import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeys } from '../../src/adapters/keys.js';
import { createMetricsSource } from '../../src/adapters/metrics/index.js';
import { loadConfig } from '../../src/config.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { sendJson, startMetricsServer, wireMetrics } from './metrics-server.js';

const redis = useRedisPrefix('metrics-factory');
const base = { timeoutMs: 100, retries: 0, concurrency: 2, batchSize: 0 };

describe('createMetricsSource', () => {
  const deps = () => ({ redis: redis.client, keys: createKeys(redis.prefix) });

  it('builds the configured source', () => {
    expect(createMetricsSource({ ...base, source: 'redis' }, deps()).kind).toBe('redis');
    expect(createMetricsSource({ ...base, source: 'http', url: 'http://127.0.0.1:1' }, deps()).kind).toBe(
      'http',
    );
    expect(createMetricsSource({ ...base, source: 'file', file: '/nowhere.json' }, deps()).kind).toBe('file');
  });

  it('names the variable that is missing', () => {
    expect(() => createMetricsSource({ ...base, source: 'http' }, deps())).toThrow(
      'BALLAST_METRICS_URL is required when BALLAST_METRICS_SOURCE=http',
    );
    expect(() => createMetricsSource({ ...base, source: 'file', file: '' }, deps())).toThrow(
      'BALLAST_METRICS_FILE is required when BALLAST_METRICS_SOURCE=file',
    );
  });

  it('passes the size limits on to the source they bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ballast-metrics-factory-'));
    const server = await startMetricsServer((req, res) => sendJson(res, wireMetrics(req.id ?? '')));
    try {
      const file = join(dir, 'm.ndjson');
      await writeFile(file, JSON.stringify(wireMetrics('a')));
      const fromFile = createMetricsSource({ ...base, source: 'file', file, fileMaxBytes: 10 }, deps());
      expect((await fromFile.fetch(['a'])).missing.get('a')).toMatch(/over the limit of 10 bytes/);
      const http = createMetricsSource(
        { ...base, timeoutMs: 30_000, source: 'http', url: server.url, maxBytes: 10 },
        deps(),
      );
      expect((await http.fetch(['a'])).missing.get('a')).toMatch(/^answer too large \(over 10 bytes/);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the size limits in the configuration', () => {
  it('default to 16 MiB per answer and 256 MiB per file, and take bytes or binary units', () => {
    expect(loadConfig({}).metrics).toMatchObject({ maxBytes: 16_777_216, fileMaxBytes: 268_435_456 });
    const set = loadConfig({ BALLAST_METRICS_MAX_BYTES: '512KiB', BALLAST_METRICS_FILE_MAX_BYTES: '1gib' });
    expect(set.metrics).toMatchObject({ maxBytes: 524_288, fileMaxBytes: 1_073_741_824 });
    expect(loadConfig({ BALLAST_METRICS_MAX_BYTES: '1000' }).metrics.maxBytes).toBe(1000);
  });

  it('refuses what is not a size, or too large a one, naming the variable', () => {
    expect(() => loadConfig({ BALLAST_METRICS_MAX_BYTES: '16MB' })).toThrow(
      'BALLAST_METRICS_MAX_BYTES: must be a size in bytes such as 16777216 or 16MiB',
    );
    expect(() => loadConfig({ BALLAST_METRICS_MAX_BYTES: '1GiB' })).toThrow(
      'BALLAST_METRICS_MAX_BYTES: must be at most 256 MiB',
    );
    expect(() => loadConfig({ BALLAST_METRICS_FILE_MAX_BYTES: '0' })).toThrow(
      'BALLAST_METRICS_FILE_MAX_BYTES: must be at least 1 byte',
    );
  });
});
