import { describe, expect, it } from 'vitest';
import { arrow, describeCheckIn, describeScore, sparkline, trendLine, TREND_POINTS, verdict } from '../../shared/domain/trends.js';

describe('score changes', () => {
  it('reads lower pain and stress as better, higher mobility and sleep as better', () => {
    expect(verdict('pain', 6, 4)).toBe('better');
    expect(verdict('stress', 3, 5)).toBe('worse');
    expect(verdict('mobility', 4, 7)).toBe('better');
    expect(verdict('sleep', 7, 5)).toBe('worse');
    expect(verdict('sleep', 5, 5)).toBe('same');
  });

  it('draws the direction of the number with an arrow and its size', () => {
    expect(arrow(8, 6)).toBe('▼2');
    expect(arrow(5, 6)).toBe('▲1');
    expect(arrow(6, 6)).toBe('±0');
  });

  it('describes a score against the baseline and the last check-in', () => {
    expect(describeScore('pain', { value: 6, baseline: 8, previous: 5 })).toBe('pain 6 (▼2 vs baseline, ▲1 vs last)');
  });

  it('says when the answers are the baseline, or when there is none', () => {
    expect(describeScore('pain', { value: 7, isBaseline: true, previous: 3 })).toBe('pain 7 (baseline)');
    // No baseline means the intake questionnaire is not answered yet.
    expect(describeScore('sleep', { value: 4 })).toBe('sleep 4 (no baseline yet)');
  });

  it('says "no baseline yet" once, before the scores, for a check-in with no baseline', () => {
    expect(
      describeCheckIn({ scores: { pain: 8, mobility: 3, stress: 7, sleep: 4 }, previous: { pain: 4, mobility: 6, stress: 5, sleep: 6 }, isBaseline: false }),
    ).toBe('no baseline yet: pain 8 (▲4 vs last); mobility 3 (▼3 vs last); stress 7 (▲2 vs last); sleep 4 (▼2 vs last)');
  });

  it('describes all four scores of a check-in in a fixed order', () => {
    const text = describeCheckIn({
      scores: { pain: 3, mobility: 7, stress: 4, sleep: 6 },
      baseline: { pain: 7, mobility: 4, stress: 4, sleep: 5 },
      isBaseline: false,
    });

    expect(text).toBe('pain 3 (▼4 vs baseline); mobility 7 (▲3 vs baseline); stress 4 (±0 vs baseline); sleep 6 (▲1 vs baseline)');
  });
});

describe('the trend', () => {
  it('draws 0–10 on a fixed scale from ▁ to █', () => {
    expect(sparkline([0, 5, 10])).toBe('▁▅█');
    expect(sparkline([8, 6, 4, 3])).toBe('▇▅▄▃');
  });

  it('keeps out-of-range values on the scale', () => {
    expect(sparkline([-2, 14])).toBe('▁█');
  });

  it('shows first and last value and whether that is better', () => {
    expect(trendLine('pain', [8, 6, 4, 3])).toBe('pain ▇▅▄▃ 8→3 (better)');
    expect(trendLine('pain', [2, 5])).toBe('pain ▂▅ 2→5 (worse)');
    expect(trendLine('pain', [4, 6, 4])).toBe('pain ▄▅▄ 4→4 (no change)');
  });

  it('shows a single point as a value, and nothing without points', () => {
    expect(trendLine('pain', [5])).toBe('pain ▅ 5');
    expect(trendLine('pain', [])).toBe('');
  });

  it('draws only the most recent points of a long plan', () => {
    const values = Array.from({ length: 20 }, (_, i) => i % 11);
    const line = trendLine('pain', values);

    expect(line.split(' ')[1]).toHaveLength(TREND_POINTS);
    expect(line).toContain(`${values.at(-TREND_POINTS)}→${values.at(-1)}`);
  });
});
