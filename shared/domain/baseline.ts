/**
 * What a check-in is compared with, derived when its answers are stored: the plan's baseline (the
 * intake questionnaire's answers, the client's state before treatment) and the previous check-in
 * on the same plan. Pure; the DynamoDB store and the in-memory fake both call it, so they derive
 * the same thing. A check-in answered while the plan has no baseline has none: it is never a
 * baseline itself, and it raises only the absolute red flags (domain/red-flags.ts).
 */
import { scoresOf, type ScoreSet } from './model.js';
import type { Instant } from './time.js';

export interface CheckInComparison {
  readonly baselineScores?: ScoreSet;
  readonly previous?: ScoreSet;
}

/**
 * The comparison for answers on `planId` stored at `at`: the plan's baseline as it stands, and the
 * latest of the client's check-ins on that plan answered at or before `at`.
 */
export function checkInComparison(
  plan: { readonly id: string; readonly baseline?: ScoreSet },
  checkIns: readonly (ScoreSet & { readonly planId: string; readonly answeredAt: Instant })[],
  at: Instant,
): CheckInComparison {
  const previous = checkIns
    .filter((c) => c.planId === plan.id && c.answeredAt <= at)
    .reduce<(typeof checkIns)[number] | undefined>((latest, c) => (!latest || c.answeredAt >= latest.answeredAt ? c : latest), undefined);
  return {
    ...(plan.baseline ? { baselineScores: scoresOf(plan.baseline) } : {}),
    ...(previous ? { previous: scoresOf(previous) } : {}),
  };
}

/**
 * The baseline a stored check-in is compared with: its captured baseline, unless it is itself a
 * plan's baseline (answers stored before the intake questionnaire, when a first check-in was one).
 */
export function comparedBaseline(checkIn: { readonly baseline: boolean; readonly baselineScores?: ScoreSet }): ScoreSet | undefined {
  return checkIn.baseline ? undefined : checkIn.baselineScores;
}
