import type * as z from 'zod';

import { ValidationError } from './errors.js';

// The error lives with the other domain errors; the boundary helpers that raise it are here.
export { ValidationError };

/** One bad field: where it is and why it was refused. */
export interface FieldIssue {
  readonly path: string;
  readonly reason: string;
}

export function issuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.'),
    reason: issue.message,
  }));
}

/** Parses `input` with `schema`, or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(what, issuesFromZod(result.error, prefix), { cause: result.error });
  return result.data;
}
