/**
 * The calendar invitation attached to a reminder and to the booking emails: one VEVENT in an RFC 5545 iCalendar object.
 * One stable UID per session and a SEQUENCE that rises with every reschedule, so a calendar
 * updates the event it already holds instead of adding a second one. Times are written in UTC,
 * which every calendar shows in its owner's zone.
 *
 * Written here rather than with the `ics` package: the package and its validator (yup) would add
 * ~75 KB to the dispatch bundle for the few properties below, whose escaping and line folding
 * are the whole of the format's difficulty. The unit tests parse the output back with ical.js.
 */
import type { Clinic, Client, Therapist } from '../domain/model.js';
import type { StoredSession } from '../ports/store.js';
import type { EmailAttachment } from './email.js';
import { headerSafe } from './escape.js';

export function sessionUid(sessionId: string): string {
  return `${sessionId}@keepwell`;
}

/** TEXT values (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, line breaks as \n. */
function text(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** A parameter value is a quoted string that cannot hold a double quote or a control character. */
function param(value: string): string {
  return `"${headerSafe(value).replace(/"/g, "'")}"`;
}

/** `20270201T140000Z`. */
function utc(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Lines longer than 75 octets are folded (§3.1), never inside a UTF-8 sequence. */
function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    // Continuation lines start with a space, which counts against their 75 octets.
    if (octets + size > (parts.length === 0 ? 75 : 74)) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/**
 * The invitation for a session. `method: 'CANCEL'` (a cancellation notice) withdraws the event the
 * calendar holds: same UID, STATUS:CANCELLED, and a SEQUENCE one above the last invitation's, as
 * RFC 5546 §3.2.5 asks (a cancellation keeps the session's version, so it is the version itself).
 */
export function sessionInvite(input: {
  readonly clinic: Pick<Clinic, 'name' | 'senderEmail'>;
  readonly client: Pick<Client, 'name' | 'email'>;
  readonly therapist: Pick<Therapist, 'name'>;
  readonly session: StoredSession;
  /** When this copy is made: DTSTAMP. */
  readonly now: Date;
  /** @default 'REQUEST' */
  readonly method?: 'REQUEST' | 'CANCEL';
}): EmailAttachment {
  const { clinic, client, therapist, session } = input;
  const method = input.method ?? 'REQUEST';
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Keepwell//Session reminders//EN',
    'CALSCALE:GREGORIAN',
    `METHOD:${method}`,
    'BEGIN:VEVENT',
    `UID:${text(sessionUid(session.id))}`,
    // Version 1 is the first booking (SEQUENCE 0); every reschedule raises both, a cancellation once more.
    `SEQUENCE:${method === 'CANCEL' ? session.version : session.version - 1}`,
    `DTSTAMP:${utc(input.now)}`,
    `DTSTART:${utc(new Date(session.start))}`,
    `DURATION:PT${session.durationMinutes}M`,
    `SUMMARY:${text(`Massage with ${headerSafe(therapist.name)} · ${headerSafe(clinic.name)}`)}`,
    `LOCATION:${text(headerSafe(session.location))}`,
    method === 'CANCEL' ? 'STATUS:CANCELLED' : 'STATUS:CONFIRMED',
    'TRANSP:OPAQUE',
    `ORGANIZER;CN=${param(clinic.name)}:mailto:${headerSafe(clinic.senderEmail)}`,
    `ATTENDEE;CN=${param(client.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:${headerSafe(client.email)}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return {
    filename: 'session.ics',
    contentType: `text/calendar; charset=utf-8; method=${method}`,
    content: `${lines.map(fold).join('\r\n')}\r\n`,
  };
}
