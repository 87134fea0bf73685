/**
 * Text hygiene at every free-text field (shared/domain/text.ts): control characters and
 * bidirectional embedding / override / isolate characters are refused, with the field, in what
 * people type (the clinic's config, import rows, the client pages' notes and messages), and
 * removed, with the reason, from what a booking system sends; every configured URL is https.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInAnswersSchema, clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import { cleanText, textProblem } from '../../shared/domain/text.js';
import { issuesFromZod } from '../../shared/domain/validation.js';
import { serviceMappingSchema } from '../../shared/intake/config.js';
import { rescheduleInputSchema } from '../../shared/use-cases/request-reschedule.js';
import { cleanIntakeEvent } from '../../shared/use-cases/intake.js';
import { describeProblem } from '../../shared/use-cases/import/rows.js';
import { planImport } from '../../shared/use-cases/import/plan-import.js';
import { rowsFromJson } from '../../local/cli/import.js';
import type { IntakeEvent } from '../../shared/intake/event.js';

const RUNS = { seed: 20270314, numRuns: 200 };

/** The characters that are never text: C0 (but LF, for multi-line fields), DEL, C1, LS/PS, bidi controls. */
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const CONTROLS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f', '\u0085', '\u009b', '\u2028', '\u2029'];
const forbidden = (keeps: readonly string[] = []) => fc.constantFrom(...BIDI, ...CONTROLS.filter((c) => !keeps.includes(c)));
/** Text of letters, digits, punctuation, accents, right-to-left letters and the LRM/RLM marks. */
const plain = fc
  .string({ unit: fc.constantFrom(...'abcXYZ 019-.,\'&<>"éøß中文אבגدهو\u200e\u200f'.split('')), minLength: 1, maxLength: 30 })
  .filter((s) => s.trim().length > 0);
const spliced = (keeps: readonly string[] = []) => fc.tuple(plain, forbidden(keeps), plain).map(([a, c, b]) => `${a}${c}${b}`);

