/**
 * Dispatch's decision: read the current state once, then skip (with a reason) or send. One case
 * per kind in `decide`; a new kind adds its case there and its rendering in render.ts.
 */
import { bookingSkipReason, toldBooking, type EarlierBooking } from '../../domain/booking-emails.js';
import { NO_LONGER_PLANNED, skipReasonFor } from '../../domain/eligibility.js';
import { baseIdentity, isBookingKind, messageName } from '../../domain/message.js';
import type { Clinic, Client, Therapist } from '../../domain/model.js';
import { intakeSkipReason } from '../../domain/intake-questionnaire.js';
import { NUDGE_LATE_WINDOW_HOURS, nudgeIdentity, planSessionMessages, SKIP_REASONS, type MessageDecision } from '../../domain/schedule-rules.js';
import { toInstant, type Instant } from '../../domain/time.js';
import type { ClinicStore, Ledger, MessageContext, StoredPlan, StoredSession } from '../../ports/store.js';
import type { DispatchKind, DispatchRequest } from './request.js';

export type Decision =
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
export type SendDecision = Extract<Decision, { send: true }>;

const skip = (reason: string): Decision => ({ send: false, reason });

// ------------------------------------------------------------------ reading

export interface Keys {
  readonly clientId: string;
  readonly planId?: string;
  readonly sessionId?: string;
}

export function keysOf(payload: DispatchRequest): Keys {
  const { kind, subjectId } = payload.message;
  if (kind === 'maintenance-nudge') return { clientId: payload.clientId, planId: subjectId };
  if (kind === 'intake-questionnaire') return { clientId: payload.clientId, planId: subjectId, ...(payload.sessionId ? { sessionId: payload.sessionId } : {}) };
  return { clientId: payload.clientId, sessionId: subjectId, ...(payload.planId ? { planId: payload.planId } : {}) };
}

/**
 * One BatchGetItem for everything the payload names; a second only for what the first revealed
 * (the plan of a session, the therapist of a plan). Never a query over the client's history.
 */
export async function loadContext(store: Pick<ClinicStore, 'getMessageContext'>, keys: Keys, therapistId: string | undefined): Promise<MessageContext> {
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

/**
 * The booking the client was last told of, from the ledger (two reads in the usual case): a change
 * notice's "was", the cancelled time a cancellation notice names.
 */
export async function withToldBooking(ledger: Pick<Ledger, 'get'>, decision: Decision, kind: DispatchKind): Promise<Decision> {
  if (!decision.send || (kind !== 'booking-change' && kind !== 'booking-cancellation') || !decision.session) return decision;
  const { session } = decision;
  const current =
    kind === 'booking-cancellation'
      ? { version: session.version, start: session.start, durationMinutes: session.durationMinutes, location: session.location }
      : undefined;
  const told = await toldBooking(session, (names) => Promise.all(names.map(async (n) => (await ledger.get(n))?.status)), current);
  return told ? { ...decision, told } : decision;
}

// ------------------------------------------------------------------ lateness

/** Skips that depend only on how late the message is, read at the actual send time. */
const LATENESS_REASONS: readonly string[] = [SKIP_REASONS.sessionStarted, SKIP_REASONS.tooLate, SKIP_REASONS.checkInWindowPassed];

function decisionFor(decisions: MessageDecision[], name: string): MessageDecision | undefined {
  return decisions.find((d) => (d.action === 'schedule' ? d.message.name : d.name) === name);
}

type SessionRules = Omit<Parameters<typeof planSessionMessages>[0], 'now'>;

/** Why the session's message `name` would be too late at `at`, if it would. */
function latenessAt(rules: SessionRules, name: string, at: Instant): string | undefined {
  const late = decisionFor(planSessionMessages({ ...rules, now: at }), name);
  return late?.action === 'skip' && LATENESS_REASONS.includes(late.reason) ? late.reason : undefined;
}

/**
 * When the message was meant to go: the first schedule's time, carried by a retry schedule, else
 * the time the Scheduler meant this one for (`scheduledTime`, the same on every retry), else now.
 */
export function intendedTime(payload: DispatchRequest, now: Instant): Instant {
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

/**
 * Whether the message would still be sent at `at`, by the rules that judge a late delivery: a
 * session's message while the time rules do not call it too late, a nudge within
 * NUDGE_LATE_WINDOW_HOURS of its due date.
 */
export function stillUsefulAt(decision: SendDecision, payload: DispatchRequest, clinic: Clinic, at: Instant): boolean {
  const { client, plan, session, dueAt } = decision;
  // An intake questionnaire is worth sending until the first session starts.
  if (payload.message.kind === 'intake-questionnaire')
    return session ? at < toInstant(session.start) : Date.parse(at) <= Date.parse(dueAt) + NUDGE_LATE_WINDOW_HOURS * 3_600_000;
  if (!session) return Date.parse(at) <= Date.parse(dueAt) + NUDGE_LATE_WINDOW_HOURS * 3_600_000;
  // A booking email is worth sending until the session (its old time, for a cancellation) starts.
  if (isBookingKind(payload.message.kind)) return at < toInstant(session.start);
  return latenessAt({ session, plan, client, clinic }, messageName(baseIdentity(payload.message)), at) === undefined;
}

// ------------------------------------------------------------------ deciding

export function decide(ctx: MessageContext, payload: DispatchRequest, clinic: Clinic, now: Instant): Decision {
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
