import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  addMs,
  addOffset,
  applyQuietHours,
  atLocalTime,
  instantOf,
  isInQuietHours,
  localDate,
  msBetween,
  msOf,
  nextNonUrgentSlot,
  subtractOffset,
  toInstant,
} from '../../shared/domain/time.js';
import { instant } from '../support/instant.js';

const LONDON = 'Europe/London';
const NEW_YORK = 'America/New_York';
const SYDNEY = 'Australia/Sydney';
const NIGHT = { start: '21:00', end: '08:00' };
const LUNCH = { start: '12:00', end: '13:00' };
const NONE = { start: '00:00', end: '00:00' };

describe('toInstant', () => {
  it('writes a Date as its UTC ISO string', () => {
    expect(toInstant(new Date(Date.UTC(2027, 1, 1, 14)))).toBe('2027-02-01T14:00:00.000Z');
  });

  it('writes epoch milliseconds as a UTC ISO string', () => {
    expect(toInstant(Date.UTC(2027, 1, 1, 14, 0, 0, 5))).toBe('2027-02-01T14:00:00.005Z');
  });

  it('converts a string with an offset to UTC and fills in seconds and milliseconds', () => {
    expect(toInstant('2027-02-01T19:30+05:30')).toBe('2027-02-01T14:00:00.000Z');
    expect(toInstant('2027-02-01T14:00:00Z')).toBe('2027-02-01T14:00:00.000Z');
  });

  it('refuses a string without an offset, which would be read in the server zone', () => {
    expect(() => toInstant('2027-02-01T14:00:00')).toThrow(RangeError);
  });

  it('refuses a date that does not exist and an invalid Date', () => {
    expect(() => toInstant('2027-02-30T14:00:00.000Z')).toThrow(RangeError);
    expect(() => toInstant(new Date('nonsense'))).toThrow(RangeError);
  });
});

