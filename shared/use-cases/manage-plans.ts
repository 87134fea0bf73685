/**
 * The writers' use cases: booking, cancelling and moving sessions, pausing and resuming plans,
 * adjusting a plan (interval, pause, resume, complete — with its history), unsubscribing and
 * suppressing clients, importing a clinic's data. Each validates its input,
 * refuses references to things that do not exist, and writes through the store; the table's
 * stream then brings the schedules in line (sync-schedules), so nothing here talks to the Scheduler.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { CATEGORIES, instantSchema, idSchema, sessionSchema, type Category, type Client, type Session } from '../domain/model.js';
import { parseDataset, type Dataset } from '../domain/dataset.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { issuesFromZod, parseOrThrow, ValidationError, type FieldIssue } from '../domain/validation.js';
import { applyAdjustment, maintenancePhaseIndex, planAdjustmentSchema, planStateOf, type PlanChange } from '../domain/plan-change.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { ClinicStore, StoredPlan, StoredSession } from '../ports/store.js';

// Raised here; defined with the other domain errors. Re-exported for the CLI.
export { ConflictError };

/** Books a new session on an existing plan. */
export async function bookSession(store: ClinicStore, input: unknown): Promise<StoredSession> {
  const session = parseOrThrow(sessionSchema, input, 'session');
  if (await store.findSession(session.id)) throw new ConflictError(`session "${session.id}" already exists; reschedule or cancel it instead`);
  if (!(await store.findPlan(session.planId)))
    throw new ValidationError('session', [{ path: 'planId', reason: `refers to a missing plan "${session.planId}"` }]);
  return store.saveSession({ ...session, status: 'booked', version: 1 });
}

async function existingSession(store: ClinicStore, sessionId: string): Promise<StoredSession> {
  parseOrThrow(idSchema, sessionId, 'session id');
  const session = await store.findSession(sessionId);
  if (!session) throw new NotFoundError('session', sessionId);
  return session;
}

function bookingOf(s: StoredSession): Session {
  return { id: s.id, planId: s.planId, start: s.start, durationMinutes: s.durationMinutes, location: s.location, status: s.status, version: s.version };
}

/** Cancels a session; its pending reminders and check-in go with it. */
export async function cancelSession(store: ClinicStore, sessionId: string): Promise<StoredSession> {
  const session = await existingSession(store, sessionId);
  if (session.status === 'cancelled') return session;
  return store.saveSession({ ...bookingOf(session), status: 'cancelled' });
}

/** Moves a session; the version rises so every message about the old time is void. */
export async function rescheduleSession(
  store: ClinicStore,
  sessionId: string,
  start: string,
  changes: { durationMinutes?: number; location?: string } = {},
): Promise<StoredSession> {
  const session = await existingSession(store, sessionId);
  const newStart = parseOrThrow(instantSchema, start, 'start');
  const next = parseOrThrow(sessionSchema, { ...bookingOf(session), ...changes, start: newStart, status: 'booked', version: session.version + 1 }, 'session');
  return store.saveSession(next);
}

/** Records what happened at a session: completed or no-show. */
export async function markSession(store: ClinicStore, sessionId: string, status: 'completed' | 'no-show'): Promise<StoredSession> {
  const session = await existingSession(store, sessionId);
  return store.saveSession({ ...bookingOf(session), status });
}

async function existingPlan(store: ClinicStore, planId: string): Promise<StoredPlan> {
  parseOrThrow(idSchema, planId, 'plan id');
  const plan = await store.findPlan(planId);
  if (!plan) throw new NotFoundError('plan', planId);
  return plan;
}

export async function setPlanStatus(store: ClinicStore, planId: string, status: 'active' | 'paused' | 'completed'): Promise<StoredPlan> {
  const plan = await existingPlan(store, planId);
  if (plan.status === status) return plan;
  return store.updatePlanStatus(plan.clientId, plan.id, status);
}

export const pausePlan = (store: ClinicStore, planId: string) => setPlanStatus(store, planId, 'paused');
export const resumePlan = (store: ClinicStore, planId: string) => setPlanStatus(store, planId, 'active');

