/** The portfolio rules the CLI and the API share: setting names, the request mapping, reserved ids. */
import { describe, expect, it } from 'vitest';
import {
  createInputFromWire,
  createPortfolio,
  generatePortfolioId,
  isValidId,
  RESERVED_PORTFOLIO_IDS,
  SETTING_WIRE,
  SETTINGS,
  updateInputFromWire,
} from '../../src/domain/index.js';

describe('portfolio settings on the wire', () => {
  it('names every setting the history diff knows', () => {
    expect(Object.keys(SETTING_WIRE).sort()).toEqual([...SETTINGS].sort());
    expect(new Set(Object.values(SETTING_WIRE)).size).toBe(SETTINGS.length);
  });

  it('maps every editable setting of a request, and leaves out what is not given', () => {
    const body = Object.fromEntries(Object.values(SETTING_WIRE).map((wire, i) => [wire, `v${i}`]));
    const input = updateInputFromWire(body) as Record<string, unknown>;
    // The owner is set on create only (it is part of the indexes).
    expect(Object.keys(input).sort()).toEqual(SETTINGS.filter((s) => s !== 'ownerId').sort());
    expect(input['targetRoi']).toBe(body['target_roi']);
    expect(updateInputFromWire({ max_turnover: null, name: undefined })).toEqual({ maxTurnover: null });
  });

  it('creates with the given id, or a new one', () => {
    expect(createInputFromWire({ id: 'given', name: 'N', owner_id: 'o' })).toMatchObject({
      id: 'given',
      ownerId: 'o',
    });
    const fresh = createInputFromWire({ name: 'N', owner_id: 'o' }).id;
    expect(fresh).toMatch(/^p-[0-9a-f]{12}$/);
    expect(isValidId(generatePortfolioId())).toBe(true);
  });

  it('refuses a reserved id on create, whichever front end asks', () => {
    for (const id of RESERVED_PORTFOLIO_IDS) {
      expect(() => createPortfolio({ id, name: 'N', ownerId: 'o' }, '2026-03-01T00:00:00Z')).toThrow(
        `"${id}" cannot be a portfolio id`,
      );
    }
  });
});
