/**
 * Sends one reminder, check-in, maintenance nudge, booking email (confirmation, change notice,
 * cancellation notice) or intake questionnaire, exactly once, built from current data.
 *
 * 1. Read the current state — client, plan, session, therapist — in one BatchGetItem (a second
 *    only when the payload lacks the plan or therapist id); its cost does not grow with history.
 * 2. Decide. Skip, recording the reason in the ledger, when the client is gone, suppressed or
 *    unsubscribed from the category; the plan is paused or completed; the session is cancelled or
 *    its version moved on (skipReasonFor, shared with sync-schedules); a check-in was already
 *    answered; a reminder's session has started; or `planSessionMessages` (the single source of
 *    truth for what a session should get) no longer plans this message. A nudge is sent only while
 *    the plan's maintenance mark names its due date. A booking email is sent only while its kind
 *    is turned on, its version is the session's, the session's status is the one it tells of and
 *    the session is still ahead (bookingSkipReason). An intake questionnaire is sent only while
 *    the plan has no baseline and its first session has not started (intakeSkipReason). A skip
 *    never overwrites a live claim: a claim older than the lease found there is settled by the
 *    crash policy below.
 * 3. Claim the message name in the ledger with a conditional write. A claim already there is
 *    resolved by `resolveHeldClaim` (claim-lease.ts, shared with alerts and summaries): settled
 *    means a duplicate delivery, do nothing; in flight means throw RetryableError so Lambda's retry
 *    looks again; older than the lease means "outcome unknown", marked failed, never resent blind.
 * 4. A check-in or nudge first holds the client's one non-urgent email of the local day
 *    (DAYCAP item). Held by another message: create a one-time schedule for the same message under
 *    a deferral name (offset suffix -d1, -d2 …) at the next day's sending window, and settle this
 *    claim as skipped "deferred to <instant>", marked as a deferral so it is never claimed again.
 * 5. Render (links carry signed tokens only), send with SES v2, record the SES message id.
 *
 * Errors after the claim are mapped in `settleFailure`, the one place:
 * - PermanentError (rejected, unverified sender, sending paused) → failed, no retry;
 * - SendOutcomeUnknownError (no answer from SES: it may have the email) → the claim is kept, and a
 *   retry schedule after the lease lets the next attempt record "outcome unknown";
 * - anything else (throttling, 5xx, storage) → the claim is released and dispatch schedules its own
 *   retry (`<name>.r<n>`, backoff 1, 2, 4 … 30 minutes, same message identity): the Scheduler
 *   invokes Lambda asynchronously, so a thrown error never reaches the schedule's retry policy and
 *   Lambda retries only twice. Past the message's usefulness — the same lateness rules that decide
 *   a late delivery (a reminder under an hour before its session, a check-in 72 hours after it was
 *   due, a nudge 72 hours after its due date) — it is marked failed "gave up after N retries".
 *   Only when the retry schedule cannot be created is the error thrown, leaving Lambda's own
 *   retries as the last resort.
 *
 * A check-in or nudge that arrives inside the clinic's quiet hours (a retry, a late delivery) is
 * not sent at night: like a second email of the day, it is deferred under a deferral name to the
 * end of the quiet window.
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../domain/errors.js';
import { dispatchPayloadSchema, type DispatchPayload } from '../domain/dispatch-payload.js';
import {
  BOOKING_KINDS,
  baseIdentity,
  categoryOf,
  deferredIdentity,
  isBookingKind,
  isUrgent,
  messageName,
  retryScheduleName,
  type MessageKind,
} from '../domain/message.js';
import { bookingSkipReason, toldBooking, type EarlierBooking } from '../domain/booking-emails.js';
import type { Clinic, Client, Therapist } from '../domain/model.js';
import { intakeLinkExpiry, intakeSkipReason } from '../domain/intake-questionnaire.js';
import { NUDGE_LATE_WINDOW_HOURS, nudgeIdentity, planSessionMessages, SKIP_REASONS, type MessageDecision } from '../domain/schedule-rules.js';
import { applyQuietHours, isInQuietHours, localDate, nextNonUrgentSlot, toInstant, type Instant } from '../domain/time.js';
import { composeEmail, type RenderedEmail } from '../email/email.js';
import {
  renderBookingCancellation,
  renderBookingChange,
  renderBookingConfirmation,
  renderCheckIn,
  renderIntakeQuestionnaire,
  renderMaintenanceNudge,
  renderReminder,
} from '../email/templates.js';
import type { EmailTexts } from '../email/texts.js';
import type { Clock } from '../ports/clock.js';
import type { Mailer } from '../ports/mailer.js';
import type { MessageScheduler, OneTimeSchedule } from '../ports/scheduler.js';
import {
  LedgerConflictError,
  SendOutcomeUnknownError,
  type ClaimRequest,
  type ClinicStore,
  type Ledger,
  type LedgerStatus,
  type MessageContext,
  type StoredPlan,
  type StoredSession,
} from '../ports/store.js';
import { pagePaths, type LinkSigner, type TokenPurpose } from '../security/tokens.js';
import { OUTCOME_UNKNOWN, resolveHeldClaim } from './claim-lease.js';
import { NO_LONGER_PLANNED, skipReasonFor } from '../domain/eligibility.js';

export { OUTCOME_UNKNOWN };

/** The kinds dispatch sends; summaries and therapist alerts have their own senders. */
export const DISPATCH_KINDS = ['reminder', 'check-in', 'maintenance-nudge', ...BOOKING_KINDS, 'intake-questionnaire'] as const satisfies readonly MessageKind[];
type DispatchKind = (typeof DISPATCH_KINDS)[number];

