/**
 * The emails about a booking itself: a confirmation when a session is booked, a change notice when
 * it moves, a cancellation notice when it is cancelled. Unlike reminders they follow a change, not
 * the calendar, so sync-schedules plans them from the stream's before and after images
 * (bookingTransition) and dispatch checks at send time that the state still calls for them
 * (bookingSkipReason). Pure functions; no AWS imports.
 *
 * - Confirmation `bc.<session>.booked.v<version>`: due `undoMinutes` after the booking (moved out of
 *   the clinic's quiet hours when the session is not before the window's end). A move within that
 *   window replaces it with the confirmation of the new time; a cancellation within it skips it
 *   ("cancelled within the undo window") and sends nothing else: the client never heard of it.
 * - Change notice `bm.<session>.moved.v<version>`: at once, for a move of a session the client was
 *   told of; "was" is the booking the client was last told of (toldBooking, from the versions the
 *   writers keep in StoredSession.earlier and the ledger), so two moves in quick succession, the
 *   first notice overtaken, still read "from" the time the client knows.
 * - Cancellation notice `bx.<session>.cancelled.v<version>`: at once, for a cancellation of a
 *   session the client was told of.
 * Each goes only while the session is still ahead, and each can be turned off in the stage config
 * (`clinic.bookingEmails`).
 */
import { BOOKING_OFFSET, messageName, type BookingKind, type MessageIdentity } from './message.js';
import type { BookingEmailsConfig, Client, Clinic, Session } from './model.js';
import { addMs, applyQuietHours, toInstant, type Instant } from './time.js';

/** Why a booking email will not go; short lowercase sentences for the ledger and the outbox. */
export const BOOKING_SKIP_REASONS = {
  cancelledInWindow: 'cancelled within the undo window: the client was never told of the booking',
  movedInWindow: 'moved within the undo window: the confirmation of the new time replaces it',
  sessionStarted: 'session already started',
  notCancelled: 'session no longer cancelled',
} as const;

/** Why a kind the clinic turned off is not sent. */
export function turnedOffReason(kind: BookingKind): string {
  return `${KIND_SWITCH[kind]} emails are turned off in the stage config (clinic.bookingEmails.${KIND_SWITCH[kind]})`;
}

const KIND_SWITCH: Record<BookingKind, 'confirmation' | 'change' | 'cancellation'> = {
  'booking-confirmation': 'confirmation',
  'booking-change': 'change',
  'booking-cancellation': 'cancellation',
};

export function isEnabled(config: BookingEmailsConfig, kind: BookingKind): boolean {
  return config[KIND_SWITCH[kind]];
}

export function bookingIdentity(kind: BookingKind, session: Pick<Session, 'id' | 'version'>): MessageIdentity {
  return { kind, subjectId: session.id, offset: BOOKING_OFFSET[kind], version: session.version };
}

export function bookingName(kind: BookingKind, session: Pick<Session, 'id' | 'version'>): string {
  return messageName(bookingIdentity(kind, session));
}

/** One earlier version of a session's booking: what a change notice may say the session "was". */
export interface EarlierBooking {
  readonly version: number;
  readonly start: Instant;
  readonly durationMinutes: number;
  readonly location: string;
}

/** How many earlier versions a session keeps: more than a burst of moves can overtake notices. */
export const EARLIER_BOOKINGS_KEPT = 5;

/**
 * What a writer stores as the session's `earlier`: when the version rises (a move), the previous
 * booking first, then what was kept before, at most EARLIER_BOOKINGS_KEPT; else what was stored.
 * Both stores and intake write sessions through it.
 */
export function earlierBookingsOf(
  previous: (Session & { readonly earlier?: readonly EarlierBooking[] }) | undefined,
  next: Pick<Session, 'version'>,
): EarlierBooking[] | undefined {
  if (!previous) return undefined;
  if (next.version <= previous.version) return previous.earlier ? [...previous.earlier] : undefined;
  const before: EarlierBooking = { version: previous.version, start: previous.start, durationMinutes: previous.durationMinutes, location: previous.location };
  return [before, ...(previous.earlier ?? []).filter((b) => b.version < previous.version)].slice(0, EARLIER_BOOKINGS_KEPT);
}

