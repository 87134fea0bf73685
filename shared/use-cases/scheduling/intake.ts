/**
 * The plan's intake questionnaire (domain/intake-questionnaire.ts), due at once (out of the clinic's
 * quiet hours when the first session allows): planned when the plan is created (or resumed) with
 * its first session ahead, and when its first session is booked, moved or replaced (a plan created
 * with none, a first session cancelled). Nothing is planned while the client does not receive it,
 * the plan is not active or has a baseline, or its first session has started (an import of
 * history: never due in this system); nor once the ledger shows it sent, held, failed or deferred.
 * A plain skip (a first session cancelled) is planned over.
 */
import { receives } from '../../domain/eligibility.js';
import { firstSessionOf, intakeIdentity, intakeSkipReason } from '../../domain/intake-questionnaire.js';
import { messageName } from '../../domain/message.js';
import type { Client } from '../../domain/model.js';
import { applyQuietHours, toInstant, type Instant } from '../../domain/time.js';
import type { StoredPlan, StoredSession } from '../../ports/store.js';
import { converge, type ConvergeCounts } from './converge.js';
import type { SchedulingDeps } from './deps.js';

export const NO_CALLS: ConvergeCounts = { upserted: 0, removed: 0, rejected: 0 };

export async function planIntake(
  deps: SchedulingDeps,
  client: Client,
  plan: StoredPlan,
  sessions: readonly StoredSession[],
  now: Instant,
): Promise<ConvergeCounts> {
  const identity = intakeIdentity(plan.id);
  const first = firstSessionOf(plan.id, sessions);
  if (!first || plan.status !== 'active' || !receives(client, identity.kind) || intakeSkipReason({ plan, firstSession: first, now })) return NO_CALLS;
  const name = messageName(identity);
  const entry = await deps.ledger.get(name);
  if (entry && entry.status !== 'released' && !(entry.status === 'skipped' && entry.deferredTo === undefined)) return NO_CALLS;
  const payload = { message: identity, clientId: plan.clientId, planId: plan.id, sessionId: first.id, therapistId: plan.therapistId };
  // Out of the clinic's quiet hours, unless the first session comes before they end.
  const outOfQuiet = applyQuietHours(now, client.timezone, deps.clinic.quietHours);
  return converge(deps, [{ name, at: outOfQuiet < toInstant(first.start) ? outOfQuiet : now, payload }], []);
}

/** A session change plans the intake only when it gives the plan a new first session: one booked, or another in place of one cancelled. */
export async function intakeOnSessionChange(
  deps: SchedulingDeps,
  client: Client,
  plan: StoredPlan,
  stored: readonly StoredSession[],
  before: StoredSession | undefined,
  after: StoredSession | undefined,
  now: Instant,
): Promise<ConvergeCounts> {
  if (plan.baseline) return NO_CALLS;
  const changed = (after ?? before)!.id;
  const others = stored.filter((s) => s.id !== changed);
  const firstBefore = firstSessionOf(plan.id, before ? [...others, before] : others);
  const sessions = after ? [...others, after] : others;
  const firstAfter = firstSessionOf(plan.id, sessions);
  // Only a new first session (booked, or another in its place) changes what the intake names.
  if (!firstAfter || (before && firstBefore?.id === firstAfter.id) || (firstAfter.id !== changed && firstBefore?.id !== changed)) return NO_CALLS;
  return planIntake(deps, client, plan, sessions, now);
}
