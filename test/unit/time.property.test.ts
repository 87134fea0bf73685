/**
 * Properties of message timing across real time zones and the clock changes of 2025–2030.
 * Expected local readings are computed with luxon's own field conversion, independently of the
 * offset arithmetic in shared/domain/time.ts.
 */
import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { messageName } from '../../shared/domain/message.js';
import { SESSION_STATUSES, clientSchema, planSchema, sessionSchema, type Client } from '../../shared/domain/model.js';
import { maintenanceStatus, planSessionMessages, type MessageDecision } from '../../shared/domain/schedule-rules.js';
import {
  addCalendarDays,
  addOffset,
  applyQuietHours,
  atLocalTime,
  isInQuietHours,
  localDate,
  subtractOffset,
  toInstant,
  type QuietHours,
} from '../../shared/domain/time.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const FROM = Date.UTC(2025, 0, 1);
const UNTIL = Date.UTC(2031, 0, 1);

const ZONES = [
  'Europe/London',
  'America/New_York',
  'America/Chicago',
  'Australia/Sydney',
  'Australia/Lord_Howe', // 30-minute DST
  'Asia/Kolkata',
  'Pacific/Chatham', // +12:45 / +13:45
  'America/Sao_Paulo', // DST abolished in 2019
  'Africa/Casablanca', // clocks go back for Ramadan
  'Europe/Dublin', // "negative DST" in the tz database
  'UTC',
  'America/Santiago', // changes at midnight
  'America/St_Johns', // −03:30 / −02:30
  'Antarctica/Troll', // 2-hour DST
] as const;

/** Every instant in [FROM, UNTIL) at which the zone's UTC offset changes, to the millisecond. */
function offsetChanges(zone: string): number[] {
  const iana = IANAZone.create(zone);
  const changes: number[] = [];
  let offset = iana.offset(FROM);
  for (let day = FROM; day < UNTIL; day += DAY) {
    const next = iana.offset(day + DAY);
    if (next !== offset) {
      let [lo, hi] = [day, day + DAY];
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (iana.offset(mid) === offset) lo = mid;
        else hi = mid;
      }
      changes.push(hi);
    }
    offset = next;
  }
  return changes;
}

const CHANGES = new Map<string, number[]>(ZONES.map((zone) => [zone, offsetChanges(zone)]));
const NEAR_CHANGES = [...CHANGES].flatMap(([zone, changes]) => changes.map((at) => ({ zone, at })));

/** A zone and an instant in 2025–2030, mostly within three days of one of the zone's clock changes. */
const zonedInstant = fc.oneof(
  { weight: 1, arbitrary: fc.record({ zone: fc.constantFrom(...ZONES), ms: fc.integer({ min: FROM, max: UNTIL - 1 }) }) },
  {
    weight: 3,
    arbitrary: fc
      .record({ near: fc.constantFrom(...NEAR_CHANGES), delta: fc.integer({ min: -3 * DAY, max: 3 * DAY }) })
      .map(({ near, delta }) => ({ zone: near.zone as string, ms: near.at + delta })),
  },
);

