/**
 * The scenario format `npm run simulate` plays: a clinic's data in the domain model's shapes, the
 * things that happen to it (`events`, each at an instant) and the window to simulate.
 *
 * Validation reports every problem at once, by path, before anything runs: the dataset through
 * `parseDataset`, each event through its schema, then every reference an event makes, followed in
 * time order (a session booked by an earlier event may be cancelled by a later one, not before).
 */
import * as z from 'zod';
import {
  CATEGORIES,
  checkInAnswersSchema,
  emailSchema,
  idSchema,
  instantSchema,
  intakeAnswersSchema,
  sessionSchema,
  type CheckInAnswers,
  type Clinic,
  type IntakeAnswers,
  type Session,
} from '../../shared/domain/model.js';
import { parseDataset, type Dataset } from '../../shared/domain/dataset.js';
import { issuesFromZod, ValidationError, type FieldIssue } from '../../shared/domain/validation.js';
import { parseChaos, type ChaosSettings } from '../chaos/profiles.js';

export const EVENT_TYPES = [
  'book-session',
  'cancel-session',
  'reschedule-session',
  'check-in-response',
  'intake-response',
  'unsubscribe',
  'bounce',
  'pause-plan',
  'resume-plan',
  'webhook',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const at = { at: instantSchema };
const eventSchemas = {
  'book-session': z.object({ ...at, type: z.literal('book-session'), session: sessionSchema }),
  'cancel-session': z.object({ ...at, type: z.literal('cancel-session'), sessionId: idSchema }),
  'reschedule-session': z.object({ ...at, type: z.literal('reschedule-session'), sessionId: idSchema, start: instantSchema }),
  'check-in-response': z.object({ ...at, type: z.literal('check-in-response'), sessionId: idSchema, answers: checkInAnswersSchema }),
  /** The plan's intake questionnaire answered (its baseline), as from its page. */
  'intake-response': z.object({ ...at, type: z.literal('intake-response'), planId: idSchema, answers: intakeAnswersSchema }),
  unsubscribe: z.object({
    ...at,
    type: z.literal('unsubscribe'),
    clientId: idSchema,
    category: z.enum([...CATEGORIES, 'all'], { error: `must be one of ${[...CATEGORIES, 'all'].join(', ')}` }),
  }),
  bounce: z.object({ ...at, type: z.literal('bounce'), email: emailSchema }),
  'pause-plan': z.object({ ...at, type: z.literal('pause-plan'), planId: idSchema }),
  'resume-plan': z.object({ ...at, type: z.literal('resume-plan'), planId: idSchema }),
  /** A booking system's delivery to `/intake/<source>`, signed by the twin with that source's secret; `body` is sent as JSON. */
  webhook: z.object({
    ...at,
    type: z.literal('webhook'),
    source: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be an intake source name'),
    body: z.record(z.string(), z.unknown()),
  }),
} as const;

export type ScenarioEvent =
  | { readonly at: string; readonly type: 'book-session'; readonly session: Session }
  | { readonly at: string; readonly type: 'cancel-session'; readonly sessionId: string }
  | { readonly at: string; readonly type: 'reschedule-session'; readonly sessionId: string; readonly start: string }
  | { readonly at: string; readonly type: 'check-in-response'; readonly sessionId: string; readonly answers: CheckInAnswers }
  | { readonly at: string; readonly type: 'intake-response'; readonly planId: string; readonly answers: IntakeAnswers }
  | { readonly at: string; readonly type: 'unsubscribe'; readonly clientId: string; readonly category: (typeof CATEGORIES)[number] | 'all' }
  | { readonly at: string; readonly type: 'bounce'; readonly email: string }
  | { readonly at: string; readonly type: 'pause-plan'; readonly planId: string }
  | { readonly at: string; readonly type: 'resume-plan'; readonly planId: string }
  | { readonly at: string; readonly type: 'webhook'; readonly source: string; readonly body: Record<string, unknown> };

export interface Scenario {
  readonly clinic: Clinic;
  readonly dataset: Dataset;
  /** In the order they happen (ties keep the file's order). */
  readonly events: readonly ScenarioEvent[];
  readonly simulate: { readonly from: string; readonly until: string };
  /** Faults to inject while it plays (local/chaos/profiles.ts); `--chaos <profile>` adds a profile's. */
  readonly chaos?: ChaosSettings;
}

const windowSchema = z.object({ from: instantSchema, until: instantSchema }, { error: 'is required: { "from": instant, "until": instant }' });
const eventsSchema = z.array(z.unknown(), { error: 'must be a list of events' }).default([]);

/** A missing field says so, instead of zod's "expected string, received undefined". */
const parseOptions = {
  error: (issue: { input?: unknown; code?: string }) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined),
};

function parseEvent(raw: unknown, path: string, issues: FieldIssue[]): ScenarioEvent | undefined {
  const type = (raw as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    issues.push({ path: `${path}.type`, reason: `must be one of ${EVENT_TYPES.join(', ')}` });
    return undefined;
  }
  const result = eventSchemas[type as EventType].safeParse(raw, parseOptions);
  if (!result.success) {
    issues.push(...issuesFromZod(result.error, path));
    return undefined;
  }
  return result.data as ScenarioEvent;
}

