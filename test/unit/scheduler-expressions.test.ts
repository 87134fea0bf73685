import { describe, expect, it } from 'vitest';
import { InvalidScheduleExpressionError } from '../../local/scheduler/errors.js';
import { nextOccurrence, parseScheduleExpression } from '../../local/scheduler/expressions.js';

const utc = (iso: string) => new Date(iso);

function next(expression: string, from: string, timezone = 'UTC', rateAnchor?: string): string | undefined {
  const options = rateAnchor === undefined ? { timezone } : { timezone, rateAnchor: utc(rateAnchor) };
  return nextOccurrence(parseScheduleExpression(expression), utc(from), options)?.toISOString();
}

function rejectionReason(expression: string): string {
  try {
    parseScheduleExpression(expression);
  } catch (error) {
    if (error instanceof InvalidScheduleExpressionError) return error.reason;
    throw error;
  }
  throw new Error(`${expression} was accepted`);
}

describe('at() expressions', () => {
  it('fire once at the wall-clock time in the schedule time zone', () => {
    expect(next('at(2025-07-01T09:00:00)', '2025-06-01T00:00:00Z', 'Europe/London')).toBe('2025-07-01T08:00:00.000Z');
    expect(next('at(2025-07-01T09:00:00)', '2025-06-01T00:00:00Z')).toBe('2025-07-01T09:00:00.000Z');
  });

  it('have no occurrence once their time has passed', () => {
    expect(next('at(2025-07-01T09:00:00)', '2025-07-01T09:00:01Z')).toBeUndefined();
  });

  it('move a time inside the spring-forward gap forward by the gap', () => {
    expect(next('at(2025-03-30T01:30:00)', '2025-03-01T00:00:00Z', 'Europe/London')).toBe('2025-03-30T01:30:00.000Z');
  });

  it('are rejected when the date does not exist or is not in yyyy-mm-ddThh:mm:ss form', () => {
    expect(rejectionReason('at(2025-02-30T09:00:00)')).toMatch(/not a real date/);
    expect(rejectionReason('at(2025-07-01 09:00:00)')).toMatch(/yyyy-mm-ddThh:mm:ss/);
    expect(rejectionReason('at(2025-07-01T09:00)')).toMatch(/yyyy-mm-ddThh:mm:ss/);
  });
});

describe('rate() expressions', () => {
  it('occur every interval counted from their anchor', () => {
    expect(next('rate(5 minutes)', '2025-01-01T10:00:00Z', 'UTC', '2025-01-01T10:00:00Z')).toBe('2025-01-01T10:00:00.000Z');
    expect(next('rate(5 minutes)', '2025-01-01T10:07:00Z', 'UTC', '2025-01-01T10:00:00Z')).toBe('2025-01-01T10:10:00.000Z');
    expect(next('rate(1 hour)', '2025-01-01T10:00:00.001Z', 'UTC', '2025-01-01T10:00:00Z')).toBe('2025-01-01T11:00:00.000Z');
  });

  it('count a day as 24 hours even across a clock change', () => {
    expect(next('rate(1 day)', '2025-03-29T12:00:01Z', 'Europe/London', '2025-03-29T12:00:00Z')).toBe('2025-03-30T12:00:00.000Z');
  });

  it('take a singular unit for 1 and a plural unit above 1', () => {
    expect(rejectionReason('rate(1 minutes)')).toMatch(/singular/);
    expect(rejectionReason('rate(5 hour)')).toMatch(/plural/);
  });

  it('are rejected with a zero value or an unknown unit', () => {
    expect(rejectionReason('rate(0 minutes)')).toMatch(/at least 1/);
    expect(rejectionReason('rate(2 weeks)')).toMatch(/minute\(s\), hour\(s\) or day\(s\)/);
  });
});

