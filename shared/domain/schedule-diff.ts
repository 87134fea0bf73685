/**
 * How one change moves a subject's schedules, as pure functions of its images before and after:
 * whether the change can move a message at all (the fields that decide it), which schedules are
 * new or moved and which are no longer planned, why each removed one will not go, and which
 * earlier skips the change lifts.
 */
import { isDeepStrictEqual } from 'node:util';
import { NO_LONGER_PLANNED, scheduled, skipReasonFor, type MessageState } from './eligibility.js';
import type { Client, Plan, Session } from './model.js';
import type { MessageDecision, PlannedMessage } from './schedule-rules.js';

/** The fields of a session that its messages' names and times are made of. */
export const SESSION_FIELDS = ['planId', 'start', 'durationMinutes', 'status', 'version'] as const satisfies readonly (keyof Session)[];
/** The fields of a plan that its sessions' messages depend on. */
export const PLAN_SCHEDULE_FIELDS = ['status', 'reminders', 'checkInAfter'] as const satisfies readonly (keyof Plan)[];
/** The fields of a plan that its maintenance depends on. */
export const PLAN_MAINTENANCE_FIELDS = ['status', 'phases'] as const satisfies readonly (keyof Plan)[];
/** The fields of a client that decide what they receive, and when. */
export const CLIENT_FIELDS = ['preferences', 'suppressed', 'timezone'] as const satisfies readonly (keyof Client)[];

/** True on an insert or a delete, or when any of `fields` differs. */
export function moved<T extends object>(before: T | undefined, after: T | undefined, fields: readonly (keyof T)[]): boolean {
  if (!before || !after) return true;
  return fields.some((field) => !isDeepStrictEqual(before[field], after[field]));
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
export interface Removed<S extends Session = Session, P extends Plan = Plan> {
  readonly message: PlannedMessage;
  readonly session: S;
  readonly plan: P;
  /** Why it will not go: the state after the change says, else it is simply no longer planned. */
  readonly reason: string;
}

/** The messages of `before` that `diff` removes, each with why, read from the state after the change. */
export function removedMessages<S extends Session, P extends Plan>(
  before: readonly MessageDecision[],
  diff: ScheduleDiff,
  was: { session: S; plan: P },
  after: MessageState,
): Removed<S, P>[] {
  const removals = new Set(diff.removals);
  return scheduled(before)
    .filter((m) => removals.has(m.name))
    .map((message) => ({ message, ...was, reason: skipReasonFor(after, message.identity) ?? NO_LONGER_PLANNED }));
}

/**
 * The other half of recording removals: a change that lifts what stopped a message (a resume, a
 * resubscribe, a session booked again) re-creates its schedule, and the skip recorded then is
 * cleared so the message reads as pending again. Only when the state before the change gave a
 * reason: a plain booking or a move clears nothing, and costs nothing.
 */
export function liftedSkips(upserts: readonly PlannedMessage[], before: MessageState & { readonly session: Session }): string[] {
  return upserts.filter((m) => skipReasonFor(before, { ...m.identity, version: before.session.version }) !== undefined).map((m) => m.name);
}
