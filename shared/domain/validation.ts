import * as z from 'zod';

/** One bad field: where it is and why it was refused. */
export interface FieldIssue {
  readonly path: string;
  readonly reason: string;
}

/**
 * Bad input at a boundary. The message lists every bad field by path and reason, so a clinic
 * fixing an import file or a scenario sees all problems at once instead of one per attempt.
 */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly what: string,
    readonly issues: readonly FieldIssue[],
    options?: { cause?: unknown },
  ) {
    super(`${what} is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.reason}`).join('; ')}`, options);
  }
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
