/**
 * Sends one reminder, check-in, maintenance nudge, booking email (confirmation, change notice,
 * cancellation notice) or intake questionnaire, exactly once, built from current data, through the delivery pipeline.
 *
 * 1. Read the current state — client, plan, session, therapist — in one BatchGetItem (a second
 *    only when the payload lacks the plan or therapist id); its cost does not grow with history.
 * 2. Decide (send-message/decide.ts). Skip, recording the reason in the ledger, when the client is
 *    gone, suppressed or unsubscribed from the category; the plan is paused or completed; the
 *    session is cancelled or its version moved on (skipReasonFor, shared with sync-schedules); a
 *    check-in was already answered; a reminder's session has started; or `planSessionMessages`
 *    (the single source of truth for what a session should get) no longer plans this message. A
 *    nudge is sent only while the plan's maintenance mark names its due date. A booking email is
 *    sent only while its kind is turned on, its version is the session's, the session's status is
 *    the one it tells of and the session is still ahead (bookingSkipReason). An intake
 *    questionnaire is sent only while the plan has no baseline and its first session has not
 *    started (intakeSkipReason). A skip never
 *    overwrites a live claim: a claim older than the lease found there is settled by the lease rule.
 * 3. Deliver (delivery/pipeline.ts): claim the message name, resolve a claim already held
 *    (settled: a duplicate delivery; in flight: throw RetryableError so Lambda's retry looks
 *    again; older than the lease: "outcome unknown", marked failed, never resent blind), build,
 *    send with SES v2, record the SES message id, and settle a failure by its class.
 * 4. The build: a check-in or nudge that arrives inside the clinic's quiet hours (a retry, a late
 *    delivery) is deferred to the end of the quiet window; then it holds the client's one
 *    non-urgent email of the local day (DAYCAP item), and one held by another message defers it to
 *    the next day's sending window (send-message/retry.ts `defer`). Then render
 *    (send-message/render.ts): links carry signed tokens only.
 * 5. Failures follow dispatch's retry strategy (send-message/retry.ts): its own retry schedules,
 *    with the claim released or, when SES may have the email, kept.
 */
import { PermanentError, RetryableError } from '../domain/errors.js';
import { isUrgent, messageName } from '../domain/message.js';
import type { Clinic } from '../domain/model.js';
import { applyQuietHours, isInQuietHours, localDate, nextNonUrgentSlot, toInstant } from '../domain/time.js';
import { composeEmail } from '../email/email.js';
import type { EmailTexts } from '../email/texts.js';
import type { Clock } from '../ports/clock.js';
import type { OpaqueLog } from '../ports/log.js';
import type { Mailer } from '../ports/mailer.js';
import type { MessageScheduler } from '../ports/scheduler.js';
import type { ClaimRequest, ClinicStore, Ledger, LedgerStatus } from '../ports/store.js';
import type { LinkSigner } from '../security/tokens.js';
import { CLAIM_LEASE_MS, OUTCOME_UNKNOWN, type HeldClaim } from './delivery/lease.js';
import { refusalReason } from '../domain/errors.js';
import { deliver, recordSkip, type Sender } from './delivery/pipeline.js';
import { decide, keysOf, loadContext, withToldBooking } from './send-message/decide.js';
import { render } from './send-message/render.js';
import type { DispatchKind, DispatchRequest } from './send-message/request.js';
import { defer, dispatchRetry, type Attempt, type RetryOutcome } from './send-message/retry.js';

export { DISPATCH_KINDS, dispatchRequestSchema, type DispatchRequest } from './send-message/request.js';
export { retryDelayMs } from './send-message/retry.js';
export { OUTCOME_UNKNOWN };

const silentLog: OpaqueLog = { info: () => {}, warn: () => {}, error: () => {} };

export interface SendMessageDeps {
  readonly store: Pick<ClinicStore, 'getMessageContext'>;
  readonly ledger: Ledger;
  readonly mailer: Mailer;
  readonly scheduler: MessageScheduler;
  readonly tokens: Pick<LinkSigner, 'issue'>;
  readonly clinic: Clinic;
  readonly clock: Clock;
  readonly log?: OpaqueLog;
  readonly texts?: EmailTexts;
}

/** Dispatch's claim lease: twice its function's timeout in the manifest (delivery/lease.ts). */
export const DEFAULT_CLAIM_LEASE_MS = CLAIM_LEASE_MS.dispatch;

export type SendOutcome =
  | { readonly status: 'sent'; readonly name: string; readonly sesMessageId: string }
  | { readonly status: 'skipped'; readonly name: string; readonly reason: string }
  | RetryOutcome
  | { readonly status: 'duplicate'; readonly name: string; readonly existing: LedgerStatus }
  | { readonly status: 'failed'; readonly name: string; readonly reason: string };

