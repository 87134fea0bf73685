/**
 * The domain's named errors, all in this one module, and `classify`: the one place an error's
 * class (`instanceof`, never its message text) decides what happens next.
 */
import type { FieldIssue } from './validation.js';

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

export function errorCode(error: unknown): string | undefined {
  return error instanceof PermanentError ? error.code : undefined;
}

/**
 * classify: the one map from a failure to what happens next, by the error's class (`instanceof`, never its
 * message). The delivery pipeline settles a claim by it; sync-schedules, reconcile and the
 * summary sweep decide by it whether a retry is worth it.
 *
 * - keep: SES may have the email (no answer, or a send the ledger could not record). The claim
 *   stays as it is; the lease rule later records "outcome unknown". Never retried blind.
 * - retry: a retry may succeed (throttling, a 5xx, a claim in flight, a storage error).
 * - fail: refused, and a retry would be refused again (a rejected email, an unverified sender).
 * - skip: the data itself is wrong or gone (invalid, not found, a time no clock can hold); a
 *   retry reads the same data.
 *
 * An error of no known class is worth a retry before the email is handed to the mailer; once the
 * mailer has been called it may mean the email went, so it fails rather than risk a second copy.
 */
export type FailureAction = 'retry' | 'skip' | 'fail' | 'keep';

/** Where the failure happened: before the mailer was called, or in (or after) the call. */
export type FailureStage = 'before-send' | 'send';

export function classify(error: unknown, stage: FailureStage = 'before-send'): FailureAction {
  if (error instanceof SendOutcomeUnknownError || error instanceof SentButUnrecordedError) return 'keep';
  if (error instanceof RetryableError) return 'retry';
  if (error instanceof PermanentError) return 'fail';
  // The time rules throw RangeError for data no clock can hold (a P99999Y offset): it stays so on retry.
  if (error instanceof ValidationError || error instanceof NotFoundError || error instanceof RangeError) return 'skip';
  return stage === 'before-send' ? 'retry' : 'fail';
}

/**
 * For work that sends no email (a stream record, a reconcile subject): `skip` what a retry cannot
 * fix (log it and move on), `retry` the rest.
 */
export function outcomeOf(error: unknown): 'skip' | 'retry' {
  const action = classify(error);
  return action === 'skip' || action === 'fail' ? 'skip' : 'retry';
}

/**
 * The reason a message to a client or therapist is recorded failed with: a refusal's code and
 * message (SES's refusals name no person), else the error's class name alone.
 */
export function refusalReason(error: unknown): string {
  return error instanceof PermanentError ? `${error.code}: ${error.message}` : errorName(error);
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
