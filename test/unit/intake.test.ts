import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadStageConfig, StageConfigError } from '../../infra/config.js';
import { calDeliveryId, calEnvelopeSchema, fromCalEnvelope } from '../../shared/intake/cal-com.js';
import { UnmappableEventError } from '../../shared/intake/event.js';
import { fromKeepwellEvent, keepwellEventSchema } from '../../shared/intake/keepwell-format.js';
import { checkCalSignature, checkKeepwellSignature, hmacHex, keepwellSignature } from '../../shared/intake/signature.js';
import { intakeEventJsonSchema } from '../../scripts/intake-schema.js';
import { readFeed } from '../../shared/intake/ical-feed.js';
import { resolveIntakeConfig } from '../../shared/intake/config.js';
import { feedUrlProblem } from '../../shared/use-cases/poll-feeds.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/intake/${name}.json`, import.meta.url), 'utf8');
const cal = (name: string) => {
  const raw = Buffer.from(fixture(name));
  return fromCalEnvelope(calEnvelopeSchema.parse(JSON.parse(raw.toString())), raw);
};
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: { stages: Record<string, Record<string, unknown>> };
};

describe('webhook signatures', () => {
  const secret = 'a-webhook-secret-of-some-length';
  const body = Buffer.from('{"id":"evt_1"}');
  const now = new Date('2027-02-01T08:00:00Z');

  it('accept the Keepwell-Signature of the raw body within five minutes, in either direction', () => {
    expect(checkKeepwellSignature(secret, body, keepwellSignature(secret, body, new Date(now.getTime() - 299_000)), now)).toBeUndefined();
    expect(checkKeepwellSignature(secret, body, keepwellSignature(secret, body, new Date(now.getTime() + 60_000)), now)).toBeUndefined();
  });

  it('refuse a stale, missing, malformed or wrong Keepwell-Signature, each with its reason', () => {
    expect(checkKeepwellSignature(secret, body, keepwellSignature(secret, body, new Date(now.getTime() - 301_000)), now)).toBe('stale timestamp');
    expect(checkKeepwellSignature(secret, body, undefined, now)).toBe('missing signature');
    expect(checkKeepwellSignature(secret, body, 'v1=abc', now)).toBe('malformed signature');
    expect(checkKeepwellSignature('another-secret-entirely', body, keepwellSignature(secret, body, now), now)).toBe('wrong signature');
    expect(checkKeepwellSignature(secret, Buffer.from('{"id":"evt_2"}'), keepwellSignature(secret, body, now), now)).toBe('wrong signature');
  });

  it("check Cal.com's X-Cal-Signature-256: the hex HMAC-SHA256 of the body, nothing else", () => {
    expect(checkCalSignature(secret, body, hmacHex(secret, body))).toBeUndefined();
    expect(checkCalSignature(secret, body, hmacHex(secret, body).toUpperCase())).toBeUndefined();
    expect(checkCalSignature(secret, body, hmacHex('other-secret-entirely', body))).toBe('wrong signature');
    expect(checkCalSignature(secret, body, 'sha256=zz')).toBe('malformed signature');
    expect(checkCalSignature(secret, body, undefined)).toBe('missing signature');
  });
});

