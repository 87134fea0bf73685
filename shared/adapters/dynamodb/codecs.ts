/**
 * The table's items and the domain objects they hold, both ways. Reading, each item type is
 * parsed by a schema of its stored shape — the fields and their types as the store's writers lay
 * them out, not the input rules the writers checked before (those ran once, at the boundary) —
 * and the keys and bookkeeping attributes are dropped. An attribute a schema does not name is
 * kept, as a newer writer may add one. A malformed item fails with a ValidationError naming the
 * item's key and every bad field, never a value. Writing, the builders lay out the items two
 * writers share (the clinic store and intake-store.ts).
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { earlierBookingsOf } from '../../domain/booking-emails.js';
import { LEDGER_STATUSES } from '../../domain/ledger-states.js';
import { MESSAGE_KINDS } from '../../domain/message.js';
import { SESSION_STATUSES, type Client, type Plan, type Session, type Therapist } from '../../domain/model.js';
import type { PlanChange } from '../../domain/plan-change.js';
import { numberSessions } from '../../domain/schedule-rules.js';
import { issuesFromZod, ValidationError } from '../../domain/validation.js';
import type { BookingLink, DeliveryRecord, FeedState } from '../../ports/intake.js';
import type { LedgerEntry, RescheduleRequest, StoredCheckIn, StoredPlan, StoredSession } from '../../ports/store.js';
import { KEY_ATTRIBUTES, keys } from './keys.js';
import { utcDate, type Item } from './table.js';

// ---------------------------------------------------------------- stored shapes

const text = z.string();
/** An instant as the writers store it: ISO text, checked by the writer's input schema once. */
const instant = z.string();
const count = z.number();
const scores = { pain: count, mobility: count, stress: count, sleep: count };

const therapistItem: z.ZodType<Therapist> = z.looseObject({
  id: text,
  name: text,
  email: text,
  timezone: text,
  summary: z.looseObject({ cadence: z.enum(['daily', 'weekly']), hour: count, weekday: count, whenEmpty: z.enum(['one-line', 'none']) }),
});

const clientItem: z.ZodType<Client> = z.looseObject({
  id: text,
  name: text,
  email: text,
  phone: text.optional(),
  timezone: text,
  preferences: z.looseObject({ reminders: z.boolean(), 'check-ins': z.boolean(), maintenance: z.boolean() }),
  suppressed: z.looseObject({ reason: z.enum(['bounce', 'complaint', 'manual']), at: instant, detail: text.optional() }).optional(),
});

const planItem: z.ZodType<StoredPlan> = z.looseObject({
  id: text,
  clientId: text,
  therapistId: text,
  goal: text,
  phases: z.array(z.looseObject({ name: text, sessions: count.optional(), everyDays: count })),
  reminders: z.array(text),
  checkInAfter: text,
  status: z.enum(['active', 'paused', 'completed']),
  baseline: z.looseObject({ ...scores, at: instant, reason: text.optional(), sessionId: text.optional() }).optional(),
  maintenanceMark: z.looseObject({ state: z.enum(['due', 'lapsed']), dueAt: instant, lapsedAt: instant, markedAt: instant }).optional(),
  maintenanceActionAt: instant.optional(),
});

const sessionItem: z.ZodType<StoredSession> = z.looseObject({
  id: text,
  planId: text,
  start: instant,
  durationMinutes: count,
  location: text,
  status: z.enum(SESSION_STATUSES),
  version: count,
  clientId: text,
  therapistId: text,
  number: count.optional(),
  inPhase: count.optional(),
  phase: text.optional(),
  ofPhase: count.optional(),
  maintenance: z.boolean().optional(),
  checkInAnsweredAt: instant.optional(),
  confirmedAt: instant.optional(),
  rescheduleRequestedAt: instant.optional(),
  earlier: z.array(z.looseObject({ version: count, start: instant, durationMinutes: count, location: text })).optional(),
});

