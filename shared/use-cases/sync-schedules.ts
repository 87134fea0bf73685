/**
 * sync-schedules: keeps every subject's one-time message schedules in line with the data, one
 * table change at a time (fed by the table's stream).
 *
 * Step by step, for a change to a session, a plan or a client (its image before and after):
 * 1. Ignore a change that cannot move a message (a renumbering, a confirmation, a baseline, a
 *    maintenance mark; the field lists in domain/schedule-diff.ts): no read, no call.
 * 2. Read the client's bundle once: plans, the client's choices, the plan's sessions. A session's
 *    insert reads it strongly consistent, so it sees the plan and client it was written under.
 * 3. For every affected session, plan its messages twice, as things stood before the change and
 *    as they stand after it: planSessionMessages, less what the client does not receive
 *    (clientMessages, domain/eligibility.ts). A client's or plan's insert plans no session: a
 *    session is only written once its plan exists (the store's saveSession refuses it otherwise;
 *    the intake's commit writes a new plan in the session's own transaction or reads it
 *    consistently), so every session has an insert record of its own, and that record plans each
 *    of its messages from nothing (was nothing, is everything), whichever order the records come
 *    in. A schedule lost to a fault (a record given up on, an erase stopped halfway) is
 *    reconcile's to heal, as for any other change.
 * 4. Create or replace the schedules that are new or moved, delete those no longer planned
 *    (diffMessages; converge, scheduling/converge.ts). A message with the same name and due time
 *    before and after costs no Scheduler call.
 * 5. Record in the ledger, so every due message ends somewhere: the reminders a booking or a move
 *    came too late for (skipped, with the rule's reason), and each pending message whose schedule
 *    was deleted (skipped, with why: session cancelled, version moved on, plan paused, unsubscribed,
 *    address suppressed; skipReasonFor, shared with dispatch). A change that lifts such a reason
 *    (a resume, a resubscribe) clears those skips as it re-creates the schedules
 *    (scheduling/ledger.ts).
 * 6. A new plan, or a change to its first session, plans the intake questionnaire at once
 *    (planIntake in scheduling/intake.ts).
 * 7. Bring the plan's maintenance in line (settleMaintenance in scheduling/maintenance.ts, shared
 *    with reconcile): when reconcile should next look at it, and void a pending nudge whose due
 *    period has ended. A nudge or a lapse that is owed now is left to reconcile's next pass, which
 *    sees the whole plan.
 */
import type { Client } from '../domain/model.js';
import { baseOfName, subjectPrefix, versionOfName, type BookingKind } from '../domain/message.js';
import { BOOKING_SKIP_REASONS, bookingIdentity, bookingName, bookingTransition, confirmationDue, isEnabled } from '../domain/booking-emails.js';
import { clientMessages, receives } from '../domain/eligibility.js';
import {
  CLIENT_FIELDS,
  diffMessages,
  liftedSkips,
  moved,
  PLAN_MAINTENANCE_FIELDS,
  PLAN_SCHEDULE_FIELDS,
  removedMessages,
  SESSION_FIELDS,
  type Removed,
} from '../domain/schedule-diff.js';
import { nudgeName } from '../domain/schedule-rules.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { OneTimeSchedule } from '../ports/scheduler.js';
import type { StoredPlan, StoredSession } from '../ports/store.js';
import { silentLog, type OpsLog } from '../ports/log.js';
import { converge, sessionSchedule, type ConvergeCounts } from './scheduling/converge.js';
import type { SchedulingDeps, SubjectChange } from './scheduling/deps.js';
import { clearSkips, recordNewSkips, recordRemovals } from './scheduling/ledger.js';
import { intakeOnSessionChange, NO_CALLS, planIntake } from './scheduling/intake.js';
import { settleMaintenance } from './scheduling/maintenance.js';

export { silentLog, type OpsLog, type SchedulingDeps };
// The stream handler maps a failed record by the same rule as converge.
export { errorName, outcomeOf } from '../domain/errors.js';

export type { SubjectChange } from './scheduling/deps.js';

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

