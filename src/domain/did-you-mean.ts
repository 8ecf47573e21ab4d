/**
 * "did you mean performance?" for a mistyped choice (a strategy, a status, an apply mode): the
 * closest allowed value by edit distance, when it is close enough to be the one meant.
 */

import { showValue } from './show-value.js';

/** Levenshtein distance, case-insensitive (PERFORMANCE is performance mistyped, not another word). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[t.length]!;
}

/** The choice `value` most likely meant: within 2 edits (1 for short words), or null. */
export function closestChoice(value: unknown, choices: readonly string[]): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 100) return null;
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const choice of choices) {
    const d = editDistance(value, choice);
    if (d < bestDistance) {
      best = choice;
      bestDistance = d;
    }
  }
  const allowed = Math.min(2, Math.floor((best?.length ?? 0) / 3));
  return bestDistance <= allowed ? best : null;
}

/** `unknown strategy "perfomance": use one of equal, performance, ...; did you mean performance?` */
export function unknownChoice(what: string, value: unknown, choices: readonly string[]): string {
  const shown = showValue(value);
  const near = closestChoice(value, choices);
  const hint = near === null ? '' : `; did you mean ${near}?`;
  return `unknown ${what} ${shown}: use one of ${choices.join(', ')}${hint}`;
}
