/**
 * Message identity: what the system sends, named deterministically. The same name is the
 * EventBridge schedule name, the ledger key and the SES tag, so every retry, redelivery and
 * reconcile pass converges on one record and one email.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ID_PATTERN } from './model.js';

export const MESSAGE_KINDS = ['reminder', 'check-in', 'maintenance-nudge', 'summary', 'therapist-alert', 'clinic-report'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

const KIND_CODE: Record<MessageKind, string> = {
  reminder: 'rm',
  'check-in': 'ci',
  'maintenance-nudge': 'mn',
  summary: 'su',
  'therapist-alert': 'ta',
  'clinic-report': 'cr',
};

/** Category a client can unsubscribe from; undefined for emails to therapists. */
export function categoryOf(kind: MessageKind): 'reminders' | 'check-ins' | 'maintenance' | undefined {
  switch (kind) {
    case 'reminder':
      return 'reminders';
    case 'check-in':
      return 'check-ins';
    case 'maintenance-nudge':
      return 'maintenance';
    default:
      return undefined;
  }
}

/** Check-ins and nudges can wait for the morning; reminders cannot. */
export function isUrgent(kind: MessageKind): boolean {
  return kind === 'reminder' || kind === 'therapist-alert';
}

const OFFSET_PATTERN = /^[0-9A-Za-z_-]{1,24}$/;

export const messageIdentitySchema = z.object({
  kind: z.enum(MESSAGE_KINDS),
  /** Session id (reminder, check-in), plan id (nudge), therapist id (summary), check-in/request id (alert), `clinic` (monthly report). */
  subjectId: z.string().regex(ID_PATTERN, 'must be an id'),
  /** Reminder offset as written in the plan (P2D), `after` for check-ins, the due date for a nudge, the period for a summary. */
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

/** The schedule-name prefix shared by every message about one subject, for listing and clean-up. */
export function subjectPrefix(kind: MessageKind, subjectId: string): string {
  return `${KIND_CODE[kind]}.${subjectId}.`;
}

/** ISO durations contain only [PTYMWDHS0-9], so they are valid offsets as written. */
export const CHECK_IN_OFFSET = 'after';
