/**
 * Red flags in a client's check-in answers: the answers a therapist should hear about today,
 * not in tomorrow's summary. Pure; the reasons are short sentences for the alert email.
 *
 * Pain and stress read "higher is worse"; mobility and sleep read "higher is better".
 * - pain at or above 8, whatever came before;
 * - pain up by 3 or more against the plan's baseline;
 * - mobility down by 3 or more against the baseline;
 * - sleep at or below 2: sleep that poor after treatment often goes with pain the client has
 *   not scored high, so it is worth a call.
 */
import type { Scores } from '../ports/store.js';

export const RED_FLAG_RULES = {
  /** Pain at or above this is flagged on its own. */
  severePain: 8,
  /** A change of at least this many points against the baseline is flagged. */
  worsening: 3,
  /** Sleep at or below this is flagged on its own. */
  poorSleep: 2,
} as const;

/**
 * The reasons these answers need the therapist's attention; empty when none. `baseline` is the
 * plan's baseline scores, absent for the plan's first check-in (which is the baseline itself).
 */
export function redFlags(answers: Scores, baseline?: Scores): string[] {
  const flags: string[] = [];
  if (answers.pain >= RED_FLAG_RULES.severePain) flags.push(`Pain is ${answers.pain}/10`);
  if (baseline && answers.pain - baseline.pain >= RED_FLAG_RULES.worsening) {
    flags.push(`Pain is up ${answers.pain - baseline.pain} against baseline (${baseline.pain} → ${answers.pain})`);
  }
  if (baseline && baseline.mobility - answers.mobility >= RED_FLAG_RULES.worsening) {
    flags.push(`Mobility is down ${baseline.mobility - answers.mobility} against baseline (${baseline.mobility} → ${answers.mobility})`);
  }
  if (answers.sleep <= RED_FLAG_RULES.poorSleep) flags.push(`Sleep is ${answers.sleep}/10`);
  return flags;
}
