/**
 * The duplicate-key check by counting (findDuplicateKeyIn) gives findDuplicateKey's answer: null
 * for what JSON.stringify writes, whatever the spacing, and the same key and place for a text
 * with a key given twice. FC_SEED=<n> replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findDuplicateKey, findDuplicateKeyIn } from '../../src/adapters/json-strict.js';
import { RUNS } from '../domain/property-checks.js';

const keyArb = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('a', '"', '\\', ':', '\\"', '__proto__'),
);

/** JSON text with a duplicate now and then, spaced or not, escaped keys or not. */
const textArb = fc
  .tuple(fc.jsonValue({ maxDepth: 4 }), keyArb, fc.constantFrom(0, 1, 2), fc.nat({ max: 3 }))
  .map(([value, key, space, form]) => {
    const text = JSON.stringify(value, null, space);
    const k = JSON.stringify(key);
    const escaped = k.replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    if (form === 1) return `{${k}:${text},"x":[${text}],${k}:1}`;
    if (form === 2) return `[ {${k} : 1 , ${escaped}\n:\t2}, ${text} ]`;
    return text;
  });

describe('findDuplicateKeyIn', () => {
  it('answers as findDuplicateKey does', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        expect(findDuplicateKeyIn(text, JSON.parse(text))).toEqual(findDuplicateKey(text));
      }),
      RUNS,
    );
  });

  it('takes deep nesting and strings full of quotes, colons and backslashes', () => {
    const deep = `${'[{"a":'.repeat(20_000)}1${'}]'.repeat(20_000)}`;
    expect(findDuplicateKeyIn(deep, JSON.parse(deep))).toBeNull();
    const tricky = '{"a\\\\": "\\":\\\\", "b": ["x\\"", ":"], "a\\\\":  3}';
    expect(findDuplicateKeyIn(tricky, JSON.parse(tricky))).toEqual({
      key: 'a\\',
      offset: tricky.lastIndexOf('"a'),
    });
    expect(findDuplicateKeyIn('"{\\"a\\":1,\\"a\\":2}"', '{"a":1,"a":2}')).toBeNull();
  });
});
