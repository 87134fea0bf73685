/**
 * Instants and time zones. Inside the system every time is an `Instant` (a UTC ISO string); local
 * wall-clock time exists only to decide *when* something happens for a person in their zone.
 *
 * Local times that do not exist or exist twice are resolved here, once, the same way everywhere:
 * - a wall-clock time skipped by a spring-forward gap resolves to the first instant after the gap
 *   (the moment the clocks change), never to a time shifted by the gap's length;
 * - a wall-clock time repeated by a fall-back resolves to the earlier of its two instants.
 * Luxon alone resolves both by an offset guess that depends on the direction of the arithmetic
 * (and, for `DateTime.fromObject`, on today's date), so the same plan could give different
 * schedules; these rules make the result a function of the inputs only.
 */
import { DateTime, Duration, IANAZone } from 'luxon';

declare const instantBrand: unique symbol;

/**
 * A UTC instant exactly as `Date.prototype.toISOString()` writes it (`2027-02-01T14:00:00.000Z`):
 * one spelling per instant, so instants compare and sort correctly as strings. At run time it is
 * that plain string (JSON and DynamoDB see no difference); the brand means only this module's
 * constructors make one, so an unchecked string cannot be passed where an instant is expected.
 */
export type Instant = string & { readonly [instantBrand]: 'Instant' };

