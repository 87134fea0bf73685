/**
 * When a therapist's follow-up summary is due and which stretch of time it covers. Pure.
 *
 * A summary is anchored on its local *summary instant*: the therapist's `summary.hour` on a
 * summary day (every day, or the ISO `weekday` for weekly summaries) in the therapist's zone. The
 * period it reports on runs from the previous summary instant up to this one, so consecutive
 * periods tile time with no gap and no overlap, whatever the clocks do in between (a daily period
 * across a clock change is 23 or 25 hours long).
 *
 * The sweep asks for the *latest* summary instant at or before `now`: a sweep that runs late (an
 * outage) still finds the period that fell due and sends it, and a longer outage sends only the
 * newest period rather than a backlog. Local times are resolved by shared/domain/time.ts: an hour
 * skipped by a spring-forward gap is the first instant after the gap, so it goes out at the first
 * sweep after the clocks change; an hour repeated by a fall-back is its earlier occurrence.
 */
import { DateTime } from 'luxon';
import type { MessageIdentity } from './message.js';
import type { Therapist } from './model.js';
import { addCalendarDays, atLocalTime, localDate, toInstant, type Instant } from './time.js';

export type SummarySettings = Therapist['summary'];
export type SummaryCadence = SummarySettings['cadence'];

export interface SummaryPeriod {
  readonly cadence: SummaryCadence;
  /** The period's first local date as yyyymmdd: the summary's message offset. */
  readonly key: string;
  /** The previous summary instant (inclusive). */
  readonly start: Instant;
  /** This period's summary instant (exclusive): when the summary falls due. */
  readonly end: Instant;
  /** The next summary instant: the "coming up" section runs from `end` to here. */
  readonly nextEnd: Instant;
  /** Local dates (yyyy-mm-dd) of `start` and `end` in the therapist's zone. */
  readonly startDate: string;
  readonly endDate: string;
  readonly zone: string;
}

const DAYS_BETWEEN: Record<SummaryCadence, number> = { daily: 1, weekly: 7 };

function hourText(hour: number): string {
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new RangeError(`summary hour must be a whole hour 0–23: ${hour}`);
  return `${String(hour).padStart(2, '0')}:00`;
}

function isoWeekday(date: string): number {
  return DateTime.fromISO(date, { zone: 'utc' }).weekday;
}

function isSummaryDay(settings: SummarySettings, date: string): boolean {
  return settings.cadence === 'daily' || isoWeekday(date) === settings.weekday;
}

/** The period whose summary falls due at the summary instant of local date `endDate`. */
export function periodEndingOn(settings: SummarySettings, zone: string, endDate: string): SummaryPeriod {
  const time = hourText(settings.hour);
  const step = DAYS_BETWEEN[settings.cadence];
  const startDate = addCalendarDays(endDate, -step);
  return {
    cadence: settings.cadence,
    key: startDate.replaceAll('-', ''),
    start: atLocalTime(startDate, time, zone),
    end: atLocalTime(endDate, time, zone),
    nextEnd: atLocalTime(addCalendarDays(endDate, step), time, zone),
    startDate,
    endDate,
    zone,
  };
}

/**
 * The latest period whose summary instant is at or before `now`: the one a sweep at `now` should
 * make sure has been sent. There always is one (summary days recur at least weekly).
 */
export function latestDuePeriod(settings: SummarySettings, zone: string, now: Instant | Date): SummaryPeriod {
  const at = toInstant(now);
  const today = localDate(at, zone);
  const time = hourText(settings.hour);
  // Today's instant may still be ahead, so look back one step further than the cadence.
  for (let back = 0; back <= DAYS_BETWEEN[settings.cadence]; back++) {
    const date = addCalendarDays(today, -back);
    if (isSummaryDay(settings, date) && atLocalTime(date, time, zone) <= at) return periodEndingOn(settings, zone, date);
  }
  throw new Error(`no summary instant found in the week before ${at} in ${zone}`);
}

/** The ledger identity of one therapist's summary for one period: at most one email each. */
export function summaryIdentity(therapistId: string, period: Pick<SummaryPeriod, 'key'>): MessageIdentity {
  return { kind: 'summary', subjectId: therapistId, offset: period.key, version: 1 };
}

/** The period just before `period` (same cadence): the one a late retry may have left behind. */
export function previousPeriod(settings: SummarySettings, period: SummaryPeriod): SummaryPeriod {
  return periodEndingOn(settings, period.zone, period.startDate);
}