/** The dispatch payload, plus what only dispatch needs: a kind it sends and ids that agree. */
export const dispatchRequestSchema = dispatchPayloadSchema.superRefine((payload, ctx) => {
  const { kind, subjectId } = payload.message;
  if (!(DISPATCH_KINDS as readonly string[]).includes(kind)) {
    ctx.addIssue({ code: 'custom', path: ['message', 'kind'], message: `must be one of ${DISPATCH_KINDS.join(', ')}` });
  } else if (kind === 'maintenance-nudge' || kind === 'intake-questionnaire') {
    // Both are about a plan; the intake's payload names its plan's first session too.
    if (payload.planId !== undefined && payload.planId !== subjectId)
      ctx.addIssue({ code: 'custom', path: ['planId'], message: `must equal message.subjectId for a ${kind === 'maintenance-nudge' ? 'nudge' : kind}` });
  } else if (payload.sessionId !== undefined && payload.sessionId !== subjectId) {
    ctx.addIssue({ code: 'custom', path: ['sessionId'], message: `must equal message.subjectId for a ${kind}` });
  }
});
export type DispatchRequest = z.output<typeof dispatchRequestSchema>;

/** Log lines carry opaque ids and fixed reasons only; the type keeps objects (and PII) out. */
export type OpaqueAttributes = Record<string, string | number | boolean | undefined>;
export interface OpaqueLog {
  info(message: string, ...attributes: OpaqueAttributes[]): void;
  warn(message: string, ...attributes: OpaqueAttributes[]): void;
  error(message: string, ...attributes: OpaqueAttributes[]): void;
}

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
  /** How long a claim protects an attempt in flight. @default DEFAULT_CLAIM_LEASE_MS */
  readonly claimLeaseMs?: number;
  readonly texts?: EmailTexts;
}

/** Twice dispatch's 30 s timeout: no live attempt can hold a claim longer. */
export const DEFAULT_CLAIM_LEASE_MS = 60_000;

export type SendOutcome =
  | { readonly status: 'sent'; readonly name: string; readonly sesMessageId: string }
  | { readonly status: 'skipped'; readonly name: string; readonly reason: string }
  | { readonly status: 'deferred'; readonly name: string; readonly deferredName: string; readonly deferredTo: Instant }
  | { readonly status: 'retry-scheduled'; readonly name: string; readonly retryName: string; readonly retryAt: Instant; readonly redelivery: number }
  | { readonly status: 'duplicate'; readonly name: string; readonly existing: LedgerStatus }
  | { readonly status: 'failed'; readonly name: string; readonly reason: string };