export interface AdjustPlanInput {
  readonly planId: string;
  /** `{ action, days?, note? }` as the CLI or the page sends it; validated here. */
  readonly adjustment: unknown;
  /** Who asks: the therapist's id (email link) or the operator's name (CLI). */
  readonly by: string;
  readonly via: PlanChange['via'];
  readonly now: Instant | Date;
  /** When set, only this therapist's plan may be changed; another's is "not found", like a missing one. */
  readonly therapistId?: string;
  /** The change's id in the plan's history. An email link passes its token id, so it acts once. @default random */
  readonly changeId?: string;
}

export type AdjustPlanOutcome =
  | { readonly status: 'adjusted'; readonly plan: StoredPlan; readonly change: PlanChange }
  /** The plan already stands as asked (pausing a paused plan): nothing written. */
  | { readonly status: 'unchanged'; readonly plan: StoredPlan; readonly reason: string }
  /** Not possible from the plan's state (pausing a completed plan): nothing written. */
  | { readonly status: 'refused'; readonly plan: StoredPlan; readonly reason: string }
  /** A change with this id is in the history already: the link that carried it acted. */
  | { readonly status: 'already-done' }
  | { readonly status: 'invalid'; readonly issues: readonly FieldIssue[] };

/** How often a change is decided again when another write moved the plan in between. */
const STALE_RETRIES = 3;

/**
 * Changes a plan's maintenance interval or status, with a note, for the summary email's page and
 * the CLI alike. Step by step:
 * 1. Validate the request (action, days for an interval, a one-line note).
 * 2. Read the plan; another therapist's plan is treated as missing.
 * 3. Decide from the plan's state (shared/domain/plan-change.ts): the new state, or why not.
 * 4. Write the plan and its history entry in one conditional transaction: only if the plan still
 *    stands as read, and only once per change id. A plan moved on meanwhile is read and decided
 *    again. The table's stream then brings the schedules in line (sync-schedules), as for any
 *    plan write: a pause deletes them, a resume recreates them, an interval moves the nudge.
 */
export async function adjustPlan(store: ClinicStore, input: AdjustPlanInput): Promise<AdjustPlanOutcome> {
  const parsed = planAdjustmentSchema.safeParse(input.adjustment);
  if (!parsed.success) return { status: 'invalid', issues: issuesFromZod(parsed.error) };
  const adjustment = parsed.data;
  const at = toInstant(input.now);
  // Changes at one instant list by id: a default id starts with the real time it was made, so two
  // CLI commands under a twin's fixed clock still list in the order they ran.
  const id = input.changeId ?? `${Date.now().toString(36).padStart(9, '0')}${randomUUID().replace(/-/g, '').slice(0, 11)}`;
  for (let attempt = 0; ; attempt++) {
    const plan = await existingPlan(store, input.planId);
    if (input.therapistId !== undefined && plan.therapistId !== input.therapistId) throw new NotFoundError('plan', input.planId);
    const before = planStateOf(plan);
    const decided = applyAdjustment(before, adjustment);
    if ('refused' in decided)
      return decided.unchanged ? { status: 'unchanged', plan, reason: decided.refused } : { status: 'refused', plan, reason: decided.refused };
    const change: PlanChange = {
      id,
      planId: plan.id,
      clientId: plan.clientId,
      therapistId: plan.therapistId,
      action: adjustment.action,
      before,
      after: decided.after,
      by: input.by,
      via: input.via,
      ...(adjustment.note ? { note: adjustment.note } : {}),
      at,
    };
    const result = await store.recordPlanChange(change, maintenancePhaseIndex(plan));
    if (result.status === 'recorded') return { status: 'adjusted', plan: result.plan, change };
    if (result.status === 'duplicate') return { status: 'already-done' };
    if (attempt + 1 >= STALE_RETRIES) throw new ConflictError(`plan "${plan.id}" kept changing while it was being adjusted; try again`);
  }
}

/** A plan's history of changes, oldest first. */
export async function planHistory(store: ClinicStore, planId: string): Promise<{ plan: StoredPlan; changes: PlanChange[] }> {
  const plan = await existingPlan(store, planId);
  return { plan, changes: await store.planHistory(plan.clientId, plan.id) };
}

const categoryInput = z.enum([...CATEGORIES, 'all'], { error: `must be one of ${[...CATEGORIES, 'all'].join(', ')}` });

