/**
 * Plan-adjustment suggestions for the therapist's summary: what the answers suggest, for the
 * therapist's judgement. Nothing here changes a plan. Pure; each suggestion says which answers
 * triggered it, and the thresholds come from the clinic's stage config.
 *
 * - Pain or stress worse than the check-in before, on each of the last `worseningCheckIns`
 *   maintenance check-ins → consider a shorter interval.
 * - No score worse than the check-in before across the last `improvingCheckIns` maintenance
 *   check-ins, and better than baseline on at least one → the interval could be lengthened.
 * - The last `unansweredCheckIns` check-ins all unanswered → check in by phone.
 */
import type * as z from 'zod';
import { SCORES, suggestionRulesSchema, type Score, type ScoreSet } from './model.js';
import { verdict } from './trends.js';

export { suggestionRulesSchema };
export type SuggestionRules = z.output<typeof suggestionRulesSchema>;
export const DEFAULT_SUGGESTION_RULES: SuggestionRules = suggestionRulesSchema.parse({});

export interface AnsweredCheckIn {
  readonly scores: ScoreSet;
  readonly isBaseline: boolean;
  /** The session it followed was in the plan's maintenance phase. */
  readonly maintenance: boolean;
}

export interface PlanHistory {
  /** The plan's answered check-ins, oldest first. */
  readonly checkIns: readonly AnsweredCheckIn[];
  readonly baseline?: ScoreSet;
  /** How many of the plan's most recent check-ins in a row went unanswered. */
  readonly unansweredStreak: number;
}

export type SuggestionKind = 'shorter-interval' | 'longer-interval' | 'phone';

export interface Suggestion {
  readonly kind: SuggestionKind;
  readonly text: string;
  /** The answers behind it, in words. */
  readonly because: string;
}

const WATCHED: readonly Score[] = ['pain', 'stress'];

const series = (checkIns: readonly AnsweredCheckIn[], score: Score) => checkIns.map((c) => c.scores[score]).join(' → ');

function worsening(history: PlanHistory, rules: SuggestionRules): Suggestion | undefined {
  const n = rules.worseningCheckIns;
  // The last n maintenance check-ins, each against the one before it (the one before them included).
  const window = history.checkIns.slice(-(n + 1));
  if (window.length < n + 1 || !window.slice(1).every((c) => c.maintenance && !c.isBaseline)) return undefined;
  const worse = WATCHED.filter((score) => window.slice(1).every((c, i) => verdict(score, window[i]!.scores[score], c.scores[score]) === 'worse'));
  if (worse.length === 0) return undefined;
  return {
    kind: 'shorter-interval',
    text: 'Consider a shorter maintenance interval',
    because: `${worse.map((s) => `${s} ${series(window, s)}`).join('; ')}: worse on each of the last ${n} maintenance check-ins`,
  };
}

function improving(history: PlanHistory, rules: SuggestionRules): Suggestion | undefined {
  const n = rules.improvingCheckIns;
  const window = history.checkIns.slice(-n);
  const baseline = history.baseline;
  if (!baseline || window.length < n || window.some((c) => c.isBaseline || !c.maintenance)) return undefined;
  const anyWorse = SCORES.some((score) => window.slice(1).some((c, i) => verdict(score, window[i]!.scores[score], c.scores[score]) === 'worse'));
  if (anyWorse) return undefined;
  const last = window.at(-1)!;
  const better = SCORES.filter((score) => verdict(score, baseline[score], last.scores[score]) === 'better');
  if (better.length === 0) return undefined;
  return {
    kind: 'longer-interval',
    text: 'Could lengthen the maintenance interval',
    because: `no score worse across the last ${n} maintenance check-ins; better than baseline: ${better.map((s) => `${s} ${baseline[s]} → ${last.scores[s]}`).join(', ')}`,
  };
}

function unanswered(history: PlanHistory, rules: SuggestionRules): Suggestion | undefined {
  if (history.unansweredStreak < rules.unansweredCheckIns) return undefined;
  return {
    kind: 'phone',
    text: 'Check in by phone',
    because: `the last ${history.unansweredStreak} check-ins went unanswered`,
  };
}

/** What the plan's answers suggest, most pressing first; empty when nothing stands out. */
export function suggestionsFor(history: PlanHistory, rules: SuggestionRules = DEFAULT_SUGGESTION_RULES): Suggestion[] {
  return [worsening(history, rules), unanswered(history, rules), improving(history, rules)].filter((s): s is Suggestion => s !== undefined);
}
