/**
 * sync-schedules: keeps every subject's one-time message schedules in line with the data, one
 * table change at a time (fed by the table's stream).
 *
 * Step by step, for a change to a session, a plan or a client (its image before and after):
 * 1. Ignore a change that cannot move a message (a renumbering, a confirmation, a baseline, a
 *    maintenance mark): no read, no call.
 * 2. Read the client's bundle once: plans, the client's choices, the plan's sessions.
 * 3. For every affected session, plan its messages twice, as things stood before the change and
 *    as they stand after it: planSessionMessages, less what the client does not receive.
 * 4. Create or replace the schedules that are new or moved, delete those no longer planned. A
 *    message with the same name and due time before and after costs no Scheduler call.
 * 5. Record in the ledger, so every due message ends somewhere: the reminders a booking or a move
 *    came too late for (skipped, with the rule's reason), and each pending message whose schedule
 *    was deleted (skipped, with why: session cancelled, version moved on, plan paused, unsubscribed,
 *    address suppressed; skipReasonFor in domain/eligibility.ts, shared with dispatch). A change
 *    that lifts such a reason (a resume, a resubscribe) clears those skips as it re-creates the
 *    schedules.
 * 6. Bring the plan's maintenance in line (settleMaintenance, shared with reconcile): when reconcile
 *    should next look at it, and void a pending nudge whose due period has ended. A nudge or a lapse
 *    that is owed now is left to reconcile's next pass, which sees the whole plan.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Clinic, Client } from '../domain/model.js';
import { messageName, subjectPrefix, type BookingKind, type MessageKind } from '../domain/message.js';
import { BOOKING_SKIP_REASONS, bookingIdentity, bookingName, bookingTransition, confirmationDue, isEnabled } from '../domain/booking-emails.js';
import { errorName, PermanentError } from '../domain/errors.js';
import {
  maintenanceStatus,
  nudgeIdentity,
  planSessionMessages,
  type MaintenanceStatus,
  type MessageDecision,
  type PlannedMessage,
} from '../domain/schedule-rules.js';
import { applyQuietHours, toInstant, type Instant } from '../domain/time.js';
import type { Clock } from '../ports/clock.js';
import type { MessageScheduler, OneTimeSchedule } from '../ports/scheduler.js';
import type { ClinicStore, Ledger, MaintenanceMark, StoredPlan, StoredSession } from '../ports/store.js';
import { silentLog, type OpsLog } from '../ports/log.js';
import { outcomeOf } from './delivery/classify.js';
import { NO_LONGER_PLANNED, receives, skipReasonFor } from '../domain/eligibility.js';

export { silentLog, type OpsLog };

export interface SchedulingDeps {
  readonly store: ClinicStore;
  readonly ledger: Ledger;
  readonly scheduler: MessageScheduler;
  readonly clinic: Clinic;
  readonly clock: Clock;
  readonly log?: OpsLog;
}

/** One table change, as the item's images before and after (absent on insert / on delete). */
export type SubjectChange =
  | { readonly type: 'session'; readonly before?: StoredSession; readonly after?: StoredSession }
  | { readonly type: 'plan'; readonly before?: StoredPlan; readonly after?: StoredPlan }
  | { readonly type: 'client'; readonly before?: Client; readonly after?: Client };

export interface SyncOutcome {
  /** Schedules created or replaced. */
  readonly upserted: number;
  /** Schedules deleted (ones already gone are not counted). */
  readonly removed: number;
  /** Scheduler requests refused as invalid: logged, never retried. */
  readonly rejected: number;
  /** Messages recorded as skipped in the ledger: overdue ones, and pending ones whose schedule was deleted. */
  readonly skipsRecorded: number;
  readonly maintenance: 'set' | 'cleared' | 'unchanged';
}

const NOTHING: SyncOutcome = { upserted: 0, removed: 0, rejected: 0, skipsRecorded: 0, maintenance: 'unchanged' };

