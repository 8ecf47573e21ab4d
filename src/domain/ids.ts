import { z } from 'zod';

/**
 * Ids become parts of Redis keys, so only a safe alphabet is accepted. They are also keys of JSON
 * objects (`allocations`), where "__proto__" cannot survive a round trip: zod strips it and a
 * plain object assignment sets the prototype instead. So that one spelling is refused too.
 */
export const ID_PATTERN = /^(?!__proto__$)[A-Za-z0-9_-]{1,64}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, { message: 'must be 1..64 characters of letters, digits, "_" or "-"' });

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}
