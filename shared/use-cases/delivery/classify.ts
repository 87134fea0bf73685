/**
 * The one map from a failure to what happens next, by the error's class (`instanceof`, never its
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
import {
  errorName,
  NotFoundError,
  PermanentError,
  RetryableError,
  SendOutcomeUnknownError,
  SentButUnrecordedError,
  ValidationError,
} from '../../domain/errors.js';

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
