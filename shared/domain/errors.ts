/**
 * Named errors, mapped to retry / skip / fail in one place per entry point by `instanceof`,
 * never by matching message text.
 */
import { ValidationError } from './validation.js';

/** Something referred to does not exist (a plan id in a booking, a session in a check-in link). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    readonly entity: string,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`${entity} "${id}" does not exist`, options);
  }
}

/** A failure worth retrying later: throttling, a 5xx, a claim still held by a running attempt. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A failure that a retry cannot fix: a rejected message, an unverified sender, a paused account. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An address already belongs to another client (compared without regard to case): one address is
 * one client, so a bounce or an unsubscribe can never miss a second record. Names the client
 * holding it by id only.
 */
export class EmailInUseError extends Error {
  override readonly name = 'EmailInUseError';
  constructor(
    readonly clientId: string,
    readonly heldBy: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `client "${clientId}": the email address already belongs to ${heldBy ? `client "${heldBy}"` : 'another client'} (one address, one client; case does not matter)`,
      options,
    );
  }
}

/**
 * The one place an error is mapped to what happens next: `skip` (bad data, a time out of range, a
 * request the Scheduler refuses, something that no longer exists: a retry cannot help, so log it
 * and move on) or `retry`
 * (throttling, a 5xx, anything unknown: fail the record so Lambda delivers it again).
 */
export function outcomeOf(error: unknown): 'skip' | 'retry' {
  if (error instanceof PermanentError || error instanceof ValidationError || error instanceof NotFoundError) return 'skip';
  // The time rules throw RangeError for data no clock can hold (a P99999Y offset): it stays so on retry.
  if (error instanceof RangeError) return 'skip';
  return 'retry';
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof PermanentError ? error.code : undefined;
}

/** A write that contradicts what is stored: a session id already booked, a plan that kept changing meanwhile. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** An import file that cannot be read as a whole (not UTF-8, not CSV or JSON, unknown columns), or an import refused. */
export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

/** The run stopped between two writes (Ctrl-C, SIGTERM): what was written stands, and the same file run again finishes it. */
export class ImportInterruptedError extends ImportFileError {
  constructor(
    readonly written: number,
    readonly total: number,
  ) {
    super(
      `import interrupted: ${written} of ${total} record(s) written; run the same import again to finish (records already written are recognised and left as they are)`,
    );
  }
}
