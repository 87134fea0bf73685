/**
 * A clinic's data as a whole (a scenario, an import): every record validated, then every
 * reference checked, with all problems reported together by path.
 */
import * as z from 'zod';
import { clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema, type Client, type Clinic, type Plan, type Session, type Therapist } from './model.js';
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
  duplicates(therapists.map((t) => t.id), 'therapists', issues);
  duplicates(clients.map((c) => c.id), 'clients', issues);
  duplicates(plans.map((p) => p.id), 'plans', issues);
  duplicates(sessions.map((s) => s.id), 'sessions', issues);

  const clientIds = new Set([...clients.map((c) => c.id), ...(known.clients ?? [])]);
  const therapistIds = new Set([...therapists.map((t) => t.id), ...(known.therapists ?? [])]);
  const planIds = new Set([...plans.map((p) => p.id), ...(known.plans ?? [])]);
  const rawPlans = raw.data.plans as Array<{ id?: unknown; clientId?: unknown; therapistId?: unknown }>;
  rawPlans.forEach((p, i) => {
    if (typeof p?.clientId === 'string' && !clientIds.has(p.clientId)) issues.push({ path: `plans[${i}].clientId`, reason: `refers to a missing client "${p.clientId}"` });
    if (typeof p?.therapistId === 'string' && !therapistIds.has(p.therapistId)) issues.push({ path: `plans[${i}].therapistId`, reason: `refers to a missing therapist "${p.therapistId}"` });
  });
  (raw.data.sessions as Array<{ planId?: unknown }>).forEach((s, i) => {
    if (typeof s?.planId === 'string' && !planIds.has(s.planId)) issues.push({ path: `sessions[${i}].planId`, reason: `refers to a missing plan "${s.planId}"` });
  });
  if (issues.length > 0) throw new ValidationError(what, issues);
  return { ...(clinic ? { clinic } : {}), therapists, clients, plans, sessions };
}
