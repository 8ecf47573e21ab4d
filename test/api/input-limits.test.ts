/**
 * What the API used to accept and now refuses (400 naming the problem, nothing stored): duplicate
 * keys, bytes that are not UTF-8, invisible characters in names, numbers past any sense.
 */
import { describe, expect, it } from 'vitest';
import { AUTH, useApi } from './api-fixture.js';

const api = useApi({ name: 'api-input-limits' });

async function raw(body: Buffer | string) {
  const reply = await api.server.inject({
    method: 'POST',
    url: '/portfolios',
    headers: { ...AUTH, 'content-type': 'application/json' },
    payload: body,
  });
  return { status: reply.statusCode, json: reply.json() as { message: string; details: string[] } };
}

async function nothingStored(id: string) {
  expect((await api.call('GET', `/portfolios/${id}`)).status).toBe(404);
}

describe('refused input', () => {
  it('a key given twice in one object', async () => {
    const reply = await raw('{"id": "dup", "name": "A", "owner_id": "o", "name": "B"}');
    expect(reply.status).toBe(400);
    expect(reply.json.message).toBe('the request body has the key "name" twice in one object');
    await nothingStored('dup');
  });

  it('bytes that are not UTF-8', async () => {
    const body = Buffer.concat([
      Buffer.from('{"id": "utf", "name": "caf'),
      Buffer.from([0xe9]), // latin-1 é
      Buffer.from('", "owner_id": "o"}'),
    ]);
    const reply = await raw(body);
    expect(reply.status).toBe(400);
    expect(reply.json.message).toBe('the request body is not valid UTF-8');
    await nothingStored('utf');
  });

  it('a bidi override or a zero-width character in a name, naming the code point', async () => {
    for (const [name, point] of [
      ['Acme\u202eCorp', 'U+202E (RIGHT-TO-LEFT OVERRIDE)'],
      ['Ac\u200bme', 'U+200B (ZERO WIDTH SPACE)'],
    ] as const) {
      const reply = await api.call('POST', '/portfolios', { id: 'bidi', name, owner_id: 'o' });
      expect(reply.status).toBe(400);
      expect(reply.json.message).toContain(`name must not contain ${point}`);
    }
    await nothingStored('bidi');
  });

  it('numbers past any sense', async () => {
    const budget = await raw('{"id": "big", "name": "Big", "owner_id": "o", "total_budget": 1.8e308}');
    expect(budget.status).toBe(400);
    expect(JSON.stringify(budget.json)).toMatch(/total_budget/);
    for (const [field, value, message] of [
      ['total_budget', 1e16, /total_budget must be at most/],
      ['target_roi', 1e6, /target_roi is a percent from -100 to 10000/],
      ['attention_hours_per_week', 200, /attention_hours_per_week must be at most 168/],
    ] as const) {
      const reply = await api.call('POST', '/portfolios', {
        id: 'big',
        name: 'Big',
        owner_id: 'o',
        [field]: value,
      });
      expect(reply.status, field).toBe(400);
      expect(reply.json.message).toMatch(message);
    }
    await nothingStored('big');
    const created = await api.call('POST', '/portfolios', { id: 'big', name: 'Cafe\u0301', owner_id: 'o' });
    expect(created.status).toBe(200);
    const patched = await api.call('PATCH', '/portfolios/big', { attention_hours_per_week: 169 });
    expect(patched.status).toBe(400);
    expect((await api.call('GET', '/portfolios/big')).json).toMatchObject({ name: 'Caf\u00e9', version: 1 });
  });
});
