/**
 * How a client's scores move: the change against the plan's baseline and the previous check-in,
 * in words a therapist scans quickly, and a tiny trend drawn with block characters so it shows in
 * every mail client, images blocked or not. Pure.
 *
 * Arrows give the direction of the number (▲ up, ▼ down); whether that is good depends on the
 * score: lower pain and stress are better, higher mobility and sleep are better.
 */
import { SCORES, type Score, type ScoreSet } from './model.js';

export const BETTER_WHEN: Record<Score, 'lower' | 'higher'> = {
  pain: 'lower',
  mobility: 'higher',
  stress: 'lower',
  sleep: 'higher',
};

/** One line a reader needs to read the arrows. */
export const DIRECTION_LEGEND = '▲ up, ▼ down. Lower pain and stress are better; higher mobility and sleep are better.';

export type Verdict = 'better' | 'worse' | 'same';

/** Whether moving from `before` to `after` is an improvement for this score. */
export function verdict(score: Score, before: number, after: number): Verdict {
  if (after === before) return 'same';
  const wentDown = after < before;
  return wentDown === (BETTER_WHEN[score] === 'lower') ? 'better' : 'worse';
}

/** `▲2`, `▼1`, or `±0`: the signed change from `before` to `after`. */
export function arrow(before: number, after: number): string {
  const delta = after - before;
  if (delta > 0) return `▲${delta}`;
  if (delta < 0) return `▼${-delta}`;
  return '±0';
}

export interface ScoreComparison {
  readonly value: number;
  /** The plan's baseline scores; absent while the plan has none (its intake questionnaire not answered yet). */
  readonly baseline?: number;
  readonly previous?: number;
  /** These answers are the plan's baseline. */
  readonly isBaseline?: boolean;
}

/** Said of answers with no baseline to compare with: the plan's intake questionnaire is not answered yet. */
export const NO_BASELINE_YET = 'no baseline yet';

/**
 * `6 (▼2 vs baseline, ▲1 vs last)`; `6 (baseline)`; `6 (no baseline yet)`. `baselineSaid`: the
 * missing baseline is said once elsewhere (describeCheckIn), so not here.
 */
export function describeChange(c: ScoreComparison, baselineSaid = false): string {
  const parts: string[] = [];
  if (c.isBaseline) parts.push('baseline');
  else if (c.baseline === undefined) {
    if (!baselineSaid) parts.push(NO_BASELINE_YET);
  } else parts.push(`${arrow(c.baseline, c.value)} vs baseline`);
  if (!c.isBaseline && c.previous !== undefined) parts.push(`${arrow(c.previous, c.value)} vs last`);
  return parts.length > 0 ? `${c.value} (${parts.join(', ')})` : String(c.value);
}

/** `pain 6 (▼2 vs baseline, ▲1 vs last)`; `pain 6 (baseline)`; `pain 6 (no baseline yet)`. */
export function describeScore(score: Score, c: ScoreComparison, baselineSaid = false): string {
  return `${score} ${describeChange(c, baselineSaid)}`;
}

/** One score of a check-in, ready for describeChange. */
export function comparisonOf(score: Score, c: CheckInScores): ScoreComparison {
  return {
    value: c.scores[score],
    isBaseline: c.isBaseline,
    ...(c.baseline ? { baseline: c.baseline[score] } : {}),
    ...(c.previous ? { previous: c.previous[score] } : {}),
  };
}

export interface CheckInScores {
  readonly scores: ScoreSet;
  readonly baseline?: ScoreSet;
  readonly previous?: ScoreSet;
  readonly isBaseline: boolean;
}

/**
 * Every score of one check-in described against baseline and last, joined by "; "; answers with no
 * baseline say so once, first: `no baseline yet: pain 6 (▲1 vs last); …`.
 */
export function describeCheckIn(c: CheckInScores): string {
  const noBaseline = !c.isBaseline && c.baseline === undefined;
  const scores = SCORES.map((score) => describeScore(score, comparisonOf(score, c), noBaseline)).join('; ');
  return noBaseline ? `${NO_BASELINE_YET}: ${scores}` : scores;
}

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * A sparkline of 0–10 scores on a fixed scale (0 → ▁, 10 → █), so two clients' lines compare
 * at a glance; a relative scale would draw a 3→4 wobble like a 1→9 crisis.
 */
export function sparkline(values: readonly number[], max = 10): string {
  return values
    .map((v) => {
      const clamped = Math.min(Math.max(v, 0), max);
      return BLOCKS[Math.round((clamped / max) * (BLOCKS.length - 1))];
    })
    .join('');
}

/** At most this many points are drawn: the most recent ones. */
export const TREND_POINTS = 12;

/** `pain ▇▆▅▃ 8→3 (better)`, or `pain ▅ 5` with a single point; empty without points. */
export function trendLine(score: Score, values: readonly number[]): string {
  const shown = values.slice(-TREND_POINTS);
  const first = shown[0];
  const last = shown.at(-1);
  if (first === undefined || last === undefined) return '';
  if (shown.length === 1) return `${score} ${sparkline(shown)} ${last}`;
  const v = verdict(score, first, last);
  return `${score} ${sparkline(shown)} ${first}→${last} (${v === 'same' ? 'no change' : v})`;
}
