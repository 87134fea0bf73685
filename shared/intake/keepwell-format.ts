/**
 * Keepwell's own webhook format, for any booking system or a Zapier / Make step. The zod schema
 * is the definition; docs/intake-event.schema.json is generated from it
 * (`npx tsx scripts/intake-schema.ts`) and a unit test keeps the two equal.
 */
import * as z from 'zod';
import { emailSchema, instantSchema, timezoneSchema } from '../domain/model.js';
import type { IntakeAction, IntakeEvent } from './event.js';

const ref = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

const TYPES = {
  'booking.created': 'book',
  'booking.rescheduled': 'reschedule',
  'booking.cancelled': 'cancel',
  'booking.no_show': 'no-show',
  'booking.completed': 'completed',
} as const satisfies Record<string, IntakeAction>;

export const keepwellEventSchema = z.object({
  /** Unique per event; a retry of the same event repeats it. */
  id: ref.describe('Unique per event; a retried delivery repeats it'),
  type: z.enum(Object.keys(TYPES) as [keyof typeof TYPES, ...Array<keyof typeof TYPES>]),
  /** When the change happened at the source; orders changes unless `sequence` is given. */
  occurredAt: instantSchema.describe('When the change happened in the booking system (ISO-8601 with offset)'),
  sequence: z.number().int().min(0).optional().describe('A per-booking counter that rises with every change; orders changes when present'),
  booking: z.object({
    id: ref.describe("The booking system's id of the booking"),
    previousId: ref.optional().describe('When a reschedule gave the booking a new id: the old one'),
    service: ref.optional().describe('The service / event type, as mapped in the stage config'),
    start: instantSchema.optional(),
    durationMinutes: z.number().int().positive().max(600).optional(),
    location: z.string().trim().min(1).max(200).optional(),
    client: z
      .object({
        email: emailSchema.optional(),
        name: z.string().trim().min(1).max(120).optional(),
        timezone: timezoneSchema.optional(),
      })
      .optional(),
  }),
});
export type KeepwellEvent = z.output<typeof keepwellEventSchema>;

export function fromKeepwellEvent(event: KeepwellEvent): IntakeEvent {
  const b = event.booking;
  return {
    deliveryId: event.id,
    action: TYPES[event.type],
    bookingId: b.id,
    ...(b.previousId ? { previousBookingId: b.previousId } : {}),
    version: event.sequence ?? Date.parse(event.occurredAt),
    ...(b.service ? { eventTypes: [b.service] } : {}),
    ...(b.start ? { start: b.start } : {}),
    ...(b.durationMinutes ? { durationMinutes: b.durationMinutes } : {}),
    ...(b.location ? { location: b.location } : {}),
    ...(b.client ? { client: b.client } : {}),
  };
}
