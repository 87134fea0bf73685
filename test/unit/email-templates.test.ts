import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import type { StoredSession } from '../../shared/ports/store.js';
import { sessionUid } from '../../shared/email/calendar.js';
import { clinicSender, composeEmail, mailbox } from '../../shared/email/email.js';
import { renderCheckIn, renderMaintenanceNudge, renderReminder, renderTherapistAlert, sessionPosition } from '../../shared/email/templates.js';
import { DEFAULT_TEXTS } from '../../shared/email/texts.js';
import { clientFixture, clinicFixture, planFixture, therapistFixture } from '../support/memory-clinic.js';
import { instant } from '../support/instant.js';

const clinic = clinicFixture();
const therapist = therapistFixture();
const client = clientFixture({ id: 'c-sam', name: 'Sam Patel', email: 'sam@clients.test' });
const plan = planFixture(client);
const session: StoredSession = {
  id: 's-3',
  planId: plan.id,
  start: instant('2027-02-01T14:00:00.000Z'),
  durationMinutes: 60,
  location: 'Room 2, 14 Harbour Street',
  status: 'booked',
  version: 1,
  clientId: client.id,
  therapistId: therapist.id,
  number: 3,
  inPhase: 3,
  phase: 'initial',
  ofPhase: 6,
  maintenance: false,
};
const links = {
  confirm: 'https://keepwell.calm.test/confirm/tok-confirm',
  reschedule: 'https://keepwell.calm.test/reschedule/tok-reschedule',
  checkIn: 'https://keepwell.calm.test/check-in/tok-check-in',
  unsubscribe: 'https://keepwell.calm.test/unsubscribe/tok-unsubscribe',
};
const now = new Date('2027-01-30T14:00:00.000Z');

function reminder(overrides: { session?: Partial<StoredSession>; client?: Partial<typeof client> } = {}) {
  return renderReminder({ clinic, client: { ...client, ...overrides.client }, therapist, plan, session: { ...session, ...overrides.session }, links, now });
}

