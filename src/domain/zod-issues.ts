/** zod's issues in the words Ballast's errors use: `path: message`, joined. */
import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** Parse or throw a ValidationError whose message names every bad field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map(describeIssue);
  throw new ValidationError(`invalid ${what}: ${details.join('; ')}`, details);
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map(describeIssue).join('; ');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
