import { describe, expect, it } from 'vitest';
import type { Score, ScoreSet } from '../../shared/domain/model.js';
import { changeDirection, redFlags } from '../../shared/domain/red-flags.js';

const calm = { pain: 3, mobility: 6, stress: 4, sleep: 6 };

describe('red flags in check-in answers', () => {
  it('finds nothing in moderate answers, with or without a baseline', () => {
    expect(redFlags(calm)).toEqual([]);
    expect(redFlags(calm, calm)).toEqual([]);
  });

  it('flags pain of 8 or more on its own, but not 7', () => {
    expect(redFlags({ ...calm, pain: 8 })).toEqual(['Pain is 8/10']);
    expect(redFlags({ ...calm, pain: 7 })).toEqual([]);
  });

  it('flags pain up 3 or more against the baseline, but not up 2', () => {
    expect(redFlags({ ...calm, pain: 6 }, { ...calm, pain: 3 })).toEqual(['Pain is up 3 against baseline (3 → 6)']);
    expect(redFlags({ ...calm, pain: 5 }, { ...calm, pain: 3 })).toEqual([]);
  });

  it('flags mobility down 3 or more against the baseline, but not down 2 or any rise', () => {
    expect(redFlags({ ...calm, mobility: 3 }, { ...calm, mobility: 6 })).toEqual(['Mobility is down 3 against baseline (6 → 3)']);
    expect(redFlags({ ...calm, mobility: 4 }, { ...calm, mobility: 6 })).toEqual([]);
    expect(redFlags({ ...calm, mobility: 10 }, { ...calm, mobility: 2 })).toEqual([]);
  });

  it('flags sleep of 2 or less, but not 3', () => {
    expect(redFlags({ ...calm, sleep: 2 })).toEqual(['Sleep is 2/10']);
    expect(redFlags({ ...calm, sleep: 0 })).toEqual(['Sleep is 0/10']);
    expect(redFlags({ ...calm, sleep: 3 })).toEqual([]);
  });

  it('does not compare against a baseline it was not given (the first check-in is the baseline)', () => {
    expect(redFlags({ ...calm, pain: 7, mobility: 0 })).toEqual([]);
  });

  it('lists every reason that applies, in a stable order', () => {
    expect(redFlags({ pain: 9, mobility: 1, stress: 10, sleep: 1 }, { pain: 4, mobility: 7, stress: 2, sleep: 8 })).toEqual([
      'Pain is 9/10',
      'Pain is up 5 against baseline (4 → 9)',
      'Mobility is down 6 against baseline (7 → 1)',
      'Stress is up 8 against baseline (2 → 10)',
      'Sleep is 1/10',
      'Sleep is down 7 against baseline (8 → 1)',
    ]);
  });
});

// The documented rule on every score, both ways: a change of 3 or more in the worse direction is
// a flag; 2 is not; an improvement of any size is not. Levels flagged on their own (pain 8+,
// sleep 2 or less) are kept out of these rows by choosing values away from them.
describe.each([
  {
    score: 'pain',
    base: { pain: 2, mobility: 6, stress: 4, sleep: 6 },
    rows: [
      { to: 5, flag: 'Pain is up 3 against baseline (2 → 5)' },
      { to: 7, flag: 'Pain is up 5 against baseline (2 → 7)' },
      { to: 4, flag: undefined },
      { to: 0, flag: undefined },
    ],
  },
  {
    score: 'mobility',
    base: { pain: 3, mobility: 6, stress: 4, sleep: 6 },
    rows: [
      { to: 3, flag: 'Mobility is down 3 against baseline (6 → 3)' },
      { to: 0, flag: 'Mobility is down 6 against baseline (6 → 0)' },
      { to: 4, flag: undefined },
      { to: 10, flag: undefined },
    ],
  },
  {
    score: 'stress',
    base: { pain: 3, mobility: 6, stress: 2, sleep: 6 },
    rows: [
      { to: 5, flag: 'Stress is up 3 against baseline (2 → 5)' },
      { to: 10, flag: 'Stress is up 8 against baseline (2 → 10)' },
      { to: 4, flag: undefined },
      { to: 0, flag: undefined },
    ],
  },
  {
    score: 'sleep',
    base: { pain: 3, mobility: 6, stress: 4, sleep: 8 },
    rows: [
      { to: 5, flag: 'Sleep is down 3 against baseline (8 → 5)' },
      { to: 3, flag: 'Sleep is down 5 against baseline (8 → 3)' },
      { to: 6, flag: undefined },
      { to: 10, flag: undefined },
    ],
  },
] satisfies ReadonlyArray<{ score: Score; base: ScoreSet; rows: ReadonlyArray<{ to: number; flag: string | undefined }> }>)(
  'the $score change against baseline',
  ({ score, base, rows }) => {
    it.each([...rows])('from baseline to $to is flagged as: $flag', ({ to, flag }) => {
      const answers = { ...base, [score]: to };

      const flags = redFlags(answers, base);

      expect(flags).toEqual(flag ? [flag] : []);
    });

    it('reads a rise and a fall the right way round', () => {
      const worseWhenHigher = score === 'pain' || score === 'stress';
      expect(changeDirection(score, 5, 8)).toBe(worseWhenHigher ? 'worse' : 'better');
      expect(changeDirection(score, 5, 2)).toBe(worseWhenHigher ? 'better' : 'worse');
      expect(changeDirection(score, 5, 5)).toBe('unchanged');
    });
  },
);