// ------------------------------------------------------------------ reading

interface Keys {
  readonly clientId: string;
  readonly planId?: string;
  readonly sessionId?: string;
}

function keysOf(payload: DispatchRequest): Keys {
  const { kind, subjectId } = payload.message;
  if (kind === 'maintenance-nudge') return { clientId: payload.clientId, planId: subjectId };
  if (kind === 'intake-questionnaire') return { clientId: payload.clientId, planId: subjectId, ...(payload.sessionId ? { sessionId: payload.sessionId } : {}) };
  return { clientId: payload.clientId, sessionId: subjectId, ...(payload.planId ? { planId: payload.planId } : {}) };
}

/**
 * One BatchGetItem for everything the payload names; a second only for what the first revealed
 * (the plan of a session, the therapist of a plan). Never a query over the client's history.
 */
async function loadContext(store: SendMessageDeps['store'], keys: Keys, therapistId: string | undefined): Promise<MessageContext> {
  const first = await store.getMessageContext({ ...keys, ...(therapistId ? { therapistId } : {}) });
  const planId = keys.planId ?? first.session?.planId;
  const needPlan = !first.plan && planId !== undefined && keys.planId === undefined;
  const wantedTherapist = first.plan?.therapistId ?? first.session?.therapistId ?? therapistId;
  const needTherapist = wantedTherapist !== undefined && first.therapist?.id !== wantedTherapist;
  if (!needPlan && !needTherapist) return first;
  const second = await store.getMessageContext({
    clientId: keys.clientId,
    ...(needPlan ? { planId } : {}),
    ...(needTherapist ? { therapistId: wantedTherapist } : {}),
  });
  return {
    ...first,
    ...(second.plan && !first.plan ? { plan: second.plan } : {}),
    ...(needTherapist ? (second.therapist ? { therapist: second.therapist } : { therapist: undefined }) : {}),
  };
}

// ------------------------------------------------------------------ deciding

type Decision =
  | { readonly send: false; readonly reason: string }
  | {
      readonly send: true;
      readonly client: Client;
      readonly plan: StoredPlan;
      readonly therapist: Therapist;
      readonly session?: StoredSession;
      readonly dueAt: Instant;
      readonly told?: EarlierBooking;
    };

const skip = (reason: string): Decision => ({ send: false, reason });

/** Skips that depend only on how late the message is, read at the actual send time. */
const LATENESS_REASONS: readonly string[] = [SKIP_REASONS.sessionStarted, SKIP_REASONS.tooLate, SKIP_REASONS.checkInWindowPassed];

function decisionFor(decisions: MessageDecision[], name: string): MessageDecision | undefined {
  return decisions.find((d) => (d.action === 'schedule' ? d.message.name : d.name) === name);
}

/** Why the session's message `name` would be too late at `at`, if it would. */
function latenessAt(rules: Omit<Parameters<typeof planSessionMessages>[0], 'now'>, name: string, at: Instant): string | undefined {
  const late = decisionFor(planSessionMessages({ ...rules, now: at }), name);
  return late?.action === 'skip' && LATENESS_REASONS.includes(late.reason) ? late.reason : undefined;
}

/**
 * When the message was meant to go: the first schedule's time, carried by a retry schedule, else
 * the time the Scheduler meant this one for (`scheduledTime`, the same on every retry), else now.
 */
function intendedTime(payload: DispatchRequest, now: Instant): Instant {
  const candidate = payload.redelivery?.intendedAt ?? payload.scheduledTime;
  if (candidate === undefined) return now;
  try {
    const intended = toInstant(candidate);
    return intended < now ? intended : now;
  } catch {
    // Not an instant (a hand-made payload): ask at the actual time.
    return now;
  }
}

/**
 * The instant at which to ask whether this message belongs to the current state: just before the
 * time it was meant for. Asked later, a reminder delivered on time would look "superseded" by the
 * next one, and a retry hours later would skip a reminder that is still useful.
 */
function planningProbe(payload: DispatchRequest, now: Instant): Instant {
  return toInstant(Date.parse(intendedTime(payload, now)) - 1);
}