/** Unsubscribes a client from one category, or from everything. */
export async function unsubscribe(store: ClinicStore, clientId: string, category: string): Promise<Client> {
  parseOrThrow(idSchema, clientId, 'client id');
  const parsed = parseOrThrow(categoryInput, category, 'category') as Category | 'all';
  return store.setPreference(clientId, parsed, false);
}

/** A hard bounce or complaint: the address gets nothing more, in any category. */
export async function suppressAddress(
  store: ClinicStore,
  email: string,
  reason: 'bounce' | 'complaint',
  at: string,
  detail?: string,
): Promise<Client | undefined> {
  return store.suppressByEmail(email, reason, at, detail);
}

/** Ids a dataset refers to without defining them: they must already be in the table. */
function outsideReferences(input: unknown): { clients: Set<string>; therapists: Set<string>; plans: Set<string> } {
  const refs = { clients: new Set<string>(), therapists: new Set<string>(), plans: new Set<string>() };
  const data = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const list = (key: string) => (Array.isArray(data[key]) ? (data[key] as Array<Record<string, unknown>>) : []);
  const defined = (key: string) =>
    new Set(
      list(key)
        .map((r) => r?.id)
        .filter((id): id is string => typeof id === 'string'),
    );
  const [clients, therapists, plans] = [defined('clients'), defined('therapists'), defined('plans')];
  for (const plan of list('plans')) {
    if (typeof plan?.clientId === 'string' && !clients.has(plan.clientId)) refs.clients.add(plan.clientId);
    if (typeof plan?.therapistId === 'string' && !therapists.has(plan.therapistId)) refs.therapists.add(plan.therapistId);
  }
  for (const session of list('sessions')) if (typeof session?.planId === 'string' && !plans.has(session.planId)) refs.plans.add(session.planId);
  return refs;
}

async function existing(ids: Set<string>, find: (id: string) => Promise<unknown>): Promise<Set<string>> {
  const found = await Promise.all([...ids].filter((id) => idSchema.safeParse(id).success).map(async (id) => ((await find(id)) ? id : undefined)));
  return new Set(found.filter((id): id is string => id !== undefined));
}

/**
 * Writes a validated dataset: therapists, clients, plans, then sessions (so every reference exists
 * when it is written). Everything is validated first — including references to records already in
 * the table — so bad input writes nothing. Importing again is safe: what clients chose
 * (subscriptions) or the system learned (suppression) is kept, a plan keeps its status, and a
 * session keeps its status and version unless its time changed, which counts as a reschedule.
 */
export async function importDataset(
  store: ClinicStore,
  input: unknown | Dataset,
  options: { onProgress?: (done: number, total: number) => void } = {},
): Promise<{ therapists: number; clients: number; plans: number; sessions: number }> {
  const refs = outsideReferences(input);
  const known = {
    clients: await existing(refs.clients, (id) => store.getClient(id)),
    therapists: await existing(refs.therapists, (id) => store.getTherapist(id)),
    plans: await existing(refs.plans, (id) => store.findPlan(id)),
  };
  const data = parseDataset(input, 'dataset', known);
  const total = data.therapists.length + data.clients.length + data.plans.length + data.sessions.length;
  let done = 0;
  const tick = () => options.onProgress?.(++done, total);
  for (const therapist of data.therapists) {
    await store.putTherapist(therapist);
    tick();
  }
  for (const client of data.clients) {
    const current = await store.getClient(client.id);
    await store.putClient(
      current ? { ...client, preferences: current.preferences, ...(current.suppressed ? { suppressed: current.suppressed } : {}) } : client,
    );
    tick();
  }
  for (const plan of data.plans) {
    const current = await store.findPlan(plan.id);
    await store.putPlan(current ? { ...plan, status: current.status } : plan);
    tick();
  }
  for (const session of data.sessions) {
    const current = await store.findSession(session.id);
    if (!current) await store.saveSession(session);
    else if (current.start !== session.start) await store.saveSession({ ...session, status: 'booked', version: current.version + 1 });
    else await store.saveSession({ ...session, status: current.status, version: current.version });
    tick();
  }
  return { therapists: data.therapists.length, clients: data.clients.length, plans: data.plans.length, sessions: data.sessions.length };
}