/** A daily window in local time, `HH:MM`–`HH:MM`, end exclusive; it may span midnight. */
export interface QuietHours {
  readonly start: string;
  readonly end: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Canonical instants only; anything else is parsed as ISO-8601 with a mandatory offset. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Whole calendar units; the clock units may be fractional (PT1.5H). */
const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/;
const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** Years outside 0000–9999 print with a sign and six digits, which would break string ordering. */
const MIN_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * The canonical Instant for a Date, epoch milliseconds, or an ISO-8601 string that names its
 * offset. A string without an offset is refused: it would be read in the server's zone.
 */
export function toInstant(x: Date | string | number): Instant {
  const ms = typeof x === 'string' ? parseInstantMs(x) : typeof x === 'number' ? x : x.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid instant: ${String(x)}`);
  const whole = Math.trunc(ms);
  if (whole < MIN_MS || whole > MAX_MS) throw new RangeError(`instant out of range (years 0000–9999): ${String(x)}`);
  return new Date(whole).toISOString() as Instant;
}

/** The Instant of a Date (throws, as `toInstant` does, for an invalid or out-of-range one). */
export function instantOf(date: Date): Instant {
  return toInstant(date);
}

/**
 * Text that this system's own writers stored as an Instant, read back without re-checking it
 * (they checked it once, at the boundary). Only a storage codec reads instants this way.
 */
export function storedInstant(text: string): Instant {
  return text as Instant;
}

/** `at` moved by `ms` milliseconds of elapsed time (negative moves it back). */
export function addMs(at: Instant, ms: number): Instant {
  return toInstant(msOf(at) + ms);
}

/** Milliseconds from `from` to `to`: positive when `to` is later. */
export function msBetween(from: Instant, to: Instant): number {
  return msOf(to) - msOf(from);
}

function parseInstantMs(text: string): number {
  if (CANONICAL.test(text)) {
    const ms = Date.parse(text);
    // Date.parse rolls impossible dates over (Feb 30 → Mar 2); the round trip catches them.
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === text) return ms;
  } else if (ISO_WITH_OFFSET.test(text)) {
    const parsed = DateTime.fromISO(text, { setZone: true });
    if (parsed.isValid) return parsed.toMillis();
  }
  throw new RangeError(`not an ISO-8601 instant with an offset or Z: "${text}"`);
}

/** Epoch milliseconds of an instant. */
export function msOf(at: Instant): number {
  return parseInstantMs(at);
}

function ianaZone(name: string): IANAZone {
  const zone = IANAZone.create(name);
  if (!zone.isValid) throw new RangeError(`"${name}" is not a known IANA time zone`);
  return zone;
}

interface LocalFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

function localFields(ms: number, zone: IANAZone): LocalFields {
  const { year, month, day, hour, minute, second, millisecond } = DateTime.fromMillis(ms, { zone });
  return { year, month, day, hour, minute, second, millisecond };
}

/** The wall-clock reading as if it were UTC: lets local readings be compared as numbers. */
function wallMs(f: LocalFields): number {
  const ms = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, f.millisecond);
  // Date.UTC maps years 0–99 to 1900–1999.
  return f.year < 100 ? new Date(ms).setUTCFullYear(f.year) : ms;
}

function readingAt(ms: number, zone: IANAZone): number {
  return ms + zone.offset(ms) * MINUTE_MS;
}

/**
 * Every instant whose local reading in `zone` is `local`, earliest first: one normally, two in a
 * fall-back overlap, and in a spring-forward gap (none exist) the first instant after the gap.
 */
function instantsForLocal(local: LocalFields, zone: IANAZone): number[] {
  const wall = wallMs(local);
  // Offsets are within ±14 h and zones change offset at most once in any few days, so the offsets
  // seen 36 h either side cover every instant that can read `wall`.
  const offsets = new Set([zone.offset(wall - 36 * HOUR_MS), zone.offset(wall), zone.offset(wall + 36 * HOUR_MS)]);
  const exact = [...offsets]
    .map((offset) => wall - offset * MINUTE_MS)
    .filter((ms) => readingAt(ms, zone) === wall)
    .sort((a, b) => a - b);
  if (exact.length > 0) return exact;

  // A gap: the local clock jumps from below `wall` to above it. The jump lies between the instants
  // that `wall` would be under the largest and the smallest offset; find it to the millisecond.
  let lo = wall - Math.max(...offsets) * MINUTE_MS; // reads before `wall`
  let hi = wall - Math.min(...offsets) * MINUTE_MS; // reads after `wall`
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (readingAt(mid, zone) >= wall) hi = mid;
    else lo = mid;
  }
  return [hi];
}

interface CalendarPart {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
}

/**
 * Splits an ISO-8601 duration into its calendar part (Y, M, W, D: counted on the local calendar)
 * and its clock part (H, M, S: elapsed time). `PT48H` is always 48 real hours; `P2D` is the same
 * wall-clock time two local days away, 47, 48 or 49 hours depending on a DST change in between.
 */
function splitDuration(offset: string): { calendar: CalendarPart; elapsedMs: number } {
  const d = ISO_DURATION.test(offset) ? Duration.fromISO(offset) : undefined;
  if (!d?.isValid) throw new RangeError(`not an ISO-8601 duration with whole Y/M/W/D units, e.g. P2D or PT1.5H: "${offset}"`);
  const calendar = { years: d.years, months: d.months, weeks: d.weeks, days: d.days };
  const elapsedMs = d.hours * HOUR_MS + d.minutes * MINUTE_MS + d.seconds * 1000 + d.milliseconds;
  return { calendar, elapsedMs };
}

/**
 * Moves `from` by `sign` × `offset` as a person in `zone` counts it. For a mixed duration such as
 * `P1DT2H` the calendar part moves first and the clock part is then added as elapsed time, the
 * order luxon and Temporal both use for plus and minus. Month arithmetic clamps to the month's
 * last day (31 March − P1M = 28/29 February).
 */
function shift(from: Instant, offset: string, zone: string, sign: 1 | -1): Instant {
  const iana = ianaZone(zone);
  const { calendar, elapsedMs } = splitDuration(offset);
  let ms = msOf(from);
  const hasCalendar = calendar.years !== 0 || calendar.months !== 0 || calendar.weeks !== 0 || calendar.days !== 0;
  // A clock-only offset must not re-resolve the local time: that would move the later instant of
  // a fall-back overlap to the earlier one.
  if (hasCalendar) {
    const signed = {
      years: sign * calendar.years,
      months: sign * calendar.months,
      weeks: sign * calendar.weeks,
      days: sign * calendar.days,
    };
    // Calendar arithmetic on the wall-clock reading, done in UTC where no day is 23 or 25 hours.
    const moved = DateTime.fromMillis(wallMs(localFields(ms, iana)), { zone: 'utc' }).plus(signed);
    const first = instantsForLocal(moved, iana)[0];
    if (first === undefined) throw new Error(`no instant for local time ${moved.toISO()} in ${zone}`);
    ms = first;
  }
  return toInstant(ms + sign * elapsedMs);
}

/** `start` minus an ISO-8601 duration, counted in `zone` (see `splitDuration` for its meaning). */
export function subtractOffset(start: Instant, offset: string, zone: string): Instant {
  return shift(start, offset, zone, -1);
}

/** `from` plus an ISO-8601 duration, counted in `zone` (see `splitDuration` for its meaning). */
export function addOffset(from: Instant, offset: string, zone: string): Instant {
  return shift(from, offset, zone, 1);
}

/** The local calendar date (`yyyy-mm-dd`) of an instant in `zone`. */
export function localDate(at: Instant, zone: string): string {
  const date = DateTime.fromMillis(msOf(at), { zone: ianaZone(zone) }).toISODate();
  if (date === null) throw new RangeError(`cannot express ${at} as a date in ${zone}`);
  return date;
}

/** `date` moved by whole calendar days. */
export function addCalendarDays(date: string, days: number): string {
  if (!Number.isInteger(days)) throw new RangeError(`days must be a whole number: ${days}`);
  const moved = parseLocalDate(date).plus({ days }).toISODate();
  if (moved === null) throw new RangeError(`cannot move ${date} by ${days} days`);
  return moved;
}

function parseLocalDate(date: string): DateTime {
  const parsed = LOCAL_DATE.test(date) ? DateTime.fromISO(date, { zone: 'utc' }) : undefined;
  if (!parsed?.isValid) throw new RangeError(`not a calendar date "yyyy-mm-dd": "${date}"`);
  return parsed;
}

function clockMinutes(time: string): number {
  const match = CLOCK_TIME.exec(time);
  if (!match) throw new RangeError(`not a local time "HH:MM" (00:00–23:59): "${time}"`);
  return Number(match[1]) * 60 + Number(match[2]);
}

function instantsAtLocalTime(date: string, time: string, zone: IANAZone): number[] {
  const { year, month, day } = parseLocalDate(date);
  const minutes = clockMinutes(time);
  return instantsForLocal({ year, month, day, hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 }, zone);
}

/**
 * The instant a clock in `zone` reads `time` on `date`: in a spring-forward gap, the first
 * instant after the gap; in a fall-back overlap, the earlier of the two.
 */
export function atLocalTime(date: string, time: string, zone: string): Instant {
  const first = instantsAtLocalTime(date, time, ianaZone(zone))[0];
  if (first === undefined) throw new Error(`no instant for ${date} ${time} in ${zone}`);
  return toInstant(first);
}

function quietBounds(quiet: QuietHours): { start: number; end: number } {
  return { start: clockMinutes(quiet.start) * MINUTE_MS, end: clockMinutes(quiet.end) * MINUTE_MS };
}

function insideWindow(msOfDay: number, window: { start: number; end: number }): boolean {
  if (window.start === window.end) return false;
  return window.start < window.end ? msOfDay >= window.start && msOfDay < window.end : msOfDay >= window.start || msOfDay < window.end;
}

function localMsOfDay(ms: number, zone: IANAZone): number {
  return ((readingAt(ms, zone) % DAY_MS) + DAY_MS) % DAY_MS;
}

/**
 * Whether the local clock in `zone` reads inside the quiet window at `at`. The start is quiet and
 * the end is not (21:00–08:00: 21:00 is quiet, 08:00 is not); start = end means no quiet hours.
 */
export function isInQuietHours(at: Instant, zone: string, quiet: QuietHours): boolean {
  return insideWindow(localMsOfDay(msOf(at), ianaZone(zone)), quietBounds(quiet));
}

/**
 * `due` if it is outside quiet hours, otherwise the end of the quiet window it falls in: the first
 * instant at or after `due` at which the local clock reads the window's end. When the end is
 * skipped by a spring-forward gap that is the moment the clocks change; when it occurs twice, the
 * occurrence at or after `due`. The result is never earlier than `due` and never inside the window.
 */
export function applyQuietHours(due: Instant, zone: string, quiet: QuietHours): Instant {
  const iana = ianaZone(zone);
  const window = quietBounds(quiet);
  const dueMs = msOf(due);
  if (!insideWindow(localMsOfDay(dueMs, iana), window)) return toInstant(dueMs);
  const date = localDate(due, zone);
  // The end is on the due's local date or the next one. A later day is reached only when a gap
  // swallows the whole non-quiet interval of that day (e.g. 01:45–01:30 on a 01:00→02:00 night).
  for (let days = 0; days <= 3; days++) {
    for (const candidate of instantsAtLocalTime(addCalendarDays(date, days), quiet.end, iana)) {
      if (candidate >= dueMs && !insideWindow(localMsOfDay(candidate, iana), window)) return toInstant(candidate);
    }
  }
  throw new Error(`no end of quiet hours ${quiet.start}–${quiet.end} found after ${due} in ${zone}`);
}

/** When there are no quiet hours (or they do not cover the night), a day's sending opens at 09:00. */
const DEFAULT_DAY_OPENING = '09:00';

/**
 * The start of the next local day's sending window after `after`: the quiet end when the quiet
 * window covers the night (it contains 00:00, e.g. 21:00–08:00 → 08:00), otherwise 09:00, moved
 * past the quiet window if 09:00 falls in it (08:30–09:30 → 09:30). Used to push a client's second
 * non-urgent email of a local day to the next morning.
 */
export function nextNonUrgentSlot(after: Instant, zone: string, quiet: QuietHours): Instant {
  const window = quietBounds(quiet);
  const opening = insideWindow(0, window) ? quiet.end : DEFAULT_DAY_OPENING;
  const nextDay = addCalendarDays(localDate(after, zone), 1);
  return applyQuietHours(atLocalTime(nextDay, opening, zone), zone, quiet);
}