interface KnownIds {
  readonly sessions: Set<string>;
  readonly plans: Set<string>;
  readonly clients: Set<string>;
  readonly emails: Set<string>;
}

/**
 * The ids the scenario's own records declare, read from the raw lists: a record with a bad field
 * is reported by the dataset's validation, and still exists as far as the events are concerned.
 */
function declaredIds(input: Record<string, unknown>): KnownIds {
  const list = (key: string) => (Array.isArray(input[key]) ? (input[key] as unknown[]) : []);
  const field = (record: unknown, name: string) => {
    const value = (record as Record<string, unknown> | null)?.[name];
    return typeof value === 'string' ? [value] : [];
  };
  return {
    sessions: new Set(list('sessions').flatMap((r) => field(r, 'id'))),
    plans: new Set(list('plans').flatMap((r) => field(r, 'id'))),
    clients: new Set(list('clients').flatMap((r) => field(r, 'id'))),
    emails: new Set(
      list('clients')
        .flatMap((r) => field(r, 'email'))
        .map((e) => e.trim().toLowerCase()),
    ),
  };
}

/** Follows the events in time order and reports every reference to something that does not exist then. */
function checkReferences(known: KnownIds, events: ReadonlyArray<{ event: ScenarioEvent; index: number }>, issues: FieldIssue[]): void {
  const { sessions, plans, clients, emails } = known;
  const missing = (index: number, field: string, what: string, id: string) =>
    issues.push({ path: `events[${index}].${field}`, reason: `refers to a missing ${what} "${id}"` });
  for (const { event, index } of events) {
    switch (event.type) {
      case 'book-session':
        if (sessions.has(event.session.id)) issues.push({ path: `events[${index}].session.id`, reason: `session "${event.session.id}" already exists` });
        if (!plans.has(event.session.planId)) missing(index, 'session.planId', 'plan', event.session.planId);
        sessions.add(event.session.id);
        break;
      case 'cancel-session':
      case 'reschedule-session':
      case 'check-in-response':
        if (!sessions.has(event.sessionId)) missing(index, 'sessionId', 'session', event.sessionId);
        break;
      case 'unsubscribe':
        if (!clients.has(event.clientId)) missing(index, 'clientId', 'client', event.clientId);
        break;
      case 'bounce':
        if (!emails.has(event.email.toLowerCase()))
          issues.push({ path: `events[${index}].email`, reason: `"${event.email}" is not the address of any client in the scenario` });
        break;
      case 'pause-plan':
      case 'resume-plan':
      case 'intake-response':
        if (!plans.has(event.planId)) missing(index, 'planId', 'plan', event.planId);
        break;
    }
  }
}

/** Validates a scenario, or throws a ValidationError naming every bad field by path. */
export function parseScenario(input: unknown, what = 'scenario'): Scenario {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(what, [{ path: '', reason: 'must be a JSON object with clinic, therapists, clients, plans, sessions, events and simulate' }]);
  }
  const raw = input as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  if (raw.clinic === undefined) issues.push({ path: 'clinic', reason: 'is required: the clinic the scenario plays in' });

  let dataset: Dataset | undefined;
  try {
    dataset = parseDataset(input, what);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    issues.push(...error.issues);
  }

  const window = windowSchema.safeParse(raw.simulate, parseOptions);
  if (!window.success) issues.push(...issuesFromZod(window.error, 'simulate'));
  else if (window.data.from >= window.data.until) issues.push({ path: 'simulate.until', reason: `must be after simulate.from (${window.data.from})` });

  const rawEvents = eventsSchema.safeParse(raw.events);
  if (!rawEvents.success) issues.push(...issuesFromZod(rawEvents.error, 'events'));
  const parsed: Array<{ event: ScenarioEvent; index: number }> = [];
  (rawEvents.success ? rawEvents.data : []).forEach((event, index) => {
    const ok = parseEvent(event, `events[${index}]`, issues);
    if (ok) parsed.push({ event: ok, index });
  });
  // Array.prototype.sort is stable: events at the same instant keep the file's order.
  parsed.sort((a, b) => (a.event.at < b.event.at ? -1 : a.event.at > b.event.at ? 1 : 0));

  if (window.success) {
    const { from, until } = window.data;
    for (const { event, index } of parsed) {
      if (event.at < from || event.at > until)
        issues.push({ path: `events[${index}].at`, reason: `${event.at} is outside the simulated window ${from} – ${until}` });
    }
  }
  checkReferences(declaredIds(raw), parsed, issues);

  let chaos: ChaosSettings | undefined;
  if (raw.chaos !== undefined) {
    try {
      chaos = parseChaos(raw.chaos);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }

  if (issues.length > 0 || !dataset?.clinic || !window.success) throw new ValidationError(what, issues);
  return { clinic: dataset.clinic, dataset, events: parsed.map((p) => p.event), simulate: window.data, ...(chaos ? { chaos } : {}) };
}