describe('Cal.com payloads, as Cal.com sends them', () => {
  it('a BOOKING_CREATED is a booking of the slug (then the event type id), the first attendee, the real duration', () => {
    expect(cal('cal-com-booking-created')).toEqual({
      deliveryId: calDeliveryId(Buffer.from(fixture('cal-com-booking-created'))),
      action: 'book',
      bookingId: 'bFJeNb2uX8ANpT3JL5EfXw',
      version: Date.parse('2027-02-01T08:00:00.538Z'),
      eventTypes: ['sports-massage-60', '7'],
      start: '2027-02-10T10:00:00.000Z',
      durationMinutes: 60,
      client: { email: 'jordan.reyes@example.com', name: 'Jordan Reyes', timezone: 'Europe/London' },
    });
  });

  it('a BOOKING_RESCHEDULED names the new uid and the old one it replaces', () => {
    expect(cal('cal-com-booking-rescheduled')).toMatchObject({
      action: 'reschedule',
      bookingId: 'k2P9xQwVb7HcLmN4rTz8aA',
      previousBookingId: 'bFJeNb2uX8ANpT3JL5EfXw',
      start: '2027-02-12T14:00:00.000Z',
    });
  });

  it('a BOOKING_CANCELLED cancels and a BOOKING_NO_SHOW_UPDATED marks the booking by its bookingUid', () => {
    expect(cal('cal-com-booking-cancelled')).toMatchObject({ action: 'cancel', bookingId: 'bFJeNb2uX8ANpT3JL5EfXw' });
    expect(cal('cal-com-no-show-updated')).toMatchObject({ action: 'no-show', bookingId: 'bFJeNb2uX8ANpT3JL5EfXw' });
  });

  it('a trigger that is no booking change is unmappable, with the reason', () => {
    const raw = Buffer.from(JSON.stringify({ triggerEvent: 'RECORDING_READY', createdAt: '2027-02-01T08:00:00Z', payload: {} }));
    expect(() => fromCalEnvelope(calEnvelopeSchema.parse(JSON.parse(raw.toString())), raw)).toThrow(UnmappableEventError);
  });
});

describe("Keepwell's own format", () => {
  it('reads the documented fixture, ordering by occurredAt unless a sequence is given', () => {
    const event = keepwellEventSchema.parse(JSON.parse(fixture('keepwell-booking-created')));
    expect(fromKeepwellEvent(event)).toMatchObject({
      deliveryId: 'evt_01J9Z6W2Q8',
      action: 'book',
      bookingId: 'FD-20417',
      eventTypes: ['wellness-60'],
      version: Date.parse('2027-02-01T08:00:00Z'),
    });
    expect(fromKeepwellEvent({ ...event, sequence: 7 }).version).toBe(7);
  });

  it('has its JSON Schema in docs/intake-event.schema.json, generated from the zod schema (npx tsx scripts/intake-schema.ts)', () => {
    expect(readFileSync(new URL('../../docs/intake-event.schema.json', import.meta.url), 'utf8')).toBe(intakeEventJsonSchema());
  });
});