function kindOf(decision: MessageDecision): MessageKind {
  return decision.action === 'schedule' ? decision.message.identity.kind : decision.identity.kind;
}

/** What a session should have for this client now: the time rules, less what the client does not receive. */
export function clientMessages(session: StoredSession, plan: StoredPlan, client: Client, clinic: Clinic, now: Instant): MessageDecision[] {
  return planSessionMessages({ session, plan, client, clinic, now }).filter((decision) => receives(client, kindOf(decision)));
}

export function scheduled(decisions: readonly MessageDecision[]): PlannedMessage[] {
  return decisions.flatMap((d) => (d.action === 'schedule' ? [d.message] : []));
}

/** The Scheduler's view of a session message: name, time, and opaque ids only. */
export function sessionSchedule(message: PlannedMessage, session: StoredSession, plan: StoredPlan): OneTimeSchedule {
  return {
    name: message.name,
    at: message.dueAt,
    payload: { message: message.identity, clientId: session.clientId, planId: plan.id, sessionId: session.id, therapistId: plan.therapistId },
  };
}

export interface ScheduleDiff {
  readonly upserts: PlannedMessage[];
  readonly removals: string[];
}

/** What must change to go from `before` to `after`: new or moved messages, and names no longer planned. */
export function diffMessages(before: readonly MessageDecision[], after: readonly MessageDecision[]): ScheduleDiff {
  const was = new Map(scheduled(before).map((m) => [m.name, m.dueAt]));
  const now = scheduled(after);
  const kept = new Set(now.map((m) => m.name));
  return {
    upserts: now.filter((m) => was.get(m.name) !== m.dueAt),
    removals: [...was.keys()].filter((name) => !kept.has(name)),
  };
}

/** A pending message whose schedule a change deletes, and whose it was. */
interface Removed {
  readonly message: PlannedMessage;
  readonly session: StoredSession;
  readonly plan: StoredPlan;
  /** Why it will not go: the state after the change says, else it is simply no longer planned. */
  readonly reason: string;
}

/** The messages of `before` that `diff` removes, each with why, read from the state after the change. */
function removedMessages(
  before: readonly MessageDecision[],
  diff: ScheduleDiff,
  was: { session: StoredSession; plan: StoredPlan },
  after: Parameters<typeof skipReasonFor>[0],
): Removed[] {
  const removals = new Set(diff.removals);
  return scheduled(before)
    .filter((m) => removals.has(m.name))
    .map((message) => ({ message, ...was, reason: skipReasonFor(after, message.identity) ?? NO_LONGER_PLANNED }));
}

/**
 * Every due message ends as sent, skipped or failed: one whose schedule is deleted is recorded as
 * skipped, with why, while its due time is ahead (a past one went out or has its own entry). The
 * images in hand say everything; no read. A resume later re-creates the schedule, and the skip is
 * claimed over as usual.
 */
async function recordRemovals(deps: SchedulingDeps, removed: readonly Removed[], now: Instant): Promise<number> {
  const ahead = removed.filter((r) => r.message.dueAt > now);
  for (const { message, session, plan, reason } of ahead) {
    await deps.ledger.markSkipped(
      {
        name: message.name,
        kind: message.identity.kind,
        clientId: session.clientId,
        planId: plan.id,
        sessionId: session.id,
        therapistId: plan.therapistId,
        dueAt: message.dueAt,
        now,
      },
      reason,
    );
  }
  return ahead.length;
}

/**
 * The other half of recordRemovals: a change that lifts what stopped a message (a resume, a
 * resubscribe, a session booked again) re-creates its schedule, and the skip recorded then is
 * cleared so the message reads as pending again. Only when the state before the change gave a
 * reason: a plain booking or a move clears nothing, and costs nothing.
 */
function liftedSkips(upserts: readonly PlannedMessage[], before: Parameters<typeof skipReasonFor>[0] & { readonly session: StoredSession }): string[] {
  return upserts.filter((m) => skipReasonFor(before, { ...m.identity, version: before.session.version }) !== undefined).map((m) => m.name);
}

