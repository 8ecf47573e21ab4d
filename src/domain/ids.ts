import { z } from 'zod';

/** Ids become parts of Redis keys, so only a safe alphabet is accepted. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, { message: 'must be 1..64 characters of letters, digits, "_" or "-"' });

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}
