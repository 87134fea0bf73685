import { describe, expect, it } from 'vitest';
import { messageName } from '../../shared/domain/message.js';
import { latestDuePeriod, periodEndingOn, previousPeriod, summaryIdentity, type SummarySettings } from '../../shared/domain/summary-period.js';
import { instant } from '../support/instant.js';

const daily = (hour: number): SummarySettings => ({ cadence: 'daily', hour, weekday: 1, whenEmpty: 'one-line' });
const weekly = (hour: number, weekday: number): SummarySettings => ({ cadence: 'weekly', hour, weekday, whenEmpty: 'one-line' });

describe('the summary period', () => {
  it('is due at the local summary hour and covers the day before it', () => {
    const period = latestDuePeriod(daily(7), 'Europe/London', instant('2027-02-10T07:00:00.000Z'));

    expect(period).toMatchObject({
      cadence: 'daily',
      key: '20270209',
      start: '2027-02-09T07:00:00.000Z',
      end: '2027-02-10T07:00:00.000Z',
      nextEnd: '2027-02-11T07:00:00.000Z',
    });
  });

  it('is still the previous one a minute before the hour', () => {
    const period = latestDuePeriod(daily(7), 'Europe/London', instant('2027-02-10T06:59:00.000Z'));

    expect(period.end).toBe('2027-02-09T07:00:00.000Z');
  });

  it('is 23 hours long across the spring clock change and ends at 07:00 BST (06:00Z)', () => {
    const period = latestDuePeriod(daily(7), 'Europe/London', instant('2027-03-28T06:00:00.000Z'));

    expect(period.start).toBe('2027-03-27T07:00:00.000Z');
    expect(period.end).toBe('2027-03-28T06:00:00.000Z');
    expect(Date.parse(period.end) - Date.parse(period.start)).toBe(23 * 3_600_000);
  });

  it('is 25 hours long across the autumn clock change and ends at 07:00 GMT', () => {
    const period = latestDuePeriod(daily(7), 'Europe/London', instant('2027-10-31T07:00:00.000Z'));

    expect(period.start).toBe('2027-10-30T06:00:00.000Z');
    expect(period.end).toBe('2027-10-31T07:00:00.000Z');
    expect(Date.parse(period.end) - Date.parse(period.start)).toBe(25 * 3_600_000);
  });

  it('puts an hour skipped by the spring gap at the moment the clocks change', () => {
    // 01:00 does not exist in London on 28 March 2027: the clocks go from 01:00 GMT to 02:00 BST.
    const beforeGap = latestDuePeriod(daily(1), 'Europe/London', instant('2027-03-28T00:59:00.000Z'));
    const atGap = latestDuePeriod(daily(1), 'Europe/London', instant('2027-03-28T01:00:00.000Z'));

    expect(beforeGap.end).toBe('2027-03-27T01:00:00.000Z');
    expect(atGap.end).toBe('2027-03-28T01:00:00.000Z');
  });

  it('follows a half-hour zone: 07:00 in Kolkata is 01:30Z', () => {
    const period = latestDuePeriod(daily(7), 'Asia/Kolkata', instant('2027-03-10T01:30:00.000Z'));

    expect(period.end).toBe('2027-03-10T01:30:00.000Z');
    expect(period.key).toBe('20270309');
  });

  it('is weekly on the chosen weekday, covering the seven days before it', () => {
    // 2027-03-15 is a Monday; on Sunday the 21st the latest Monday 08:00 is still the 15th.
    const period = latestDuePeriod(weekly(8, 1), 'Europe/London', instant('2027-03-21T23:00:00.000Z'));

    expect(period).toMatchObject({
      cadence: 'weekly',
      key: '20270308',
      start: '2027-03-08T08:00:00.000Z',
      end: '2027-03-15T08:00:00.000Z',
      nextEnd: '2027-03-22T08:00:00.000Z',
    });
  });

  it('after an outage offers only the latest period, not the ones it missed', () => {
    const period = latestDuePeriod(daily(7), 'Europe/London', instant('2027-02-14T12:00:00.000Z'));

    expect(period.key).toBe('20270213');
  });

  it('tiles time: each period starts where the previous one ended', () => {
    const settings = weekly(18, 5);
    const period = periodEndingOn(settings, 'America/New_York', '2027-03-19');
    const before = previousPeriod(settings, period);

    expect(before.end).toBe(period.start);
    expect(before.key).toBe('20270305');
  });

  it('names one ledger message per therapist and period', () => {
    const period = latestDuePeriod(daily(7), 'Europe/London', instant('2027-02-10T07:00:00.000Z'));

    expect(messageName(summaryIdentity('t-amy', period))).toBe('su.t-amy.20270209.v1');
  });

  it('refuses an hour outside 0–23', () => {
    expect(() => latestDuePeriod(daily(24), 'Europe/London', instant('2027-02-10T07:00:00.000Z'))).toThrow(/0–23/);
  });
});
