import { describe, expect, it } from 'vitest';
import { decodePortfolio, encodePortfolio } from '../../src/adapters/portfolio-codec.js';
import { addBusiness, createPortfolio, portfolioToWire, setAllocation } from '../../src/domain/index.js';

const T = '2026-11-25T00:00:00.000Z';

describe('stored portfolio documents', () => {
  const p = setAllocation(
    addBusiness(
      addBusiness(createPortfolio({ id: 'c1', name: 'C', ownerId: 'o', maxTurnover: 0.2 }, T), 'a', {}, T),
      'b',
      {},
      T,
    ),
    'a',
    { locked: true, minWeight: 0.1 },
    T,
  );

  it('round-trip the domain object exactly', () => {
    expect(decodePortfolio(encodePortfolio(p))).toEqual(JSON.parse(JSON.stringify(p)));
  });

  it('still read documents written in the wire shape', () => {
    const fromWire = decodePortfolio(JSON.stringify(portfolioToWire(p)));
    expect(fromWire.allocations).toEqual(
      p.allocations.map((a) => ({ ...a, maxWeight: undefined, targetWeight: undefined })),
    );
    expect(fromWire.version).toBe(p.version);
  });

  it('refuse a corrupt or unknown document instead of guessing', () => {
    expect(() => decodePortfolio('{"format":1,"portfolio":{"id":"x"}}')).toThrow(/corrupt/);
    expect(() => decodePortfolio('{"format":9,"portfolio":{}}')).toThrow(
      /unknown portfolio document format 9/,
    );
  });
});
