/**
 * When the clinic's monthly report is due and which month it covers. Pure.
 *
 * The report on a month goes out on the first day of the next month at the report's local hour,
 * in the clinic's zone, and covers the month's local days: from the 1st at 00:00 to the next 1st
 * at 00:00. Like the summary, a sweep asks for the latest report due at or before `now`, so a late
 * sweep still sends it and a long outage sends only the newest month.
 */
import { DateTime } from 'luxon';
import type { MessageIdentity } from './message.js';
import { toInstant, type Instant } from './time.js';

export interface ReportMonth {
  /** yyyy-mm: the report's message offset. */
  readonly key: string;
  /** The month's first local midnight (inclusive). */
  readonly start: Instant;
  /** The next month's first local midnight (exclusive). */
  readonly end: Instant;
  /** When the report falls due: the next month's 1st at the report hour. */
  readonly dueAt: Instant;
  /** When the following month's report falls due. */
  readonly nextDueAt: Instant;
  readonly zone: string;
}

function monthStarting(first: DateTime, hour: number, zone: string): ReportMonth {
  const next = first.plus({ months: 1 });
  const instant = (t: DateTime) => toInstant(t.toMillis());
  return {
    key: first.toFormat('yyyy-MM'),
    start: instant(first),
    end: instant(next),
    dueAt: instant(next.set({ hour })),
    nextDueAt: instant(next.plus({ months: 1 }).set({ hour })),
    zone,
  };
}

/** The latest month whose report is due at `now`. */
export function latestDueMonth(zone: string, hour: number, now: Instant): ReportMonth {
  const local = DateTime.fromISO(now, { zone });
  if (!local.isValid) throw new RangeError(`cannot express ${now} in ${zone}`);
  const thisMonth = local.startOf('month');
  const previous = thisMonth.minus({ months: 1 });
  const month = monthStarting(previous, hour, zone);
  return month.dueAt <= now ? month : monthStarting(previous.minus({ months: 1 }), hour, zone);
}

/** The report's identity: `cr.clinic.<yyyy-mm>.v1`. */
export function clinicReportIdentity(month: Pick<ReportMonth, 'key'>): MessageIdentity {
  return { kind: 'clinic-report', subjectId: 'clinic', offset: month.key, version: 1 };
}
