/**
 * Changing a plan: pausing, resuming and completing it, changing its maintenance interval (each
 * with its history entry), and reading that history. The summary email's page and the CLI use
 * the same `adjustPlan`; the table's stream then brings the schedules in line (sync-schedules).
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { idSchema } from '../domain/model.js';
import { applyAdjustment, maintenancePhaseIndex, planAdjustmentSchema, planStateOf, type PlanChange } from '../domain/plan-change.js';
import { toInstant, type Instant } from '../domain/time.js';
import { issuesFromZod, parseOrThrow, type FieldIssue } from '../domain/validation.js';
import type { ClinicStore, StoredPlan } from '../ports/store.js';

async function existingPlan(store: ClinicStore, planId: string): Promise<StoredPlan> {
  parseOrThrow(idSchema, planId, 'plan id');
  const plan = await store.findPlan(planId);
  if (!plan) throw new NotFoundError('plan', planId);
  return plan;
}

export async function setPlanStatus(store: ClinicStore, planId: string, status: 'active' | 'paused' | 'completed'): Promise<StoredPlan> {
  const plan = await existingPlan(store, planId);
  if (plan.status === status) return plan;
  return store.updatePlanStatus(plan.clientId, plan.id, status);
}

export const pausePlan = (store: ClinicStore, planId: string) => setPlanStatus(store, planId, 'paused');
export const resumePlan = (store: ClinicStore, planId: string) => setPlanStatus(store, planId, 'active');

export interface AdjustPlanInput {
  readonly planId: string;
  /** `{ action, days?, note? }` as the CLI or the page sends it; validated here. */
  readonly adjustment: unknown;
  /** Who asks: the therapist's id (email link) or the operator's name (CLI). */
  readonly by: string;
  readonly via: PlanChange['via'];
  readonly now: Instant | Date;
  /** When set, only this therapist's plan may be changed; another's is "not found", like a missing one. */
  readonly therapistId?: string;
  /** The change's id in the plan's history. An email link passes its token id, so it acts once. @default random */
  readonly changeId?: string;
}

export type AdjustPlanOutcome =
  | { readonly status: 'adjusted'; readonly plan: StoredPlan; readonly change: PlanChange }
  /** The plan already stands as asked (pausing a paused plan): nothing written. */
  | { readonly status: 'unchanged'; readonly plan: StoredPlan; readonly reason: string }
  /** Not possible from the plan's state (pausing a completed plan): nothing written. */
  | { readonly status: 'refused'; readonly plan: StoredPlan; readonly reason: string }
  /** A change with this id is in the history already: the link that carried it acted. */
  | { readonly status: 'already-done' }
  | { readonly status: 'invalid'; readonly issues: readonly FieldIssue[] };

/** How often a change is decided again when another write moved the plan in between. */
const STALE_RETRIES = 3;

/**
 * Changes a plan's maintenance interval or status, with a note, for the summary email's page and
 * the CLI alike. Step by step:
 * 1. Validate the request (action, days for an interval, a one-line note).
 * 2. Read the plan; another therapist's plan is treated as missing.
 * 3. Decide from the plan's state (shared/domain/plan-change.ts): the new state, or why not.
 * 4. Write the plan and its history entry in one conditional transaction: only if the plan still
 *    stands as read, and only once per change id. A plan moved on meanwhile is read and decided
 *    again. The table's stream then brings the schedules in line (sync-schedules), as for any
 *    plan write: a pause deletes them, a resume recreates them, an interval moves the nudge.
 */
export async function adjustPlan(store: ClinicStore, input: AdjustPlanInput): Promise<AdjustPlanOutcome> {
  const parsed = planAdjustmentSchema.safeParse(input.adjustment);
  if (!parsed.success) return { status: 'invalid', issues: issuesFromZod(parsed.error) };
  const adjustment = parsed.data;
  const at = toInstant(input.now);
  // Changes at one instant list by id: a default id starts with the real time it was made, so two
  // CLI commands under a twin's fixed clock still list in the order they ran.
  const id = input.changeId ?? `${Date.now().toString(36).padStart(9, '0')}${randomUUID().replace(/-/g, '').slice(0, 11)}`;
  for (let attempt = 0; ; attempt++) {
    const plan = await existingPlan(store, input.planId);
    if (input.therapistId !== undefined && plan.therapistId !== input.therapistId) throw new NotFoundError('plan', input.planId);
    const before = planStateOf(plan);
    const decided = applyAdjustment(before, adjustment);
    if ('refused' in decided)
      return decided.unchanged ? { status: 'unchanged', plan, reason: decided.refused } : { status: 'refused', plan, reason: decided.refused };
    const change: PlanChange = {
      id,
      planId: plan.id,
      clientId: plan.clientId,
      therapistId: plan.therapistId,
      action: adjustment.action,
      before,
      after: decided.after,
      by: input.by,
      via: input.via,
      ...(adjustment.note ? { note: adjustment.note } : {}),
      at,
    };
    const result = await store.recordPlanChange(change, maintenancePhaseIndex(plan));
    if (result.status === 'recorded') return { status: 'adjusted', plan: result.plan, change };
    if (result.status === 'duplicate') return { status: 'already-done' };
    if (attempt + 1 >= STALE_RETRIES) throw new ConflictError(`plan "${plan.id}" kept changing while it was being adjusted; try again`);
  }
}

/** A plan's history of changes, oldest first. */
export async function planHistory(store: ClinicStore, planId: string): Promise<{ plan: StoredPlan; changes: PlanChange[] }> {
  const plan = await existingPlan(store, planId);
  return { plan, changes: await store.planHistory(plan.clientId, plan.id) };
}
