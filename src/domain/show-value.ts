/**
 * A value as an error message quotes it: JSON, with the invisible characters that would reorder or
 * hide text on a terminal (bidi controls, zero-width characters) escaped; JSON escapes lone
 * surrogates itself.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.replace(
    /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
