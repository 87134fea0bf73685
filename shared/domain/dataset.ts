/**
 * A clinic's data as a whole (a scenario, an import): every record validated, then every
 * reference checked, with all problems reported together by path.
 */
import * as z from 'zod';
import { normalizeEmail } from './email-address.js';
import {
  clientSchema,
  clinicSchema,
  planSchema,
  sessionSchema,
  therapistSchema,
  type Client,
  type Clinic,
  type Plan,
  type Session,
  type Therapist,
} from './model.js';
import { issuesFromZod, ValidationError, type FieldIssue } from './validation.js';

export interface Dataset {
  readonly clinic?: Clinic;
  readonly therapists: Therapist[];
  readonly clients: Client[];
  readonly plans: Plan[];
  readonly sessions: Session[];
}

const rawDataset = z.object({
  clinic: z.unknown().optional(),
  therapists: z.array(z.unknown()).default([]),
  clients: z.array(z.unknown()).default([]),
  plans: z.array(z.unknown()).default([]),
  sessions: z.array(z.unknown()).default([]),
});

function collect<T>(schema: z.ZodType<T>, values: unknown[], prefix: string, issues: FieldIssue[]): T[] {
  const out: T[] = [];
  values.forEach((value, i) => {
    const result = schema.safeParse(value);
    if (result.success) out.push(result.data);
    else issues.push(...issuesFromZod(result.error, `${prefix}[${i}]`));
  });
  return out;
}

function duplicates(ids: string[], prefix: string, issues: FieldIssue[]): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) issues.push({ path: `${prefix}[${i}].id`, reason: `duplicate id "${id}"` });
    seen.add(id);
  });
}

/**
 * Validates a dataset. `known` holds ids that already exist elsewhere (in the table), so an
 * import may refer to a client stored earlier.
 */
export function parseDataset(input: unknown, what = 'dataset', known: { clients?: Set<string>; therapists?: Set<string>; plans?: Set<string> } = {}): Dataset {
  const issues: FieldIssue[] = [];
  const raw = rawDataset.safeParse(input);
  if (!raw.success) throw new ValidationError(what, issuesFromZod(raw.error));
  let clinic: Clinic | undefined;
  if (raw.data.clinic !== undefined) {
    const parsed = clinicSchema.safeParse(raw.data.clinic);
    if (parsed.success) clinic = parsed.data;
    else issues.push(...issuesFromZod(parsed.error, 'clinic'));
  }
  const therapists = collect(therapistSchema, raw.data.therapists, 'therapists', issues);
  const clients = collect(clientSchema, raw.data.clients, 'clients', issues);
  const plans = collect(planSchema, raw.data.plans, 'plans', issues);
  const sessions = collect(sessionSchema, raw.data.sessions, 'sessions', issues);
  duplicates(
    therapists.map((t) => t.id),
    'therapists',
    issues,
  );
  duplicates(
    clients.map((c) => c.id),
    'clients',
    issues,
  );
  duplicates(
    plans.map((p) => p.id),
    'plans',
    issues,
  );
  duplicates(
    sessions.map((s) => s.id),
    'sessions',
    issues,
  );

  sameAddresses(clients, raw.data.clients, issues);
  samePlanOverlaps(sessions, raw.data.sessions, issues);

  const clientIds = new Set([...clients.map((c) => c.id), ...(known.clients ?? [])]);
  const therapistIds = new Set([...therapists.map((t) => t.id), ...(known.therapists ?? [])]);
  const planIds = new Set([...plans.map((p) => p.id), ...(known.plans ?? [])]);
  const rawPlans = raw.data.plans as Array<{ id?: unknown; clientId?: unknown; therapistId?: unknown }>;
  rawPlans.forEach((p, i) => {
    if (typeof p?.clientId === 'string' && !clientIds.has(p.clientId))
      issues.push({ path: `plans[${i}].clientId`, reason: `refers to a missing client "${p.clientId}"` });
    if (typeof p?.therapistId === 'string' && !therapistIds.has(p.therapistId))
      issues.push({ path: `plans[${i}].therapistId`, reason: `refers to a missing therapist "${p.therapistId}"` });
  });
  (raw.data.sessions as Array<{ planId?: unknown }>).forEach((s, i) => {
    if (typeof s?.planId === 'string' && !planIds.has(s.planId))
      issues.push({ path: `sessions[${i}].planId`, reason: `refers to a missing plan "${s.planId}"` });
  });
  if (issues.length > 0) throw new ValidationError(what, issues);
  return { ...(clinic ? { clinic } : {}), therapists, clients, plans, sessions };
}