function decide(ctx: MessageContext, payload: DispatchRequest, clinic: Clinic, now: Instant): Decision {
  const identity = payload.message;
  const kind = identity.kind as DispatchKind;
  const { client, plan, session, therapist } = ctx;
  const standing = skipReasonFor(ctx, identity);
  if (standing) return skip(standing);
  if (!client || !plan) return skip('plan not found');
  if (!therapist) return skip('therapist not found');

  if (kind === 'maintenance-nudge') {
    const mark = plan.maintenanceMark;
    const current = mark ? messageName(nudgeIdentity(plan.id, mark.dueAt, client.timezone)) : undefined;
    if (!mark || current !== messageName(baseIdentity(identity))) return skip('maintenance no longer due');
    return { send: true, client, plan, therapist, dueAt: mark.dueAt };
  }

  if (kind === 'intake-questionnaire') {
    // The payload's session is the plan's first as sync-schedules saw it; a new first session re-plans it.
    const firstSession = session?.planId === plan.id ? session : undefined;
    const reason = intakeSkipReason({ plan, ...(firstSession ? { firstSession } : {}), now });
    return reason
      ? skip(reason)
      : { send: true, client, plan, therapist, ...(firstSession ? { session: firstSession } : {}), dueAt: intendedTime(payload, now) };
  }

  if (!session) return skip('session not found');
  if (isBookingKind(kind)) {
    // Built from the session as it is now; sync-schedules decided which one the change called for.
    const reason = bookingSkipReason(kind, identity, session, clinic.bookingEmails, now);
    return reason ? skip(reason) : { send: true, client, plan, therapist, session, dueAt: intendedTime(payload, now) };
  }
  if (kind === 'check-in' && session.checkInAnsweredAt) return skip('check-in already answered');

  const name = messageName(baseIdentity(identity));
  const rules = { session, plan, client, clinic };
  const late = latenessAt(rules, name, now);
  if (late) return skip(late);
  const planned = decisionFor(planSessionMessages({ ...rules, now: planningProbe(payload, now) }), name);
  if (!planned) return skip(NO_LONGER_PLANNED);
  if (planned.action === 'skip') return skip(planned.reason);
  return { send: true, client, plan, therapist, session, dueAt: planned.message.dueAt };
}

// ------------------------------------------------------------------ rendering

function render(deps: SendMessageDeps, decision: Extract<Decision, { send: true }>, kind: DispatchKind, at: Date): RenderedEmail {
  const { clinic, tokens } = deps;
  const { client, plan, therapist, session } = decision;
  const link = (purpose: Exclude<TokenPurpose, 'adjust-plan'>, subject: string, lifetimeDays?: number) => {
    const token = tokens.issue({ purpose, clientId: client.id, subject, now: at, ...(lifetimeDays ? { lifetimeDays } : {}) });
    const path = purpose === 'check-in' ? pagePaths.checkIn(token) : pagePaths[purpose](token);
    return `${clinic.baseUrl}${path}`;
  };
  const unsubscribe = () => link('unsubscribe', categoryOf(kind)!);
  const base = { clinic, client, therapist, plan, ...(deps.texts ? { texts: deps.texts } : {}) };
  switch (kind) {
    case 'booking-confirmation':
      return renderBookingConfirmation({ ...base, session: session!, now: at, links: { reschedule: link('reschedule', session!.id) } });
    case 'booking-change':
      return renderBookingChange({
        ...base,
        session: session!,
        now: at,
        ...(decision.told ? { movedFrom: decision.told } : {}),
        links: { reschedule: link('reschedule', session!.id) },
      });
    case 'booking-cancellation':
      return renderBookingCancellation({
        ...base,
        session: decision.told
          ? { ...session!, start: decision.told.start, durationMinutes: decision.told.durationMinutes, location: decision.told.location }
          : session!,
        now: at,
      });
    case 'reminder':
      return renderReminder({
        ...base,
        session: session!,
        now: at,
        links: { confirm: link('confirm', session!.id), reschedule: link('reschedule', session!.id), unsubscribe: unsubscribe() },
      });
    case 'check-in':
      return renderCheckIn({ ...base, session: session!, links: { checkIn: link('check-in', session!.id), unsubscribe: unsubscribe() } });
    case 'maintenance-nudge':
      return renderMaintenanceNudge({ ...base, dueAt: decision.dueAt, links: { unsubscribe: unsubscribe() } });
    case 'intake-questionnaire': {
      const lifetimeDays = (intakeLinkExpiry(session?.start, at).getTime() - at.getTime()) / 86_400_000;
      return renderIntakeQuestionnaire({
        ...base,
        ...(session ? { session } : {}),
        links: { intake: link('intake', plan.id, lifetimeDays), unsubscribe: unsubscribe() },
      });
    }
  }
}

