import { describe, expect, it } from 'vitest';
import { createKeys } from '../../src/adapters/keys.js';
import { createMetricsSource } from '../../src/adapters/metrics/index.js';
import { useRedisPrefix } from '../helpers/redis.js';

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
});
