/**
 * Cal.com webhooks as Cal.com sends them: `{ triggerEvent, createdAt, payload }`, where the
 * payload of a booking event is the booking (uid, eventTypeId, type = the event type slug,
 * startTime, endTime, location, organizer, attendees[], and on a reschedule the old booking's uid
 * in `rescheduleUid` or `fromReschedule`), and BOOKING_NO_SHOW_UPDATED carries
 * `{ bookingUid, attendees: [{ email, noShow }] }`. Unknown fields are kept out, not refused:
 * Cal.com adds fields over time.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import * as z from 'zod';
import type { IntakeAction, IntakeEvent } from './event.js';
import { UnmappableEventError } from './event.js';

const person = z.object({
  email: z.string().optional(),
  name: z.string().optional(),
  timeZone: z.string().optional(),
  noShow: z.boolean().optional(),
});

const booking = z.object({
  uid: z.string().min(1),
  rescheduleUid: z.string().min(1).nullish(),
  fromReschedule: z.string().min(1).nullish(),
  eventTypeId: z.union([z.number(), z.string()]).nullish(),
  type: z.string().nullish(),
  startTime: z.string(),
  endTime: z.string(),
  location: z.string().nullish(),
  attendees: z.array(person).default([]),
  status: z.string().nullish(),
});

export const calEnvelopeSchema = z.object({
  triggerEvent: z.string().min(1),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time'),
  payload: z.record(z.string(), z.unknown()),
});
export type CalEnvelope = z.output<typeof calEnvelopeSchema>;

const ACTIONS: Record<string, IntakeAction> = {
  BOOKING_CREATED: 'book',
  BOOKING_RESCHEDULED: 'reschedule',
  BOOKING_CANCELLED: 'cancel',
  BOOKING_REJECTED: 'cancel',
  MEETING_ENDED: 'completed',
};

/** Cal.com sends no delivery id: the body's digest identifies a delivery (a retry repeats the body). */
export function calDeliveryId(rawBody: Buffer): string {
  return `sha256-${createHash('sha256').update(rawBody).digest('hex').slice(0, 32)}`;
}

function iso(text: string): string | undefined {
  const d = DateTime.fromISO(text, { setZone: true });
  return d.isValid ? (d.toUTC().toISO() ?? undefined) : undefined;
}

export function fromCalEnvelope(envelope: CalEnvelope, rawBody: Buffer): IntakeEvent {
  const deliveryId = calDeliveryId(rawBody);
  const version = Date.parse(envelope.createdAt);
  if (envelope.triggerEvent === 'BOOKING_NO_SHOW_UPDATED') {
    const parsed = z.object({ bookingUid: z.string().min(1), attendees: z.array(person).default([]) }).safeParse(envelope.payload);
    if (!parsed.success) throw new UnmappableEventError('no-show update without a bookingUid', deliveryId);
    if (!parsed.data.attendees.some((a) => a.noShow === true)) throw new UnmappableEventError('no-show update that marks no attendee as a no-show', deliveryId);
    return { deliveryId, action: 'no-show', bookingId: parsed.data.bookingUid, version };
  }
  const action = ACTIONS[envelope.triggerEvent];
  if (!action) throw new UnmappableEventError(`trigger ${envelope.triggerEvent.slice(0, 60)} is not a booking change`, deliveryId);
  const parsed = booking.safeParse(envelope.payload);
  if (!parsed.success)
    throw new UnmappableEventError(
      `payload of ${envelope.triggerEvent} is not a booking: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      deliveryId,
    );
  const b = parsed.data;
  const start = iso(b.startTime);
  const end = iso(b.endTime);
  const attendee = b.attendees[0];
  const previous = b.fromReschedule ?? b.rescheduleUid ?? undefined;
  const eventTypes = [b.type, b.eventTypeId === undefined || b.eventTypeId === null ? undefined : String(b.eventTypeId)].filter((t): t is string => !!t);
  const minutes = start && end ? Math.round((Date.parse(end) - Date.parse(start)) / 60_000) : undefined;
  return {
    deliveryId,
    action,
    bookingId: b.uid,
    ...(previous && previous !== b.uid ? { previousBookingId: previous } : {}),
    version,
    ...(eventTypes.length ? { eventTypes } : {}),
    ...(start ? { start } : {}),
    ...(minutes && minutes > 0 ? { durationMinutes: minutes } : {}),
    // Cal.com's location is often a video link or an integration id: the mapping's location is the clinic's room.
    ...(attendee
      ? {
          client: {
            ...(attendee.email ? { email: attendee.email } : {}),
            ...(attendee.name ? { name: attendee.name } : {}),
            ...(attendee.timeZone ? { timezone: attendee.timeZone } : {}),
          },
        }
      : {}),
  };
}
