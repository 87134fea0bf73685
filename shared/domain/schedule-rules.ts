/**
 * What should be scheduled for a session or a plan, as pure functions of current data and `now`.
 * sync-schedules and reconcile both call these, so a stream event and a healing pass always agree
 * on the same message names and due times.
 */
import { CHECK_IN_OFFSET, messageName, type MessageIdentity } from './message.js';
import type { Clinic, Client, Plan, Session } from './model.js';
import { addCalendarDays, addOffset, applyQuietHours, atLocalTime, localDate, subtractOffset, toInstant, type Instant } from './time.js';

/**
 * A reminder that is already overdue (booked at short notice, or the session moved) is still sent
 * at once only if the session is at least this far away: closer than that, an email is likely to be
 * read after the client should have left, and the clinic would rather phone.
 */
export const MIN_REMINDER_LEAD_MINUTES = 60;

/**
 * An overdue check-in (a session recorded late, or a system outage) is still sent within this many
 * hours of its due time; after that the client's answers would describe a different week.
 */
export const CHECK_IN_LATE_WINDOW_HOURS = 72;

/**
 * A maintenance nudge held up (throttling, an outage) is still worth sending within this many hours
 * of its due time: "your next session is due this week" is still true, and after that the next
 * reconcile pass and the lapse rules take over.
 */
export const NUDGE_LATE_WINDOW_HOURS = 72;

/** Local time at which maintenance nudges fall due: mid-morning, when people plan their week. */
export const NUDGE_LOCAL_TIME = '10:00';

/** Calendar days after the maintenance due date at which a plan counts as lapsed. */
export const DEFAULT_LAPSE_GRACE_DAYS = 14;

/** Why a message was not scheduled; short lowercase sentences for the ledger and logs. */
export const SKIP_REASONS = {
  superseded: 'superseded by a later reminder',
  tooLate: `too late: the session starts in under ${MIN_REMINDER_LEAD_MINUTES} minutes`,
  sessionStarted: 'session already started',
  checkInWindowPassed: 'check-in window passed',
} as const;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export interface PlannedMessage {
  readonly identity: MessageIdentity;
  /** messageName(identity): the schedule name, ledger key and SES tag. */
  readonly name: string;
  readonly dueAt: Instant;
}

export type MessageDecision =
  | { readonly action: 'schedule'; readonly message: PlannedMessage }
  | {
      readonly action: 'skip';
      readonly identity: MessageIdentity;
      readonly name: string;
      /** When it would have been due. */
      readonly dueAt: Instant;
      readonly reason: string;
    };

export interface SessionMessagesInput {
  readonly session: Session;
  readonly plan: Plan;
  readonly client: Client;
  readonly clinic: Pick<Clinic, 'quietHours'>;
  readonly now: Instant;
}

function planned(identity: MessageIdentity, dueAt: Instant): PlannedMessage {
  return { identity, name: messageName(identity), dueAt };
}

function schedule(message: PlannedMessage): MessageDecision {
  return { action: 'schedule', message };
}

function skip(message: PlannedMessage, reason: string): MessageDecision {
  return { action: 'skip', identity: message.identity, name: message.name, dueAt: message.dueAt, reason };
}

function dueOf(decision: MessageDecision): Instant {
  return decision.action === 'schedule' ? decision.message.dueAt : decision.dueAt;
}

function nameOf(decision: MessageDecision): string {
  return decision.action === 'schedule' ? decision.message.name : decision.name;
}

