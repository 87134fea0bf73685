/**
 * What scheduling writes to and reads from the ledger, so every due message ends as sent, skipped
 * or failed: skips for messages a change made impossible or deleted, their clearing when a change
 * lifts the reason, and whether a message with no schedule is still owed.
 */
import type { Removed } from '../../domain/schedule-diff.js';
import type { MessageDecision, PlannedMessage } from '../../domain/schedule-rules.js';
import type { Instant } from '../../domain/time.js';
import type { StoredPlan, StoredSession } from '../../ports/store.js';
import type { SchedulingDeps } from './deps.js';

/** Records one session message as skipped, with why. */
async function markSkipped(
  deps: Pick<SchedulingDeps, 'ledger'>,
  message: Pick<PlannedMessage, 'name' | 'dueAt' | 'identity'>,
  session: StoredSession,
  plan: StoredPlan,
  now: Instant,
  reason: string,
): Promise<void> {
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

/**
 * Every due message ends as sent, skipped or failed: one whose schedule is deleted is recorded as
 * skipped, with why, while its due time is ahead (a past one went out or has its own entry). The
 * images in hand say everything; no read. A resume later re-creates the schedule, and the skip is
 * claimed over as usual.
 */
export async function recordRemovals(
  deps: Pick<SchedulingDeps, 'ledger'>,
  removed: readonly Removed<StoredSession, StoredPlan>[],
  now: Instant,
): Promise<number> {
  const ahead = removed.filter((r) => r.message.dueAt > now);
  for (const { message, session, plan, reason } of ahead) await markSkipped(deps, message, session, plan, now, reason);
  return ahead.length;
}

/** Clears the skips a change lifted (domain/schedule-diff.ts: liftedSkips), so those messages read as pending again. */
export async function clearSkips(deps: Pick<SchedulingDeps, 'ledger'>, names: readonly string[]): Promise<void> {
  for (const name of names) await deps.ledger.clearSkip(name);
}

/**
 * Overdue messages a booking or a move made impossible (a reminder too late to be useful) are
 * recorded as skipped, once, while the session is still ahead. Past sessions (an import of
 * history) record nothing: their messages were never due in this system.
 */
export async function recordNewSkips(
  deps: Pick<SchedulingDeps, 'ledger'>,
  was: readonly MessageDecision[],
  is: readonly MessageDecision[],
  session: StoredSession,
  plan: StoredPlan,
  now: Instant,
): Promise<number> {
  if (session.start <= now) return 0;
  const skippedBefore = new Set(was.flatMap((d) => (d.action === 'skip' ? [d.name] : [])));
  const fresh = is.flatMap((d) => (d.action === 'skip' && !skippedBefore.has(d.name) ? [d] : []));
  for (const skip of fresh) await markSkipped(deps, skip, session, plan, now, skip.reason);
  return fresh.length;
}

/**
 * A message with no schedule is owed unless the ledger shows it was handled: no entry, or a claim
 * given back after a retryable error (`released`), means it never went out.
 */
export async function stillOwed(deps: Pick<SchedulingDeps, 'ledger'>, message: PlannedMessage): Promise<boolean> {
  const entry = await deps.ledger.get(message.name);
  return entry === undefined || entry.status === 'released';
}
