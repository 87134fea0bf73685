/**
 * Sends one reminder, check-in or maintenance nudge, exactly once, built from current data.
 *
 * 1. Read the current state — client, plan, session, therapist — in one BatchGetItem (a second
 *    only when the payload lacks the plan or therapist id); its cost does not grow with history.
 * 2. Decide. Skip, recording the reason in the ledger, when the client is gone, suppressed or
 *    unsubscribed from the category; the plan is paused or completed; the session is cancelled or
 *    its version moved on; a check-in was already answered; a reminder's session has started; or
 *    `planSessionMessages` (the single source of truth for what a session should get) no longer
 *    plans this message. A nudge is sent only while the plan's maintenance mark names its due date.
 * 3. Claim the message name in the ledger with a conditional write. A claim already there means:
 *    - sent, skipped or failed: a duplicate delivery; do nothing;
 *    - claimed less than the lease ago (2 × the function timeout): an attempt is in flight; throw
 *      RetryableError so the retry looks again later;
 *    - claimed longer ago: an attempt stopped between SES and the ledger and the outcome is
 *      unknown. Never resend blind (a duplicate reminder is worse than an alarm): mark it failed
 *      with "outcome unknown", which shows in the outbox and raises the failure alarm.
 * 4. A check-in or nudge first holds the client's one non-urgent email of the local day
 *    (DAYCAP item). Held by another message: create a one-time schedule for the same message under
 *    a deferral name (offset suffix -d1, -d2 …) at the next day's sending window, and record this
 *    one as skipped "deferred to <instant>: one non-urgent email per day".
 * 5. Render (links carry signed tokens only), send with SES v2, record the SES message id.
 *
 * Errors are mapped in `settleFailure`: PermanentError (rejected, unverified sender, sending paused)
 * → ledger failed, return normally, no retry; anything else (throttling, 5xx, storage) → release
 * the claim and rethrow, so the retry policy tries again with backoff.
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../domain/errors.js';
import { dispatchPayloadSchema } from '../domain/dispatch-payload.js';
import { categoryOf, isUrgent, messageName, type MessageIdentity, type MessageKind } from '../domain/message.js';
import type { Clinic, Client, Therapist } from '../domain/model.js';
import { nudgeIdentity, planSessionMessages, SKIP_REASONS, type MessageDecision } from '../domain/schedule-rules.js';
import { localDate, nextNonUrgentSlot, toInstant, type Instant } from '../domain/time.js';
import { composeEmail, type RenderedEmail } from '../email/email.js';
import { renderCheckIn, renderMaintenanceNudge, renderReminder } from '../email/templates.js';
import type { EmailTexts } from '../email/texts.js';
import type { Clock } from '../ports/clock.js';
import type { Mailer } from '../ports/mailer.js';
import type { MessageScheduler } from '../ports/scheduler.js';
import type { ClaimRequest, ClinicStore, Ledger, LedgerStatus, MessageContext, StoredPlan, StoredSession } from '../ports/store.js';
import { pagePaths, type TokenPurpose, type TokenSigner } from '../security/tokens.js';

/** The kinds dispatch sends; summaries and therapist alerts have their own senders. */
export const DISPATCH_KINDS = ['reminder', 'check-in', 'maintenance-nudge'] as const satisfies readonly MessageKind[];
type DispatchKind = (typeof DISPATCH_KINDS)[number];