/** Each record's position in the raw input, by id (collect drops the records that fail, so parsed indexes shift). */
function positionsOf(parsed: readonly { id: string }[], rawList: unknown[]): Map<string, number> {
  const positions = new Map<string, number>();
  rawList.forEach((value, i) => {
    const id = (value as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && !positions.has(id)) positions.set(id, i);
  });
  for (const [i, record] of parsed.entries()) if (!positions.has(record.id)) positions.set(record.id, i);
  return positions;
}

/** One address, one client: a second client with the same address (in any case) is refused, naming the first. */
function sameAddresses(clients: readonly Client[], rawClients: unknown[], issues: FieldIssue[]): void {
  const position = positionsOf(clients, rawClients);
  const first = new Map<string, Client>();
  for (const client of clients) {
    const address = normalizeEmail(client.email);
    const earlier = first.get(address);
    if (!earlier) first.set(address, client);
    else if (earlier.id !== client.id)
      issues.push({
        path: `clients[${position.get(client.id)}].email`,
        reason: `is the address of clients[${position.get(earlier.id)}] (client ${earlier.id}) already: one address is one client, whatever its case`,
      });
  }
}

const MINUTE_MS = 60_000;

interface Slot {
  readonly session: Session;
  readonly start: number;
  readonly end: number;
}

/** Pairs of booked sessions (cancelled and no-show ones hold no time) whose times overlap, within each group. */
function overlapsWithin(groups: Map<string, Slot[]>): Array<[Slot, Slot]> {
  const pairs: Array<[Slot, Slot]> = [];
  for (const slots of groups.values()) {
    slots.sort((a, b) => a.start - b.start);
    for (let i = 0; i < slots.length; i++) {
      for (let j = i + 1; j < slots.length && slots[j]!.start < slots[i]!.end; j++) pairs.push([slots[i]!, slots[j]!]);
    }
  }
  return pairs;
}

function slotsBy(sessions: readonly Session[], key: (s: Session) => string | undefined): Map<string, Slot[]> {
  const groups = new Map<string, Slot[]>();
  for (const session of sessions) {
    if (session.status === 'cancelled' || session.status === 'no-show') continue;
    const k = key(session);
    if (k === undefined) continue;
    const start = Date.parse(session.start);
    groups.set(k, [...(groups.get(k) ?? []), { session, start, end: start + session.durationMinutes * MINUTE_MS }]);
  }
  return groups;
}

/** A client cannot be in two sessions of one plan at once: the later one is refused. */
function samePlanOverlaps(sessions: readonly Session[], rawSessions: unknown[], issues: FieldIssue[]): void {
  const position = positionsOf(sessions, rawSessions);
  for (const [a, b] of overlapsWithin(slotsBy(sessions, (s) => s.planId))) {
    issues.push({
      path: `sessions[${position.get(b.session.id)}].start`,
      reason: `overlaps sessions[${position.get(a.session.id)}] (session ${a.session.id}) of the same plan: one client cannot be in two sessions at once`,
    });
  }
}

/**
 * Things a clinic should look at that do not stop an import: a therapist booked for two clients at
 * once. Booking systems allow it on purpose (a couples' session, an assistant, a double room), so
 * it is reported by path, not refused. `therapistOf` maps a plan id to its therapist.
 */
export function datasetWarnings(dataset: Pick<Dataset, 'plans' | 'sessions'>, rawSessions: unknown[] = dataset.sessions): FieldIssue[] {
  const therapistOf = new Map(dataset.plans.map((p) => [p.id, p.therapistId]));
  const position = positionsOf(dataset.sessions, rawSessions);
  return overlapsWithin(slotsBy(dataset.sessions, (s) => therapistOf.get(s.planId)))
    .filter(([a, b]) => a.session.planId !== b.session.planId)
    .map(([a, b]) => ({
      path: `sessions[${position.get(b.session.id)}].start`,
      reason: `therapist ${therapistOf.get(b.session.planId)} is also booked then with sessions[${position.get(a.session.id)}] (session ${a.session.id}): imported, but check the calendar`,
    }));
}
