/**
 * Red flags in a client's check-in answers: the answers a therapist should hear about today,
 * not in tomorrow's summary. Pure; the reasons are short sentences for the alert email.
 *
 * Pain and stress read "higher is worse"; mobility and sleep read "higher is better"
 * (SCORE_DIRECTION). The rules, one table per kind:
 * - a change of 3 or more against the plan's baseline in the worse direction, on every score:
 *   pain or stress up 3, mobility or sleep down 3 (RED_FLAG_RULES.worsening);
 * - a level that is flagged whatever came before (LEVEL_RULES): pain at or above 8, and sleep at
 *   or below 2 (sleep that poor after treatment often goes with pain the client has not scored
 *   high, so it is worth a call).
 * An improvement, however large, is never a flag.
 */
import type { Score, ScoreSet } from './model.js';
import { SCORES } from './model.js';

export const RED_FLAG_RULES = {
  /** Pain at or above this is flagged on its own. */
  severePain: 8,
  /** A change of at least this many points against the baseline, in the worse direction, is flagged. */
  worsening: 3,
  /** Sleep at or below this is flagged on its own. */
  poorSleep: 2,
} as const;

/** Which way a score gets worse. */
export const SCORE_DIRECTION: Readonly<Record<Score, 'higher-is-worse' | 'higher-is-better'>> = {
  pain: 'higher-is-worse',
  mobility: 'higher-is-better',
  stress: 'higher-is-worse',
  sleep: 'higher-is-better',
};

export const SCORE_LABEL: Readonly<Record<Score, string>> = { pain: 'Pain', mobility: 'Mobility', stress: 'Stress', sleep: 'Sleep' };

/** Levels flagged on their own, whatever the baseline. */
const LEVEL_RULES: ReadonlyArray<{ readonly score: Score; readonly flagged: (value: number) => boolean }> = [
  { score: 'pain', flagged: (v) => v >= RED_FLAG_RULES.severePain },
  { score: 'sleep', flagged: (v) => v <= RED_FLAG_RULES.poorSleep },
];

/** How a change from `then` to `now` reads for this score: better, worse or unchanged. */
export function changeDirection(score: Score, then: number, now: number): 'better' | 'worse' | 'unchanged' {
  if (now === then) return 'unchanged';
  const rose = now > then;
  return rose === (SCORE_DIRECTION[score] === 'higher-is-better') ? 'better' : 'worse';
}

/**
 * The reasons these answers need the therapist's attention; empty when none, in the order of
 * SCORES (for each score: its level, then its change). `baseline` is the plan's baseline scores,
 * absent while the plan has none.
 */
export function redFlags(answers: ScoreSet, baseline?: ScoreSet): string[] {
  const flags: string[] = [];
  for (const score of SCORES) {
    const label = SCORE_LABEL[score];
    const now = answers[score];
    if (LEVEL_RULES.some((rule) => rule.score === score && rule.flagged(now))) flags.push(`${label} is ${now}/10`);
    if (!baseline) continue;
    const then = baseline[score];
    const by = Math.abs(now - then);
    if (by >= RED_FLAG_RULES.worsening && changeDirection(score, then, now) === 'worse') {
      flags.push(`${label} is ${now > then ? 'up' : 'down'} ${by} against baseline (${then} → ${now})`);
    }
  }
  return flags;
}
