/**
 * EventBridge Scheduler schedule expressions: parsing with AWS's rules, and the next occurrence of a
 * schedule in its time zone.
 *
 * - `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time in the schedule's zone.
 * - `rate(value unit)`: every fixed duration from the schedule's start (a day is always 24 hours,
 *   as AWS counts it, so a rate does not follow DST).
 * - `cron(minutes hours day-of-month month day-of-week year)`: wall-clock times in the schedule's zone.
 *   Like AWS, a time that does not exist because clocks jump forward is skipped, and a time that
 *   happens twice because clocks fall back fires once (at its first occurrence).
 */
import { DateTime, IANAZone } from 'luxon';
import { InvalidScheduleExpressionError } from './errors.js';

export interface WallClockTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export type RateUnit = 'minute' | 'hour' | 'day';

/** Days of the week are numbered as AWS numbers them: 1 = Sunday … 7 = Saturday. */
export type DayOfMonthRule =
  | { readonly kind: 'unspecified' }
  | { readonly kind: 'days'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'last-day' }
  | { readonly kind: 'last-weekday' }
  | { readonly kind: 'nearest-weekday'; readonly day: number };

export type DayOfWeekRule =
  | { readonly kind: 'unspecified' }
  | { readonly kind: 'days'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'last-of-month'; readonly dayOfWeek: number }
  | { readonly kind: 'nth-of-month'; readonly dayOfWeek: number; readonly nth: number };

export interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonthRule;
  readonly months: readonly number[];
  readonly dayOfWeek: DayOfWeekRule;
  readonly years: readonly number[];
}

export type ScheduleExpression =
  | { readonly kind: 'at'; readonly text: string; readonly at: WallClockTime }
  | { readonly kind: 'rate'; readonly text: string; readonly value: number; readonly unit: RateUnit; readonly intervalMs: number }
  | { readonly kind: 'cron'; readonly text: string; readonly fields: CronFields };

const MINUTE_MS = 60_000;
const UNIT_MS: Record<RateUnit, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS };
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

/** Parses a schedule expression, or throws `InvalidScheduleExpressionError` saying why it is invalid. */
export function parseScheduleExpression(text: string): ScheduleExpression {
  const match = /^(at|rate|cron)\((.*)\)$/s.exec(text);
  if (!match) {
    throw new InvalidScheduleExpressionError(text, 'expected at(...), rate(...) or cron(...)');
  }
  const [, kind, body = ''] = match;
  const fail = (reason: string): never => {
    throw new InvalidScheduleExpressionError(text, reason);
  };
  if (kind === 'at') return { kind: 'at', text, at: parseAt(body, fail) };
  if (kind === 'rate') return { kind: 'rate', text, ...parseRate(body, fail) };
  return { kind: 'cron', text, fields: parseCron(body, fail) };
}

export function isRecurring(expression: ScheduleExpression): boolean {
  return expression.kind !== 'at';
}

export interface OccurrenceOptions {
  /** IANA zone the expression is evaluated in. */
  readonly timezone: string;
  /** Where a rate counts from: the schedule's StartDate, or when it was created. */
  readonly rateAnchor?: Date;
}

/**
 * The first occurrence of the expression at or after `from`, or undefined when there is none
 * (an at() in the past, a cron whose years are over).
 */
export function nextOccurrence(expression: ScheduleExpression, from: Date, options: OccurrenceOptions): Date | undefined {
  switch (expression.kind) {
    case 'at': {
      const at = atInstant(expression.at, options.timezone);
      return at.getTime() >= from.getTime() ? at : undefined;
    }
    case 'rate': {
      const anchor = (options.rateAnchor ?? from).getTime();
      const periods = Math.max(0, Math.ceil((from.getTime() - anchor) / expression.intervalMs));
      return new Date(anchor + periods * expression.intervalMs);
    }
    case 'cron':
      return nextCronOccurrence(expression.fields, from, options.timezone);
  }
}

/**
 * The instant an at() expression names. A wall-clock time that falls in a spring-forward gap is moved
 * forward by the gap, so the schedule still fires once.
 */
export function atInstant(at: WallClockTime, timezone: string): Date {
  const zone = IANAZone.create(timezone);
  const existing = wallClockToInstant(at, zone);
  if (existing) return existing;
  const wallMs = wallClockMs(at);
  const offsetBeforeGap = zone.offset(wallMs - 24 * 60 * MINUTE_MS);
  return new Date(wallMs - offsetBeforeGap * MINUTE_MS);
}

// ---------------------------------------------------------------------------------------------
// at() and rate()