// ------------------------------------------------------------------ retries

/** How long before the n-th retry (1-based): 1, 2, 4 … minutes, at most 30. */
export function retryDelayMs(n: number): number {
  return Math.min(2 ** (n - 1), 30) * 60_000;
}

/** The payload's ids and identity, without what the Scheduler or a retry added to it. */
function idsOf(payload: DispatchRequest): OneTimeSchedule['payload'] {
  const { scheduledTime: _s, executionId: _e, attempt: _a, redelivery: _r, ...ids } = payload;
  return ids;
}

/**
 * Whether the message would still be sent at `at`, by the rules that judge a late delivery: a
 * session's message while the time rules do not call it too late, a nudge within
 * NUDGE_LATE_WINDOW_HOURS of its due date.
 */
function stillUsefulAt(attempt: Attempt, at: Instant): boolean {
  const { client, plan, session, dueAt } = attempt.decision;
  // An intake questionnaire is worth sending until the first session starts.
  if (attempt.kind === 'intake-questionnaire')
    return session ? at < toInstant(session.start) : Date.parse(at) <= Date.parse(dueAt) + NUDGE_LATE_WINDOW_HOURS * 3_600_000;
  if (!session) return Date.parse(at) <= Date.parse(dueAt) + NUDGE_LATE_WINDOW_HOURS * 3_600_000;
  // A booking email is worth sending until the session (its old time, for a cancellation) starts.
  if (isBookingKind(attempt.kind)) return at < toInstant(session.start);
  const rules = { session, plan, client, clinic: attempt.deps.clinic };
  return latenessAt(rules, messageName(baseIdentity(attempt.payload.message)), at) === undefined;
}

interface Attempt {
  readonly deps: SendMessageDeps;
  readonly log: OpaqueLog;
  readonly payload: DispatchRequest;
  readonly decision: Extract<Decision, { send: true }>;
  readonly name: string;
  readonly kind: DispatchKind;
  readonly nowDate: Date;
  readonly now: Instant;
}

/** Creates the message's next retry schedule; its failure is thrown (Lambda's retry is the last resort). */
async function scheduleRetry(attempt: Attempt, delayMs: number, cause: unknown): Promise<SendOutcome> {
  const { deps, payload, name, kind, now } = attempt;
  const count = (payload.redelivery?.count ?? 0) + 1;
  const retryName = retryScheduleName(name, count);
  const retryAt = toInstant(attempt.nowDate.getTime() + delayMs);
  const redelivery: NonNullable<DispatchPayload['redelivery']> = { count, intendedAt: intendedTime(payload, now) };
  try {
    await deps.scheduler.upsert({ name: retryName, at: retryAt, payload: { ...idsOf(payload), redelivery } });
  } catch (error) {
    attempt.log.error('retry schedule could not be created; failing the invocation', { messageName: name, kind, error: errorName(error) });
    throw new RetryableError(`sending ${name} failed and its retry could not be scheduled`, {
      cause: error instanceof Error ? new AggregateError([cause, error]) : cause,
    });
  }
  attempt.log.warn('message attempt failed; retry scheduled', { messageName: name, kind, retryName, retryAt, redelivery: count, error: errorName(cause) });
  return { status: 'retry-scheduled', name, retryName, retryAt, redelivery: count };
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'unknown');

/**
 * Moves a non-urgent message to `deferredTo` under its next deferral name, and settles this claim
 * as skipped, marked as a deferral so it is never claimed again.
 */
