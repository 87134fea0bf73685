/**
 * The exactly-once send, written once for every sender (dispatch's messages, therapist alerts,
 * summaries and the monthly clinic report). Step by step:
 *
 * 1. Claim the message name in the ledger with a conditional write. A claim already there is
 *    resolved by the lease rule (resolveHeldClaim, lease.ts) and handed to the sender: settled
 *    means a duplicate delivery, in flight means another attempt is at work, older than the lease
 *    means "outcome unknown" (marked failed, never resent blind).
 * 2. Build: the sender's decision and rendering, now that the claim is ours. It returns the email,
 *    or an outcome it settled the claim with itself (skipped, deferred).
 * 3. Send it with the mailer.
 * 4. Record the SES message id. A record that loses to another attempt (which outlived us and
 *    recorded "outcome unknown") leaves that entry: the email went, once. A record that keeps
 *    failing leaves the claim in place on purpose, as SentButUnrecordedError: releasing it would
 *    let a retry send a second copy.
 * 5. Settle a failure by its class (classify): fail or skip → marked failed; retry → the claim is
 *    released (unless the sender's strategy gives up, which marks it failed) and the strategy
 *    arranges the next attempt; keep → the claim stays and the strategy decides how to come back
 *    after the lease. A settle that loses to another attempt leaves that attempt's outcome.
 *
 * From the claim on, every path ends in sent, skipped, failed, a released claim with a way back,
 * or a kept claim the lease rule will settle.
 */
import { LedgerConflictError, SentButUnrecordedError, errorName } from '../../domain/errors.js';
import type { OpaqueAttributes, OpaqueLog } from '../../ports/log.js';
import type { Mailer, OutgoingEmail } from '../../ports/mailer.js';
import type { ClaimRequest, Ledger, LedgerStatus } from '../../ports/store.js';
import { classify, type FailureStage } from '../../domain/errors.js';
import { resolveHeldClaim, type HeldClaim } from './lease.js';

/** What the build step came to: an email to send, or an outcome the sender settled the claim with. */
export type Built<R> = { readonly email: OutgoingEmail } | { readonly settled: R };

/** How a sender comes back after a failure a retry may fix, or one that may have sent the email. */
export interface RetryStrategy<R> {
  /** Why no retry would still be of use, if so: the message is then marked failed with it. */
  giveUp?(error: unknown): string | undefined;
  /** The claim was released: arrange the next attempt (a schedule, the caller's retry, the next sweep). */
  retry(error: unknown): Promise<R>;
  /** The claim is kept (SES may have the email, or the ledger could not record it). */
  keep(error: unknown): Promise<R>;
  /** How many times to try recording a send before it counts as unrecorded. @default 1 */
  readonly recordAttempts?: number;
}

/** What a sender supplies: its decision and rendering (build), its retry strategy, and what each end means to it. */
export interface Sender<R> {
  /** The claim is ours: decide, and render or settle. */
  build(): Promise<Built<R>>;
  /** Another attempt holds, or held, the claim. */
  held(held: HeldClaim): R | Promise<R>;
  sent(messageId: string): R;
  /** The reason a failure is recorded with in the ledger. */
  failureReason(error: unknown): string;
  /** The message was marked failed: refused by its class, or given up by the strategy. */
  failed(reason: string, error: unknown, gaveUp: boolean): R;
  /** A settle lost to another attempt; its outcome stands. */
  settledElsewhere(existing: LedgerStatus): R;
  readonly retry: RetryStrategy<R>;
}

export interface Delivery<R> {
  readonly ledger: Ledger;
  readonly mailer: Mailer;
  readonly claim: ClaimRequest;
  readonly leaseMs: number;
  readonly log: Pick<OpaqueLog, 'warn' | 'error'>;
  /** Opaque ids for the pipeline's own log lines. */
  readonly ids: OpaqueAttributes;
  readonly sender: Sender<R>;
}

export async function deliver<R>(delivery: Delivery<R>): Promise<R> {
  const { ledger, claim, sender } = delivery;
  const claimed = await ledger.claim(claim);
  if (!claimed.claimed) return sender.held(await resolveHeldClaim(ledger, claimed.existing, claim.now, delivery.leaseMs));

  let stage: FailureStage = 'before-send';
  let messageId: string;
  try {
    const built = await sender.build();
    if ('settled' in built) return built.settled;
    stage = 'send';
    ({ messageId } = await delivery.mailer.send(built.email));
  } catch (error) {
    return settleFailure(delivery, error, stage);
  }
  return record(delivery, messageId);
}

/** SES has the email: record it, or leave the claim for the lease rule. */
async function record<R>(delivery: Delivery<R>, messageId: string): Promise<R> {
  const { ledger, claim, sender, log } = delivery;
  const attempts = sender.retry.recordAttempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    try {
      await ledger.markSent(claim.name, messageId, claim.now);
      return sender.sent(messageId);
    } catch (error) {
      if (error instanceof LedgerConflictError) {
        // This attempt outlived its lease and another recorded "outcome unknown": the email went, once.
        log.error('message sent, but the ledger was settled by another attempt', { ...delivery.ids, sesMessageId: messageId });
        return sender.sent(messageId);
      }
      if (attempt >= attempts) return sender.retry.keep(new SentButUnrecordedError(claim.name, { cause: error }));
      // A short pause rides out a passing throttle.
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

/** The one place a failure after the claim becomes failed, a released claim and a retry, or a kept claim. */
async function settleFailure<R>(delivery: Delivery<R>, error: unknown, stage: FailureStage): Promise<R> {
  const { ledger, claim, sender } = delivery;
  try {
    if (error instanceof LedgerConflictError) return await settledElsewhere(delivery, error);
    switch (classify(error, stage)) {
      case 'keep':
        return await sender.retry.keep(error);
      case 'retry': {
        const gaveUp = sender.retry.giveUp?.(error);
        if (gaveUp !== undefined) return await markFailed(delivery, gaveUp, error, true);
        await ledger.release(claim.name);
        return await sender.retry.retry(error);
      }
      case 'fail':
      case 'skip':
        return await markFailed(delivery, sender.failureReason(error), error, false);
    }
  } catch (settleError) {
    if (settleError instanceof LedgerConflictError) return settledElsewhere(delivery, settleError);
    throw settleError;
  }
}

async function markFailed<R>(delivery: Delivery<R>, reason: string, error: unknown, gaveUp: boolean): Promise<R> {
  await delivery.ledger.markFailed(delivery.claim.name, reason, delivery.claim.now);
  return delivery.sender.failed(reason, error, gaveUp);
}

/** A ledger write that lost to another attempt: that attempt's outcome stands. */
async function settledElsewhere<R>(delivery: Delivery<R>, error: LedgerConflictError): Promise<R> {
  const entry = await delivery.ledger.get(delivery.claim.name);
  const existing = entry?.status ?? 'failed';
  delivery.log.warn('ledger entry settled by another attempt', { ...delivery.ids, existing, error: errorName(error) });
  return delivery.sender.settledElsewhere(existing);
}

/**
 * Records a message the decision skipped before any claim. A skip never overwrites a live claim;
 * a claim found there is resolved by the lease rule (older than the lease: "outcome unknown").
 */
export async function recordSkip(ledger: Ledger, request: ClaimRequest, reason: string, leaseMs: number): Promise<HeldClaim | undefined> {
  const standing = await ledger.markSkipped(request, reason);
  return standing?.status === 'claimed' ? resolveHeldClaim(ledger, standing, request.now, leaseMs) : undefined;
}