function parseAt(body: string, fail: (reason: string) => never): WallClockTime {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!match) return fail('at() takes a date and time as yyyy-mm-ddThh:mm:ss');
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const checked = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: 'UTC' });
  if (!checked.isValid) return fail(`${body} is not a real date and time (${checked.invalidExplanation ?? 'out of range'})`);
  return { year, month, day, hour, minute, second };
}

function parseRate(body: string, fail: (reason: string) => never): { value: number; unit: RateUnit; intervalMs: number } {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!match) return fail('rate() takes a positive whole number and a unit: minute(s), hour(s) or day(s)');
  const value = Number(match[1]);
  const unitText = match[2] ?? '';
  if (value < 1) return fail('the rate value must be at least 1');
  const plural = unitText.endsWith('s');
  if (value === 1 && plural) return fail(`a rate of 1 takes a singular unit (${unitText.slice(0, -1)})`);
  if (value > 1 && !plural) return fail(`a rate above 1 takes a plural unit (${unitText}s)`);
  const unit = (plural ? unitText.slice(0, -1) : unitText) as RateUnit;
  return { value, unit, intervalMs: value * UNIT_MS[unit] };
}

// ---------------------------------------------------------------------------------------------
// cron()

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly allowStep: boolean;
}

const MINUTES: FieldSpec = { label: 'minutes', min: 0, max: 59, allowStep: true };
const HOURS: FieldSpec = { label: 'hours', min: 0, max: 23, allowStep: true };
const DAY_OF_MONTH: FieldSpec = { label: 'day-of-month', min: 1, max: 31, allowStep: true };
const MONTH: FieldSpec = { label: 'month', min: 1, max: 12, names: MONTH_NAMES, allowStep: true };
// AWS allows no step (/) in day-of-week.
const DAY_OF_WEEK: FieldSpec = { label: 'day-of-week', min: 1, max: 7, names: DAY_NAMES, allowStep: false };
const YEAR: FieldSpec = { label: 'year', min: FIRST_YEAR, max: LAST_YEAR, allowStep: true };

function parseCron(body: string, fail: (reason: string) => never): CronFields {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    return fail(`cron() takes 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`);
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return fail('exactly one of day-of-month and day-of-week must be ?');
  }
  return {
    minutes: parseValues(minutes, MINUTES, fail),
    hours: parseValues(hours, HOURS, fail),
    dayOfMonth: parseDayOfMonth(dayOfMonth, fail),
    months: parseValues(month, MONTH, fail),
    dayOfWeek: parseDayOfWeek(dayOfWeek, fail),
    years: parseValues(year, YEAR, fail),
  };
}

function parseDayOfMonth(field: string, fail: (reason: string) => never): DayOfMonthRule {
  if (field === '?') return { kind: 'unspecified' };
  if (field === 'L') return { kind: 'last-day' };
  if (field === 'LW') return { kind: 'last-weekday' };
  const weekday = /^(\d{1,2})W$/.exec(field);
  if (weekday) {
    const day = Number(weekday[1]);
    if (day < 1 || day > 31) fail(`day-of-month ${field}: W needs a day from 1 to 31`);
    return { kind: 'nearest-weekday', day };
  }
  if (/[LW]/.test(field)) fail(`day-of-month ${field}: L and W must stand alone (L, LW or nW)`);
  return { kind: 'days', days: new Set(parseValues(field, DAY_OF_MONTH, fail)) };
}