async function defer(attempt: Attempt, deferredTo: Instant, why: string): Promise<SendOutcome> {
  const { deps, log, payload, name, kind, now } = attempt;
  const next = deferredIdentity(payload.message);
  const deferredName = messageName(next);
  await deps.scheduler.upsert({ name: deferredName, at: deferredTo, payload: { ...idsOf(payload), message: next } });
  await deps.ledger.settleSkipped(name, `deferred to ${deferredTo}: ${why}`, now, deferredTo);
  log.info(`message deferred: ${why}`, { messageName: name, kind, deferredTo, deferredName });
  return { status: 'deferred', name, deferredName, deferredTo };
}

/** A ledger write that lost to another attempt: that attempt's outcome stands. */
async function settledElsewhere(attempt: Attempt, error: LedgerConflictError): Promise<SendOutcome> {
  const entry = await attempt.deps.ledger.get(attempt.name);
  const existing = entry?.status ?? 'failed';
  attempt.log.warn('ledger entry settled by another attempt', { messageName: attempt.name, kind: attempt.kind, existing, error: error.name });
  return { status: 'duplicate', name: attempt.name, existing };
}

/** The one place a failure after the claim becomes failed, a kept claim, or a release and a retry. */
async function settleFailure(attempt: Attempt, error: unknown): Promise<SendOutcome> {
  const { deps, log, name, kind, now, payload } = attempt;
  try {
    if (error instanceof PermanentError) {
      const reason = `${error.code}: ${error.message}`;
      await deps.ledger.markFailed(name, reason, now);
      log.error('message failed permanently', { messageName: name, kind, code: error.code });
      return { status: 'failed', name, reason };
    }
    if (error instanceof SendOutcomeUnknownError) {
      // SES may have the email: keep the claim, and come back once the lease has run out so the
      // crash policy records "outcome unknown" rather than sending a second copy.
      const lease = deps.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
      log.error('SES gave no answer: outcome unknown, claim kept', { messageName: name, kind });
      return await scheduleRetry(attempt, Math.max(lease, retryDelayMs((payload.redelivery?.count ?? 0) + 1)), error);
    }
    const retries = payload.redelivery?.count ?? 0;
    const delay = retryDelayMs(retries + 1);
    if (!stillUsefulAt(attempt, toInstant(attempt.nowDate.getTime() + delay))) {
      const reason = `gave up after ${retries} retries: ${error instanceof RetryableError ? error.message : errorName(error)}`;
      await deps.ledger.markFailed(name, reason, now);
      log.error('message failed: no retry would still be useful', { messageName: name, kind, retries, error: errorName(error) });
      return { status: 'failed', name, reason };
    }
    await deps.ledger.release(name);
    return await scheduleRetry(attempt, delay, error);
  } catch (settleError) {
    if (settleError instanceof LedgerConflictError) return settledElsewhere(attempt, settleError);
    throw settleError;
  }
}

// ------------------------------------------------------------------ the use case