function byDue(a: MessageDecision, b: MessageDecision): number {
  const [da, db] = [dueOf(a), dueOf(b)];
  if (da !== db) return da < db ? -1 : 1;
  const [na, nb] = [nameOf(a), nameOf(b)];
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function ms(at: Instant): number {
  return Date.parse(toInstant(at));
}

/**
 * The reminders and check-in a session should have, each either scheduled (with its send time) or
 * skipped (with the reason), in due order. Nothing is ever scheduled before `now`.
 *
 * Reminders are time-critical, so quiet hours do not apply to them. When some are overdue:
 * - if a later reminder is still to come, the overdue ones are skipped as superseded;
 * - otherwise the latest overdue one is sent now, if the session is at least
 *   MIN_REMINDER_LEAD_MINUTES away (the rest superseded), else all are skipped as too late;
 * - once the session has started, every reminder is skipped.
 * The check-in is due `checkInAfter` after the session ends, moved out of the clinic's quiet hours
 * in the client's zone; overdue, it is sent now (out of quiet hours) within
 * CHECK_IN_LATE_WINDOW_HOURS of its due time, and skipped after that.
 */
export function planSessionMessages(input: SessionMessagesInput): MessageDecision[] {
  const { session, plan, client, clinic } = input;
  if (session.planId !== plan.id) throw new RangeError(`session ${session.id} belongs to plan ${session.planId}, not ${plan.id}`);
  if (plan.clientId !== client.id) throw new RangeError(`plan ${plan.id} belongs to client ${plan.clientId}, not ${client.id}`);
  if (plan.status !== 'active' || session.status === 'cancelled' || session.status === 'no-show') return [];

  const now = toInstant(input.now);
  const reminders = session.status === 'completed' ? [] : reminderDecisions(session, plan, client.timezone, now);
  return [...reminders, checkInDecision(session, plan, client.timezone, clinic.quietHours, now)].sort(byDue);
}

function reminderDecisions(session: Session, plan: Plan, zone: string, now: Instant): MessageDecision[] {
  const start = toInstant(session.start);
  const all = plan.reminders.map((offset) =>
    planned({ kind: 'reminder', subjectId: session.id, offset, version: session.version }, subtractOffset(start, offset, zone)),
  );
  if (all.length === 0) return [];
  if (start <= now) return all.map((m) => skip(m, SKIP_REASONS.sessionStarted));

  const overdue = all.filter((m) => m.dueAt <= now);
  if (overdue.length < all.length) {
    return all.map((m) => (m.dueAt > now ? schedule(m) : skip(m, SKIP_REASONS.superseded)));
  }
  if (ms(start) - ms(now) < MIN_REMINDER_LEAD_MINUTES * MINUTE_MS) return all.map((m) => skip(m, SKIP_REASONS.tooLate));
  // Two offsets can land on the same instant (P1D and PT24H on most days): send the first written.
  const latest = all.reduce((best, m) => (m.dueAt > best.dueAt ? m : best));
  return all.map((m) => (m === latest ? schedule({ ...m, dueAt: now }) : skip(m, SKIP_REASONS.superseded)));
}

/** When the session ends: its start plus its length. */
export function sessionEnd(session: Pick<Session, 'start' | 'durationMinutes'>): Instant {
  return toInstant(ms(session.start) + session.durationMinutes * MINUTE_MS);
}

/**
 * When a session's check-in falls due: `checkInAfter` after the session ends, moved out of the
 * clinic's quiet hours in the client's zone. The one place this is computed: the check-in's
 * schedule, dispatch's lateness test and the summary's missed check-ins all read it from here.
 */
export function checkInDueAt(
  session: Pick<Session, 'start' | 'durationMinutes'>,
  plan: Pick<Plan, 'checkInAfter'>,
  zone: string,
  quiet: Clinic['quietHours'],
): Instant {
  return applyQuietHours(addOffset(sessionEnd(session), plan.checkInAfter, zone), zone, quiet);
}

function checkInDecision(session: Session, plan: Plan, zone: string, quiet: Clinic['quietHours'], now: Instant): MessageDecision {
  const due = checkInDueAt(session, plan, zone, quiet);
  const message = planned({ kind: 'check-in', subjectId: session.id, offset: CHECK_IN_OFFSET, version: session.version }, due);
  if (due > now) return schedule(message);
  if (ms(now) - ms(due) <= CHECK_IN_LATE_WINDOW_HOURS * HOUR_MS) {
    return schedule({ ...message, dueAt: applyQuietHours(now, zone, quiet) });
  }
  return skip(message, SKIP_REASONS.checkInWindowPassed);
}

/** Where the session at 0-based position `index` among a plan's sessions falls in its phases. */
function phaseAt(plan: Plan, index: number): { phaseIndex: number; positionInPhase: number } {
  const last = plan.phases.length - 1;
  let remaining = index;
  for (const [phaseIndex, phase] of plan.phases.entries()) {
    // The last phase is open-ended whatever its count says; a phase without a count is too.
    if (phaseIndex === last || phase.sessions === undefined || remaining < phase.sessions) {
      return { phaseIndex, positionInPhase: remaining };
    }
    remaining -= phase.sessions;
  }
  throw new RangeError(`plan ${plan.id} has no phases`);
}

function phaseOf(plan: Plan, phaseIndex: number) {
  const phase = plan.phases[phaseIndex];
  if (phase === undefined) throw new RangeError(`plan ${plan.id} has no phase ${phaseIndex}`);
  return phase;
}

/** A phase named "maintenance", or the open-ended last phase that follows a course of treatment. */
function isMaintenancePhase(plan: Plan, phaseIndex: number): boolean {
  const isOpenEndedFollowUp = plan.phases.length > 1 && phaseIndex === plan.phases.length - 1;
  return phaseOf(plan, phaseIndex).name.trim().toLowerCase() === 'maintenance' || isOpenEndedFollowUp;
}

export interface SessionNumber {
  /** 1-based position among the plan's sessions that are not cancelled (no-shows count). */
  readonly number: number;
  /** 1-based position within its phase: "session {inPhase} of {ofPhase}". */
  readonly inPhase: number;
  readonly phase: string;
  readonly phaseIndex: number;
  /** How many sessions the phase holds; absent once an open-ended phase runs past its count. */
  readonly ofPhase?: number;
  readonly maintenance: boolean;
}

/**
 * Numbers a plan's sessions for emails ("session 3 of 6"): the plan's sessions that are not
 * cancelled, by start time (then id, so equal starts number the same on every call). Phases
 * advance by sessions: phase i holds phases[i].sessions sessions, and the last phase is open-ended.
 * Sessions of other plans are ignored.
 */
export function numberSessions(plan: Plan, sessions: readonly Session[]): Map<string, SessionNumber> {
  const ordered = sessions
    .filter((s) => s.planId === plan.id && s.status !== 'cancelled')
    .map((s) => ({ session: s, startMs: ms(s.start) }))
    .sort((a, b) => a.startMs - b.startMs || (a.session.id < b.session.id ? -1 : a.session.id > b.session.id ? 1 : 0));
  const numbers = new Map<string, SessionNumber>();
  ordered.forEach(({ session }, index) => {
    const { phaseIndex, positionInPhase } = phaseAt(plan, index);
    const phase = phaseOf(plan, phaseIndex);
    const inPhase = positionInPhase + 1;
    numbers.set(session.id, {
      number: index + 1,
      inPhase,
      phase: phase.name,
      phaseIndex,
      ...(phase.sessions !== undefined && inPhase <= phase.sessions ? { ofPhase: phase.sessions } : {}),
      maintenance: isMaintenancePhase(plan, phaseIndex),
    });
  });
  return numbers;
}

export type MaintenanceState = 'not-started' | 'booked' | 'not-due' | 'due' | 'lapsed';

export interface MaintenanceStatus {
  /** Sessions attended: completed, or booked and already over. Cancelled and no-show never count. */
  readonly attended: number;
  /** The phase the next session falls in. */
  readonly phaseIndex: number;
  /** That phase's everyDays. */
  readonly cadenceDays: number;
  readonly lastAttendedStart?: Instant;
  /** Local date of the last attended session + cadenceDays, at NUDGE_LOCAL_TIME. */
  readonly dueAt?: Instant;
  /** dueAt + grace days (calendar days, same local time). */
  readonly lapsedAt?: Instant;
  /** The earliest booked session that has not yet ended. */
  readonly nextBookedStart?: Instant;
  /**
   * The earliest end among booked sessions that have not yet ended: the first moment the status can
   * change with nothing written to the table, so the moment to look at the plan again.
   */
  readonly nextBookedEnd?: Instant;
  readonly state: MaintenanceState;
}

export interface MaintenanceInput {
  readonly plan: Plan;
  readonly sessions: readonly Session[];
  /** The client's zone: due dates are the client's calendar days. */
  readonly zone: string;
  readonly now: Instant;
  /** @default DEFAULT_LAPSE_GRACE_DAYS */
  readonly graceDays?: number;
}

/**
 * Whether a plan's next session is due. In order: a plan that is not active is 'not-due' (no
 * dueAt); a booked session that has not ended yet makes it 'booked', so a client in the middle of
 * a session is never nudged; with nothing attended it is 'not-started'; otherwise 'not-due' before
 * dueAt, 'due' from dueAt, 'lapsed' from lapsedAt. dueAt and lapsedAt are reported only with the
 * last three states.
 */
export function maintenanceStatus(input: MaintenanceInput): MaintenanceStatus {
  const { plan, zone } = input;
  const graceDays = input.graceDays ?? DEFAULT_LAPSE_GRACE_DAYS;
  if (!Number.isInteger(graceDays) || graceDays < 0) throw new RangeError(`graceDays must be a whole number ≥ 0: ${graceDays}`);
  const now = toInstant(input.now);
  const nowMs = ms(now);

  const own = input.sessions.filter((s) => s.planId === plan.id);
  const endMs = (s: Session) => ms(s.start) + s.durationMinutes * MINUTE_MS;
  const attendedStarts = own
    .filter((s) => s.status === 'completed' || (s.status === 'booked' && endMs(s) <= nowMs))
    .map((s) => toInstant(s.start))
    .sort();
  const upcoming = own.filter((s) => s.status === 'booked' && endMs(s) > nowMs);
  const upcomingStarts = upcoming.map((s) => toInstant(s.start)).sort();
  const upcomingEnds = upcoming.map((s) => toInstant(endMs(s))).sort();

  const attended = attendedStarts.length;
  const { phaseIndex } = phaseAt(plan, attended);
  const cadenceDays = phaseOf(plan, phaseIndex).everyDays;
  const lastAttendedStart = attendedStarts[attended - 1];
  const nextBookedStart = upcomingStarts[0];
  const nextBookedEnd = upcomingEnds[0];
  const base = {
    attended,
    phaseIndex,
    cadenceDays,
    ...(lastAttendedStart !== undefined ? { lastAttendedStart } : {}),
    ...(nextBookedStart !== undefined ? { nextBookedStart } : {}),
    ...(nextBookedEnd !== undefined ? { nextBookedEnd } : {}),
  };

  if (plan.status !== 'active') return { ...base, state: 'not-due' };
  if (nextBookedStart !== undefined) return { ...base, state: 'booked' };
  if (lastAttendedStart === undefined) return { ...base, state: 'not-started' };

  const dueDate = addCalendarDays(localDate(lastAttendedStart, zone), cadenceDays);
  const dueAt = atLocalTime(dueDate, NUDGE_LOCAL_TIME, zone);
  const lapsedAt = atLocalTime(addCalendarDays(dueDate, graceDays), NUDGE_LOCAL_TIME, zone);
  const state = now >= lapsedAt ? 'lapsed' : now >= dueAt ? 'due' : 'not-due';
  return { ...base, dueAt, lapsedAt, state };
}

/**
 * The identity of the maintenance nudge for one due period: keyed by the due date in the client's
 * zone, so every reconcile pass in that period converges on the same single nudge.
 */
export function nudgeIdentity(planId: string, dueAt: Instant, zone: string): MessageIdentity {
  return { kind: 'maintenance-nudge', subjectId: planId, offset: localDate(dueAt, zone).replaceAll('-', ''), version: 1 };
}

/** The name of the nudge for the due period starting at `dueAt`. */
export function nudgeName(planId: string, dueAt: Instant, zone: string): string {
  return messageName(nudgeIdentity(planId, dueAt, zone));
}
