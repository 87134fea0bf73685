/** Times as a person reads them: in their own zone, in words, with the zone named. */
import { DateTime } from 'luxon';
import type { Instant } from '../domain/time.js';

function local(at: Instant, zone: string): DateTime {
  const dt = DateTime.fromISO(at, { zone }).setLocale('en-GB');
  if (!dt.isValid) throw new RangeError(`cannot show ${at} in zone ${zone}: ${dt.invalidExplanation ?? dt.invalidReason}`);
  return dt;
}

/** "Monday 1 February 2027 at 2:00 pm (GMT)". */
export function formatDateTime(at: Instant, zone: string): string {
  return local(at, zone).toFormat("cccc d LLLL yyyy 'at' h:mm a '('ZZZZ')'");
}

/** "Monday 1 February 2027". */
export function formatDate(at: Instant, zone: string): string {
  return local(at, zone).toFormat('cccc d LLLL yyyy');
}

/** "Mon 1 Feb, 2:00 pm": short enough for a subject line. */
export function formatShortDateTime(at: Instant, zone: string): string {
  return local(at, zone).toFormat('ccc d LLL, h:mm a');
}
