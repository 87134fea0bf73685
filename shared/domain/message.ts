/**
 * Message identity: what the system sends, named deterministically. The same name is the
 * EventBridge schedule name, the ledger key and the SES tag, so every retry, redelivery and
 * reconcile pass converges on one record and one email.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ID_PATTERN } from './model.js';

/** The emails about a booking itself: what the client is told when a session is booked, moved or cancelled. */
export const BOOKING_KINDS = ['booking-confirmation', 'booking-change', 'booking-cancellation'] as const;
export type BookingKind = (typeof BOOKING_KINDS)[number];

export const MESSAGE_KINDS = [
  'reminder',
  'check-in',
  'maintenance-nudge',
  'summary',
  'therapist-alert',
  ...BOOKING_KINDS,
  'clinic-report',
  'intake-questionnaire',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

const KIND_CODE: Record<MessageKind, string> = {
  reminder: 'rm',
  'check-in': 'ci',
  'maintenance-nudge': 'mn',
  summary: 'su',
  'therapist-alert': 'ta',
  'booking-confirmation': 'bc',
  'booking-change': 'bm',
  'booking-cancellation': 'bx',
  'clinic-report': 'cr',
  'intake-questionnaire': 'iq',
};

/** The offset a booking email is named with: `bc.s-1.booked.v1`, `bm.s-1.moved.v2`, `bx.s-1.cancelled.v2`. */
export const BOOKING_OFFSET: Record<BookingKind, string> = {
  'booking-confirmation': 'booked',
  'booking-change': 'moved',
  'booking-cancellation': 'cancelled',
};

export function isBookingKind(kind: MessageKind): kind is BookingKind {
  return (BOOKING_KINDS as readonly string[]).includes(kind);
}

const KIND_OF_CODE: ReadonlyMap<string, MessageKind> = new Map(Object.entries(KIND_CODE).map(([kind, code]) => [code, kind as MessageKind]));

/** The kind a message name stands for (`rm.s-1.P2D.v1` → reminder), or undefined for a name that is not one. */
export function kindOfName(name: string): MessageKind | undefined {
  return KIND_OF_CODE.get(name.split('.', 1)[0] ?? '');
}

/**
 * Category a client can unsubscribe from; undefined for emails to therapists and for booking
 * emails, which are transactional: the client hears of a booking made, moved or cancelled for
 * them whatever they unsubscribed from (a suppressed address still gets nothing).
 */
export function categoryOf(kind: MessageKind): 'reminders' | 'check-ins' | 'maintenance' | undefined {
  switch (kind) {
    case 'reminder':
      return 'reminders';
    case 'check-in':
    // The intake questionnaire asks the check-in's questions before treatment: one choice covers both.
    case 'intake-questionnaire':
      return 'check-ins';
    case 'maintenance-nudge':
      return 'maintenance';
    default:
      return undefined;
  }
}

/**
 * Check-ins and nudges can wait for the morning; reminders cannot, nor can booking emails: they
 * answer a change just made and may concern today (their own timing rules are in
 * domain/booking-emails.ts). Nor can the intake questionnaire: it must reach the client before
 * the first session, which may be the next morning. Urgent kinds take the urgent retry policy and
 * no daily cap.
 */
export function isUrgent(kind: MessageKind): boolean {
  return kind === 'reminder' || kind === 'therapist-alert' || kind === 'intake-questionnaire' || isBookingKind(kind);
}

const OFFSET_PATTERN = /^[0-9A-Za-z_-]{1,24}$/;

export const messageIdentitySchema = z.object({
  kind: z.enum(MESSAGE_KINDS),
  /** Session id (reminder, check-in, booking emails), plan id (nudge, intake questionnaire), therapist id (summary), check-in/request id (alert), `clinic` (monthly report). */
  subjectId: z.string().regex(ID_PATTERN, 'must be an id'),
  /** Reminder offset as written in the plan (P2D), `after` for check-ins, the due date for a nudge, the period for a summary, `intake` for the intake questionnaire. */
  offset: z.string().regex(OFFSET_PATTERN, 'must be 1–24 characters of [0-9A-Za-z_-]'),
  version: z.number().int().positive(),
});
export type MessageIdentity = z.output<typeof messageIdentitySchema>;

/**
 * The deterministic name: `<kind>.<subject>.<offset>.v<version>`, e.g. `rm.s-sam-1.P2D.v3`.
 * EventBridge Scheduler accepts ≤ 64 characters of [0-9a-zA-Z-_.]; ids are ≤ 40 and offsets
 * ≤ 24, so a rare long combination has its middle replaced by a hash that keeps it unique and
 * stable, while the subject prefix and the `.v<version>` ending (which reconcile reads to spot
 * an old version's schedule) stay as they are.
 */
export function messageName(id: MessageIdentity): string {
  const full = `${KIND_CODE[id.kind]}.${id.subjectId}.${id.offset}.v${id.version}`;
  if (full.length <= 64) return full;
  const ending = `.v${id.version}`;
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 12);
  const head = full.slice(0, 64 - ending.length - digest.length - 1);
  return `${head}.${digest}${ending}`;
}

/**
 * The schedule name of a message's n-th retry: `<name>.r<n>`. The Scheduler takes ≤ 64 characters
 * of [0-9a-zA-Z-_.], so a name too long for the suffix is shortened with a hash of the whole
 * name, as messageName shortens its own.
 */
export function retryScheduleName(name: string, n: number): string {
  const suffix = `.r${n}`;
  if (name.length + suffix.length <= 64) return `${name}${suffix}`;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${name.slice(0, 64 - suffix.length - 17)}.${digest}${suffix}`;
}

const RETRY_SUFFIX = /\.r(\d+)$/;

/** A retry schedule's name without its `.r<n>`: the message it retries. */
export function baseOfName(name: string): string {
  return name.replace(RETRY_SUFFIX, '');
}

/** Which retry a schedule name is (`….r3` → 3), or undefined for a message's own schedule. */
export function retryOfName(name: string): number | undefined {
  const match = RETRY_SUFFIX.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The version a message or retry schedule name ends with (`….v2`, `….v2.r1`). */
export function versionOfName(name: string): number | undefined {
  const match = /\.v(\d+)(?:\.r\d+)?$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

const DEFERRAL = /-d(\d+)$/;
const MAX_OFFSET = 24;

/** The identity a message was first scheduled under: its offset without a deferral suffix. */
export function baseIdentity(identity: MessageIdentity): MessageIdentity {
  return { ...identity, offset: identity.offset.replace(DEFERRAL, '') };
}

/**
 * The identity of a message pushed to another day: `after` → `after-d1` → `after-d2`. Only
 * check-ins (`after`) and nudges (`yyyymmdd`) are deferred, so the suffix always fits the
 * 24-character offset limit; a longer offset is refused rather than cut, which would lose its base.
 */
export function deferredIdentity(identity: MessageIdentity): MessageIdentity {
  const count = Number(DEFERRAL.exec(identity.offset)?.[1] ?? 0) + 1;
  const offset = `${baseIdentity(identity).offset}-d${count}`;
  if (offset.length > MAX_OFFSET) throw new RangeError(`cannot defer ${messageName(identity)}: offset "${offset}" is longer than ${MAX_OFFSET} characters`);
  return { ...identity, offset };
}

/** The schedule-name prefix shared by every message about one subject, for listing and clean-up. */
export function subjectPrefix(kind: MessageKind, subjectId: string): string {
  return `${KIND_CODE[kind]}.${subjectId}.`;
}

/** ISO durations contain only [PTYMWDHS0-9], so they are valid offsets as written. */
export const CHECK_IN_OFFSET = 'after';