const pad = (n: number) => String(n).padStart(2, '0');
const clockTime = fc.integer({ min: 0, max: 24 * 60 - 1 }).map((m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`);
const quietHours: fc.Arbitrary<QuietHours> = fc.oneof(
  fc.constantFrom(
    { start: '21:00', end: '08:00' },
    { start: '22:00', end: '07:00' },
    { start: '12:00', end: '13:00' },
    { start: '00:00', end: '00:00' },
    { start: '23:00', end: '01:30' }, // ends inside many spring-forward gaps and fall-back overlaps
    { start: '00:30', end: '02:15' },
    { start: '01:00', end: '03:00' },
  ),
  fc.record({ start: clockTime, end: clockTime }),
);

function local(ms: number, zone: string): DateTime {
  return DateTime.fromMillis(ms, { zone });
}

/** The local reading as a number, for ordering readings. */
function reading(dt: DateTime): number {
  return Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute, dt.second, dt.millisecond);
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** Whether a clock in the zone ever reads `wall` (luxon shifts times in a gap, so they read back differently). */
function exists(wall: Wall, zone: string): boolean {
  const dt = DateTime.fromObject(wall, { zone });
  return reading(dt) === Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond);
}

function wallOn(date: string, time: DateTime): Wall {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return { year, month, day, hour: time.hour, minute: time.minute, second: time.second, millisecond: time.millisecond };
}

function insideByLuxon(ms: number, zone: string, quiet: QuietHours): boolean {
  const dt = local(ms, zone);
  const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
  const now = dt.hour * 60 + dt.minute + (dt.second * 1000 + dt.millisecond) / MINUTE;
  const [start, end] = [minutes(quiet.start), minutes(quiet.end)];
  if (start === end) return false;
  return start < end ? now >= start && now < end : now >= start || now < end;
}

const clients = new Map<string, Client>();
function clientIn(zone: string): Client {
  let client = clients.get(zone);
  if (!client) {
    client = clientSchema.parse({ id: 'c-1', name: 'Robin', email: 'robin@example.com', timezone: zone });
    clients.set(zone, client);
  }
  return client;
}

function planWith(overrides: Record<string, unknown>) {
  return planSchema.parse({
    id: 'p-1',
    clientId: 'c-1',
    therapistId: 't-1',
    goal: 'general-wellness',
    phases: [{ name: 'maintenance', everyDays: 28 }],
    ...overrides,
  });
}

function dueOf(decision: MessageDecision): string {
  return decision.action === 'schedule' ? decision.message.dueAt : decision.dueAt;
}

describe('the zones and instants under test', () => {
  it('include clock changes in both directions for every zone that still observes DST', () => {
    for (const zone of ZONES) {
      const changes = CHANGES.get(zone) ?? [];
      const directions = new Set(changes.map((at) => Math.sign(IANAZone.create(zone).offset(at) - IANAZone.create(zone).offset(at - 1))));
      const observesDst = !['Asia/Kolkata', 'America/Sao_Paulo', 'UTC'].includes(zone);

      expect(directions, zone).toEqual(observesDst ? new Set([1, -1]) : new Set());
    }
  });
});

describe('offsets', () => {
  it('treat hours and minutes (PT…H, PT…M) as exact elapsed time in both directions', () => {
    const clockOffset = fc.oneof(
      fc.integer({ min: 1, max: 24 * 60 }).map((h) => ({ text: `PT${h}H`, ms: h * HOUR })),
      fc.integer({ min: 1, max: 3 * 24 * 60 }).map((m) => ({ text: `PT${m}M`, ms: m * MINUTE })),
    );
    fc.assert(
      fc.property(zonedInstant, clockOffset, ({ zone, ms }, offset) => {
        const start = toInstant(ms);

        expect(Date.parse(subtractOffset(start, offset.text, zone))).toBe(ms - offset.ms);
        expect(Date.parse(addOffset(start, offset.text, zone))).toBe(ms + offset.ms);
      }),
      { numRuns: 300 },
    );
  });

  it('treat days (P…D) as calendar days that keep the wall-clock time when it exists, else the first instant after the gap', () => {
    fc.assert(
      fc.property(zonedInstant, fc.integer({ min: 1, max: 60 }), fc.constantFrom(-1, 1), ({ zone, ms }, days, direction) => {
        const start = toInstant(ms);
        const from = local(ms, zone);
        const targetDate = addCalendarDays(from.toISODate() ?? '', direction * days);
        const wanted = wallOn(targetDate, from);

        const result = local(Date.parse(direction < 0 ? subtractOffset(start, `P${days}D`, zone) : addOffset(start, `P${days}D`, zone)), zone);

        expect(result.toISODate()).toBe(targetDate);
        if (exists(wanted, zone)) {
          expect(result.toFormat('HH:mm:ss.SSS')).toBe(from.toFormat('HH:mm:ss.SSS'));
          // When fall-back repeats the time, the earlier instant is the one chosen.
          for (const back of [15, 30, 45, 60, 90, 120]) {
            expect(reading(local(result.toMillis() - back * MINUTE, zone))).not.toBe(reading(result));
          }
        } else {
          const wantedReading = Date.UTC(wanted.year, wanted.month - 1, wanted.day, wanted.hour, wanted.minute, wanted.second, wanted.millisecond);
          expect(reading(result)).toBeGreaterThan(wantedReading);
          expect(reading(local(result.toMillis() - 1, zone))).toBeLessThan(wantedReading);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('give P1D and PT24H check-ins that differ by exactly the offset change across the night', () => {
    let crossings = 0;
    const noQuietHours = { quietHours: { start: '00:00', end: '00:00' } };
    fc.assert(
      fc.property(zonedInstant, fc.integer({ min: 15, max: 180 }), ({ zone, ms }, durationMinutes) => {
        const start = Math.floor(ms / MINUTE) * MINUTE;
        const session = sessionSchema.parse({ id: 's-1', planId: 'p-1', start: toInstant(start), durationMinutes, location: 'Room 1' });
        const checkIn = (checkInAfter: string) => {
          const decisions = planSessionMessages({
            session,
            plan: planWith({ checkInAfter }),
            client: clientIn(zone),
            clinic: noQuietHours,
            now: toInstant(FROM - DAY),
          });
          const found = decisions.find((d) => d.action === 'schedule' && d.message.identity.kind === 'check-in');
          return Date.parse(found ? dueOf(found) : 'missing');
        };
        const end = start + durationMinutes * MINUTE;

        const calendar = checkIn('P1D');
        const elapsed = checkIn('PT24H');

        expect(elapsed).toBe(end + DAY);
        const endLocal = local(end, zone);
        if (exists(wallOn(addCalendarDays(endLocal.toISODate() ?? '', 1), endLocal), zone)) {
          const offsetChange = endLocal.offset - local(calendar, zone).offset;
          expect(calendar - elapsed).toBe(offsetChange * MINUTE);
          if (offsetChange !== 0) crossings++;
        }
      }),
      { numRuns: 300 },
    );
    expect(crossings).toBeGreaterThan(0);
  });
});

describe('quiet hours', () => {
  it('never leave a time inside the window, never move it earlier, and leave times outside unchanged', () => {
    fc.assert(
      fc.property(zonedInstant, quietHours, ({ zone, ms }, quiet) => {
        const due = toInstant(ms);
        const inside = insideByLuxon(ms, zone, quiet);

        const result = applyQuietHours(due, zone, quiet);

        expect(isInQuietHours(due, zone, quiet)).toBe(inside);
        expect(insideByLuxon(Date.parse(result), zone, quiet)).toBe(false);
        expect(result >= due).toBe(true);
        if (!inside) {
          expect(result).toBe(due);
        } else {
          // Moved to the window's end: the clock reads the end, or the end was skipped by a gap.
          const landed = local(Date.parse(result), zone);
          const endSkipped = !exists(wallOn(landed.toISODate() ?? '', DateTime.fromISO(`2000-01-01T${quiet.end}`, { zone: 'utc' })), zone);
          expect(landed.toFormat('HH:mm') === quiet.end || endSkipped).toBe(true);
          // At most a day of quiet, one more when a gap swallows a day's only non-quiet minutes
          // (00:03–00:02 in Santiago, whose clocks jump from 00:00 to 01:00), plus the clock change.
          expect(Date.parse(result) - ms).toBeLessThanOrEqual(2 * DAY + 2 * HOUR);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('maintenance', () => {
  it('falls due at 10:00 local on the local date of the last session plus the cadence', () => {
    fc.assert(
      fc.property(zonedInstant, fc.integer({ min: 1, max: 120 }), ({ zone, ms }, everyDays) => {
        const start = toInstant(Math.floor(ms / MINUTE) * MINUTE);
        const visit = sessionSchema.parse({ id: 's-1', planId: 'p-1', start, durationMinutes: 60, location: 'Room 1', status: 'completed' });
        const plan = planWith({ phases: [{ name: 'maintenance', everyDays }] });

        const status = maintenanceStatus({ plan, sessions: [visit], zone, now: start });

        const expectedDate = addCalendarDays(local(Date.parse(start), zone).toISODate() ?? '', everyDays);
        const due = local(Date.parse(status.dueAt ?? 'missing'), zone);
        const lapsed = local(Date.parse(status.lapsedAt ?? 'missing'), zone);
        expect(due.toISODate()).toBe(expectedDate);
        expect(due.toFormat('HH:mm')).toBe('10:00');
        expect(lapsed.toISODate()).toBe(addCalendarDays(expectedDate, 14));
        expect(lapsed.toFormat('HH:mm')).toBe('10:00');
        expect(status.state).toBe('not-due');
      }),
      { numRuns: 200 },
    );
  });
});

describe('planSessionMessages', () => {
  const REMINDERS = ['P7D', 'P1W', 'P2D', 'P1D', 'PT48H', 'PT24H', 'P1DT2H', 'PT2H', 'PT90M', 'PT30M'];

  it('never schedules anything before now, never repeats a name, and lists decisions in due order', () => {
    fc.assert(
      fc.property(
        zonedInstant,
        fc.integer({ min: -4 * DAY, max: 10 * DAY }),
        fc.integer({ min: 15, max: 180 }),
        fc.subarray(REMINDERS, { maxLength: 5 }),
        fc.constantFrom('PT24H', 'P1D', 'PT2H', 'P3D', 'P1DT6H'),
        fc.constantFrom(...SESSION_STATUSES),
        fc.constantFrom('active', 'paused', 'completed'),
        quietHours,
        fc.integer({ min: 1, max: 9 }),
        ({ zone, ms: nowMs }, lead, durationMinutes, reminders, checkInAfter, status, planStatus, quiet, version) => {
          const now = toInstant(nowMs);
          const start = toInstant(Math.floor((nowMs + lead) / MINUTE) * MINUTE);
          const session = sessionSchema.parse({ id: 's-1', planId: 'p-1', start, durationMinutes, location: 'Room 1', status, version });
          const plan = planWith({ reminders, checkInAfter, status: planStatus });

          const decisions = planSessionMessages({ session, plan, client: clientIn(zone), clinic: { quietHours: quiet }, now });

          const names = decisions.map((d) => (d.action === 'schedule' ? d.message.name : d.name));
          expect(new Set(names).size).toBe(names.length);
          expect(decisions.map(dueOf)).toEqual(decisions.map(dueOf).sort());
          for (const d of decisions) {
            const identity = d.action === 'schedule' ? d.message.identity : d.identity;
            expect(names).toContain(messageName(identity));
            if (d.action === 'schedule') {
              expect(d.message.dueAt >= now).toBe(true);
              if (identity.kind === 'check-in') expect(isInQuietHours(d.message.dueAt, zone, quiet)).toBe(false);
            }
          }
          const expectsAny = planStatus === 'active' && (status === 'booked' || status === 'completed');
          const expectedReminders = planStatus === 'active' && status === 'booked' ? reminders.length : 0;
          expect(decisions.length).toBe(expectsAny ? expectedReminders + 1 : 0);
          const sentNow = decisions.filter((d) => d.action === 'schedule' && d.message.identity.kind === 'reminder' && d.message.dueAt === now);
          expect(sentNow.length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('reminders on the day after a clock change', () => {
  /** The last Sunday of a month, found without the zone database. */
  function lastSunday(year: number, month: number): string {
    const last = new Date(Date.UTC(year, month, 0));
    last.setUTCDate(last.getUTCDate() - last.getUTCDay());
    return last.toISOString().slice(0, 10);
  }

  for (const year of [2025, 2026, 2027, 2028, 2029, 2030]) {
    it(`in London ${year}, a 09:00 session on the Monday after the last Sunday of March gets P2D one hour later than PT48H, and after October one hour earlier`, () => {
      const zone = 'Europe/London';
      const afterSpring = atLocalTime(addCalendarDays(lastSunday(year, 3), 1), '09:00', zone);
      const afterAutumn = atLocalTime(addCalendarDays(lastSunday(year, 10), 1), '09:00', zone);

      const spring = Date.parse(subtractOffset(afterSpring, 'P2D', zone)) - Date.parse(subtractOffset(afterSpring, 'PT48H', zone));
      const autumn = Date.parse(subtractOffset(afterAutumn, 'P2D', zone)) - Date.parse(subtractOffset(afterAutumn, 'PT48H', zone));

      expect(spring).toBe(HOUR);
      expect(autumn).toBe(-HOUR);
      expect(local(Date.parse(subtractOffset(afterSpring, 'P2D', zone)), zone).toFormat('ccc HH:mm')).toBe('Sat 09:00');
      expect(local(Date.parse(subtractOffset(afterAutumn, 'PT48H', zone)), zone).toFormat('ccc HH:mm')).toBe('Sat 10:00');
    });
  }

  for (const zone of ZONES.filter((z) => (CHANGES.get(z) ?? []).length > 0)) {
    it(`in ${zone}, P2D and PT48H before a 09:00 session the day after each change differ by exactly that change`, () => {
      const iana = IANAZone.create(zone);
      for (const change of CHANGES.get(zone) ?? []) {
        const session = atLocalTime(addCalendarDays(localDate(toInstant(change), zone), 1), '09:00', zone);
        const shift = (iana.offset(change) - iana.offset(change - 1)) * MINUTE;

        const calendar = Date.parse(subtractOffset(session, 'P2D', zone));
        const elapsed = Date.parse(subtractOffset(session, 'PT48H', zone));

        expect(elapsed).toBe(Date.parse(session) - 48 * HOUR);
        expect(calendar - elapsed, toInstant(change)).toBe(shift);
        expect(local(calendar, zone).toFormat('HH:mm')).toBe('09:00');
      }
    });
  }
});