async function clearSkips(deps: SchedulingDeps, names: readonly string[]): Promise<void> {
  for (const name of names) await deps.ledger.clearSkip(name);
}

export function maintenanceOf(plan: StoredPlan, sessions: readonly StoredSession[], client: Client, clinic: Clinic, now: Instant): MaintenanceStatus {
  return maintenanceStatus({ plan, sessions, zone: client.timezone, now, graceDays: clinic.maintenanceGraceDays });
}

/**
 * What a plan's maintenance needs next:
 * - `nudge`: due, and this due period not acted on yet: nudge the client, mark the plan due;
 * - `lapse`: past the grace period and not marked yet: mark the plan lapsed;
 * - `wait`: nothing to do now: the plan carries `mark` and is looked at again at `at` (never, when
 *   absent: only a change to a session, the plan or the client can make anything due then).
 */
export type MaintenanceAction =
  | { readonly act: 'nudge' | 'lapse'; readonly dueAt: Instant; readonly lapsedAt: Instant }
  | { readonly act: 'wait'; readonly mark?: MaintenanceMark; readonly at?: Instant };

/**
 * The plan's next maintenance action, from its status now and the mark reconcile left on it (a mark
 * counts only for the due period it names). Every `at` is later than the status's `now`, so a plan
 * that is looked at always moves forward in the maintenance index:
 * - booked: at the end of the next booked session, when the plan may fall due with no write to the
 *   table (a session that simply ends changes no item, so no stream event would bring it back);
 * - not due yet: at the due time; due and already nudged: at the lapse time;
 * - lapsed and marked, not started, or not active: never.
 */
export function nextMaintenanceAction(status: MaintenanceStatus, mark: MaintenanceMark | undefined): MaintenanceAction {
  const { dueAt, lapsedAt } = status;
  switch (status.state) {
    case 'booked':
      return wait(undefined, status.nextBookedEnd);
    case 'not-due':
      return wait(undefined, dueAt);
    case 'not-started':
      return wait(undefined, undefined);
    case 'due':
    case 'lapsed': {
      if (dueAt === undefined || lapsedAt === undefined) throw new RangeError(`a ${status.state} maintenance status has no due and lapse times`);
      const period = mark?.dueAt === dueAt && mark.lapsedAt === lapsedAt ? mark : undefined;
      if (status.state === 'due') return period?.state === 'due' ? wait(period, lapsedAt) : { act: 'nudge', dueAt, lapsedAt };
      return period?.state === 'lapsed' ? wait(period, undefined) : { act: 'lapse', dueAt, lapsedAt };
    }
  }
}

function wait(mark: MaintenanceMark | undefined, at: Instant | undefined): MaintenanceAction {
  return { act: 'wait', ...(mark ? { mark } : {}), ...(at ? { at } : {}) };
}

export interface MaintenanceSettled {
  /** Whether the plan's mark or action time was written ('cleared': it left the maintenance index). */
  readonly write: 'set' | 'cleared' | 'unchanged';
  /** A nudge schedule was created for a due period. */
  readonly nudged: boolean;
  /** The plan was newly marked lapsed. */
  readonly lapsed: boolean;
}

export interface SettleOptions {
  /**
   * 'act' (reconcile) nudges and marks; 'defer' (the stream) leaves an owed nudge or lapse to
   * reconcile's next pass by setting the action time to now: a stream record shows one change at a
   * time, and an import still being written would otherwise nudge on half a history.
   */
  readonly mode: 'act' | 'defer';
  /** Write even when the plan already says the same (its index keys may have been dropped). */
  readonly force?: boolean;
}

/**
 * Brings one plan's maintenance in line with nextMaintenanceAction: voids a pending nudge whose due
 * period is over, nudges or marks when acting, and stores the mark and the next action time. No
 * write when the plan already says the same. Safe to repeat: the nudge is named by its due period,
 * the ledger is checked before it is scheduled, and dispatch sends it only while the mark names it.
 */