export async function sendMessage(deps: SendMessageDeps, payload: DispatchRequest): Promise<SendOutcome> {
  const log = deps.log ?? silentLog;
  const { ledger } = deps;
  const identity = payload.message;
  const kind = identity.kind as DispatchKind;
  const name = messageName(identity);
  const nowDate = deps.clock.now();
  const now = toInstant(nowDate);
  const keys = keysOf(payload);
  const lease = deps.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;

  const ctx = await loadContext(deps.store, keys, payload.therapistId);
  let decision = decide(ctx, payload, deps.clinic, now);
  if (decision.send && (kind === 'booking-change' || kind === 'booking-cancellation') && decision.session) {
    // The booking the client was last told of, from the ledger (two reads in the usual case): a
    // change notice's "was", the cancelled time a cancellation notice names.
    const { session } = decision;
    const current =
      kind === 'booking-cancellation'
        ? { version: session.version, start: session.start, durationMinutes: session.durationMinutes, location: session.location }
        : undefined;
    const told = await toldBooking(session, (names) => Promise.all(names.map(async (n) => (await ledger.get(n))?.status)), current);
    if (told) decision = { ...decision, told };
  }
  const request: ClaimRequest = {
    name,
    kind,
    clientId: payload.clientId,
    ...((ctx.plan?.id ?? keys.planId) ? { planId: ctx.plan?.id ?? keys.planId } : {}),
    ...(keys.sessionId ? { sessionId: keys.sessionId } : {}),
    ...((ctx.therapist?.id ?? payload.therapistId) ? { therapistId: ctx.therapist?.id ?? payload.therapistId } : {}),
    ...(decision.send ? { dueAt: decision.dueAt } : {}),
    now,
  };

  if (!decision.send) {
    const standing = await ledger.markSkipped(request, decision.reason);
    // A claim left by an attempt that died would otherwise stay open for ever: settle it by the lease rule.
    if (standing?.status === 'claimed') {
      const held = await resolveHeldClaim(ledger, standing, now, lease);
      if (held.state === 'outcome-unknown') {
        log.error('message outcome unknown: an earlier attempt stopped between SES and the ledger', { messageName: name, kind });
        return { status: 'failed', name, reason: OUTCOME_UNKNOWN };
      }
    }
    log.info('message skipped', { messageName: name, kind, reason: decision.reason });
    return { status: 'skipped', name, reason: decision.reason };
  }

  const claim = await ledger.claim(request);
  if (!claim.claimed) {
    const held = await resolveHeldClaim(ledger, claim.existing, now, lease);
    switch (held.state) {
      case 'settled':
        log.info('duplicate delivery: message already settled', { messageName: name, kind, existing: held.status });
        return { status: 'duplicate', name, existing: held.status };
      case 'in-flight':
        log.warn('message claimed by an attempt in flight; retrying later', { messageName: name, kind });
        throw new RetryableError(`message ${name} is claimed by an attempt in flight`);
      case 'outcome-unknown':
        log.error('message outcome unknown: an earlier attempt stopped between SES and the ledger', { messageName: name, kind });
        return { status: 'failed', name, reason: OUTCOME_UNKNOWN };
    }
  }

  // From here the claim is ours: every path ends in sent, skipped, failed, a released claim with
  // a retry schedule, or a kept claim whose retry records "outcome unknown".
  const attempt: Attempt = { deps, log, payload, decision, name, kind, nowDate, now };
  let rendered: RenderedEmail;
  try {
    if (!isUrgent(kind)) {
      const zone = decision.client.timezone;
      const quiet = deps.clinic.quietHours;
      const expiresAt = toInstant(nowDate.getTime() + 2 * 86_400_000);
      // Quiet hours first: a check-in retried or delivered late at night waits for the morning,
      // and only then takes the day's one non-urgent email.
      if (isInQuietHours(now, zone, quiet)) return await defer(attempt, applyQuietHours(now, zone, quiet), 'quiet hours');
      if (!(await ledger.holdDayCap(decision.client.id, localDate(now, zone), name, expiresAt))) {
        return await defer(attempt, nextNonUrgentSlot(now, zone, quiet), 'one non-urgent email per day');
      }
    }
    rendered = render(deps, decision, kind, nowDate);
  } catch (error) {
    if (error instanceof LedgerConflictError) return settledElsewhere(attempt, error);
    return settleFailure(attempt, error);
  }

  let sesMessageId: string;
  try {
    const email = composeEmail({ clinic: deps.clinic, to: decision.client.email, rendered, tags: { message: name, kind } });
    ({ messageId: sesMessageId } = await deps.mailer.send(email));
  } catch (error) {
    return settleFailure(attempt, error);
  }
  // SES has the email. A failure to record it leaves the claim in place on purpose: releasing it
  // would let a retry send a second copy (the lease rule records it as "outcome unknown").
  try {
    await ledger.markSent(name, sesMessageId, now);
  } catch (error) {
    if (!(error instanceof LedgerConflictError)) throw error;
    // This attempt outlived its lease and another recorded "outcome unknown": the email went, once.
    log.error('message sent, but the ledger was settled by another attempt', { messageName: name, kind, sesMessageId });
  }
  log.info('message sent', { messageName: name, kind, sesMessageId });
  return { status: 'sent', name, sesMessageId };
}