function parseDayOfWeek(field: string, fail: (reason: string) => never): DayOfWeekRule {
  if (field === '?') return { kind: 'unspecified' };
  // A lone L in day-of-week means the last day of the week, Saturday.
  if (field === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^([A-Za-z]{3}|\d)L$/.exec(field);
  if (last) return { kind: 'last-of-month', dayOfWeek: parseValue(last[1] ?? '', DAY_OF_WEEK, fail) };
  const nth = /^([A-Za-z]{3}|\d)#(\d)$/.exec(field);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) fail(`day-of-week ${field}: the number after # must be from 1 to 5`);
    return { kind: 'nth-of-month', dayOfWeek: parseValue(nth[1] ?? '', DAY_OF_WEEK, fail), nth: n };
  }
  if (/[L#]/.test(field)) fail(`day-of-week ${field}: L and # must stand alone (nL or n#k)`);
  return { kind: 'days', days: new Set(parseValues(field, DAY_OF_WEEK, fail)) };
}

/** A comma list of `*`, `n`, `a-b`, each optionally with `/step`; returns the sorted values. */
function parseValues(field: string, spec: FieldSpec, fail: (reason: string) => never): number[] {
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const [range = '', stepText, ...extra] = item.split('/');
    if (extra.length > 0) fail(`${spec.label} ${field}: more than one / in ${item}`);
    let step = 1;
    if (stepText !== undefined) {
      if (!spec.allowStep) fail(`${spec.label} ${field}: / is not allowed in ${spec.label}`);
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) fail(`${spec.label} ${field}: step ${stepText} must be a positive number`);
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (range === '*') {
      start = spec.min;
      end = spec.max;
    } else if (range.includes('-')) {
      const [from = '', to = '', ...rest] = range.split('-');
      if (rest.length > 0) fail(`${spec.label} ${field}: malformed range ${range}`);
      start = parseValue(from, spec, fail);
      end = parseValue(to, spec, fail);
      if (start > end) fail(`${spec.label} ${field}: range ${range} runs backwards`);
    } else {
      start = parseValue(range, spec, fail);
      // `n/step` means from n to the end of the field's range.
      end = stepText === undefined ? start : spec.max;
    }
    for (let value = start; value <= end; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

function parseValue(text: string, spec: FieldSpec, fail: (reason: string) => never): number {
  const nameIndex = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (nameIndex >= 0) return nameIndex + 1;
  if (!/^\d+$/.test(text)) return fail(`${spec.label}: ${text === '' ? 'empty value' : `${text} is not a valid value`}`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    return fail(`${spec.label}: ${value} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

function nextCronOccurrence(fields: CronFields, from: Date, timezone: string): Date | undefined {
  const zone = IANAZone.create(timezone);
  const start = DateTime.fromJSDate(from, { zone });
  for (const year of fields.years) {
    if (year < start.year) continue;
    for (const month of fields.months) {
      if (year === start.year && month < start.month) continue;
      const lastDay = daysInMonth(year, month);
      const firstDay = year === start.year && month === start.month ? start.day : 1;
      for (let day = firstDay; day <= lastDay; day++) {
        if (!dayMatches(fields, year, month, day)) continue;
        const isStartDay = year === start.year && month === start.month && day === start.day;
        for (const hour of fields.hours) {
          if (isStartDay && hour < start.hour) continue;
          for (const minute of fields.minutes) {
            if (isStartDay && hour === start.hour && minute < start.minute) continue;
            const instant = wallClockToInstant({ year, month, day, hour, minute, second: 0 }, zone);
            if (instant && instant.getTime() >= from.getTime()) return instant;
          }
        }
      }
    }
  }
  return undefined;
}

function dayMatches(fields: CronFields, year: number, month: number, day: number): boolean {
  const lastDay = daysInMonth(year, month);
  const dayOfWeek = new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
  const dom = fields.dayOfMonth;
  const domMatches =
    dom.kind === 'unspecified' ||
    (dom.kind === 'days' && dom.days.has(day)) ||
    (dom.kind === 'last-day' && day === lastDay) ||
    (dom.kind === 'last-weekday' && day === nearestWeekday(year, month, lastDay)) ||
    (dom.kind === 'nearest-weekday' && dom.day <= lastDay && day === nearestWeekday(year, month, dom.day));
  const dow = fields.dayOfWeek;
  const dowMatches =
    dow.kind === 'unspecified' ||
    (dow.kind === 'days' && dow.days.has(dayOfWeek)) ||
    (dow.kind === 'last-of-month' && dayOfWeek === dow.dayOfWeek && day + 7 > lastDay) ||
    (dow.kind === 'nth-of-month' && dayOfWeek === dow.dayOfWeek && Math.ceil(day / 7) === dow.nth);
  return domMatches && dowMatches;
}

/** The weekday closest to `day` without leaving the month (the W rule). */
function nearestWeekday(year: number, month: number, day: number): number {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const lastDay = daysInMonth(year, month);
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === lastDay ? day - 2 : day + 1;
  return day;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function wallClockMs(time: WallClockTime): number {
  return Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
}

/**
 * The earliest instant at which the zone's clocks show `time`, or undefined when they never do (the
 * time falls in a spring-forward gap). Offsets a day either side cover every transition near it.
 */
function wallClockToInstant(time: WallClockTime, zone: IANAZone): Date | undefined {
  const wallMs = wallClockMs(time);
  const dayMs = 24 * 60 * MINUTE_MS;
  const offsets = new Set([zone.offset(wallMs - dayMs), zone.offset(wallMs), zone.offset(wallMs + dayMs)]);
  let earliest: number | undefined;
  for (const offset of offsets) {
    const candidate = wallMs - offset * MINUTE_MS;
    if (zone.offset(candidate) === offset && (earliest === undefined || candidate < earliest)) earliest = candidate;
  }
  return earliest === undefined ? undefined : new Date(earliest);
}
