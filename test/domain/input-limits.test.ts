/**
 * Input that used to be accepted and is now refused, naming what is wrong: invisible characters in
 * names, budgets and percentages past any sense, duplicate JSON keys, bytes that are not UTF-8.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, findDuplicateKey } from '../../src/adapters/json-strict.js';
import { createPortfolio, updatePortfolio } from '../../src/domain/index.js';
import { nameProblem, repairName } from '../../src/domain/validate.js';

const NOW = '2026-03-01T00:00:00Z';
const base = { id: 'p', name: 'P', ownerId: 'o' };

describe('names', () => {
  it.each([
    ['\u202e', 'U+202E (RIGHT-TO-LEFT OVERRIDE)'],
    ['\u2066', 'U+2066 (LEFT-TO-RIGHT ISOLATE)'],
    ['\u200b', 'U+200B (ZERO WIDTH SPACE)'],
    ['\u200d', 'U+200D (ZERO WIDTH JOINER)'],
    ['\ufeff', 'U+FEFF (ZERO WIDTH NO-BREAK SPACE)'],
    ['\u061c', 'U+061C (ARABIC LETTER MARK)'],
  ])('refuses %j in a name, naming the code point', (char, named) => {
    expect(() => createPortfolio({ ...base, name: `Acme${char}Corp` }, NOW)).toThrow(
      `name must not contain ${named}`,
    );
    // The message itself carries no invisible character: it is printed on terminals.
    try {
      createPortfolio({ ...base, name: `Acme${char}Corp` }, NOW);
    } catch (err) {
      expect((err as Error).message).not.toContain(char);
    }
  });

  it('refuses a lone surrogate', () => {
    expect(nameProblem('a\ud800b')).toMatch(/lone surrogate/);
    expect(nameProblem('rocket \u{1f680}')).toBeUndefined();
  });

  it('normalises names to NFC: one spelling per name', () => {
    const decomposed = 'Cafe\u0301';
    const p = createPortfolio({ ...base, name: decomposed }, NOW);
    expect(p.name).toBe('Caf\u00e9');
    expect(updatePortfolio(p, { name: decomposed }, NOW).name).toBe('Caf\u00e9');
  });

  it('repairs names from other systems by dropping invisible characters', () => {
    expect(repairName('Acme\u202eCorp')).toBe('AcmeCorp');
    expect(repairName('Cafe\u0301')).toBe('Caf\u00e9');
  });
});

describe('bounds on portfolio numbers', () => {
  it.each([
    [{ totalBudget: 1e300 }, /total_budget must be at most 1000000000000000/],
    // 1.8e308 in JSON parses as Infinity.
    [{ totalBudget: Number.POSITIVE_INFINITY }, /total_budget must be a finite number/],
    [{ totalBudget: 1e15 + 1 }, /total_budget must be at most/],
    [{ targetRoi: 10_001 }, /target_roi is a percent from -100 to 10000, got 10001/],
    [{ targetRoi: -101 }, /target_roi is a percent from -100 to 10000/],
    [{ attentionHoursPerWeek: 169 }, /attention_hours_per_week must be at most 168/],
  ])('refuses %o on create and update', (input, message) => {
    expect(() => createPortfolio({ ...base, ...input }, NOW)).toThrow(message);
    const p = createPortfolio(base, NOW);
    expect(() => updatePortfolio(p, input, NOW)).toThrow(message);
  });

  it('accepts the limits themselves', () => {
    const p = createPortfolio(
      { ...base, totalBudget: 1e15, targetRoi: 10_000, attentionHoursPerWeek: 168 },
      NOW,
    );
    expect(p).toMatchObject({ totalBudget: 1e15, targetRoi: 10_000, attentionHoursPerWeek: 168 });
    expect(createPortfolio({ ...base, targetRoi: -100 }, NOW).targetRoi).toBe(-100);
  });
});

describe('duplicate JSON keys', () => {
  it('finds a key given twice in one object, at its second occurrence', () => {
    const text = '{"a": 1, "b": {"a": 2, "c": [ {"a": 3} ]}, "a": 4}';
    expect(findDuplicateKey(text)).toEqual({ key: 'a', offset: text.lastIndexOf('"a"') });
    expect(findDuplicateKey('{"weight": 0.1, "w\\u0065ight": 0.9}')?.key).toBe('weight');
    expect(findDuplicateKey('{"a": "{\\"a\\": 1, \\"a\\": 2}", "b": ["a", "a"]}')).toBeNull();
    expect(findDuplicateKey('[{"a": 1}, {"a": 2}]')).toBeNull();
  });

  it('never reports a duplicate in what JSON.stringify writes, and always finds one added', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, key) => {
        const text = JSON.stringify(value);
        expect(findDuplicateKey(text)).toBeNull();
        const doubled = `{${JSON.stringify(key)}:${text},"x":[${text}],${JSON.stringify(key)}:1}`;
        // "x" may be the key itself: either way a key is found twice.
        expect(findDuplicateKey(doubled)).not.toBeNull();
      }),
    );
  });
});

describe('UTF-8', () => {
  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    expect(decodeUtf8(Buffer.from('{"name":"caf\u00e9"}'))).toBe('{"name":"caf\u00e9"}');
    expect(decodeUtf8(Buffer.from([0x7b, 0xff, 0x7d]))).toBeNull();
    expect(decodeUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBeNull(); // an encoded surrogate
  });
});
