import { describe, expect, it } from 'vitest';
import { DEFAULT_SUGGESTION_RULES, suggestionRulesSchema, suggestionsFor, type AnsweredCheckIn, type PlanHistory } from '../../shared/domain/suggestions.js';

const BASELINE = { pain: 7, mobility: 4, stress: 6, sleep: 5 };

function checkIn(scores: Partial<typeof BASELINE>, maintenance = true): AnsweredCheckIn {
  return { scores: { ...BASELINE, ...scores }, isBaseline: false, maintenance };
}

function history(checkIns: AnsweredCheckIn[], unansweredStreak = 0): PlanHistory {
  return { checkIns: [{ scores: BASELINE, isBaseline: true, maintenance: false }, ...checkIns], baseline: BASELINE, unansweredStreak };
}

describe('suggesting a shorter interval', () => {
  it('suggests it when pain is worse on each of the last two maintenance check-ins, saying which answers', () => {
    const h = history([checkIn({ pain: 3 }, false), checkIn({ pain: 4 }), checkIn({ pain: 6 })]);

    expect(suggestionsFor(h)).toEqual([
      {
        kind: 'shorter-interval',
        text: 'Consider a shorter maintenance interval',
        because: 'pain 3 → 4 → 6: worse on each of the last 2 maintenance check-ins',
      },
    ]);
  });

  it('suggests it for stress too', () => {
    const h = history([checkIn({ stress: 2 }), checkIn({ stress: 3 }), checkIn({ stress: 5 })]);

    expect(suggestionsFor(h).map((s) => s.because)).toEqual(['stress 2 → 3 → 5: worse on each of the last 2 maintenance check-ins']);
  });

  it('does not suggest it when one of the two was no worse, or one was in the initial phase', () => {
    expect(suggestionsFor(history([checkIn({ pain: 3 }), checkIn({ pain: 5 }), checkIn({ pain: 5 })])).map((s) => s.kind)).not.toContain('shorter-interval');
    expect(suggestionsFor(history([checkIn({ pain: 3 }, false), checkIn({ pain: 4 }, false), checkIn({ pain: 6 })])).map((s) => s.kind)).not.toContain(
      'shorter-interval',
    );
  });

  it('takes the number of check-ins from the clinic’s rules', () => {
    const h = history([checkIn({ pain: 3 }), checkIn({ pain: 4 }), checkIn({ pain: 6 })]);
    const rules = suggestionRulesSchema.parse({ worseningCheckIns: 3 });

    expect(suggestionsFor(h, rules)).toEqual([]);
    expect(suggestionsFor(history([checkIn({ pain: 2 }), checkIn({ pain: 3 }), checkIn({ pain: 4 }), checkIn({ pain: 6 })]), rules).map((s) => s.kind)).toEqual(
      ['shorter-interval'],
    );
  });
});

describe('suggesting a longer interval', () => {
  it('suggests it after three maintenance check-ins with no score worse and some better than baseline', () => {
    const h = history([checkIn({ pain: 4, mobility: 6 }), checkIn({ pain: 3, mobility: 6 }), checkIn({ pain: 3, mobility: 7 })]);

    expect(suggestionsFor(h)).toEqual([
      {
        kind: 'longer-interval',
        text: 'Could lengthen the maintenance interval',
        because: 'no score worse across the last 3 maintenance check-ins; better than baseline: pain 7 → 3, mobility 4 → 7',
      },
    ]);
  });

  it('does not suggest it when any score slipped, or with too few check-ins, or without a baseline', () => {
    expect(suggestionsFor(history([checkIn({ pain: 4 }), checkIn({ pain: 3, sleep: 4 }), checkIn({ pain: 3, sleep: 4 })]))).toEqual([]);
    expect(suggestionsFor(history([checkIn({ pain: 4 }), checkIn({ pain: 3 })]))).toEqual([]);
    expect(suggestionsFor({ checkIns: [checkIn({ pain: 4 }), checkIn({ pain: 3 }), checkIn({ pain: 3 })], unansweredStreak: 0 })).toEqual([]);
  });

  it('does not suggest it while the answers only match the baseline', () => {
    expect(suggestionsFor(history([checkIn({}), checkIn({}), checkIn({})]))).toEqual([]);
  });
});

describe('suggesting a phone call', () => {
  it('suggests it after three unanswered check-ins in a row, and not after two', () => {
    expect(suggestionsFor(history([checkIn({ pain: 5 })], 3))).toEqual([
      { kind: 'phone', text: 'Check in by phone', because: 'the last 3 check-ins went unanswered' },
    ]);
    expect(suggestionsFor(history([checkIn({ pain: 5 })], 2))).toEqual([]);
  });

  it('comes after a shorter-interval suggestion when both apply', () => {
    const h = history([checkIn({ pain: 3 }), checkIn({ pain: 4 }), checkIn({ pain: 6 })], 4);

    expect(suggestionsFor(h).map((s) => s.kind)).toEqual(['shorter-interval', 'phone']);
  });
});

describe('the rules in the stage config', () => {
  it('default to 2 worsening, 3 improving and 3 unanswered check-ins', () => {
    expect(DEFAULT_SUGGESTION_RULES).toEqual({ worseningCheckIns: 2, improvingCheckIns: 3, unansweredCheckIns: 3 });
  });

  it('refuse a threshold that cannot make sense, naming the field', () => {
    const result = suggestionRulesSchema.safeParse({ worseningCheckIns: 1, typo: 2 });

    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.') || i.message)).toEqual(expect.arrayContaining(['worseningCheckIns']));
  });
});