const checkInItem: z.ZodType<StoredCheckIn> = z.looseObject({
  ...scores,
  notes: text,
  wantsToRebook: z.boolean(),
  sessionId: text,
  planId: text,
  clientId: text,
  therapistId: text,
  answeredAt: instant,
  baseline: z.boolean(),
  previous: z.looseObject(scores).optional(),
  baselineScores: z.looseObject(scores).optional(),
});

const requestItem: z.ZodType<RescheduleRequest> = z.looseObject({
  sessionId: text,
  clientId: text,
  planId: text,
  therapistId: text,
  message: text,
  at: instant,
});

const planState = z.looseObject({ status: z.enum(['active', 'paused', 'completed']), maintenanceEveryDays: count });
const planChangeItem: z.ZodType<PlanChange> = z.looseObject({
  id: text,
  planId: text,
  clientId: text,
  therapistId: text,
  action: z.enum(['interval', 'pause', 'resume', 'complete']),
  before: planState,
  after: planState,
  by: text,
  via: z.enum(['email-link', 'cli']),
  note: text.optional(),
  at: instant,
});

const ledgerItem: z.ZodType<LedgerEntry> = z.looseObject({
  name: text,
  kind: z.enum(MESSAGE_KINDS),
  status: z.enum(LEDGER_STATUSES),
  clientId: text.optional(),
  planId: text.optional(),
  sessionId: text.optional(),
  therapistId: text.optional(),
  dueAt: instant.optional(),
  claimedAt: instant.optional(),
  attempts: count.default(0),
  reason: text.optional(),
  deferredTo: instant.optional(),
  sesMessageId: text.optional(),
  delivery: z.looseObject({ event: text, at: instant, detail: text.optional() }).optional(),
  /** Kept (unlike other items' bookkeeping): the outbox shows when each entry last moved. */
  updatedAt: instant.default(''),
});

const deliveryItem: z.ZodType<DeliveryRecord> = z.looseObject({
  source: text,
  deliveryId: text,
  status: z.enum(['accepted', 'ignored', 'refused']),
  reason: text.optional(),
  action: z.enum(['book', 'reschedule', 'cancel', 'no-show', 'completed']).optional(),
  bookingId: text.optional(),
  sessionId: text.optional(),
  clientId: text.optional(),
  eventType: text.optional(),
  at: instant,
});

const bookingLinkItem: z.ZodType<BookingLink> = z.looseObject({
  source: text,
  bookingId: text,
  version: count,
  sessionId: text.optional(),
  clientId: text.optional(),
  cancelled: z.boolean().optional(),
});

const feedItem: z.ZodType<FeedState> = z.looseObject({ source: text, etag: text.optional(), lastModified: text.optional(), polledAt: instant });

/** An email lookup, a plan or session reference: the client it points to. */
const pointerItem = z.looseObject({ clientId: text });
/** A client's non-urgent slot for a local day: the message holding it. */
const dayCapItem = z.looseObject({ holder: text });

// ---------------------------------------------------------------- decoding

/** An item's key for an error message; an address in a key is masked, as the stream handler masks it. */
function keyOf(item: Item): string {
  const part = (value: unknown) => (typeof value !== 'string' ? '?' : value.startsWith('EMAIL#') ? 'EMAIL#…' : value.slice(0, 80));
  return `${part(item.pk)} / ${part(item.sk)}`;
}

/** An item type's reader: parses the item and drops its keys and bookkeeping (all but `keep`). */
function codec<T>(type: string, schema: z.ZodType<T>, keep: readonly string[] = []): (item: Item) => T {
  const dropped = new Set<string>(KEY_ATTRIBUTES.filter((attribute) => !keep.includes(attribute)));
  return (item) => {
    const attributes: Item = {};
    for (const name in item) if (!dropped.has(name)) attributes[name] = item[name];
    const result = schema.safeParse(attributes);
    if (!result.success) throw new ValidationError(`stored ${type} item ${keyOf(item)}`, issuesFromZod(result.error), { cause: result.error });
    return result.data;
  };
}

