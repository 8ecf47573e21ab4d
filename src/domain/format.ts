/** Human-readable percentages for reasons and tables: 0.625 -> "62.5%". */
export function pct(weight: number): string {
  const value = weight * 100;
  const rounded = Math.round(value * 10) / 10;
  return `${Object.is(rounded, -0) ? 0 : rounded}%`;
}