async function syncSession(deps: SchedulingDeps, before: StoredSession | undefined, after: StoredSession | undefined, now: Instant): Promise<SyncOutcome> {
  const subject = after ?? before;
  if (!subject || !moved(before, after, SESSION_FIELDS)) return NOTHING;
  // An insert is the one record that plans a new session (step 3): it must see the session's plan.
  const bundle = await deps.store.getClientBundle(subject.clientId, before === undefined);
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
  const intake = afterPlan ? await intakeOnSessionChange(deps, bundle.client, afterPlan, bundle.sessions, before, after, now) : NO_CALLS;

  // The stream record is at least as new as an eventually consistent read: trust it for this session.
  const sessions = bundle.sessions.filter((s) => s.id !== subject.id).concat(after ? [after] : []);
  const plan = planOf(subject);
  const maintenance = plan ? await alignMaintenance(deps, bundle.client, plan, sessions, now) : 'unchanged';
  return {
    upserted: counts.upserted + booking.upserted + intake.upserted,
    removed: counts.removed + booking.removed,
    rejected: counts.rejected + booking.rejected + intake.rejected,
    skipsRecorded: skipsRecorded + booking.skipsRecorded,
    maintenance,
  };
}

type BookingCounts = ConvergeCounts & { readonly skipsRecorded: number };
const NO_BOOKING_EMAILS: BookingCounts = { upserted: 0, removed: 0, rejected: 0, skipsRecorded: 0 };

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
  // An insert's sessions are each planned by their own insert record (step 3).
  if (schedulesMove && before) {
    const upserts: OneTimeSchedule[] = [];
    const removals: string[] = [];
    const removed: Removed<StoredSession, StoredPlan>[] = [];
    const lifted: string[] = [];
    for (const session of sessions) {
      const was = clientMessages(session, before, bundle.client, deps.clinic, now);
      const is = after ? clientMessages(session, after, bundle.client, deps.clinic, now) : [];
      const diff = diffMessages(was, is);
      if (after) upserts.push(...diff.upserts.map((m) => sessionSchedule(m, session, after)));
      removals.push(...diff.removals);
      removed.push(...removedMessages(was, diff, { session, plan: before }, { client: bundle.client, ...(after ? { plan: after } : {}), session }));
      lifted.push(...liftedSkips(diff.upserts, { client: bundle.client, plan: before, session }));
    }
    counts = await converge(deps, upserts, removals);
    skipsRecorded = await recordRemovals(deps, removed, now);
    await clearSkips(deps, lifted);
  }
  const intake = after && after.status === 'active' && before?.status !== 'active' ? await planIntake(deps, bundle.client, after, sessions, now) : NO_CALLS;
  counts = { upserted: counts.upserted + intake.upserted, removed: counts.removed, rejected: counts.rejected + intake.rejected };
  // The store's status update drops a paused plan's index keys and does not restore them: a status
  // change always rewrites them, whatever a (possibly older) image says the plan holds.
  const statusMoved = before !== undefined && after !== undefined && before.status !== after.status;
  const maintenance = maintenanceMoves && after ? await alignMaintenance(deps, bundle.client, after, sessions, now, statusMoved) : 'unchanged';
  return { ...NOTHING, ...counts, skipsRecorded, maintenance };
}

async function syncClient(deps: SchedulingDeps, before: Client | undefined, after: Client | undefined, now: Instant): Promise<SyncOutcome> {
  // An insert has nothing to bring in line: its sessions are each planned by their own insert
  // record (step 3), and it has no schedules of its own.
  if (!before || !moved(before, after, CLIENT_FIELDS)) return NOTHING;
  const bundle = await deps.store.getClientBundle(before.id);
  if (!bundle) return NOTHING;

  const upserts: OneTimeSchedule[] = [];
  const removals: string[] = [];
  const removed: Removed<StoredSession, StoredPlan>[] = [];
  const lifted: string[] = [];
  for (const plan of bundle.plans) {
    for (const session of bundle.sessions.filter((s) => s.planId === plan.id)) {
      const was = clientMessages(session, plan, before, deps.clinic, now);
      const is = after ? clientMessages(session, plan, after, deps.clinic, now) : [];
      const diff = diffMessages(was, is);
      upserts.push(...diff.upserts.map((m) => sessionSchedule(m, session, plan)));
      removals.push(...diff.removals);
      removed.push(...removedMessages(was, diff, { session, plan }, { ...(after ? { client: after } : {}), plan, session }));
      lifted.push(...liftedSkips(diff.upserts, { client: before, plan, session }));
    }
    // A nudge already scheduled for a client who no longer takes them is void.
    const mark = plan.maintenanceMark;
    if (mark?.state === 'due' && receives(before, 'maintenance-nudge') && !(after && receives(after, 'maintenance-nudge'))) {
      removals.push(nudgeName(plan.id, mark.dueAt, before.timezone));
    }
  }
  const counts = await converge(deps, upserts, removals);
  const skipsRecorded = await recordRemovals(deps, removed, now);
  await clearSkips(deps, lifted);

  // Due dates are the client's calendar days: a new time zone moves them.
  let maintenance: SyncOutcome['maintenance'] = 'unchanged';
  if (after && before.timezone !== after.timezone) {
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