const clinic = { name: 'Harbour', senderEmail: 'care@harbour.example', timezone: 'Europe/London', baseUrl: 'https://care.harbour.example' };
const therapist = { id: 't-1', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' };
const client = { id: 'c-1', name: 'Sam Rivera', email: 'sam@client.example', timezone: 'Europe/London', phone: '020 7946 0000' };
const plan = {
  id: 'p-1',
  clientId: 'c-1',
  therapistId: 't-1',
  goal: 'back-pain',
  phases: [
    { name: 'initial', sessions: 6, everyDays: 7 },
    { name: 'maintenance', everyDays: 28 },
  ],
};
const session = { id: 's-1', planId: 'p-1', start: '2027-02-01T14:00:00Z', durationMinutes: 60, location: 'Room 2' };
const answers = { pain: 3, mobility: 6, stress: 4, sleep: 7 };
const mapping = {
  eventType: 'massage-60',
  therapistId: 't-1',
  location: 'Room 1',
  plan: { goal: 'back-pain', phases: [{ name: 'maintenance', everyDays: 28 }] },
};

/** Every typed free-text field: the schema, a valid value around it, and the field's path. */
const FIELDS: ReadonlyArray<{ field: string; keeps?: readonly string[]; parse: (text: string) => { success: boolean; error?: unknown } }> = [
  { field: 'clinic.name', parse: (t) => clinicSchema.safeParse({ ...clinic, name: t }) },
  { field: 'clinic.signature', parse: (t) => clinicSchema.safeParse({ ...clinic, signature: t }) },
  { field: 'therapist.name', parse: (t) => therapistSchema.safeParse({ ...therapist, name: t }) },
  { field: 'client.name', parse: (t) => clientSchema.safeParse({ ...client, name: t }) },
  { field: 'client.phone', parse: (t) => clientSchema.safeParse({ ...client, phone: t }) },
  { field: 'plan.phases.0.name', parse: (t) => planSchema.safeParse({ ...plan, phases: [{ ...plan.phases[0], name: t }, plan.phases[1]] }) },
  { field: 'session.location', parse: (t) => sessionSchema.safeParse({ ...session, location: t }) },
  { field: 'intake mapping eventType', parse: (t) => serviceMappingSchema.safeParse({ ...mapping, eventType: t }) },
  { field: 'intake mapping location', parse: (t) => serviceMappingSchema.safeParse({ ...mapping, location: t }) },
  { field: 'check-in notes', keeps: ['\n'], parse: (t) => checkInAnswersSchema.safeParse({ ...answers, notes: t }) },
  // A textarea's CR or CRLF is a line break: the message keeps it as LF.
  { field: 'reschedule message', keeps: ['\n', '\r'], parse: (t) => rescheduleInputSchema.safeParse({ message: t }) },
];

describe('a free-text field people type', () => {
  it.each(FIELDS)('$field refuses a control or text-direction override character anywhere in it', ({ keeps = [], parse }) => {
    fc.assert(
      fc.property(spliced(keeps), (text) => !parse(text).success),
      RUNS,
    );
  });

  it.each(FIELDS)('$field keeps any text without one: accents, right-to-left letters and marks, HTML', ({ parse }) => {
    fc.assert(
      fc.property(plain, (text) => parse(text).success),
      RUNS,
    );
  });

  it('says which field and why', () => {
    const result = clientSchema.safeParse({ ...client, name: 'Sam \u202egnihtemos' });
    expect(result.success).toBe(false);
    expect(issuesFromZod(result.error!)).toEqual([
      { path: 'name', reason: 'must not contain text-direction override characters (U+202A–U+202E, U+2066–U+2069)' },
    ]);
    const notes = checkInAnswersSchema.safeParse({ ...answers, notes: 'better\tnow' });
    expect(issuesFromZod(notes.error!)).toEqual([
      { path: 'notes', reason: 'notes must not contain control characters (tabs, NUL, escape …); line breaks are fine' },
    ]);
  });

  it('keeps line breaks in notes and messages, and only there', () => {
    expect(checkInAnswersSchema.parse({ ...answers, notes: 'Neck better.\nLower back still stiff.' }).notes).toBe('Neck better.\nLower back still stiff.');
    expect(rescheduleInputSchema.parse({ message: 'Monday\r\nor Tuesday' }).message).toBe('Monday\nor Tuesday');
    expect(clientSchema.safeParse({ ...client, name: 'Sam\nBcc: x@evil.example' }).success).toBe(false);
  });

  it('refuses a control or text-direction character in an email address', () => {
    expect(clientSchema.safeParse({ ...client, email: 'sam\u202e@client.example' }).success).toBe(false);
  });
});

describe('an import row', () => {
  it('is refused with its row, field and reason when a name or location holds a control or text-direction character', () => {
    const { rows, problems } = rowsFromJson(
      JSON.stringify({
        therapists: [therapist],
        clients: [{ ...client, name: 'Sam \u2067Rivera\u2069' }],
        plans: [plan],
        sessions: [{ ...session, location: 'Room\u001b[2J 2' }],
      }),
    );
    const result = planImport(rows, { therapists: new Set(), clients: new Set(), plans: new Set(), sessions: new Set() }, problems, false);
    expect(result.problems.map(describeProblem)).toEqual([
      expect.stringMatching(/\(client c-1\): name: must not contain text-direction override characters/),
      expect.stringMatching(/\(session s-1\): location: must not contain control characters/),
      // The refused client is not there for its plan to refer to.
      'plans[0] (plan p-1): clientId: refers to a missing client "c-1"',
    ]);
    expect(result.dataset.clients).toEqual([]);
  });
});

describe("a booking system's text", () => {
  const event: IntakeEvent = {
    deliveryId: 'evt-1',
    action: 'book',
    bookingId: 'bk-1',
    version: 1,
    eventTypes: ['massage-60'],
    location: 'Room 1',
    client: { email: 'sam@client.example', name: 'Sam Rivera' },
  };

  it('has control and text-direction characters removed from every text, and says from which fields', () => {
    const { event: cleaned, cleaned: fields } = cleanIntakeEvent({
      ...event,
      bookingId: 'bk\u00001',
      eventTypes: ['massage\u202e-60'],
      location: 'Room\t1',
      client: { email: 'sam@client.example', name: '\u2066Sam Rivera\u2069' },
    });
    expect(cleaned).toMatchObject({
      bookingId: 'bk 1',
      eventTypes: ['massage-60'],
      location: 'Room 1',
      client: { email: 'sam@client.example', name: 'Sam Rivera' },
    });
    expect(fields).toEqual(['booking id', 'event type', 'location', 'client name']);
  });

  it('is left as it is when it holds none', () => {
    expect(cleanIntakeEvent(event)).toEqual({ event, cleaned: [] });
  });

  it('drops a name or location that held nothing else, so the fallbacks apply', () => {
    const { event: cleaned } = cleanIntakeEvent({ ...event, location: '\u202e', client: { email: 'sam@client.example', name: '\u0007' } });
    expect(cleaned.location).toBeUndefined();
    expect(cleaned.client?.name).toBeUndefined();
  });

  it('never keeps a forbidden character, whatever it held (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), spliced(), (text, name) => {
        const { event: cleaned } = cleanIntakeEvent({ ...event, location: text, client: { email: 'sam@client.example', name } });
        return [cleaned.location ?? '', cleaned.client?.name ?? ''].every((t) => textProblem(t) === undefined);
      }),
      RUNS,
    );
  });
});

describe('cleaning text', () => {
  it('keeps line feeds in multi-line text and removes everything else', () => {
    expect(cleanText('a\nb\u202ec\u0000d', { multiline: true })).toEqual({ text: 'a\nbc d', removed: true });
    expect(cleanText('a\nb')).toEqual({ text: 'a b', removed: true });
  });
});

describe('a configured URL', () => {
  it.each([
    ['http://book.harbour.example/', false],
    ['javascript:alert(1)', false],
    ['ftp://book.harbour.example/', false],
    ['data:text/html,<p>hi</p>', false],
    ['https://book.harbour.example/', true],
  ])('bookingUrl %s is accepted: %s', (url, ok) => {
    expect(clinicSchema.safeParse({ ...clinic, bookingUrl: url }).success).toBe(ok);
  });

  it.each([
    ['http://care.harbour.example', false],
    ['javascript:alert(1)', false],
    ['https://care.harbour.example', true],
    // The local twin serves the pages on loopback without TLS.
    ['http://localhost:3000', true],
    ['http://127.0.0.1:4100', true],
    ['http://localhost.evil.example', false],
  ])("the pages' baseUrl %s is accepted: %s", (url, ok) => {
    expect(clinicSchema.safeParse({ ...clinic, baseUrl: url }).success).toBe(ok);
  });

  it('names the field and the rule', () => {
    const result = clinicSchema.safeParse({ ...clinic, bookingUrl: 'http://book.harbour.example' });
    expect(issuesFromZod(result.error!)).toEqual([{ path: 'bookingUrl', reason: 'must start with https://' }]);
  });
});
