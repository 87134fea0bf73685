/**
 * Intake: one booking change from a booking system becomes a Keepwell booking, move, cancellation,
 * no-show or completion.
 *
 * Step by step:
 * 1. read what the change is judged against in one go: was this delivery seen, which session the
 *    source's booking id (and, for a reschedule to a new id, its old id) already became, the
 *    client by email, the mapped therapist;
 * 2. a delivery seen before is a duplicate: answer as before, write nothing;
 * 3. a change no newer (by the source's own version) than the one applied is stale: recorded as
 *    ignored, so the store ends in the state of the latest change whatever the arrival order;
 * 4. decide the change: a new booking is placed by the stage config's mapping (event type →
 *    therapist + plan template), creating the client from the attendee's email and the plan from
 *    the template when they are new; a move raises the session's version (voiding every message
 *    about the old time); a cancel before the booking is known leaves a tombstone;
 * 5. commit it in one transaction that also records the delivery, under conditions that make a
 *    concurrent copy of the delivery a duplicate and a concurrent change of the booking a conflict,
 *    which is decided again from fresh state;
 * 6. a change the mapping cannot place is accepted and recorded as ignored, with the reason.
 * The table's stream then brings schedules in line (sync-schedules), as for every other writer.
 */
import { createHash, randomBytes } from 'node:crypto';
import type * as z from 'zod';
import type { Client, Clinic, Plan, Session } from '../domain/model.js';
import { clientSchema, sessionSchema } from '../domain/model.js';
import { cleanText } from '../domain/text.js';
import { instantOf } from '../domain/time.js';
import type { IntakeEvent } from '../intake/event.js';
import type { IntakeSource, ServiceMapping } from '../intake/config.js';
import type { BookingLink, DeliveryRecord, IntakeChange, IntakeState, IntakeStore } from '../ports/intake.js';
import type { StoredSession } from '../ports/store.js';

export type IntakeOutcome =
  | { readonly status: 'accepted'; readonly sessionId?: string; readonly duplicate: boolean }
  | { readonly status: 'ignored'; readonly reason: string; readonly duplicate: boolean };

/** How often a delivery is decided again after losing a race for its booking. */
const MAX_ATTEMPTS = 4;

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);
/**
 * The ids intake creates carry no personal data. A client's is random: one address is one client
 * through the address lookup's condition, so a retry or a concurrent copy finds the client the
 * first one made. A session's and a plan's are digests of opaque values (the source's booking id;
 * the random client id, the source and the event type): deterministic, so two concurrent
 * deliveries for one booking meet on one item and one of them decides again.
 */
export const intakeIds = {
  session: (source: string, bookingId: string) => `bk-${digest(`${source}\n${bookingId}`)}`,
  client: () => `cl-${randomBytes(12).toString('hex')}`,
  plan: (clientId: string, source: string, eventType: string) => `pl-${digest(`${clientId}\n${source}\n${eventType}`)}`,
};

type Decision = { kind: 'ignore'; reason: string } | { kind: 'change'; change: Omit<IntakeChange, 'delivery'> & { sessionId?: string; clientId?: string } };

function mappingFor(source: IntakeSource, event: IntakeEvent): ServiceMapping | undefined {
  for (const name of event.eventTypes ?? []) {
    const found = source.services.find((s) => s.eventType === name);
    if (found) return found;
  }
  return undefined;
}

function bookingOf(s: StoredSession): Session {
  return { id: s.id, planId: s.planId, start: s.start, durationMinutes: s.durationMinutes, location: s.location, status: s.status, version: s.version };
}

/** Why a booking for an erased client is not applied: erasure is final unless ops lift it (docs/SECURITY.md). */
export const ERASED_CLIENT_REASON = 'the client was erased (keepwell client erase): a booking for them is not applied';

type Change = Extract<Decision, { kind: 'change' }>['change'];
type LinksFor = (sessionId: string | undefined, clientId: string | undefined, cancelled?: boolean) => BookingLink[];

function decide(sourceName: string, source: IntakeSource, clinic: Pick<Clinic, 'timezone'>, event: IntakeEvent, state: IntakeState): Decision {
  if (state.erased) return { kind: 'ignore', reason: ERASED_CLIENT_REASON };
  const known = state.link?.sessionId ? state.link : state.previousLink?.sessionId ? state.previousLink : undefined;
  const session = known ? state.bundle?.sessions.find((s) => s.id === known.sessionId) : undefined;
  const applied = Math.max(
    state.link?.version ?? -Infinity,
    state.previousLink?.version ?? -Infinity,
    (session as { intakeVersion?: number } | undefined)?.intakeVersion ?? -Infinity,
  );
  if (event.version <= applied) return { kind: 'ignore', reason: 'stale: a newer change to this booking is already applied' };

  const links: LinksFor = (sessionId, clientId, cancelled = false) =>
    [event.bookingId, ...(event.previousBookingId ? [event.previousBookingId] : [])].map((bookingId) => ({
      source: sourceName,
      bookingId,
      version: event.version,
      ...(sessionId ? { sessionId } : {}),
      ...(clientId ? { clientId } : {}),
      ...(cancelled ? { cancelled: true } : {}),
    }));
  const write = (value: Session, existing: StoredSession | undefined): Change => ({
    session: { value, ...(existing ? { expectedVersion: existing.version } : {}), intakeVersion: event.version },
    links: links(value.id, session?.clientId ?? state.bundle?.client.id),
    ...(state.bundle ? { bundle: state.bundle } : {}),
    sessionId: value.id,
  });

  if (session) return decideKnown(event, session, write);
  return decideNew(sourceName, source, clinic, event, state, links);
}

