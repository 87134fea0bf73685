/**
 * Dispatch's retry strategy, and its deferrals. The Scheduler invokes dispatch asynchronously, so a
 * thrown error never reaches the schedule's retry policy and Lambda retries only twice: dispatch
 * schedules its own retries instead.
 *
 * - retry (throttling, 5xx, storage): the claim was released; a retry schedule `<name>.r<n>` (same
 *   message identity) comes 1, 2, 4 … 30 minutes later. Past the message's usefulness — the same
 *   lateness rules that decide a late delivery (a reminder under an hour before its session, a
 *   check-in 72 hours after it was due, a nudge 72 hours after its due date) — it gives up, and the
 *   message is marked failed "gave up after N retries".
 * - keep (no answer from SES: it may have the email): the claim stays, and a retry schedule after
 *   the lease lets the next attempt record "outcome unknown". A send the ledger could not record
 *   fails the invocation instead: Lambda's retries find the claim held.
 * Only when the retry schedule cannot be created is the error thrown, leaving Lambda's own retries
 * as the last resort.
 */
import { RetryableError, SentButUnrecordedError, errorName } from '../../domain/errors.js';
import type { DispatchPayload } from '../../domain/dispatch-payload.js';
import { deferredIdentity, messageName, retryScheduleName } from '../../domain/message.js';
import type { Clinic } from '../../domain/model.js';
import { toInstant, type Instant } from '../../domain/time.js';
import type { OpaqueLog } from '../../ports/log.js';
import type { MessageScheduler, OneTimeSchedule } from '../../ports/scheduler.js';
import type { Ledger } from '../../ports/store.js';
import type { RetryStrategy } from '../delivery/pipeline.js';
import { intendedTime, stillUsefulAt, type SendDecision } from './decide.js';
import type { DispatchKind, DispatchRequest } from './request.js';

/** The outcomes of a retry or a deferral (the rest of SendOutcome is in send-message.ts). */
export type RetryOutcome =
  | { readonly status: 'deferred'; readonly name: string; readonly deferredName: string; readonly deferredTo: Instant }
  | { readonly status: 'retry-scheduled'; readonly name: string; readonly retryName: string; readonly retryAt: Instant; readonly redelivery: number };

/** One claimed attempt at a message: what its retry and deferral need to know. */
export interface Attempt {
  readonly scheduler: MessageScheduler;
  readonly ledger: Pick<Ledger, 'settleSkipped'>;
  readonly clinic: Clinic;
  readonly log: OpaqueLog;
  readonly payload: DispatchRequest;
  readonly decision: SendDecision;
  readonly name: string;
  readonly kind: DispatchKind;
  readonly nowDate: Date;
  readonly now: Instant;
  readonly leaseMs: number;
}

/** How long before the n-th retry (1-based): 1, 2, 4 … minutes, at most 30. */
export function retryDelayMs(n: number): number {
  return Math.min(2 ** (n - 1), 30) * 60_000;
}

/** The payload's ids and identity, without what the Scheduler or a retry added to it. */
function idsOf(payload: DispatchRequest): OneTimeSchedule['payload'] {
  const { scheduledTime: _s, executionId: _e, attempt: _a, redelivery: _r, ...ids } = payload;
  return ids;
}

export function dispatchRetry(attempt: Attempt): RetryStrategy<RetryOutcome> {
  const { log, name, kind, payload } = attempt;
  const retries = payload.redelivery?.count ?? 0;
  const delay = retryDelayMs(retries + 1);
  return {
    giveUp: (error) => {
      if (stillUsefulAt(attempt.decision, payload, attempt.clinic, toInstant(attempt.nowDate.getTime() + delay))) return undefined;
      log.error('message failed: no retry would still be useful', { messageName: name, kind, retries, error: errorName(error) });
      return `gave up after ${retries} retries: ${error instanceof RetryableError ? error.message : errorName(error)}`;
    },
    retry: (error) => scheduleRetry(attempt, delay, error),
    keep: async (error) => {
      if (error instanceof SentButUnrecordedError) throw error.cause;
      // SES may have the email: come back once the lease has run out so the crash policy records
      // "outcome unknown" rather than sending a second copy.
      log.error('SES gave no answer: outcome unknown, claim kept', { messageName: name, kind });
      return scheduleRetry(attempt, Math.max(attempt.leaseMs, delay), error);
    },
  };
}

/** Creates the message's next retry schedule; its failure is thrown (Lambda's retry is the last resort). */
async function scheduleRetry(attempt: Attempt, delayMs: number, cause: unknown): Promise<RetryOutcome> {
  const { scheduler, payload, name, kind, now } = attempt;
  const count = (payload.redelivery?.count ?? 0) + 1;
  const retryName = retryScheduleName(name, count);
  const retryAt = toInstant(attempt.nowDate.getTime() + delayMs);
  const redelivery: NonNullable<DispatchPayload['redelivery']> = { count, intendedAt: intendedTime(payload, now) };
  try {
    await scheduler.upsert({ name: retryName, at: retryAt, payload: { ...idsOf(payload), redelivery } });
  } catch (error) {
    attempt.log.error('retry schedule could not be created; failing the invocation', { messageName: name, kind, error: errorName(error) });
    throw new RetryableError(`sending ${name} failed and its retry could not be scheduled`, {
      cause: error instanceof Error ? new AggregateError([cause, error]) : cause,
    });
  }
  attempt.log.warn('message attempt failed; retry scheduled', { messageName: name, kind, retryName, retryAt, redelivery: count, error: errorName(cause) });
  return { status: 'retry-scheduled', name, retryName, retryAt, redelivery: count };
}

/**
 * Moves a non-urgent message to `deferredTo` under its next deferral name (offset suffix -d1,
 * -d2 …), and settles this claim as skipped, marked as a deferral so it is never claimed again.
 */
export async function defer(attempt: Attempt, deferredTo: Instant, why: string): Promise<RetryOutcome> {
  const { scheduler, ledger, log, payload, name, kind, now } = attempt;
  const next = deferredIdentity(payload.message);
  const deferredName = messageName(next);
  await scheduler.upsert({ name: deferredName, at: deferredTo, payload: { ...idsOf(payload), message: next } });
  await ledger.settleSkipped(name, `deferred to ${deferredTo}: ${why}`, now, deferredTo);
  log.info(`message deferred: ${why}`, { messageName: name, kind, deferredTo, deferredName });
  return { status: 'deferred', name, deferredName, deferredTo };
}
