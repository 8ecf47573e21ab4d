/**
 * The most recent cron slot at or before `now`, looking back at most `windowMs`; null when none.
 * `matches` is the cron expression's matcher in its time zone. Pure: time comes in as arguments.
 * Steps by a second for six-field expressions, by a minute otherwise.
 */
export function previousSlot(
  matches: (date: Date) => boolean,
  now: Date,
  windowMs: number,
  withSeconds: boolean,
): Date | null {
  const step = withSeconds ? 1000 : 60_000;
  const earliest = now.getTime() - windowMs;
  for (let t = Math.floor(now.getTime() / step) * step; t >= earliest; t -= step) {
    const candidate = new Date(t);
    if (matches(candidate)) return candidate;
  }
  return null;
}

export function hasSecondsField(expression: string): boolean {
  return expression.trim().split(/\s+/).length === 6;
}
