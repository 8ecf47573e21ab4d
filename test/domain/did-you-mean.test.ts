import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestChoice, editDistance, unknownChoice } from '../../src/domain/did-you-mean.js';
import { createPortfolio, STRATEGIES } from '../../src/domain/index.js';

describe('did you mean', () => {
  it('suggests the strategy, status or apply mode a typo meant', () => {
    expect(() =>
      createPortfolio({ id: 'p', name: 'P', ownerId: 'o', strategy: 'perfomance' as never }, 'now'),
    ).toThrow(
      'unknown strategy "perfomance": use one of equal, performance, growth, revenue, custom; did you mean performance?',
    );
    expect(closestChoice('EQUAL', STRATEGIES)).toBe('equal');
    expect(closestChoice('paussed', ['active', 'paused', 'archived'])).toBe('paused');
    expect(closestChoice('aproove', ['auto', 'approve', 'advisory'])).toBe('approve');
  });

  it('suggests nothing for a word that is not near any choice', () => {
    expect(unknownChoice('apply mode', 'bogus', ['auto', 'approve', 'advisory'])).toBe(
      'unknown apply mode "bogus": use one of auto, approve, advisory',
    );
    expect(closestChoice(42, STRATEGIES)).toBeNull();
    expect(closestChoice('', STRATEGIES)).toBeNull();
  });

  it('edit distance is a metric', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        (a, b, c) => {
          expect(editDistance(a, a)).toBe(0);
          expect(editDistance(a, b)).toBe(editDistance(b, a));
          expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
        },
      ),
    );
  });
});