describe('the intake mapping in the stage config', () => {
  const withIntake = (intake: unknown) => ({ ...cdkJson.context.stages, dev: { ...cdkJson.context.stages.dev, intake } });
  const errorOf = (intake: unknown): string => {
    try {
      loadStageConfig(withIntake(intake), 'dev');
    } catch (error) {
      if (error instanceof StageConfigError) return error.message;
      throw error;
    }
    throw new Error('the configuration was accepted');
  };
  const service = {
    eventType: 'massage-60',
    therapistId: 't-amy',
    location: 'Room 1',
    plan: {
      goal: 'back-pain',
      phases: [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
    },
  };

  it("names every source's secret parameter after the stage unless one is given", () => {
    const config = loadStageConfig(
      withIntake({
        sources: { calcom: { format: 'cal.com', services: [service] }, desk: { format: 'keepwell', secretParameter: '/clinic/desk-secret', services: [] } },
      }),
      'dev',
    );
    expect(config.intake.sources.calcom?.secretParameter).toBe('/keepwell/dev/intake/calcom');
    expect(config.intake.sources.desk?.secretParameter).toBe('/clinic/desk-secret');
  });

  it('refuses a mistake with the field path and the reason', () => {
    expect(errorOf({ sources: { calcom: { format: 'calendly', services: [] } } })).toContain(
      'stages.dev.intake.sources.calcom.format: must be one of keepwell, cal.com',
    );
    expect(errorOf({ sources: { calcom: { format: 'cal.com', services: [{ ...service, therapistId: 'bad id!' }] } } })).toContain(
      'stages.dev.intake.sources.calcom.services.0.therapistId',
    );
    expect(errorOf({ sources: { calcom: { format: 'cal.com', services: [{ ...service, plan: { goal: 'back-pain', phases: [] } }] } } })).toContain(
      'stages.dev.intake.sources.calcom.services.0.plan.phases: must have at least one phase',
    );
    expect(errorOf({ sources: { calcom: { format: 'cal.com', services: [service, service] } } })).toContain(
      'stages.dev.intake.sources.calcom.services.1.eventType: maps "massage-60" a second time',
    );
    expect(errorOf({ sources: { desk: { format: 'ical', url: 'http://calendar.example/desk.ics', services: [] } } })).toContain(
      'stages.dev.intake.sources.desk.url: must start with https://',
    );
    expect(errorOf({ sources: { desk: { format: 'ical', services: [] } } })).toContain('stages.dev.intake.sources.desk.url: is required for an ical feed');
    expect(errorOf({ sources: { calcom: { format: 'cal.com', url: 'https://x.example/a.ics', services: [] } } })).toContain(
      'stages.dev.intake.sources.calcom.url: is only for an ical feed',
    );
    expect(errorOf({ sources: { 'Cal Com': { format: 'cal.com', services: [] } } })).toContain(
      'stages.dev.intake.sources.Cal Com: is not a source name: use 1–31 lower-case letters',
    );
  });
});

describe('iCalendar feeds', () => {
  const events = readFeed('desk', readFileSync(new URL('../fixtures/intake/front-desk-feed.ics', import.meta.url), 'utf8'), {
    now: new Date('2027-02-01T08:00:00Z'),
    zone: 'Europe/London',
  });

  it('expand RRULE less EXDATE, apply a RECURRENCE-ID override, read TZID in its zone, and cancel on STATUS:CANCELLED', () => {
    expect(events.map((e) => [e.action, e.start, e.client?.email])).toEqual([
      ['book', '2027-02-03T10:00:00.000Z', 'sam.feed@example.com'],
      ['book', '2027-02-04T14:00:00.000Z', 'kai.feed@example.com'],
      ['book', '2027-02-18T19:00:00.000Z', 'kai.feed@example.com'],
      ['book', '2027-02-25T14:00:00.000Z', 'kai.feed@example.com'],
      ['cancel', '2027-02-05T15:00:00.000Z', 'leo.feed@example.com'],
    ]);
  });

  it('order by SEQUENCE first: the moved occurrence (SEQUENCE:1) outranks any SEQUENCE:0 change', () => {
    const moved = events[2]!;
    const plain = events[1]!;
    expect(moved.version).toBeGreaterThan(plain.version + 1e12);
  });

  it('name an unchanged event by what it says, so polling it again is a duplicate', () => {
    const again = readFeed('desk', readFileSync(new URL('../fixtures/intake/front-desk-feed.ics', import.meta.url), 'utf8'), {
      now: new Date('2027-02-01T09:00:00Z'),
      zone: 'Europe/London',
    });
    expect(again.map((e) => e.deliveryId)).toEqual(events.map((e) => e.deliveryId));
  });

  it('are polled over https only; http only on loopback, and only where the twin allows it', () => {
    expect(feedUrlProblem('https://calendar.example/desk.ics', false)).toBeUndefined();
    expect(feedUrlProblem('http://calendar.example/desk.ics', true)).toBe('must be https');
    expect(feedUrlProblem('http://127.0.0.1:8080/desk.ics', false)).toBe('must be https');
    expect(feedUrlProblem('http://127.0.0.1:8080/desk.ics', true)).toBeUndefined();
    expect(
      resolveIntakeConfig({ sources: { desk: { format: 'ical', url: 'http://127.0.0.1:8080/d.ics', services: [] } } }, 'local', { allowLoopbackHttp: true })
        .sources.desk?.url,
    ).toBe('http://127.0.0.1:8080/d.ics');
    expect(() =>
      resolveIntakeConfig({ sources: { desk: { format: 'ical', url: 'http://calendar.example/d.ics', services: [] } } }, 'local', { allowLoopbackHttp: true }),
    ).toThrow(/must start with https/);
  });
});
