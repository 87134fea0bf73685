/**
 * One booking change as every intake source is reduced to it. The source's own booking id names
 * the booking; `version` is the source's own ordering (a sequence, or the change's timestamp in
 * milliseconds) and decides which of two changes is newer, never the order they arrive in.
 */

export type IntakeAction = 'book' | 'reschedule' | 'cancel' | 'no-show' | 'completed';

export interface IntakeEvent {
  /** The delivery's identity at the source: a webhook delivered twice carries the same one. */
  readonly deliveryId: string;
  readonly action: IntakeAction;
  /** The source's id of the booking (Cal.com's uid, the generic format's booking.id). */
  readonly bookingId: string;
  /** For a reschedule that gave the booking a new id: the id it had before. */
  readonly previousBookingId?: string;
  readonly version: number;
  /** The names the source gives the booking's type, best first (Cal.com: the slug, then the numeric id). */
  readonly eventTypes?: readonly string[];
  /** UTC ISO text as the source gave it; the session schema checks it when the session is written. */
  readonly start?: string;
  readonly durationMinutes?: number;
  readonly location?: string;
  readonly client?: { readonly email?: string; readonly name?: string; readonly timezone?: string };
}

/** A body a source adapter could read but Keepwell cannot act on: accepted and recorded as ignored. */
export class UnmappableEventError extends Error {
  override readonly name = 'UnmappableEventError';
  constructor(
    readonly reason: string,
    readonly deliveryId: string,
  ) {
    super(reason);
  }
}
