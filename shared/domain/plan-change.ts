/**
 * What a therapist (from the summary's "Adjust plan" link) or an operator (from the CLI) may change
 * on a plan, as pure rules: the maintenance interval, pause, resume, complete. The use case
 * (shared/use-cases/adjust-plan.ts, adjustPlan) applies them through the store; the schedules
 * follow through the table's stream like any other plan write.
 */
import * as z from 'zod';
import type { Plan } from './model.js';
import type { Instant } from './time.js';

export const PLAN_ACTIONS = ['interval', 'pause', 'resume', 'complete'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** The longest maintenance interval a plan may have, in days. */
export const MAX_INTERVAL_DAYS = 365;
/** A one-line note; long enough for a reason, short enough for a summary row. */
export const NOTE_MAX = 200;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const LINE_BREAK_OR_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** What a plan change touches. */
export interface PlanState {
  readonly status: Plan['status'];
  /** The maintenance phase's interval: days between sessions. */
  readonly maintenanceEveryDays: number;
}

/** One change to a plan, as its history keeps it. */
export interface PlanChange {
  /** Unique per change. A change made from an emailed link carries the link's token id, so a link acts once. */
  readonly id: string;
  readonly planId: string;
  readonly clientId: string;
  readonly therapistId: string;
  readonly action: PlanAction;
  readonly before: PlanState;
  readonly after: PlanState;
  /** Who made it: the therapist's id (from the email), or the operator's name (from the CLI). */
  readonly by: string;
  readonly via: 'email-link' | 'cli';
  readonly note?: string;
  readonly at: Instant;
}

/** The phase whose interval is "the maintenance interval": the one named maintenance, else the last. */
export function maintenancePhaseIndex(plan: Pick<Plan, 'phases'>): number {
  const named = plan.phases.findIndex((p) => p.name.trim().toLowerCase() === 'maintenance');
  return named >= 0 ? named : plan.phases.length - 1;
}

export function planStateOf(plan: Pick<Plan, 'phases' | 'status'>): PlanState {
  return { status: plan.status, maintenanceEveryDays: plan.phases[maintenancePhaseIndex(plan)]?.everyDays ?? 0 };
}

/** A requested change, as the CLI or the page sends it, before it is checked against the plan. */
export const planAdjustmentSchema = z
  .object({
    action: z.enum(PLAN_ACTIONS, { error: 'choose what to change: the interval, pause, resume or complete' }),
    days: z
      .number({ error: 'enter the new interval as a whole number of days' })
      .int('enter the new interval as a whole number of days')
      .min(1, 'the interval must be at least 1 day')
      .max(MAX_INTERVAL_DAYS, `the interval must be at most ${MAX_INTERVAL_DAYS} days`)
      .optional(),
    note: z
      .string({ error: 'the note must be one line of text' })
      .trim()
      .max(NOTE_MAX, `the note must be at most ${NOTE_MAX} characters`)
      .refine((n) => !LINE_BREAK_OR_CONTROL.test(n), 'the note must be one line, without line breaks')
      .optional()
      .transform((n) => (n ? n : undefined)),
  })
  .superRefine((input, ctx) => {
    if (input.action === 'interval' && input.days === undefined) ctx.addIssue({ code: 'custom', path: ['days'], message: 'enter the new interval in days' });
  });
export type PlanAdjustment = z.output<typeof planAdjustmentSchema>;

/** The actions that change a plan in its current state. */
export function allowedActions(state: PlanState): PlanAction[] {
  switch (state.status) {
    case 'active':
      return ['interval', 'pause', 'complete'];
    case 'paused':
      return ['interval', 'resume', 'complete'];
    case 'completed':
      return ['resume'];
  }
}

/**
 * The state an adjustment leads to, or why it cannot be made: `unchanged` when the plan already
 * stands so (an interval equal to the current one, pausing a paused plan).
 */
export function applyAdjustment(
  state: PlanState,
  adjustment: PlanAdjustment,
): { readonly after: PlanState } | { readonly refused: string; readonly unchanged?: true } {
  const { action } = adjustment;
  const unchanged = (why: string) => ({ refused: why, unchanged: true as const });
  switch (action) {
    case 'interval': {
      const days = adjustment.days!;
      if (state.status === 'completed') return { refused: 'a completed plan has no maintenance interval to change; resume it first' };
      if (days === state.maintenanceEveryDays) return unchanged(`the maintenance interval is already ${days} days`);
      return { after: { ...state, maintenanceEveryDays: days } };
    }
    case 'pause':
      if (state.status === 'paused') return unchanged('the plan is already paused');
      if (state.status === 'completed') return { refused: 'a completed plan cannot be paused' };
      return { after: { ...state, status: 'paused' } };
    case 'resume':
      if (state.status === 'active') return unchanged('the plan is already active');
      return { after: { ...state, status: 'active' } };
    case 'complete':
      if (state.status === 'completed') return unchanged('the plan is already completed');
      return { after: { ...state, status: 'completed' } };
  }
}

/** A change in words: "maintenance interval 28 → 21 days", "paused", "resumed", "completed". */
export function planChangeWords(change: Pick<PlanChange, 'action' | 'before' | 'after'>): string {
  switch (change.action) {
    case 'interval':
      return `maintenance interval ${change.before.maintenanceEveryDays} → ${change.after.maintenanceEveryDays} days`;
    case 'pause':
      return 'paused';
    case 'resume':
      return 'resumed';
    case 'complete':
      return 'completed';
  }
}