export async function settleMaintenance(
  deps: SchedulingDeps,
  client: Client,
  plan: StoredPlan,
  sessions: readonly StoredSession[],
  now: Instant,
  options: SettleOptions,
): Promise<MaintenanceSettled> {
  const previous = plan.maintenanceMark;
  const action = nextMaintenanceAction(maintenanceOf(plan, sessions, client, deps.clinic, now), previous);
  let mark: MaintenanceMark | undefined;
  let at: Instant | undefined;
  let nudged = false;
  if (action.act === 'wait') {
    ({ mark, at } = action);
  } else if (options.mode === 'defer') {
    mark = previous?.dueAt === action.dueAt ? previous : undefined;
    at = now;
  } else if (action.act === 'nudge') {
    nudged = await scheduleNudge(deps, client, plan, action.dueAt, now);
    mark = { state: 'due', dueAt: action.dueAt, lapsedAt: action.lapsedAt, markedAt: now };
    at = action.lapsedAt;
  } else {
    mark = { state: 'lapsed', dueAt: action.dueAt, lapsedAt: action.lapsedAt, markedAt: now };
  }

  if (previous?.state === 'due' && mark?.dueAt !== previous.dueAt) {
    await converge(deps, [], [nudgeName(plan.id, previous.dueAt, client.timezone)]);
  }
  const lapsed = mark?.state === 'lapsed' && mark !== previous;
  if (!options.force && isDeepStrictEqual(mark, previous) && at === plan.maintenanceActionAt) return { write: 'unchanged', nudged, lapsed };
  await deps.store.setMaintenanceMark(client.id, plan.id, mark, at);
  return { write: at === undefined ? 'cleared' : 'set', nudged, lapsed };
}

/**
 * Schedules the due period's nudge at once (out of the clinic's quiet hours) unless the client takes
 * no nudges or the ledger shows it was already handled. True when a schedule was created.
 */
async function scheduleNudge(deps: SchedulingDeps, client: Client, plan: StoredPlan, dueAt: Instant, now: Instant): Promise<boolean> {
  if (!receives(client, 'maintenance-nudge')) return false;
  const identity = nudgeIdentity(plan.id, dueAt, client.timezone);
  const message: PlannedMessage = { identity, name: messageName(identity), dueAt: applyQuietHours(now, client.timezone, deps.clinic.quietHours) };
  if (!(await stillOwed(deps, message))) return false;
  const schedule: OneTimeSchedule = {
    name: message.name,
    at: message.dueAt,
    payload: { message: identity, clientId: plan.clientId, planId: plan.id, therapistId: plan.therapistId },
  };
  const counts = await converge(deps, [schedule], []);
  return counts.upserted > 0;
}

/**
 * A message with no schedule is owed unless the ledger shows it was handled: no entry, or a claim
 * given back after a retryable error (`released`), means it never went out.
 */
export async function stillOwed(deps: Pick<SchedulingDeps, 'ledger'>, message: PlannedMessage): Promise<boolean> {
  const entry = await deps.ledger.get(message.name);
  return entry === undefined || entry.status === 'released';
}

/** The name of the nudge for the due period starting at `dueAt`. */
export function nudgeName(planId: string, dueAt: Instant, zone: string): string {
  return messageName(nudgeIdentity(planId, dueAt, zone));
}

export interface ConvergeCounts {
  readonly upserted: number;
  readonly removed: number;
  readonly rejected: number;
}

/**
 * Sends the Scheduler calls in parallel. A refused request is logged with its (opaque) schedule
 * name and skipped; any other failure is thrown once every call has settled, so the caller's
 * retry replays an idempotent set of calls.
 */