/** The names under which the client may have been told of one version: its change notice, its confirmation. */
export function toldNames(sessionId: string, version: number): readonly string[] {
  return [bookingName('booking-change', { id: sessionId, version }), bookingName('booking-confirmation', { id: sessionId, version })];
}

/**
 * The booking a client was last told of before the current version, newest first: a version whose
 * change notice or confirmation went (sent, in flight, or of unknown outcome) was told; one with no
 * entry at all had no email planned (turned off, or older than booking emails) and was known from
 * the clinic; one whose emails were all skipped (overtaken by the next move) was not. `entriesOf`
 * gives the ledger statuses of toldNames. Falls back to the version just before.
 */
export async function toldBooking(
  session: { readonly id: string; readonly earlier?: readonly EarlierBooking[] },
  entriesOf: (names: readonly string[]) => Promise<ReadonlyArray<string | undefined>>,
  /** A cancellation asks of the current version first (it keeps its version): was the client told of it? */
  current?: EarlierBooking,
): Promise<EarlierBooking | undefined> {
  for (const booking of [...(current ? [current] : []), ...(session.earlier ?? [])]) {
    const statuses = await entriesOf(toldNames(session.id, booking.version));
    if (statuses.every((s) => s === undefined) || statuses.some((s) => s === 'sent' || s === 'claimed' || s === 'failed')) return booking;
  }
  return current ?? session.earlier?.[0];
}

/**
 * What a session change means for the client's booking emails:
 * - `booked`: a new booking, or a cancelled session booked again;
 * - `moved`: a booked session's version rose (a new time, length or place);
 * - `cancelled`: a booked session was cancelled;
 * - undefined: nothing the client needs telling of (a completion, a no-show, a renumbering, a
 *   session in the past: history, not news).
 */
export type BookingTransition = 'booked' | 'moved' | 'cancelled';

export function bookingTransition(before: Session | undefined, after: Session | undefined, now: Instant): BookingTransition | undefined {
  if (!after) return undefined;
  const wasBooked = before?.status === 'booked';
  if (after.status === 'booked') {
    if (toInstant(after.start) <= now) return undefined;
    if (!before || before.status === 'cancelled') return 'booked';
    return wasBooked && before.version !== after.version ? 'moved' : undefined;
  }
  if (after.status === 'cancelled' && wasBooked && before && toInstant(before.start) > now) return 'cancelled';
  return undefined;
}

/**
 * When a confirmation of a booking made at `now` goes: after the undo window, and out of the
 * clinic's quiet hours unless the session starts before they end (then on time: the client needs
 * it before the session more than they need the quiet).
 */
export function confirmationDue(
  now: Instant,
  session: Pick<Session, 'start'>,
  client: Pick<Client, 'timezone'>,
  clinic: Pick<Clinic, 'quietHours' | 'bookingEmails'>,
): Instant {
  const due = addMs(now, clinic.bookingEmails.undoMinutes * 60_000);
  const quiet = applyQuietHours(due, client.timezone, clinic.quietHours);
  return quiet < toInstant(session.start) ? quiet : due;
}

/**
 * Why a booking email can no longer go at `now`, read from the state at send time; undefined when
 * it still should. The client's suppression and the plan's status are checked by the caller
 * (skipReasonFor, shared with the other kinds).
 */
export function bookingSkipReason(
  kind: BookingKind,
  identity: MessageIdentity,
  session: Session,
  config: BookingEmailsConfig,
  now: Instant,
): string | undefined {
  if (!isEnabled(config, kind)) return turnedOffReason(kind);
  if (identity.version !== session.version) return 'version moved on';
  if (kind === 'booking-cancellation') {
    if (session.status !== 'cancelled') return BOOKING_SKIP_REASONS.notCancelled;
  } else if (session.status === 'cancelled') {
    return kind === 'booking-confirmation' ? BOOKING_SKIP_REASONS.cancelledInWindow : 'session cancelled';
  } else if (session.status !== 'booked') {
    return `session marked ${session.status}`;
  }
  if (toInstant(session.start) <= now) return BOOKING_SKIP_REASONS.sessionStarted;
  return undefined;
}