describe('subtractOffset and addOffset', () => {
  // Monday 29 March 2027 is the day after the clocks go forward in London (GMT → BST).
  const mondayAfterSpringForward = instant('2027-03-29T08:00:00.000Z'); // 09:00 BST
  // Monday 1 November 2027 is the day after the clocks go back (BST → GMT).
  const mondayAfterFallBack = instant('2027-11-01T09:00:00.000Z'); // 09:00 GMT

  it('counts P2D as the same wall-clock time two days earlier, 47 hours across spring-forward', () => {
    expect(subtractOffset(mondayAfterSpringForward, 'P2D', LONDON)).toBe('2027-03-27T09:00:00.000Z'); // 09:00 GMT
  });

  it('counts PT48H as 48 elapsed hours across spring-forward, landing at 08:00 local', () => {
    expect(subtractOffset(mondayAfterSpringForward, 'PT48H', LONDON)).toBe('2027-03-27T08:00:00.000Z');
  });

  it('counts P2D as 49 hours and PT48H as 48 across fall-back', () => {
    expect(subtractOffset(mondayAfterFallBack, 'P2D', LONDON)).toBe('2027-10-30T08:00:00.000Z'); // 09:00 BST
    expect(subtractOffset(mondayAfterFallBack, 'PT48H', LONDON)).toBe('2027-10-30T09:00:00.000Z'); // 10:00 BST
  });

  it('moves the calendar part of a mixed duration first, then the hours as elapsed time', () => {
    // Sunday 09:00 BST, then two real hours earlier.
    expect(subtractOffset(mondayAfterSpringForward, 'P1DT2H', LONDON)).toBe('2027-03-28T06:00:00.000Z');
    // Saturday 09:00 GMT + 1 day = Sunday 09:00 BST, then two real hours later.
    expect(addOffset(instant('2027-03-27T09:00:00.000Z'), 'P1DT2H', LONDON)).toBe('2027-03-28T10:00:00.000Z');
  });

  it('resolves a local time skipped by spring-forward to the moment the clocks change', () => {
    // Sunday 01:30 does not exist in London: 01:00 GMT is followed by 02:00 BST.
    expect(subtractOffset(instant('2027-03-29T00:30:00.000Z'), 'P1D', LONDON)).toBe('2027-03-28T01:00:00.000Z');
  });

  it('resolves a local time repeated by fall-back to the earlier instant, whichever way it is reached', () => {
    // Sunday 01:30 happens twice: 01:30 BST (00:30Z) and 01:30 GMT (01:30Z).
    expect(subtractOffset(instant('2027-11-01T01:30:00.000Z'), 'P1D', LONDON)).toBe('2027-10-31T00:30:00.000Z');
    expect(addOffset(instant('2027-10-30T00:30:00.000Z'), 'P1D', LONDON)).toBe('2027-10-31T00:30:00.000Z');
  });

  it('keeps an hours-only offset exact even from the second of two repeated local times', () => {
    expect(subtractOffset(instant('2027-10-31T01:30:00.000Z'), 'PT1H', LONDON)).toBe('2027-10-31T00:30:00.000Z');
  });

  it('clamps month arithmetic to the last day of a shorter month', () => {
    expect(subtractOffset(instant('2027-03-31T08:00:00.000Z'), 'P1M', LONDON)).toBe('2027-02-28T09:00:00.000Z');
  });

  it('counts P1W as seven calendar days', () => {
    expect(subtractOffset(mondayAfterSpringForward, 'P1W', LONDON)).toBe('2027-03-22T09:00:00.000Z');
  });

  it('does calendar arithmetic in the given zone, not in UTC', () => {
    // 23:30 UTC on 1 Feb is 10:30 on 2 Feb in Sydney; a day later there is 10:30 on 3 Feb.
    expect(addOffset(instant('2027-02-01T23:30:00.000Z'), 'P1D', SYDNEY)).toBe('2027-02-02T23:30:00.000Z');
  });

  it('refuses malformed durations, fractional days and unknown zones', () => {
    expect(() => subtractOffset(mondayAfterSpringForward, 'P', LONDON)).toThrow(RangeError);
    expect(() => subtractOffset(mondayAfterSpringForward, 'P1.5D', LONDON)).toThrow(RangeError);
    expect(() => subtractOffset(mondayAfterSpringForward, 'P1D', 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('localDate and addCalendarDays', () => {
  it('gives the calendar date in the zone', () => {
    expect(localDate(instant('2027-02-01T23:30:00.000Z'), SYDNEY)).toBe('2027-02-02');
    expect(localDate(instant('2027-02-01T23:30:00.000Z'), NEW_YORK)).toBe('2027-02-01');
  });

  it('moves a date across month and year ends', () => {
    expect(addCalendarDays('2027-12-30', 3)).toBe('2028-01-02');
    expect(addCalendarDays('2028-03-01', -1)).toBe('2028-02-29');
  });
});

describe('atLocalTime', () => {
  it('gives the instant a clock in the zone reads the time on the date', () => {
    expect(atLocalTime('2027-02-01', '14:00', NEW_YORK)).toBe('2027-02-01T19:00:00.000Z');
  });

  it('moves a time in the spring-forward gap to the first valid instant', () => {
    // New York skips 02:00–03:00 on 14 March 2027; 03:00 EDT is 07:00Z.
    expect(atLocalTime('2027-03-14', '02:30', NEW_YORK)).toBe('2027-03-14T07:00:00.000Z');
  });

  it('handles a half-hour gap (Lord Howe Island goes from 02:00 to 02:30)', () => {
    expect(atLocalTime('2027-10-03', '02:10', 'Australia/Lord_Howe')).toBe('2027-10-02T15:30:00.000Z');
  });

  it('takes the earlier of two instants when fall-back repeats the time', () => {
    expect(atLocalTime('2027-11-07', '01:30', NEW_YORK)).toBe('2027-11-07T05:30:00.000Z'); // 01:30 EDT
  });

  it('refuses impossible dates and times', () => {
    expect(() => atLocalTime('2027-02-30', '10:00', LONDON)).toThrow(RangeError);
    expect(() => atLocalTime('2027-02-01', '24:00', LONDON)).toThrow(RangeError);
  });
});

describe('isInQuietHours', () => {
  it('treats a window spanning midnight as quiet from its start up to, not including, its end', () => {
    expect(isInQuietHours(instant('2027-02-01T21:00:00.000Z'), LONDON, NIGHT)).toBe(true);
    expect(isInQuietHours(instant('2027-02-02T07:59:59.999Z'), LONDON, NIGHT)).toBe(true);
    expect(isInQuietHours(instant('2027-02-02T08:00:00.000Z'), LONDON, NIGHT)).toBe(false);
    expect(isInQuietHours(instant('2027-02-01T20:59:00.000Z'), LONDON, NIGHT)).toBe(false);
  });

  it('treats a window within one day as quiet only between its start and end', () => {
    expect(isInQuietHours(instant('2027-02-01T12:30:00.000Z'), LONDON, LUNCH)).toBe(true);
    expect(isInQuietHours(instant('2027-02-01T13:00:00.000Z'), LONDON, LUNCH)).toBe(false);
    expect(isInQuietHours(instant('2027-02-01T23:00:00.000Z'), LONDON, LUNCH)).toBe(false);
  });

  it('has no quiet hours when start equals end', () => {
    expect(isInQuietHours(instant('2027-02-01T03:00:00.000Z'), LONDON, NONE)).toBe(false);
  });

  it('reads the clock in the given zone', () => {
    // 02:00Z is 02:00 in London but 21:00 the day before in New York.
    expect(isInQuietHours(instant('2027-02-01T02:00:00.000Z'), LONDON, LUNCH)).toBe(false);
    expect(isInQuietHours(instant('2027-02-01T17:30:00.000Z'), NEW_YORK, LUNCH)).toBe(true);
  });
});

describe('applyQuietHours', () => {
  it('leaves a time outside the window unchanged', () => {
    expect(applyQuietHours(instant('2027-02-01T15:00:00.000Z'), LONDON, NIGHT)).toBe('2027-02-01T15:00:00.000Z');
  });

  it('moves a late-evening time to the window end the next morning', () => {
    expect(applyQuietHours(instant('2027-02-01T22:30:00.000Z'), LONDON, NIGHT)).toBe('2027-02-02T08:00:00.000Z');
  });

  it('moves a small-hours time to the window end the same morning', () => {
    expect(applyQuietHours(instant('2027-02-02T03:00:00.000Z'), LONDON, NIGHT)).toBe('2027-02-02T08:00:00.000Z');
  });

  it('moves a time inside a daytime window to its end', () => {
    expect(applyQuietHours(instant('2027-02-01T12:15:00.000Z'), LONDON, LUNCH)).toBe('2027-02-01T13:00:00.000Z');
  });

  it('lands on 08:00 local across the spring-forward night', () => {
    // Saturday 23:00 GMT → Sunday 08:00 BST, which is 07:00Z.
    expect(applyQuietHours(instant('2027-03-27T23:00:00.000Z'), LONDON, NIGHT)).toBe('2027-03-28T07:00:00.000Z');
  });

  it('moves to the moment the clocks change when the window end is skipped', () => {
    expect(applyQuietHours(instant('2027-03-27T23:00:00.000Z'), LONDON, { start: '21:00', end: '01:30' })).toBe('2027-03-28T01:00:00.000Z');
  });

  it('uses the occurrence of a repeated window end that is not before the due time', () => {
    const window = { start: '21:00', end: '01:30' };
    expect(applyQuietHours(instant('2027-10-31T00:15:00.000Z'), LONDON, window)).toBe('2027-10-31T00:30:00.000Z'); // 01:15 BST
    expect(applyQuietHours(instant('2027-10-31T01:15:00.000Z'), LONDON, window)).toBe('2027-10-31T01:30:00.000Z'); // 01:15 GMT
  });
});

describe('nextNonUrgentSlot', () => {
  it('opens the next local day at the end of night-time quiet hours', () => {
    expect(nextNonUrgentSlot(instant('2027-02-01T15:00:00.000Z'), LONDON, NIGHT)).toBe('2027-02-02T08:00:00.000Z');
  });

  it('counts the next day in the client zone, not in UTC', () => {
    // 14:00Z on 1 Feb is already 01:00 on 2 Feb in Sydney (UTC+11), so the next day is 3 Feb.
    expect(nextNonUrgentSlot(instant('2027-02-01T14:00:00.000Z'), SYDNEY, NIGHT)).toBe('2027-02-02T21:00:00.000Z');
  });

  it('opens at 09:00 when there are no quiet hours or they do not cover the night', () => {
    expect(nextNonUrgentSlot(instant('2027-02-01T15:00:00.000Z'), LONDON, NONE)).toBe('2027-02-02T09:00:00.000Z');
    expect(nextNonUrgentSlot(instant('2027-02-01T15:00:00.000Z'), LONDON, LUNCH)).toBe('2027-02-02T09:00:00.000Z');
  });

  it('moves 09:00 past a daytime window that covers it', () => {
    expect(nextNonUrgentSlot(instant('2027-02-01T15:00:00.000Z'), LONDON, { start: '08:30', end: '09:30' })).toBe('2027-02-02T09:30:00.000Z');
  });

  it('opens at 08:00 local on the morning the clocks go forward', () => {
    expect(nextNonUrgentSlot(instant('2027-03-27T12:00:00.000Z'), LONDON, NIGHT)).toBe('2027-03-28T07:00:00.000Z');
  });
});

describe('instant arithmetic', () => {
  it('moves an instant by elapsed milliseconds, either way, across a DST change', () => {
    expect(addMs(instant('2027-03-28T00:30:00.000Z'), 3_600_000)).toBe('2027-03-28T01:30:00.000Z');
    expect(addMs(instant('2027-02-01T00:00:00.000Z'), -1)).toBe('2027-01-31T23:59:59.999Z');
  });

  it('refuses a move that leaves the years 0000–9999', () => {
    expect(() => addMs(instant('9999-12-31T23:59:59.999Z'), 1)).toThrow(RangeError);
  });

  it('measures the milliseconds from one instant to another, negative when the second is earlier', () => {
    expect(msBetween(instant('2027-02-01T10:00:00.000Z'), instant('2027-02-01T10:02:00.500Z'))).toBe(120_500);
    expect(msBetween(instant('2027-02-01T10:02:00.500Z'), instant('2027-02-01T10:00:00.000Z'))).toBe(-120_500);
    expect(msOf(instant('1970-01-01T00:00:01.000Z'))).toBe(1000);
  });

  it('makes an instant from a Date, and orders instants as strings', () => {
    const earlier = instantOf(new Date(Date.UTC(2027, 1, 1)));
    expect(earlier).toBe('2027-02-01T00:00:00.000Z');
    expect(earlier < instant('2027-02-01T00:00:00.001Z')).toBe(true);
  });
});