export async function converge(
  deps: Pick<SchedulingDeps, 'scheduler' | 'log'>,
  upserts: readonly OneTimeSchedule[],
  removals: readonly string[],
): Promise<ConvergeCounts> {
  const log = deps.log ?? silentLog;
  const calls = [
    ...upserts.map((s) => ({ name: s.name, run: () => deps.scheduler.upsert(s).then(() => 'upserted' as const) })),
    ...removals.map((name) => ({ name, run: () => deps.scheduler.remove(name).then((existed) => (existed ? ('removed' as const) : ('gone' as const))) })),
  ];
  const results = await Promise.allSettled(calls.map((c) => c.run()));
  let upserted = 0;
  let removed = 0;
  let rejected = 0;
  let failure: unknown;
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      if (result.value === 'upserted') upserted++;
      if (result.value === 'removed') removed++;
      return;
    }
    const error = result.reason as unknown;
    if (outcomeOf(error) === 'skip') {
      rejected++;
      log.warn('schedule request refused; skipped, not retried', { schedule: calls[i]?.name, error: errorName(error), code: errorCode(error) });
    } else {
      failure ??= error;
    }
  });
  if (failure !== undefined) throw failure;
  return { upserted, removed, rejected };
}

function errorCode(error: unknown): string | undefined {
  return error instanceof PermanentError ? error.code : undefined;
}

/** Brings the schedules of one change in line. Safe to repeat: every call it makes is idempotent. */
export async function syncSchedules(deps: SchedulingDeps, change: SubjectChange): Promise<SyncOutcome> {
  const now = toInstant(deps.clock.now());
  switch (change.type) {
    case 'session':
      return syncSession(deps, change.before, change.after, now);
    case 'plan':
      return syncPlan(deps, change.before, change.after, now);
    case 'client':
      return syncClient(deps, change.before, change.after, now);
  }
}

const SESSION_FIELDS = ['planId', 'start', 'durationMinutes', 'status', 'version'] as const;
const PLAN_SCHEDULE_FIELDS = ['status', 'reminders', 'checkInAfter'] as const;
const PLAN_MAINTENANCE_FIELDS = ['status', 'phases'] as const;
const CLIENT_FIELDS = ['preferences', 'suppressed', 'timezone'] as const;

/** True on an insert or a delete, or when any of `fields` differs. */
function moved<T extends object>(before: T | undefined, after: T | undefined, fields: readonly (keyof T)[]): boolean {
  if (!before || !after) return true;
  return fields.some((field) => !isDeepStrictEqual(before[field], after[field]));
}

async function syncSession(deps: SchedulingDeps, before: StoredSession | undefined, after: StoredSession | undefined, now: Instant): Promise<SyncOutcome> {
  const subject = after ?? before;
  if (!subject || !moved(before, after, SESSION_FIELDS)) return NOTHING;
  const bundle = await deps.store.getClientBundle(subject.clientId);
  if (!bundle) {
    (deps.log ?? silentLog).warn('session change for a client that does not exist; nothing to schedule', { sessionId: subject.id, clientId: subject.clientId });
    return NOTHING;
  }
  const planOf = (session: StoredSession | undefined) => (session ? bundle.plans.find((p) => p.id === session.planId) : undefined);
  const decisionsFor = (session: StoredSession | undefined) => {
    const plan = planOf(session);
    return session && plan ? clientMessages(session, plan, bundle.client, deps.clinic, now) : [];
  };
  const was = decisionsFor(before);
  const is = decisionsFor(after);
  const diff = diffMessages(was, is);
  const afterPlan = planOf(after);
  const upserts = after && afterPlan ? diff.upserts.map((m) => sessionSchedule(m, after, afterPlan)) : [];
  const counts = await converge(deps, upserts, diff.removals);
  const beforePlan = planOf(before);
  const removed =
    before && beforePlan
      ? removedMessages(
          was,
          diff,
          { session: before, plan: beforePlan },
          { client: bundle.client, ...(afterPlan ? { plan: afterPlan } : {}), ...(after ? { session: after } : {}) },
        )
      : [];
  const skipsRecorded = (after && afterPlan ? await recordNewSkips(deps, was, is, after, afterPlan, now) : 0) + (await recordRemovals(deps, removed, now));
  if (before && beforePlan) await clearSkips(deps, liftedSkips(diff.upserts, { client: bundle.client, plan: beforePlan, session: before }));
  const booking = after && afterPlan ? await syncBookingEmails(deps, bundle.client, afterPlan, before, after, now) : NO_BOOKING_EMAILS;

  // The stream record is at least as new as an eventually consistent read: trust it for this session.
  const sessions = bundle.sessions.filter((s) => s.id !== subject.id).concat(after ? [after] : []);
  const plan = planOf(subject);
  const maintenance = plan ? await alignMaintenance(deps, bundle.client, plan, sessions, now) : 'unchanged';
  return {
    upserted: counts.upserted + booking.upserted,
    removed: counts.removed + booking.removed,
    rejected: counts.rejected + booking.rejected,
    skipsRecorded: skipsRecorded + booking.skipsRecorded,
    maintenance,
  };
}

