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

/** The first word of a person's name, for a greeting: "Sam Patel" → "Sam". */
export function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? name;
}

/**
 * First name and the last name's initial, for a subject line an inbox preview shows to anyone
 * nearby: "Sam Patel" → "Sam P.", a one-word name as it is.
 */
export function shortName(name: string): string {
  const words = name.trim().split(/\s+/);
  const last = words.length > 1 ? words[words.length - 1] : undefined;
  return last ? `${words[0]} ${Array.from(last)[0]}.` : (words[0] ?? name);
}