/** A change to a booking Keepwell already holds: cancel it, mark it, or book or move it. */
function decideKnown(event: IntakeEvent, session: StoredSession, write: (value: Session, existing: StoredSession | undefined) => Change): Decision {
  switch (event.action) {
    case 'cancel':
      return { kind: 'change', change: write({ ...bookingOf(session), status: 'cancelled' }, session) };
    case 'no-show':
    case 'completed':
      return { kind: 'change', change: write({ ...bookingOf(session), status: event.action }, session) };
    case 'book':
    case 'reschedule': {
      if (!event.start) return { kind: 'ignore', reason: 'the booking has no start time' };
      const duration = event.durationMinutes ?? session.durationMinutes;
      const moved = session.status !== 'booked' || session.start !== event.start || session.durationMinutes !== duration;
      const next = {
        ...bookingOf(session),
        start: event.start,
        durationMinutes: duration,
        status: 'booked' as const,
        version: moved ? session.version + 1 : session.version,
      };
      return { kind: 'change', change: write(parseSession(next), session) };
    }
  }
}

/**
 * The booking is new to Keepwell: placed by the mapping, with the client and the plan created
 * when they are new; a cancel leaves a tombstone.
 */
function decideNew(
  sourceName: string,
  source: IntakeSource,
  clinic: Pick<Clinic, 'timezone'>,
  event: IntakeEvent,
  state: IntakeState,
  links: LinksFor,
): Decision {
  if (event.action === 'cancel') return { kind: 'change', change: { links: links(undefined, undefined, true) } };
  if (event.action === 'no-show' || event.action === 'completed') return { kind: 'ignore', reason: `${event.action} for a booking Keepwell does not know` };
  const mapping = mappingFor(source, event);
  if (!mapping)
    return { kind: 'ignore', reason: event.eventTypes?.length ? 'the event type is not mapped in the stage config' : 'the booking names no event type' };
  const email = event.client?.email;
  if (!email) return { kind: 'ignore', reason: 'the booking has no client email address' };
  if (!event.start) return { kind: 'ignore', reason: 'the booking has no start time' };
  if (!state.therapist) return { kind: 'ignore', reason: `the mapped therapist "${mapping.therapistId}" is not in the table` };

  const existingClient = state.bundle?.client;
  let newClient: Client | undefined;
  if (!existingClient) {
    const client = newClientOf(event, email, clinic);
    if (!client) return { kind: 'ignore', reason: 'the client email address is not valid' };
    newClient = client;
  }
  const clientId = existingClient?.id ?? newClient!.id;
  const plan = state.bundle?.plans.find((p) => p.status === 'active' && p.therapistId === mapping.therapistId && p.goal === mapping.plan.goal);
  const eventType = mapping.eventType;
  const newPlan: Plan | undefined = plan
    ? undefined
    : { id: intakeIds.plan(clientId, sourceName, eventType), clientId, therapistId: mapping.therapistId, ...mapping.plan, status: 'active' };
  const value = parseSession({
    id: intakeIds.session(sourceName, event.previousBookingId ?? event.bookingId),
    planId: plan?.id ?? newPlan!.id,
    start: event.start,
    durationMinutes: event.durationMinutes ?? 60,
    location: event.location ?? mapping.location,
    status: 'booked',
    version: 1,
  });
  return {
    kind: 'change',
    change: {
      session: { value, intakeVersion: event.version },
      links: links(value.id, clientId),
      ...(newClient ? { newClient } : {}),
      ...(newPlan ? { newPlan } : {}),
      ...(state.bundle ? { bundle: state.bundle } : {}),
      sessionId: value.id,
      clientId,
    },
  };
}

/** The client a new booking's attendee becomes: the attendee's name and zone, or the address and the clinic's zone when those do not parse. */
function newClientOf(event: IntakeEvent, email: string, clinic: Pick<Clinic, 'timezone'>): Client | undefined {
  const id = intakeIds.client();
  const parsed = clientSchema.safeParse({ id, name: event.client?.name ?? email.split('@')[0], email, timezone: event.client?.timezone ?? clinic.timezone });
  const fallback = parsed.success ? undefined : clientSchema.safeParse({ id, name: email.split('@')[0], email, timezone: clinic.timezone });
  return parsed.success ? parsed.data : fallback?.success ? fallback.data : undefined;
}

