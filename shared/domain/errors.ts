/**
 * Named errors, mapped to retry / skip / fail in one place per entry point by `instanceof`,
 * never by matching message text.
 */

/** Something referred to does not exist (a plan id in a booking, a session in a check-in link). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly entity: string, readonly id: string, options?: { cause?: unknown }) {
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
  constructor(message: string, readonly code: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
