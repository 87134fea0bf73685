import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { sessionInvite } from '../../shared/email/calendar.js';
import type { StoredSession } from '../../shared/ports/store.js';
import { instant } from '../support/instant.js';

const session: StoredSession = {
  id: 's-1',
  planId: 'p-1',
  start: instant('2027-02-01T14:00:00.000Z'),
  durationMinutes: 45,
  location: 'Room 2, 14 Harbour Street',
  status: 'booked',
  version: 1,
  clientId: 'c-1',
  therapistId: 't-1',
};

function invite(overrides: { location?: string; clinicName?: string; clientName?: string } = {}) {
  return sessionInvite({
    clinic: { name: overrides.clinicName ?? 'Calm & Co', senderEmail: 'hello@calm.test' },
    client: { name: overrides.clientName ?? 'Sam Patel', email: 'sam@clients.test' },
    therapist: { name: 'Jo Rivers' },
    session: { ...session, ...(overrides.location ? { location: overrides.location } : {}) },
    now: new Date('2027-01-30T14:00:00.000Z'),
  }).content;
}

function event(ics: string) {
  return new ICAL.Component(ICAL.parse(ics)).getFirstSubcomponent('vevent')!;
}

describe('the session invitation', () => {
  it('round-trips text with commas, semicolons, backslashes and line breaks', () => {
    const location = 'Suite 4; back door, ring twice \\ ask for Jo\nParking behind';

    expect(event(invite({ location })).getFirstPropertyValue('location')).toBe('Suite 4; back door, ring twice \\ ask for Jo Parking behind');
  });

  it('folds long lines at 75 octets without splitting a multi-byte character', () => {
    const location = `Clinique du Bien-Être, ${'salle à l’étage '.repeat(8)}— entrée côté cour 🌿`;

    const ics = invite({ location });

    for (const line of ics.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    expect(event(ics).getFirstPropertyValue('location')).toBe(location);
  });

  it('keeps a quote in a name from breaking the CN parameter', () => {
    const ics = invite({ clientName: 'Sam "The Back" Patel', clinicName: 'Calm "&" Co' });

    const attendee = event(ics).getFirstProperty('attendee')!;
    expect(attendee.getParameter('cn')).toBe("Sam 'The Back' Patel");
    expect(attendee.getFirstValue()).toBe('mailto:sam@clients.test');
  });

  it('ends every line with CRLF and gives the length as a duration', () => {
    const ics = invite();

    expect(ics.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect((event(ics).getFirstPropertyValue('duration') as ICAL.Duration).toSeconds()).toBe(45 * 60);
  });
});