function parseSession(input: z.input<typeof sessionSchema>): Session {
  // A source's duration or location outside Keepwell's limits is clamped rather than refused: the booking exists.
  const clamped = { ...input, durationMinutes: Math.min(600, Math.max(1, input.durationMinutes)), location: input.location.slice(0, 200) };
  return sessionSchema.parse(clamped);
}

export interface IntakeDeps {
  readonly store: IntakeStore;
  /** New clients without a time zone of their own get the clinic's. */
  readonly clinic: Pick<Clinic, 'timezone'>;
  readonly now: () => Date;
}

/**
 * The event with control and text-direction override characters removed from every text it
 * carries (shared/domain/text.ts), and the fields they were removed from: a booking system's text
 * lands cleaned rather than refused, since the booking exists whatever its name field holds.
 */
export function cleanIntakeEvent(event: IntakeEvent): { readonly event: IntakeEvent; readonly cleaned: readonly string[] } {
  const cleaned: string[] = [];
  const clean = (field: string, text: string): string => {
    const result = cleanText(text);
    if (result.removed && !cleaned.includes(field)) cleaned.push(field);
    return result.text;
  };
  const { client, ...rest } = event;
  return {
    event: {
      ...rest,
      deliveryId: clean('delivery id', event.deliveryId),
      bookingId: clean('booking id', event.bookingId),
      ...(event.previousBookingId !== undefined ? { previousBookingId: clean('booking id', event.previousBookingId) } : {}),
      ...(event.eventTypes ? { eventTypes: event.eventTypes.map((t) => clean('event type', t)).filter((t) => t !== '') } : {}),
      ...(event.location !== undefined ? { location: clean('location', event.location) || undefined } : {}),
      ...(client ? { client: { ...client, ...(client.name !== undefined ? { name: clean('client name', client.name) || undefined } : {}) } } : {}),
    } as IntakeEvent,
    cleaned,
  };
}

/** Applies one booking change from `sourceName`; see the note at the top of the file. */
export async function receiveBookingChange(deps: IntakeDeps, sourceName: string, source: IntakeSource, received: IntakeEvent): Promise<IntakeOutcome> {
  const { event, cleaned } = cleanIntakeEvent(received);
  const note = cleaned.length > 0 ? `control or text-direction characters removed from the ${cleaned.join(', ')}` : undefined;
  const mapping = mappingFor(source, event);
  const lookup = {
    source: sourceName,
    deliveryId: event.deliveryId,
    bookingId: event.bookingId,
    ...(event.previousBookingId ? { previousBookingId: event.previousBookingId } : {}),
    ...(event.client?.email ? { email: event.client.email } : {}),
    ...(mapping ? { therapistId: mapping.therapistId } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    const state = await deps.store.loadIntakeState(lookup);
    if (state.delivery) return replay(state.delivery);
    const decision = decide(sourceName, source, deps.clinic, event, state);
    const base = {
      source: sourceName,
      deliveryId: event.deliveryId,
      action: event.action,
      bookingId: event.bookingId,
      at: instantOf(deps.now()),
      ...(event.eventTypes?.[0] ? { eventType: event.eventTypes[0].slice(0, 200) } : {}),
    };
    if (decision.kind === 'ignore') {
      const record: DeliveryRecord = { ...base, status: 'ignored', reason: note ? `${decision.reason}; ${note}` : decision.reason };
      const fresh = await deps.store.recordIntakeDelivery(record);
      if (!fresh) {
        // Another copy of this delivery got there first. Its record stands: one read of several items
        // can catch a concurrent copy's transaction half seen (the booking moved, its delivery record
        // not yet), which would look like a stale change.
        const settled = await deps.store.loadIntakeState(lookup);
        if (settled.delivery) return replay(settled.delivery);
      }
      return { status: 'ignored', reason: decision.reason, duplicate: !fresh };
    }
    const { sessionId, clientId, ...change } = decision.change;
    const delivery: DeliveryRecord = {
      ...base,
      status: 'accepted',
      ...(note ? { reason: note } : {}),
      ...(sessionId ? { sessionId } : {}),
      ...((clientId ?? change.session) ? { clientId: clientId ?? state.bundle?.client.id } : {}),
    };
    const result = await deps.store.commitIntake({ ...change, delivery: stripUndefined(delivery) });
    if (result === 'committed') return { status: 'accepted', ...(sessionId ? { sessionId } : {}), duplicate: false };
    if (result === 'duplicate') return { status: 'accepted', ...(sessionId ? { sessionId } : {}), duplicate: true };
    if (attempt >= MAX_ATTEMPTS) throw new Error(`intake: booking changed under delivery ${event.deliveryId} ${MAX_ATTEMPTS} times in a row`);
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function replay(delivery: DeliveryRecord): IntakeOutcome {
  return delivery.status === 'ignored' || delivery.status === 'refused'
    ? { status: 'ignored', reason: delivery.reason ?? delivery.status, duplicate: true }
    : { status: 'accepted', ...(delivery.sessionId ? { sessionId: delivery.sessionId } : {}), duplicate: true };
}