type BookingCounts = ConvergeCounts & { readonly skipsRecorded: number };
const NO_BOOKING_EMAILS: BookingCounts = { upserted: 0, removed: 0, rejected: 0, skipsRecorded: 0 };

/** The version a message or retry schedule name ends with (`….v2`, `….v2.r1`). */
function versionOfName(name: string): number | undefined {
  const match = /\.v(\d+)(?:\.r\d+)?$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** A retry schedule's name without its `.r<n>`: the message it retries. */
function baseOfName(name: string): string {
  return name.replace(/\.r\d+$/, '');
}

/**
 * The client's booking emails for one session change (domain/booking-emails.ts):
 * - booked: the confirmation, after the undo window;
 * - moved or cancelled: first, was the client told of the booking as it stood? Not while its
 *   confirmation is still waiting in the Scheduler (or was skipped, or is between retries): that
 *   confirmation is skipped — "moved within the undo window", "cancelled within the undo window" —
 *   and a move gets the confirmation of the new time instead, a cancellation nothing at all. A
 *   confirmation dispatch already holds, or sent, means the client was told: a move gets a change
 *   notice, a cancellation a cancellation notice, both at once. A change notice still waiting for
 *   the version before is skipped and deleted with it.
 * Repeating it is safe: the skips it records are what a repeat reads to decide the same way, and
 * schedules of the new version are never deleted.
 */
async function syncBookingEmails(
  deps: SchedulingDeps,
  client: Client,
  plan: StoredPlan,
  before: StoredSession | undefined,
  after: StoredSession,
  now: Instant,
): Promise<BookingCounts> {
  const transition = bookingTransition(before, after, now);
  const config = deps.clinic.bookingEmails;
  const anyOn = config.confirmation || config.change || config.cancellation;
  // Suppression stops every booking email; no unsubscribe does (they are transactional).
  if (!transition || !anyOn || !receives(client, 'booking-confirmation')) return NO_BOOKING_EMAILS;
  const schedule = (kind: BookingKind, at: Instant): OneTimeSchedule => ({
    name: bookingName(kind, after),
    at,
    payload: { message: bookingIdentity(kind, after), clientId: after.clientId, planId: plan.id, sessionId: after.id, therapistId: plan.therapistId },
  });
  if (transition === 'booked' || !before) {
    if (!isEnabled(config, 'booking-confirmation')) return NO_BOOKING_EMAILS;
    return { ...(await converge(deps, [schedule('booking-confirmation', confirmationDue(now, after, client, deps.clinic))], [])), skipsRecorded: 0 };
  }

  // A move leaves the new version's schedules alone (a repeat of this change may have made them); a
  // cancellation keeps its version, and voids everything waiting for it.
  const obsolete = (name: string) => transition === 'cancelled' || (versionOfName(name) ?? after.version) < after.version;
  const older = async (kind: BookingKind) => (await deps.scheduler.list(subjectPrefix(kind, after.id))).map((e) => e.name).filter(obsolete);
  const [confirmations, changes] = await Promise.all([older('booking-confirmation'), older('booking-change')]);
  const skipRequest = (name: string, kind: BookingKind) => ({
    name,
    kind,
    clientId: after.clientId,
    planId: plan.id,
    sessionId: after.id,
    therapistId: plan.therapistId,
    now,
  });

  let skipsRecorded = 0;
  let told: boolean;
  if (confirmations.length > 0) {
    const reason = transition === 'cancelled' ? BOOKING_SKIP_REASONS.cancelledInWindow : BOOKING_SKIP_REASONS.movedInWindow;
    told = false;
    for (const name of new Set(confirmations.map(baseOfName))) {
      const standing = await deps.ledger.markSkipped(skipRequest(name, 'booking-confirmation'), reason);
      if (standing === undefined) skipsRecorded++;
      // Dispatch holds it or sent it already: the client has (or is getting) the confirmation.
      else if (standing.status !== 'skipped' && standing.status !== 'released') told = true;
    }
  } else {
    const entry = await deps.ledger.get(bookingName('booking-confirmation', before));
    // No entry at all: no confirmation was due (turned off, or booked before booking emails): the client knows it from the clinic.
    told = !(entry?.status === 'skipped' || entry?.status === 'released');
  }
  for (const name of new Set(changes.map(baseOfName))) {
    const standing = await deps.ledger.markSkipped(skipRequest(name, 'booking-change'), transition === 'cancelled' ? 'session cancelled' : 'version moved on');
    if (standing === undefined) skipsRecorded++;
  }

  const upserts: OneTimeSchedule[] = [];
  if (transition === 'moved' && !told && isEnabled(config, 'booking-confirmation'))
    upserts.push(schedule('booking-confirmation', confirmationDue(now, after, client, deps.clinic)));
  if (transition === 'moved' && told && isEnabled(config, 'booking-change')) upserts.push(schedule('booking-change', now));
  if (transition === 'cancelled' && told && isEnabled(config, 'booking-cancellation')) upserts.push(schedule('booking-cancellation', now));
  const counts = await converge(deps, upserts, [...confirmations, ...changes]);
  return { ...counts, skipsRecorded };
}

/**
 * Overdue messages a booking or a move made impossible (a reminder too late to be useful) are
 * recorded as skipped, once, while the session is still ahead. Past sessions (an import of
 * history) record nothing: their messages were never due in this system.
 */
async function recordNewSkips(
  deps: SchedulingDeps,
  was: readonly MessageDecision[],
  is: readonly MessageDecision[],
  session: StoredSession,
  plan: StoredPlan,
  now: Instant,
): Promise<number> {
  if (session.start <= now) return 0;
  const skippedBefore = new Set(was.flatMap((d) => (d.action === 'skip' ? [d.name] : [])));
  const fresh = is.flatMap((d) => (d.action === 'skip' && !skippedBefore.has(d.name) ? [d] : []));
  for (const skip of fresh) {
    await deps.ledger.markSkipped(
      {
        name: skip.name,
        kind: skip.identity.kind,
        clientId: session.clientId,
        planId: plan.id,
        sessionId: session.id,
        therapistId: plan.therapistId,
        dueAt: skip.dueAt,
        now,
      },
      skip.reason,
    );
  }
  return fresh.length;
}

async function syncPlan(deps: SchedulingDeps, before: StoredPlan | undefined, after: StoredPlan | undefined, now: Instant): Promise<SyncOutcome> {
  const subject = after ?? before;
  if (!subject) return NOTHING;
  const schedulesMove = moved(before, after, PLAN_SCHEDULE_FIELDS);
  const maintenanceMoves = moved(before, after, PLAN_MAINTENANCE_FIELDS);
  if (!schedulesMove && !maintenanceMoves) return NOTHING;
  const bundle = await deps.store.getClientBundle(subject.clientId);
  if (!bundle) return NOTHING;
  const sessions = bundle.sessions.filter((s) => s.planId === subject.id);

  let counts: ConvergeCounts = NOTHING;
  let skipsRecorded = 0;
  if (schedulesMove) {
    const upserts: OneTimeSchedule[] = [];
    const removals: string[] = [];
    const removed: Removed[] = [];
    const lifted: string[] = [];
    for (const session of sessions) {
      const was = before ? clientMessages(session, before, bundle.client, deps.clinic, now) : [];
      const is = after ? clientMessages(session, after, bundle.client, deps.clinic, now) : [];
      const diff = diffMessages(was, is);
      if (after) upserts.push(...diff.upserts.map((m) => sessionSchedule(m, session, after)));
      removals.push(...diff.removals);
      if (before) removed.push(...removedMessages(was, diff, { session, plan: before }, { client: bundle.client, ...(after ? { plan: after } : {}), session }));
      if (before) lifted.push(...liftedSkips(diff.upserts, { client: bundle.client, plan: before, session }));
    }
    counts = await converge(deps, upserts, removals);
    skipsRecorded = await recordRemovals(deps, removed, now);
    await clearSkips(deps, lifted);
  }
  // The store's status update drops a paused plan's index keys and does not restore them: a status
  // change always rewrites them, whatever a (possibly older) image says the plan holds.
  const statusMoved = before !== undefined && after !== undefined && before.status !== after.status;
  const maintenance = maintenanceMoves && after ? await alignMaintenance(deps, bundle.client, after, sessions, now, statusMoved) : 'unchanged';
  return { ...NOTHING, ...counts, skipsRecorded, maintenance };
}

async function syncClient(deps: SchedulingDeps, before: Client | undefined, after: Client | undefined, now: Instant): Promise<SyncOutcome> {
  const subject = after ?? before;
  if (!subject || !moved(before, after, CLIENT_FIELDS)) return NOTHING;
  const bundle = await deps.store.getClientBundle(subject.id);
  if (!bundle) return NOTHING;

  const upserts: OneTimeSchedule[] = [];
  const removals: string[] = [];
  const removed: Removed[] = [];
  const lifted: string[] = [];
  for (const plan of bundle.plans) {
    for (const session of bundle.sessions.filter((s) => s.planId === plan.id)) {
      const was = before ? clientMessages(session, plan, before, deps.clinic, now) : [];
      const is = after ? clientMessages(session, plan, after, deps.clinic, now) : [];
      const diff = diffMessages(was, is);
      upserts.push(...diff.upserts.map((m) => sessionSchedule(m, session, plan)));
      removals.push(...diff.removals);
      removed.push(...removedMessages(was, diff, { session, plan }, { ...(after ? { client: after } : {}), plan, session }));
      if (before) lifted.push(...liftedSkips(diff.upserts, { client: before, plan, session }));
    }
    // A nudge already scheduled for a client who no longer takes them is void.
    const mark = plan.maintenanceMark;
    if (mark?.state === 'due' && before && receives(before, 'maintenance-nudge') && !(after && receives(after, 'maintenance-nudge'))) {
      removals.push(nudgeName(plan.id, mark.dueAt, before.timezone));
    }
  }
  const counts = await converge(deps, upserts, removals);
  const skipsRecorded = await recordRemovals(deps, removed, now);
  await clearSkips(deps, lifted);

  // Due dates are the client's calendar days: a new time zone moves them.
  let maintenance: SyncOutcome['maintenance'] = 'unchanged';
  if (after && before && before.timezone !== after.timezone) {
    for (const plan of bundle.plans) {
      const outcome = await alignMaintenance(
        deps,
        after,
        plan,
        bundle.sessions.filter((s) => s.planId === plan.id),
        now,
      );
      if (outcome !== 'unchanged') maintenance = outcome;
    }
  }
  return { ...NOTHING, ...counts, skipsRecorded, maintenance };
}

/** The stream path's maintenance step: owed nudges and lapses are left to reconcile. */
async function alignMaintenance(
  deps: SchedulingDeps,
  client: Client,
  plan: StoredPlan,
  sessions: readonly StoredSession[],
  now: Instant,
  force = false,
): Promise<SyncOutcome['maintenance']> {
  const settled = await settleMaintenance(deps, client, plan, sessions, now, { mode: 'defer', force });
  return settled.write;
}