export const decode = {
  therapist: codec('therapist', therapistItem),
  client: codec('client', clientItem),
  plan: codec('plan', planItem),
  session: codec('session', sessionItem),
  checkIn: codec('check-in', checkInItem),
  request: codec('reschedule request', requestItem),
  planChange: codec('plan change', planChangeItem),
  ledgerEntry: codec('ledger', ledgerItem, ['updatedAt']),
  delivery: codec('intake delivery', deliveryItem),
  bookingLink: codec('booking link', bookingLinkItem),
  feed: codec('intake feed', feedItem),
  pointer: codec('lookup', pointerItem),
  dayCap: codec('day cap', dayCapItem),
};

/** An optional item through a reader: undefined stays undefined. */
export function decodeIfAny<T>(read: (item: Item) => T, item: Item | undefined): T | undefined {
  return item === undefined ? undefined : read(item);
}

/**
 * A ledger entry from a condition failure's ALL_OLD image: ReturnValuesOnConditionCheckFailure hands
 * back a raw AttributeValue map, which the document client leaves as it is.
 */
export function ledgerEntryFromImage(image: Record<string, AttributeValue>): LedgerEntry {
  return decode.ledgerEntry(unmarshall(image));
}

// ---------------------------------------------------------------- encoding

export function therapistItemOf(therapist: Therapist, stamp: string): Item {
  return { ...therapist, ...keys.therapist(therapist.id), type: 'therapist', gsi1pk: keys.therapistsList, gsi1sk: therapist.id, updatedAt: stamp };
}

export function clientItemOf(client: Client, stamp: string): Item {
  return { ...client, ...keys.client(client.id), type: 'client', updatedAt: stamp };
}

/** The email lookup item: one address, one client. */
export function emailItemOf(client: Pick<Client, 'id' | 'email'>): Item {
  return { ...keys.email(client.email), type: 'email', clientId: client.id };
}

/** A plan item without what an earlier write kept on it (baseline, maintenance marks and index). */
export function planItemOf(plan: Plan, stamp: string): Item {
  return {
    ...plan,
    ...keys.plan(plan.clientId, plan.id),
    type: 'plan',
    gsi2pk: keys.therapistIndex(plan.therapistId),
    gsi2sk: `PLAN#${plan.id}`,
    updatedAt: stamp,
  };
}

/** A reference from a plan's or a session's id to its client's partition. */
export function refItemOf(key: { pk: string; sk: string }, clientId: string): Item {
  return { ...key, type: 'ref', clientId };
}

/**
 * The items a session write puts: the session itself (keeping what was stored on it before) and
 * every other session of the plan whose numbering it changes. Shared by saveSession and intake.
 */
export function sessionWrites(plan: StoredPlan | Plan, clientId: string, sessions: readonly StoredSession[], session: Session, stamp: string): Item[] {
  const others = sessions.filter((s) => s.planId === plan.id && s.id !== session.id);
  const numbering = numberSessions(plan, [...others, session]);
  const toItem = (s: Session, previous?: StoredSession): Item => {
    const n = numbering.get(s.id);
    const earlier = earlierBookingsOf(previous, s);
    return {
      ...previous,
      ...s,
      ...(earlier ? { earlier } : {}),
      clientId,
      therapistId: plan.therapistId,
      number: n?.number,
      inPhase: n?.inPhase,
      phase: n?.phase,
      ofPhase: n?.ofPhase,
      maintenance: n?.maintenance,
      ...keys.session(clientId, s.id),
      type: 'session',
      gsi1pk: keys.sessionsDay(utcDate(s.start)),
      gsi1sk: `${s.start}#${s.id}`,
      gsi2pk: keys.therapistIndex(plan.therapistId),
      gsi2sk: `SESSION#${s.start}#${s.id}`,
      updatedAt: stamp,
    };
  };
  const previous = sessions.find((s) => s.id === session.id);
  const writes: Item[] = [toItem(session, previous)];
  for (const other of others) {
    const n = numbering.get(other.id);
    if (n && (n.number !== other.number || n.inPhase !== other.inPhase || n.phase !== other.phase || n.ofPhase !== other.ofPhase))
      writes.push(toItem(other, other));
  }
  return writes;
}