export async function sendMessage(deps: SendMessageDeps, payload: DispatchRequest): Promise<SendOutcome> {
  const log = deps.log ?? silentLog;
  const kind = payload.message.kind as DispatchKind;
  const name = messageName(payload.message);
  const nowDate = deps.clock.now();
  const now = toInstant(nowDate);
  const keys = keysOf(payload);

  const ctx = await loadContext(deps.store, keys, payload.therapistId);
  const decision = await withToldBooking(deps.ledger, decide(ctx, payload, deps.clinic, now), kind);
  const planId = ctx.plan?.id ?? keys.planId;
  const therapistId = ctx.therapist?.id ?? payload.therapistId;
  const claim: ClaimRequest = {
    name,
    kind,
    clientId: payload.clientId,
    ...(planId ? { planId } : {}),
    ...(keys.sessionId ? { sessionId: keys.sessionId } : {}),
    ...(therapistId ? { therapistId } : {}),
    ...(decision.send ? { dueAt: decision.dueAt } : {}),
    now,
  };

  if (!decision.send) {
    const held = await recordSkip(deps.ledger, claim, decision.reason, DEFAULT_CLAIM_LEASE_MS);
    if (held?.state === 'outcome-unknown') return outcomeUnknown(log, name, kind);
    log.info('message skipped', { messageName: name, kind, reason: decision.reason });
    return { status: 'skipped', name, reason: decision.reason };
  }

  const attempt: Attempt = { ...deps, log, payload, decision, name, kind, nowDate, now, leaseMs: DEFAULT_CLAIM_LEASE_MS };
  return deliver({ ...deps, claim, leaseMs: DEFAULT_CLAIM_LEASE_MS, log, ids: { messageName: name, kind }, sender: dispatchSender(deps, attempt) });
}

function outcomeUnknown(log: OpaqueLog, name: string, kind: DispatchKind): SendOutcome {
  log.error('message outcome unknown: an earlier attempt stopped between SES and the ledger', { messageName: name, kind });
  return { status: 'failed', name, reason: OUTCOME_UNKNOWN };
}

/** Dispatch's part of the pipeline: its build (quiet hours, the daily cap, rendering) and what each end means. */
function dispatchSender(deps: SendMessageDeps, attempt: Attempt): Sender<SendOutcome> {
  const { log, name, kind, now, nowDate, decision } = attempt;
  return {
    build: async () => {
      if (!isUrgent(kind)) {
        const zone = decision.client.timezone;
        const quiet = deps.clinic.quietHours;
        const expiresAt = toInstant(nowDate.getTime() + 2 * 86_400_000);
        // Quiet hours first: a check-in retried or delivered late at night waits for the morning,
        // and only then takes the day's one non-urgent email.
        if (isInQuietHours(now, zone, quiet)) return { settled: await defer(attempt, applyQuietHours(now, zone, quiet), 'quiet hours') };
        if (!(await deps.ledger.holdDayCap(decision.client.id, localDate(now, zone), name, expiresAt))) {
          return { settled: await defer(attempt, nextNonUrgentSlot(now, zone, quiet), 'one non-urgent email per day') };
        }
      }
      const rendered = render(deps, decision, kind, nowDate);
      return { email: composeEmail({ clinic: deps.clinic, to: decision.client.email, rendered, tags: { message: name, kind } }) };
    },
    held: (held: HeldClaim) => {
      switch (held.state) {
        case 'settled':
          log.info('duplicate delivery: message already settled', { messageName: name, kind, existing: held.status });
          return { status: 'duplicate', name, existing: held.status };
        case 'in-flight':
          log.warn('message claimed by an attempt in flight; retrying later', { messageName: name, kind });
          throw new RetryableError(`message ${name} is claimed by an attempt in flight`);
        case 'outcome-unknown':
          return outcomeUnknown(log, name, kind);
      }
    },
    sent: (sesMessageId) => {
      log.info('message sent', { messageName: name, kind, sesMessageId });
      return { status: 'sent', name, sesMessageId };
    },
    failureReason: refusalReason,
    failed: (reason, error, gaveUp) => {
      if (!gaveUp) log.error('message failed permanently', { messageName: name, kind, code: error instanceof PermanentError ? error.code : undefined });
      return { status: 'failed', name, reason };
    },
    settledElsewhere: (existing) => ({ status: 'duplicate', name, existing }),
    retry: dispatchRetry(attempt),
  };
}
