/**
 * The intake questionnaire: the check-in's four scores (and "What brings you in?") asked when a
 * plan starts, before its first session. Its answers are the plan's baseline (domain/baseline.ts).
 * Pure rules, shared by sync-schedules (which plans it), dispatch (which decides at send time) and
 * the page (whose link lasts until the first session has started).
 *
 * - One per plan, named `iq.<planId>.intake.v1`: schedule name, ledger key and SES tag.
 * - Due at once (out of the clinic's quiet hours, when the first session allows) when the plan is
 *   created with its first session ahead, or when its first session is booked (a plan created with none).
 * - Sent only while the plan is active and has no baseline, and its first session has not started;
 *   skipped with the reason otherwise. It belongs to the client's check-ins choice (an unsubscribe
 *   from check-ins stops it); suppression always stops it.
 */
import type { MessageIdentity } from './message.js';
import type { Instant } from './time.js';
import { toInstant } from './time.js';

export const INTAKE_OFFSET = 'intake';

export function intakeIdentity(planId: string): MessageIdentity {
  return { kind: 'intake-questionnaire', subjectId: planId, offset: INTAKE_OFFSET, version: 1 };
}

export const INTAKE_SKIP_REASONS = {
  hasBaseline: 'plan already has a baseline',
  firstSessionStarted: 'first session already started',
  firstSessionCancelled: 'first session cancelled',
  noSession: 'first session not found',
} as const;

/** How long after the first session's start the link still works: a client answering in the waiting room. */
export const INTAKE_LINK_MARGIN_HOURS = 1;
/** The link's lifetime when no session is known at send time (a safety net: one is always known). */
export const INTAKE_LINK_FALLBACK_DAYS = 14;

interface SessionLike {
  readonly id: string;
  readonly planId: string;
  readonly start: Instant;
  readonly status: string;
}

/** The plan's first session: the earliest not cancelled. */
export function firstSessionOf<S extends SessionLike>(planId: string, sessions: readonly S[]): S | undefined {
  return sessions
    .filter((s) => s.planId === planId && s.status !== 'cancelled')
    .reduce<S | undefined>((first, s) => (!first || s.start < first.start ? s : first), undefined);
}

/**
 * Why the intake questionnaire is not (or no longer) to be sent for this plan and first session,
 * at `now`; undefined while it is. The client's choices and the plan's status are asked elsewhere
 * (skipReasonFor), as for every message.
 */
export function intakeSkipReason(input: {
  readonly plan: { readonly baseline?: unknown };
  readonly firstSession?: SessionLike;
  readonly now: Instant;
}): string | undefined {
  if (input.plan.baseline) return INTAKE_SKIP_REASONS.hasBaseline;
  const session = input.firstSession;
  if (!session) return INTAKE_SKIP_REASONS.noSession;
  if (session.status === 'cancelled') return INTAKE_SKIP_REASONS.firstSessionCancelled;
  if (toInstant(session.start) <= input.now) return INTAKE_SKIP_REASONS.firstSessionStarted;
  return undefined;
}

/** Until when the questionnaire's link works: the first session's start plus the margin. */
export function intakeLinkExpiry(firstSessionStart: Instant | undefined, now: Date): Date {
  if (!firstSessionStart) return new Date(now.getTime() + INTAKE_LINK_FALLBACK_DAYS * 86_400_000);
  return new Date(Date.parse(firstSessionStart) + INTAKE_LINK_MARGIN_HOURS * 3_600_000);
}