/** The dispatch payload, plus what only dispatch needs: a kind it sends and ids that agree. */
export const dispatchRequestSchema = dispatchPayloadSchema.superRefine((payload, ctx) => {
  const { kind, subjectId } = payload.message;
  if (!(DISPATCH_KINDS as readonly string[]).includes(kind)) {
    ctx.addIssue({ code: 'custom', path: ['message', 'kind'], message: `must be one of ${DISPATCH_KINDS.join(', ')}` });
  } else if (kind === 'maintenance-nudge') {
    if (payload.planId !== undefined && payload.planId !== subjectId) ctx.addIssue({ code: 'custom', path: ['planId'], message: 'must equal message.subjectId for a nudge' });
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
  readonly tokens: TokenSigner;
  readonly clinic: Clinic;
  readonly clock: Clock;
  readonly log?: OpaqueLog;
  /** How long a claim protects an attempt in flight. @default DEFAULT_CLAIM_LEASE_MS */
  readonly claimLeaseMs?: number;
  readonly texts?: EmailTexts;
}

/** Twice dispatch's 30 s timeout: no live attempt can hold a claim longer. */
export const DEFAULT_CLAIM_LEASE_MS = 60_000;

export const OUTCOME_UNKNOWN = 'outcome unknown: an earlier attempt stopped between SES and the ledger';

export type SendOutcome =
  | { readonly status: 'sent'; readonly name: string; readonly sesMessageId: string }
  | { readonly status: 'skipped'; readonly name: string; readonly reason: string }
  | { readonly status: 'deferred'; readonly name: string; readonly deferredName: string; readonly deferredTo: Instant }
  | { readonly status: 'duplicate'; readonly name: string; readonly existing: LedgerStatus }
  | { readonly status: 'failed'; readonly name: string; readonly reason: string };

// ------------------------------------------------------------------ deferral names

const DEFERRAL = /-d(\d+)$/;
const MAX_OFFSET = 24;

/** The identity a message was first scheduled under: its offset without a deferral suffix. */
export function baseIdentity(identity: MessageIdentity): MessageIdentity {
  return { ...identity, offset: identity.offset.replace(DEFERRAL, '') };
}

/**
 * The identity of a message pushed to another day: `after` → `after-d1` → `after-d2`. Only
 * check-ins (`after`) and nudges (`yyyymmdd`) are deferred, so the suffix always fits the
 * 24-character offset limit; a longer offset is refused rather than cut, which would lose its base.
 */
export function deferredIdentity(identity: MessageIdentity): MessageIdentity {
  const count = Number(DEFERRAL.exec(identity.offset)?.[1] ?? 0) + 1;
  const offset = `${baseIdentity(identity).offset}-d${count}`;
  if (offset.length > MAX_OFFSET) throw new RangeError(`cannot defer ${messageName(identity)}: offset "${offset}" is longer than ${MAX_OFFSET} characters`);
  return { ...identity, offset };
}

// ------------------------------------------------------------------ reading

interface Keys {
  readonly clientId: string;
  readonly planId?: string;
  readonly sessionId?: string;
}

function keysOf(payload: DispatchRequest): Keys {
  const { kind, subjectId } = payload.message;
  if (kind === 'maintenance-nudge') return { clientId: payload.clientId, planId: subjectId };
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
  | { readonly send: true; readonly client: Client; readonly plan: StoredPlan; readonly therapist: Therapist; readonly session?: StoredSession; readonly dueAt: Instant };

const skip = (reason: string): Decision => ({ send: false, reason });

/** Skips that depend only on how late the message is, read at the actual send time. */
const LATENESS_REASONS: readonly string[] = [SKIP_REASONS.sessionStarted, SKIP_REASONS.tooLate, SKIP_REASONS.checkInWindowPassed];

function decisionFor(decisions: MessageDecision[], name: string): MessageDecision | undefined {
  return decisions.find((d) => (d.action === 'schedule' ? d.message.name : d.name) === name);
}

/**
 * The instant at which to ask whether this message belongs to the current state: just before the
 * time the Scheduler meant it for (`scheduledTime`, the same on every retry). Asked later, a
 * reminder delivered on time would look "superseded" by the next one, and a retry hours later
 * would skip a reminder that is still useful.
 */
function planningProbe(payload: DispatchRequest, now: Instant): Instant {
  let intended = now;
  if (payload.scheduledTime) {
    try {
      const scheduled = toInstant(payload.scheduledTime);
      if (scheduled < now) intended = scheduled;
    } catch {
      // Not an instant (a hand-made payload): ask at the actual time.
    }
  }
  return toInstant(Date.parse(intended) - 1);
}

function decide(ctx: MessageContext, payload: DispatchRequest, clinic: Clinic, now: Instant): Decision {
  const identity = payload.message;
  const kind = identity.kind as DispatchKind;
  const { client, plan, session, therapist } = ctx;
  if (!client) return skip('client not found');
  if (client.suppressed) return skip(`address suppressed (${client.suppressed.reason})`);
  const category = categoryOf(kind);
  if (category && client.preferences[category] === false) return skip(`unsubscribed from ${category}`);
  if (!plan) return skip('plan not found');
  if (plan.status !== 'active') return skip(`plan ${plan.status}`);
  if (!therapist) return skip('therapist not found');

  if (kind === 'maintenance-nudge') {
    const mark = plan.maintenanceMark;
    const current = mark ? messageName(nudgeIdentity(plan.id, mark.dueAt, client.timezone)) : undefined;
    if (!mark || current !== messageName(baseIdentity(identity))) return skip('maintenance no longer due');
    return { send: true, client, plan, therapist, dueAt: mark.dueAt };
  }

  if (!session) return skip('session not found');
  if (session.planId !== plan.id) return skip('session moved to another plan');
  if (session.status === 'cancelled') return skip('session cancelled');
  if (session.status === 'no-show') return skip('session marked no-show');
  if (identity.version !== session.version) return skip('version moved on');
  if (kind === 'check-in' && session.checkInAnsweredAt) return skip('check-in already answered');

  const name = messageName(baseIdentity(identity));
  const rules = { session, plan, client, clinic };
  const late = decisionFor(planSessionMessages({ ...rules, now }), name);
  if (late?.action === 'skip' && LATENESS_REASONS.includes(late.reason)) return skip(late.reason);
  const planned = decisionFor(planSessionMessages({ ...rules, now: planningProbe(payload, now) }), name);
  if (!planned) return skip('no longer planned for this session');
  if (planned.action === 'skip') return skip(planned.reason);
  return { send: true, client, plan, therapist, session, dueAt: planned.message.dueAt };
}

// ------------------------------------------------------------------ rendering

function render(deps: SendMessageDeps, decision: Extract<Decision, { send: true }>, kind: DispatchKind, at: Date): RenderedEmail {
  const { clinic, tokens } = deps;
  const { client, plan, therapist, session } = decision;
  const link = (purpose: TokenPurpose, subject: string) => {
    const token = tokens.issue({ purpose, clientId: client.id, subject, now: at });
    const path = purpose === 'check-in' ? pagePaths.checkIn(token) : pagePaths[purpose](token);
    return `${clinic.baseUrl}${path}`;
  };
  const unsubscribe = link('unsubscribe', categoryOf(kind)!);
  const base = { clinic, client, therapist, plan, ...(deps.texts ? { texts: deps.texts } : {}) };
  switch (kind) {
    case 'reminder':
      return renderReminder({ ...base, session: session!, now: at, links: { confirm: link('confirm', session!.id), reschedule: link('reschedule', session!.id), unsubscribe } });
    case 'check-in':
      return renderCheckIn({ ...base, session: session!, links: { checkIn: link('check-in', session!.id), unsubscribe } });
    case 'maintenance-nudge':
      return renderMaintenanceNudge({ ...base, dueAt: decision.dueAt, links: { unsubscribe } });
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

  const ctx = await loadContext(deps.store, keys, payload.therapistId);
  const decision = decide(ctx, payload, deps.clinic, now);
  const request: ClaimRequest = {
    name,
    kind,
    clientId: payload.clientId,
    ...(ctx.plan?.id ?? keys.planId ? { planId: ctx.plan?.id ?? keys.planId } : {}),
    ...(keys.sessionId ? { sessionId: keys.sessionId } : {}),
    ...(ctx.therapist?.id ?? payload.therapistId ? { therapistId: ctx.therapist?.id ?? payload.therapistId } : {}),
    ...(decision.send ? { dueAt: decision.dueAt } : {}),
    now,
  };

  if (!decision.send) {
    await ledger.markSkipped(request, decision.reason);
    log.info('message skipped', { messageName: name, kind, reason: decision.reason });
    return { status: 'skipped', name, reason: decision.reason };
  }

  const claim = await ledger.claim(request);
  if (!claim.claimed) {
    const existing = claim.existing;
    if (existing.status !== 'claimed' && existing.status !== 'released') {
      log.info('duplicate delivery: message already settled', { messageName: name, kind, existing: existing.status });
      return { status: 'duplicate', name, existing: existing.status };
    }
    const claimedAt = Date.parse(existing.claimedAt ?? existing.updatedAt);
    const lease = deps.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
    if (!(nowDate.getTime() - claimedAt >= lease)) {
      log.warn('message claimed by an attempt in flight; retrying later', { messageName: name, kind });
      throw new RetryableError(`message ${name} is claimed by an attempt in flight`);
    }
    await ledger.markFailed(name, OUTCOME_UNKNOWN, now);
    log.error('message outcome unknown: an earlier attempt stopped between SES and the ledger', { messageName: name, kind });
    return { status: 'failed', name, reason: OUTCOME_UNKNOWN };
  }

  // From here the claim is ours: every path ends in sent, skipped, failed or a released claim.
  let rendered: RenderedEmail;
  try {
    if (!isUrgent(kind)) {
      const zone = decision.client.timezone;
      const expiresAt = toInstant(nowDate.getTime() + 2 * 86_400_000);
      if (!(await ledger.holdDayCap(decision.client.id, localDate(now, zone), name, expiresAt))) {
        const deferredTo = nextNonUrgentSlot(now, zone, deps.clinic.quietHours);
        const next = deferredIdentity(identity);
        const deferredName = messageName(next);
        const { scheduledTime: _s, executionId: _e, attempt: _a, ...ids } = payload;
        await deps.scheduler.upsert({ name: deferredName, at: deferredTo, payload: { ...ids, message: next } });
        const reason = `deferred to ${deferredTo}: one non-urgent email per day`;
        await ledger.markSkipped(request, reason);
        log.info('message deferred: one non-urgent email per day', { messageName: name, kind, deferredTo, deferredName });
        return { status: 'deferred', name, deferredName, deferredTo };
      }
    }
    rendered = render(deps, decision, kind, nowDate);
  } catch (error) {
    return settleFailure(deps, log, name, kind, now, error);
  }

  let sesMessageId: string;
  try {
    const email = composeEmail({ clinic: deps.clinic, to: decision.client.email, rendered, tags: { message: name, kind } });
    ({ messageId: sesMessageId } = await deps.mailer.send(email));
  } catch (error) {
    return settleFailure(deps, log, name, kind, now, error);
  }
  // SES has the email. A failure to record it leaves the claim in place on purpose: releasing it
  // would let a retry send a second copy (see step 3 for what a later attempt does).
  await ledger.markSent(name, sesMessageId, now);
  log.info('message sent', { messageName: name, kind, sesMessageId });
  return { status: 'sent', name, sesMessageId };
}

/** The one place a failure after the claim becomes failed (no retry) or released (retry). */
async function settleFailure(deps: SendMessageDeps, log: OpaqueLog, name: string, kind: DispatchKind, now: Instant, error: unknown): Promise<SendOutcome> {
  if (error instanceof PermanentError) {
    const reason = `${error.code}: ${error.message}`;
    await deps.ledger.markFailed(name, reason, now);
    log.error('message failed permanently', { messageName: name, kind, code: error.code });
    return { status: 'failed', name, reason };
  }
  await deps.ledger.release(name);
  log.warn('message attempt failed; claim released for a retry', { messageName: name, kind, error: error instanceof Error ? error.name : 'unknown' });
  throw error instanceof RetryableError ? error : new RetryableError(`sending ${name} failed; it will be retried`, { cause: error });
}
