/**
 * The booking emails: a session booked, changed or cancelled. Each carries the calendar invitation
 * that adds, moves or removes the session in the client's calendar.
 */
import type { EarlierBooking } from '../domain/booking-emails.js';
import type { Clinic } from '../domain/model.js';
import type { StoredSession } from '../ports/store.js';
import { sessionInvite } from './calendar.js';
import type { EmailDocument } from './document.js';
import type { RenderedEmail } from './email.js';
import { firstName, formatDateTime, formatShortDateTime } from './format.js';
import { type ClientEmailBase, clinicFooter, howToBook, rendered, sessionDetails } from './template-parts.js';
import { DEFAULT_TEXTS } from './texts.js';

export interface BookingConfirmationInput extends ClientEmailBase {
  readonly session: StoredSession;
  /** When the email is built: the invitation's DTSTAMP. */
  readonly now: Date;
  readonly links: { readonly reschedule: string };
}

export interface BookingChangeInput extends BookingConfirmationInput {
  /** The booking the client was last told of (toldBooking); absent when no earlier version is kept. */
  readonly movedFrom?: Omit<EarlierBooking, 'version'>;
}

export interface BookingCancellationInput extends ClientEmailBase {
  readonly session: StoredSession;
  readonly now: Date;
}

/**
 * Booking emails are transactional: they go whatever the client unsubscribed from, so they carry
 * no unsubscribe link or List-Unsubscribe header, and the footer says why they came.
 */
function bookingFooter(clinic: Clinic): string[] {
  return clinicFooter(clinic, `You get this email because a session was booked for you with ${clinic.name}.`);
}

export function renderBookingConfirmation(input: BookingConfirmationInput): RenderedEmail {
  const { clinic, client, therapist, plan, session, links } = input;
  const zone = client.timezone;
  const when = formatDateTime(session.start, zone);
  const doc: EmailDocument = {
    preheader: `${when} with ${therapist.name}`,
    blocks: [
      { type: 'heading', text: 'Your session is booked' },
      { type: 'paragraph', text: `Hello ${firstName(client.name)}, your session with ${therapist.name} is booked.` },
      sessionDetails(session, plan, therapist, zone),
      { type: 'links', links: [{ label: 'Need another time? Let us know', url: links.reschedule }] },
      { type: 'paragraph', text: 'The attached invitation adds this session to your calendar, and updates it if the time changes.' },
    ],
    footer: bookingFooter(clinic),
  };
  return rendered(`Booked: your session on ${formatShortDateTime(session.start, zone)}`, doc, clinic, {
    attachments: [sessionInvite({ clinic, client, therapist, session, now: input.now })],
  });
}

export function renderBookingChange(input: BookingChangeInput): RenderedEmail {
  const { clinic, client, therapist, plan, session, links, movedFrom } = input;
  const zone = client.timezone;
  const when = formatDateTime(session.start, zone);
  const timeMoved = movedFrom !== undefined && movedFrom.start !== session.start;
  const lead = !movedFrom
    ? `Hello ${firstName(client.name)}, your session with ${therapist.name} has changed. This is the booking now:`
    : timeMoved
      ? `Hello ${firstName(client.name)}, your session with ${therapist.name} has moved from ${formatDateTime(movedFrom.start, zone)} to ${when}.`
      : `Hello ${firstName(client.name)}, your session with ${therapist.name} on ${when} has changed. This is the booking now:`;
  const doc: EmailDocument = {
    preheader: timeMoved ? `Now ${when} with ${therapist.name}` : `${when} with ${therapist.name}`,
    blocks: [
      { type: 'heading', text: timeMoved ? 'Your session has moved' : 'Your session has changed' },
      { type: 'paragraph', text: lead },
      ...(movedFrom
        ? [
            {
              type: 'details',
              rows: [['Was', `${formatDateTime(movedFrom.start, zone)}, ${movedFrom.durationMinutes} minutes, ${movedFrom.location}`]],
            } as const,
          ]
        : []),
      sessionDetails(session, plan, therapist, zone),
      { type: 'links', links: [{ label: 'Does this time not suit you? Let us know', url: links.reschedule }] },
      { type: 'paragraph', text: 'The attached invitation moves the session in your calendar.' },
    ],
    footer: bookingFooter(clinic),
  };
  return rendered(`${timeMoved ? 'Moved' : 'Changed'}: your session is now on ${formatShortDateTime(session.start, zone)}`, doc, clinic, {
    attachments: [sessionInvite({ clinic, client, therapist, session, now: input.now })],
  });
}

export function renderBookingCancellation(input: BookingCancellationInput): RenderedEmail {
  const { clinic, client, therapist, session } = input;
  const texts = input.texts ?? DEFAULT_TEXTS;
  const zone = client.timezone;
  const when = formatDateTime(session.start, zone);
  const doc: EmailDocument = {
    preheader: `${when} with ${therapist.name} is cancelled`,
    blocks: [
      { type: 'heading', text: 'Your session is cancelled' },
      { type: 'paragraph', text: `Hello ${firstName(client.name)}, your session with ${therapist.name} on ${when} at ${session.location} is cancelled.` },
      { type: 'paragraph', text: 'The attached update removes it from your calendar. To book another session:' },
      ...howToBook(clinic, texts, 'Book another session'),
    ],
    footer: bookingFooter(clinic),
  };
  return rendered(`Cancelled: your session on ${formatShortDateTime(session.start, zone)}`, doc, clinic, {
    attachments: [sessionInvite({ clinic, client, therapist, session, now: input.now, method: 'CANCEL' })],
  });
}
