/**
 * What a plan's maintenance needs next, from its status (schedule-rules.ts: maintenanceStatus) and
 * the mark reconcile left on it. Pure: scheduling/maintenance.ts carries the action out.
 */
import type { Clinic, Client, Plan, Session } from './model.js';
import { maintenanceStatus, type MaintenanceStatus } from './schedule-rules.js';
import type { Instant } from './time.js';

/** Where a plan stands on maintenance, kept on the plan by reconcile. */
export interface MaintenanceMark {
  readonly state: 'due' | 'lapsed';
  readonly dueAt: Instant;
  readonly lapsedAt: Instant;
  readonly markedAt: Instant;
}

/** The plan's maintenance status now, in the client's calendar days and with the clinic's grace period. */
export function maintenanceOf(
  plan: Plan,
  sessions: readonly Session[],
  client: Client,
  clinic: Pick<Clinic, 'maintenanceGraceDays'>,
  now: Instant,
): MaintenanceStatus {
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