describe('cron() expressions', () => {
  const sevenInLondon = 'cron(0 7 * * ? *)';

  it('fire at 07:00 London time on both sides of the March clock change', () => {
    expect(next(sevenInLondon, '2025-03-29T00:00:00Z', 'Europe/London')).toBe('2025-03-29T07:00:00.000Z');
    expect(next(sevenInLondon, '2025-03-29T07:00:01Z', 'Europe/London')).toBe('2025-03-30T06:00:00.000Z');
  });

  it('fire at 07:00 London time on both sides of the October clock change', () => {
    expect(next(sevenInLondon, '2025-10-25T00:00:00Z', 'Europe/London')).toBe('2025-10-25T06:00:00.000Z');
    expect(next(sevenInLondon, '2025-10-25T06:00:01Z', 'Europe/London')).toBe('2025-10-26T07:00:00.000Z');
  });

  it('skip a time that does not exist when the clocks go forward', () => {
    expect(next('cron(30 1 * * ? *)', '2025-03-29T02:00:00Z', 'Europe/London')).toBe('2025-03-31T00:30:00.000Z');
  });

  it('fire once, at the first occurrence, for a time that happens twice when the clocks go back', () => {
    expect(next('cron(30 1 * * ? *)', '2025-10-25T23:00:00Z', 'Europe/London')).toBe('2025-10-26T00:30:00.000Z');
    expect(next('cron(30 1 * * ? *)', '2025-10-26T00:30:01Z', 'Europe/London')).toBe('2025-10-27T01:30:00.000Z');
  });

  it('treat a from time on an exact occurrence as that occurrence', () => {
    expect(next('cron(0/15 * * * ? *)', '2025-01-01T10:15:00Z')).toBe('2025-01-01T10:15:00.000Z');
    expect(next('cron(0/15 * * * ? *)', '2025-01-01T10:15:00.001Z')).toBe('2025-01-01T10:30:00.000Z');
  });

  it('support lists, ranges, steps and month and day names', () => {
    expect(next('cron(0 9 ? JAN-MAR MON-FRI *)', '2025-01-04T00:00:00Z')).toBe('2025-01-06T09:00:00.000Z');
    expect(next('cron(10,40 8-9/1 * * ? *)', '2025-01-01T08:11:00Z')).toBe('2025-01-01T08:40:00.000Z');
    expect(next('cron(0 12 1-31/10 * ? *)', '2025-01-02T00:00:00Z')).toBe('2025-01-11T12:00:00.000Z');
  });

  it('use L in day-of-month for the last day of the month', () => {
    expect(next('cron(0 9 L * ? *)', '2024-02-01T00:00:00Z')).toBe('2024-02-29T09:00:00.000Z');
  });

  it('use W for the weekday nearest a day without leaving the month', () => {
    // 1 June 2024 is a Saturday: the nearest weekday in June is Monday the 3rd.
    expect(next('cron(0 9 1W * ? *)', '2024-06-01T00:00:00Z')).toBe('2024-06-03T09:00:00.000Z');
    // 31 August 2025 is a Sunday: the last weekday is Friday the 29th.
    expect(next('cron(0 9 LW * ? *)', '2025-08-01T00:00:00Z')).toBe('2025-08-29T09:00:00.000Z');
  });

  it('use # for the nth weekday and nL for the last such weekday of the month', () => {
    expect(next('cron(0 9 ? * 3#2 *)', '2025-01-01T00:00:00Z')).toBe('2025-01-14T09:00:00.000Z');
    expect(next('cron(0 9 ? * FRIL *)', '2025-01-01T00:00:00Z')).toBe('2025-01-31T09:00:00.000Z');
    expect(next('cron(0 9 ? * 6L *)', '2025-02-01T00:00:00Z')).toBe('2025-02-28T09:00:00.000Z');
  });

  it('have no occurrence once their years are over', () => {
    expect(next('cron(0 0 1 1 ? 2020)', '2025-01-01T00:00:00Z')).toBeUndefined();
    expect(next('cron(0 0 1 1 ? 2030)', '2025-01-01T00:00:00Z')).toBe('2030-01-01T00:00:00.000Z');
  });

  it.each([
    ['cron(0 7 * * ?)', /6 fields/],
    ['cron(0 7 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 7 * * MON *)', /exactly one of day-of-month and day-of-week/],
    ['cron(60 7 * * ? *)', /minutes: 60 is outside 0-59/],
    ['cron(0 24 * * ? *)', /hours: 24 is outside 0-23/],
    ['cron(0 7 ? * MON/2 *)', /\/ is not allowed in day-of-week/],
    ['cron(0 7 ? FOO * *)', /month: FOO is not a valid value/],
    ['cron(0 7 L,15 * ? *)', /L and W must stand alone/],
    ['cron(0 7 ? * 3#6 *)', /from 1 to 5/],
    ['cron(0 9-5 * * ? *)', /runs backwards/],
    ['cron(0 0 1 1 ? 2200)', /year: 2200 is outside 1970-2199/],
    ['every(5 minutes)', /at\(\.\.\.\), rate\(\.\.\.\) or cron\(\.\.\.\)/],
  ])('rejects %s with the reason', (expression, reason) => {
    expect(rejectionReason(expression)).toMatch(reason);
  });
});