function parseInvite(ics: string) {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  const event = calendar.getFirstSubcomponent('vevent')!;
  return { calendar, event, start: (event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString() };
}

describe('the reminder email', () => {
  it('asks for a confirmation and offers a reschedule while the client has said nothing', () => {
    const email = reminder();
    expect(email.html).toContain(links.confirm);
    expect(email.html).toContain(links.reschedule);
    expect(email.text).toContain('Confirm I will be there');
  });

  it('after a confirmation says it was given and asks for no second one', () => {
    const email = reminder({ session: { confirmedAt: instant('2027-01-29T10:00:00.000Z') } });
    expect(email.text).toContain('You have confirmed you will be there.');
    expect(email.html).not.toContain(links.confirm);
    expect(email.html).toContain(links.reschedule);
  });

  it('after a reschedule request says a new time was asked for, offers to keep this one and no second request', () => {
    // Confirmed first, then asked to move: the request is the client's latest word.
    const email = reminder({ session: { confirmedAt: instant('2027-01-28T10:00:00.000Z'), rescheduleRequestedAt: instant('2027-01-29T10:00:00.000Z') } });
    expect(email.text).toContain(
      'You asked for a new time on Friday 29 January 2027. Calm & Co Massage will be in touch to arrange it; until then this booking stands.',
    );
    expect(email.text).toContain('Keep this time after all');
    expect(email.html).toContain(links.confirm);
    expect(email.html).not.toContain(links.reschedule);
    expect(email.text).not.toContain('You have confirmed');
  });

  it('after a request and then a confirmation treats the session as confirmed', () => {
    const email = reminder({ session: { rescheduleRequestedAt: instant('2027-01-28T10:00:00.000Z'), confirmedAt: instant('2027-01-29T10:00:00.000Z') } });
    expect(email.text).toContain('You have confirmed you will be there.');
    expect(email.text).not.toContain('You asked for a new time');
  });

  it('gives the time in words in the client’s zone, the therapist, the place and where the session sits in the plan', () => {
    const email = reminder();

    expect(email.text).toContain('Monday 1 February 2027 at 2:00 pm (GMT)');
    expect(email.text).toContain('Jo Rivers');
    expect(email.text).toContain('Room 2, 14 Harbour Street');
    expect(email.text).toContain('Session 3 of 6 (initial)');
    expect(email.html).toContain('Session 3 of 6 (initial)');
    expect(email.subject).toBe('Reminder: your session on Mon 1 Feb, 2:00 pm');
  });

  it('shows a client in New York the same session at their own local time', () => {
    const email = reminder({ client: { timezone: 'America/New_York' } });

    expect(email.text).toContain('Monday 1 February 2027 at 9:00 am (GMT-5)');
  });

  it('says what to bring, and links to confirm and to ask for a new time', () => {
    const email = reminder();

    for (const item of DEFAULT_TEXTS.beforeSession) expect(email.text).toContain(item);
    expect(email.html).toContain(`href="${links.confirm}"`);
    expect(email.html).toContain(`href="${links.reschedule}"`);
    expect(email.text).toContain(links.confirm);
    expect(email.text).toContain(links.reschedule);
  });

  it('carries one-click unsubscribe headers pointing at the unsubscribe page', () => {
    const email = reminder();

    expect(email.headers).toEqual({
      'List-Unsubscribe': `<${links.unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(email.html).toContain(`href="${links.unsubscribe}"`);
  });

  it('attaches a calendar invitation with a stable UID, the session time in UTC and METHOD:REQUEST', () => {
    const [attachment] = reminder().attachments;

    const { calendar, event, start } = parseInvite(attachment!.content);

    expect(attachment!.filename).toBe('session.ics');
    expect(attachment!.contentType).toContain('text/calendar');
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(event.getFirstPropertyValue('uid')).toBe(sessionUid('s-3'));
    expect(event.getFirstPropertyValue('sequence')).toBe(0);
    expect(start).toBe('2027-02-01T14:00:00.000Z');
    expect((event.getFirstPropertyValue('duration') as ICAL.Duration).toSeconds()).toBe(3600);
    expect(event.getFirstPropertyValue('location')).toBe('Room 2, 14 Harbour Street');
    expect((event.getFirstPropertyValue('dtstamp') as ICAL.Time).toJSDate().toISOString()).toBe(now.toISOString());
  });

  it('keeps the UID and raises the SEQUENCE when the session is moved', () => {
    const moved = reminder({ session: { version: 3, start: instant('2027-02-03T10:30:00.000Z') } });

    const { event, start } = parseInvite(moved.attachments[0]!.content);

    expect(event.getFirstPropertyValue('uid')).toBe(sessionUid('s-3'));
    expect(event.getFirstPropertyValue('sequence')).toBe(2);
    expect(start).toBe('2027-02-03T10:30:00.000Z');
  });

  it('escapes a client name that is markup, in the HTML and in the invitation', () => {
    const email = reminder({ client: { name: '<script>alert(1)</script>' } });

    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(parseInvite(email.attachments[0]!.content).event.getFirstProperty('attendee')!.getParameter('cn')).toBe('<script>alert(1)</script>');
  });
});

describe('where a session sits in its plan', () => {
  const threePhases = {
    phases: [
      { name: 'initial', sessions: 4, everyDays: 7 },
      { name: 'consolidation', sessions: 3, everyDays: 14 },
      { name: 'maintenance', everyDays: 28 },
    ],
  };

  it('counts within the phase, not across the plan', () => {
    expect(sessionPosition(threePhases, { ...session, number: 6, inPhase: 2, phase: 'consolidation', ofPhase: 3 })).toBe('Session 2 of 3 (consolidation)');
  });

  it('calls a maintenance session by its name', () => {
    expect(sessionPosition(plan, { ...session, number: 8, phase: 'maintenance', ofPhase: undefined, maintenance: true })).toBe('Maintenance session');
  });

  it('drops the phase name for a single-phase plan and the count once an open-ended phase runs past it', () => {
    const single = { phases: [{ name: 'course', sessions: 5, everyDays: 7 }] };

    expect(sessionPosition(single, { ...session, number: 2, inPhase: 2, phase: 'course', ofPhase: 5 })).toBe('Session 2 of 5');
    expect(sessionPosition(single, { ...session, number: 7, phase: 'course', ofPhase: undefined })).toBe('Session 7');
  });
});

describe('the check-in email', () => {
  it('asks how the client feels after the session on that day, with the check-in link', () => {
    const email = renderCheckIn({ clinic, client, therapist, plan, session, links });

    expect(email.text).toContain('how are you feeling after your session with Jo Rivers on Monday 1 February 2027?');
    expect(email.html).toContain(`href="${links.checkIn}"`);
    expect(email.headers['List-Unsubscribe']).toBe(`<${links.unsubscribe}>`);
    expect(email.attachments).toEqual([]);
  });

  it.each([
    ['back-pain', DEFAULT_TEXTS.aftercare['back-pain']],
    ['sports-injury', DEFAULT_TEXTS.aftercare['sports-injury']],
    ['general-wellness', DEFAULT_TEXTS.aftercare['general-wellness']],
    ['pregnancy-comfort', DEFAULT_TEXTS.aftercare.other],
  ])('gives the aftercare note for a %s plan', (goal, note) => {
    const email = renderCheckIn({ clinic, client, therapist, plan: { ...plan, goal }, session, links });

    expect(email.text).toContain(note);
  });
});

describe('the maintenance nudge', () => {
  const dueAt = instant('2027-03-01T10:00:00.000Z');

  it('says the next session is due and offers the booking page, the phone and a reply', () => {
    const email = renderMaintenanceNudge({ clinic, client, therapist, plan, dueAt, links });

    expect(email.text).toContain('your next maintenance session with Jo Rivers is due (from Monday 1 March 2027)');
    expect(email.html).toContain('href="https://calm.test/book"');
    expect(email.text).toContain('Or call us on 020 7946 0000.');
    expect(email.text).toContain('You can also simply reply to this email.');
    expect(email.text).toContain('Your next maintenance session is due this week');
    expect(email.text).toContain(`Hello ${client.name.split(' ')[0]}, your next`);
    expect(email.text).not.toContain(`Hello ${client.name},`);
    expect(email.html).toMatch(/<a href="https:\/\/calm\.test\/book"[^>]*>\s*Book your session\s*<\/a>/);
    expect(email.html).toContain('<a href="tel:02079460000" style="font-weight:600;">020 7946 0000</a>');
    expect(email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('asks for a reply when the clinic has neither a booking page nor a phone', () => {
    const bare = clinicFixture({ bookingUrl: undefined, phone: undefined });

    const email = renderMaintenanceNudge({ clinic: bare, client, therapist, plan, dueAt, links });

    expect(email.text).toContain(DEFAULT_TEXTS.bookByReply);
    expect(email.html).not.toContain('calm.test/book');
  });
});

describe('the therapist alert', () => {
  const answers = { pain: 9, mobility: 3, stress: 6, sleep: 2, notes: 'Sharp pain <b>down</b> my leg', wantsToRebook: true };
  const baseline = { pain: 5, mobility: 7, stress: 5, sleep: 6 };

  it('shows a red-flag check-in: who, which session, the flags and the answers against the baseline', () => {
    const email = renderTherapistAlert({ clinic, therapist, client, session, reason: 'red-flag', flags: ['Pain is 9/10', 'Sleep is 2/10'], answers, baseline });

    expect(email.subject).toBe('Check-in needs attention: Sam P., session on Mon 1 Feb, 2:00 pm');
    expect(email.text).toContain('Sam Patel');
    expect(email.text).toContain('sam@clients.test');
    expect(email.text).toContain('- Pain is 9/10');
    expect(email.text).toContain('Pain | 9 | 5 | +4');
    expect(email.text).toContain('Mobility | 3 | 7 | -4');
    expect(email.html).toContain('Sharp pain &lt;b&gt;down&lt;/b&gt; my leg');
    expect(email.text).toContain('Sam Patel would like to book another session.');
    expect(email.replyTo).toBe('sam@clients.test');
    expect(email.headers).toEqual({});
  });

  it('shows a reschedule request with the client’s message, in the therapist’s zone', () => {
    const email = renderTherapistAlert({
      clinic,
      therapist: { ...therapist, timezone: 'Europe/Paris' },
      client,
      session,
      reason: 'reschedule-request',
      message: 'Could we do Thursday?',
    });

    expect(email.subject).toBe('Reschedule request: Sam P., session on Mon 1 Feb, 3:00 pm');
    expect(email.text).toContain('Monday 1 February 2027 at 3:00 pm (CET)');
    expect(email.text).not.toContain(clinic.signature!);
    expect(email.text).toContain('Message from Sam Patel: “Could we do Thursday?”');
  });

  it('lists every flag inside the red box, not after it', () => {
    const email = renderTherapistAlert({ clinic, therapist, client, session, reason: 'red-flag', flags: ['Pain is 9/10', 'Sleep is 2/10'], answers, baseline });

    const box = /<div style="background:#fdeeee;[^"]*">Red flags:(.*?)<\/div>/.exec(email.html)?.[1] ?? '';
    expect(box).toContain('<li style="margin:0 0 4px;">Pain is 9/10</li>');
    expect(box).toContain('<li style="margin:0 0 4px;">Sleep is 2/10</li>');
    expect(email.text).toContain('!! Red flags:\n- Pain is 9/10\n- Sleep is 2/10');
  });

  it('says for each change against the baseline whether it is better or worse for that score', () => {
    const email = renderTherapistAlert({ clinic, therapist, client, session, reason: 'red-flag', flags: ['Pain is 9/10'], answers, baseline });

    expect(email.text).toContain('Pain | 9 | 5 | +4 (worse)');
    expect(email.text).toContain('Mobility | 3 | 7 | -4 (worse)');
    expect(email.text).toContain('Stress | 6 | 5 | +1 (worse)');
    expect(email.text).toContain('Sleep | 2 | 6 | -4 (worse)');
    const improved = renderTherapistAlert({
      clinic,
      therapist,
      client,
      session,
      reason: 'red-flag',
      flags: ['Pain is 8/10'],
      answers: { ...answers, pain: 8, mobility: 9, stress: 2, sleep: 8 },
      baseline,
    });
    expect(improved.text).toContain('Mobility | 9 | 7 | +2 (better)');
    expect(improved.text).toContain('Stress | 2 | 5 | -3 (better)');
    expect(improved.text).toContain('Sleep | 8 | 6 | +2 (better)');
  });

  it('names the client in the subject by first name and initial only, and in full inside', () => {
    const email = renderTherapistAlert({
      clinic,
      therapist,
      client: { ...client, name: 'Ana María de la Cruz' },
      session,
      reason: 'red-flag',
      flags: ['Pain is 9/10'],
      answers,
      baseline,
    });

    expect(email.subject).toBe('Check-in needs attention: Ana C., session on Mon 1 Feb, 2:00 pm');
    expect(email.subject).not.toContain('Cruz');
    expect(email.text).toContain('Ana María de la Cruz');
  });

  it('gives the client’s phone number, as a row, only when the clinic holds one', () => {
    const withPhone = renderTherapistAlert({
      clinic,
      therapist,
      client: { ...client, phone: '07700 900123' },
      session,
      reason: 'red-flag',
      flags: ['Pain is 9/10'],
      answers,
      baseline,
    });
    const without = renderTherapistAlert({ clinic, therapist, client, session, reason: 'red-flag', flags: ['Pain is 9/10'], answers, baseline });

    expect(withPhone.text).toMatch(/Phone:\s+07700 900123/);
    expect(without.text).not.toContain('Phone:');
  });
});

describe('composing the outgoing email', () => {
  it('writes the From as the clinic’s quoted name and address', () => {
    expect(clinicSender(clinic)).toBe('"Calm & Co Massage" <hello@calm.test>');
    expect(mailbox('Jo "The Hands" Rivers', 'jo@calm.test')).toBe('"Jo \\"The Hands\\" Rivers" <jo@calm.test>');
  });

  it('encodes a non-ASCII clinic name as an RFC 2047 word', () => {
    const from = mailbox('Café Massage Zürich', 'hi@cafe.test');

    expect(from).toBe(`=?UTF-8?B?${Buffer.from('Café Massage Zürich').toString('base64')}?= <hi@cafe.test>`);
  });

  it('lets no CR or LF reach a header, whatever the subject, name or header value hold', () => {
    const email = reminder();
    const hostile = { ...email, subject: 'Hi\r\nBcc: victim@evil.test', headers: { ...email.headers, 'X-Test': 'a\r\nBcc: victim@evil.test' } };

    const outgoing = composeEmail({
      clinic: { name: 'Calm\r\nBcc: victim@evil.test', senderEmail: 'hello@calm.test' },
      to: 'sam@clients.test\r\nBcc: x@evil.test',
      rendered: hostile,
    });

    for (const value of [outgoing.from, outgoing.to, outgoing.subject, ...Object.values(outgoing.headers ?? {})]) expect(value).not.toMatch(/[\r\n]/);
    expect(outgoing.subject).toBe('Hi Bcc: victim@evil.test');
  });

  it('refuses a tag that is not an opaque id', () => {
    expect(() => composeEmail({ clinic, to: 'sam@clients.test', rendered: reminder(), tags: { name: 'Sam Patel' } })).toThrow(/SES tag name/);
  });
});

describe('names and goals as people read them', () => {
  it('greets by first name and shows goals as words, never slugs', async () => {
    const { firstName, shortName } = await import('../../shared/email/format.js');
    const { goalLabel } = await import('../../shared/email/texts.js');

    expect(firstName('  Sam  Patel ')).toBe('Sam');
    expect(shortName('Sam Patel')).toBe('Sam P.');
    expect(shortName('Cher')).toBe('Cher');
    expect(goalLabel('general-wellness')).toBe('General wellness');
    expect(goalLabel('back-pain')).toBe('Back pain');
  });
});
