/**
 * The domain's named errors, all in this one module. What each means for a retry is decided in
 * one place, `classify` (shared/use-cases/delivery/classify.ts), by `instanceof`, never by
 * matching message text.
 */

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

/** A change that conflicts with what is stored: a session that already exists, a plan that kept changing. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** Some of the clinic's calendar feeds could not be polled; each one's error is in the message. */
export class FeedPollError extends Error {
  override readonly name = 'FeedPollError';
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

/** One bad field: where it is and why it was refused. */
export interface FieldIssue {
  readonly path: string;
  readonly reason: string;
}

/**
 * A settle found the ledger entry in a state it may not leave: another attempt settled it first
 * (or the claim was never held). The caller decides what that means; the ledger never overwrites it.
 */
export class LedgerConflictError extends Error {
  override readonly name = 'LedgerConflictError';
  constructor(
    readonly messageName: string,
    /** The status the settle wanted (a LedgerStatus). */
    readonly wanted: string,
    options?: { cause?: unknown },
  ) {
    super(`ledger entry ${messageName} could not become ${wanted}: another attempt settled it`, options);
  }
}

/**
 * SES may or may not have accepted the email (the connection broke, the request timed out: no
 * HTTP answer). Neither a retry (a possible second copy) nor a failure (a possible lie) is safe:
 * the claim is kept, and the lease rule (resolveHeldClaim) records it as "outcome unknown".
 */
export class SendOutcomeUnknownError extends Error {
  override readonly name = 'SendOutcomeUnknownError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The email went out but the ledger could not record it: the claim stays, for the lease rule. */
export class SentButUnrecordedError extends Error {
  override readonly name = 'SentButUnrecordedError';
  constructor(
    readonly messageName: string,
    options?: { cause?: unknown },
  ) {
    super(`${messageName} was sent but could not be recorded as sent`, options);
  }
}

/** The error's class name, for logs: never its message, which may quote an address. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
