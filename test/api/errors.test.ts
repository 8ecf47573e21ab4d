import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/api/http/errors.js';
import { NotFoundError } from '../../src/domain/index.js';

describe('API error mapping', () => {
  it('answers 503 when Redis refuses a write (out of memory, read-only replica), not 500', () => {
    const oom = describeError(new Error("OOM command not allowed when used memory > 'maxmemory'."));
    expect(oom.status).toBe(503);
    expect(oom.body.message).toMatch(/Redis refused the request: OOM/);
    expect(describeError(new Error("READONLY You can't write against a read only replica.")).status).toBe(
      503,
    );
  });

  it('keeps 404 for domain not-found and 500 for unknown failures', () => {
    expect(describeError(new NotFoundError('portfolio x not found')).status).toBe(404);
    expect(describeError(new Error('something broke')).status).toBe(500);
  });
});
