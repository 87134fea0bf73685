/**
 * Carries out a plan's next maintenance action (domain/maintenance.ts): voids a nudge whose due
 * period is over, schedules the nudge of a due period, and stores the mark and the next action
 * time. Shared by reconcile (which acts) and sync-schedules (which defers to reconcile).
 */
import { isDeepStrictEqual } from 'node:util';
import { receives } from '../../domain/eligibility.js';
import { maintenanceOf, nextMaintenanceAction, type MaintenanceMark } from '../../domain/maintenance.js';
import { messageName } from '../../domain/message.js';
import type { Client } from '../../domain/model.js';
import { nudgeIdentity, nudgeName, type PlannedMessage } from '../../domain/schedule-rules.js';
import { applyQuietHours, type Instant } from '../../domain/time.js';
import type { OneTimeSchedule } from '../../ports/scheduler.js';
import type { StoredPlan, StoredSession } from '../../ports/store.js';
import { converge } from './converge.js';
import type { SchedulingDeps } from './deps.js';
import { stillOwed } from './ledger.js';

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
export async function scheduleNudge(deps: SchedulingDeps, client: Client, plan: StoredPlan, dueAt: Instant, now: Instant): Promise<boolean> {
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
