/**
 * What is wrong with an instant a person wrote (a session start in an import, a scenario's time),
 * if anything. Date.parse rolls impossible dates over (2027-02-30 becomes 2 March) and takes any
 * year from 0 to 275760; a clinic's data needs real calendar dates in a range where a booking
 * makes sense, and a reason that names the problem.
 */
import { DateTime } from 'luxon';

/** Sessions, answers and events fall in these years (UTC and local alike). */
export const INSTANT_YEARS = { min: 2000, max: 2100 } as const;

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function instantTextProblem(text: string): string | undefined {
  const match = SHAPE.exec(text);
  if (!match) return 'must be an ISO-8601 instant with an offset or Z, e.g. 2027-02-01T14:00:00Z';
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < INSTANT_YEARS.min || year > INSTANT_YEARS.max) return `year ${match[1]} is outside ${INSTANT_YEARS.min}–${INSTANT_YEARS.max}`;
  if (month < 1 || month > 12) return `month ${match[2]} does not exist (01–12)`;
  const daysInMonth = DateTime.utc(year, month, 1).daysInMonth ?? 31;
  if (day < 1 || day > daysInMonth)
    return `${match[1]}-${match[2]}-${match[3]} is not a date: ${DateTime.utc(year, month, 1).toFormat('LLLL yyyy')} has ${daysInMonth} days`;
  if (hour > 23 || minute > 59 || second > 59) return `${match[4]}:${match[5]}${match[6] ? `:${match[6]}` : ''} is not a time of day (00:00–23:59)`;
  const offset = match[7]!;
  if (offset !== 'Z' && (Number(offset.slice(1, 3)) > 18 || Number(offset.slice(4, 6)) > 59)) return `offset ${offset} does not exist (−18:00 to +18:00)`;
  const utcYear = DateTime.fromISO(text, { setZone: true }).toUTC().year;
  if (utcYear < INSTANT_YEARS.min || utcYear > INSTANT_YEARS.max) return `falls in ${utcYear} in UTC, outside ${INSTANT_YEARS.min}–${INSTANT_YEARS.max}`;
  return undefined;
}
