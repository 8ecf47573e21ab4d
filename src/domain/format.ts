/**
 * Human-readable percentages for reasons and tables: 0.625 -> "62.5%", 0.2 -> "20%". Integer
 * arithmetic on tenths of a percent: a report of 100,000 businesses formats 300,000 of these,
 * and integer-to-string is several times cheaper than formatting a fractional double.
 */
export function pct(weight: number): string {
  const tenths = Math.round(weight * 1000);
  if (!Number.isFinite(tenths)) return `${weight * 100}%`;
  const negative = tenths < 0;
  const abs = negative ? -tenths : tenths;
  const whole = Math.floor(abs / 10);
  const frac = abs - whole * 10;
  const sign = negative && abs !== 0 ? '-' : '';
  return frac === 0 ? `${sign}${whole}%` : `${sign}${whole}.${frac}%`;
}
