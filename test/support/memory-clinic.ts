/**
 * A small clinic in memory for tests of anything that sends: the clinic's settings, a therapist,
 * a client on a back-pain plan (six weekly sessions, then maintenance every 28 days) and helpers
 * to seed any ClinicStore (the in-memory one or DynamoDB Local) and to build dispatch payloads.
 * Every builder takes overrides; `uniqueEmail` keeps tests that share SES local apart.
 */
import { randomUUID } from 'node:crypto';
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
} from '../../shared/domain/model.js';
import type { DispatchPayload } from '../../shared/domain/dispatch-payload.js';
import { CHECK_IN_OFFSET, type MessageIdentity } from '../../shared/domain/message.js';
import type { ClinicStore, StoredSession } from '../../shared/ports/store.js';
import { TokenSigner } from '../../shared/security/tokens.js';

export const TEST_TOKEN_KEY = 'B7fxMCj3guulOYWehkii1+oEy/tZCfIckyKRGkLX8ms=';
export const testSigner = () => new TokenSigner(TEST_TOKEN_KEY);

export const clinicFixture = (overrides: Partial<Clinic> = {}): Clinic =>
  clinicSchema.parse({
    name: 'Calm & Co Massage',
    senderEmail: 'hello@calm.test',
    timezone: 'Europe/London',
    baseUrl: 'https://keepwell.calm.test',
    quietHours: { start: '21:00', end: '08:00' },
    signature: 'Warm regards, the Calm & Co team',
    bookingUrl: 'https://calm.test/book',
    phone: '020 7946 0000',
    ...overrides,
  });

/** An address no other test uses, so tests sharing SES local can read back only their own email. */
export function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}@clients.test`;
}

export const therapistFixture = (overrides: Partial<Therapist> = {}): Therapist =>
  therapistSchema.parse({ id: 't-jo', name: 'Jo Rivers', email: 'jo@calm.test', timezone: 'Europe/London', ...overrides });

export const clientFixture = (overrides: Partial<Client> = {}): Client =>
  clientSchema.parse({ id: `c-${randomUUID().slice(0, 8)}`, name: 'Sam Patel', email: uniqueEmail('sam'), timezone: 'Europe/London', ...overrides });

export const planFixture = (client: Client, overrides: Partial<Plan> = {}): Plan =>
  planSchema.parse({
    id: `p-${client.id}`,
    clientId: client.id,
    therapistId: 't-jo',
    goal: 'back-pain',
    phases: [
      { name: 'initial', sessions: 6, everyDays: 7 },
      { name: 'maintenance', everyDays: 28 },
    ],
    reminders: ['P2D', 'PT2H'],
    checkInAfter: 'PT24H',
    ...overrides,
  });

export const sessionFixture = (plan: Plan, id: string, start: string, overrides: Partial<Session> = {}): Session =>
  sessionSchema.parse({ id, planId: plan.id, start, durationMinutes: 60, location: 'Room 2, 14 Harbour Street', ...overrides });

export interface SeededClinic {
  readonly therapist: Therapist;
  readonly client: Client;
  readonly plan: Plan;
  readonly sessions: StoredSession[];
}

/**
 * Writes a therapist, a client, a plan and the given session starts (weekly by default), returning
 * the sessions as stored (numbered). The last session is the one most tests send about.
 */
export async function seedClinic(
  store: ClinicStore,
  options: { client?: Partial<Client>; plan?: Partial<Plan>; therapist?: Partial<Therapist>; starts?: readonly string[] } = {},
): Promise<SeededClinic> {
  const therapist = therapistFixture(options.therapist);
  const client = clientFixture(options.client);
  const plan = planFixture(client, { therapistId: therapist.id, ...options.plan });
  await store.putTherapist(therapist);
  await store.putClient(client);
  await store.putPlan(plan);
  const starts = options.starts ?? ['2027-01-18T14:00:00.000Z', '2027-01-25T14:00:00.000Z', '2027-02-01T14:00:00.000Z'];
  const sessions: StoredSession[] = [];
  for (const [i, start] of starts.entries()) sessions.push(await store.saveSession(sessionFixture(plan, `s-${client.id}-${i + 1}`, start)));
  // Saving a session renumbers the others: read back what is stored now.
  const stored = await Promise.all(sessions.map(async (s) => (await store.findSession(s.id)) ?? s));
  return { therapist, client, plan, sessions: stored };
}

export const reminderIdentity = (session: Pick<Session, 'id' | 'version'>, offset = 'P2D'): MessageIdentity => ({
  kind: 'reminder',
  subjectId: session.id,
  offset,
  version: session.version,
});
export const checkInIdentity = (session: Pick<Session, 'id' | 'version'>): MessageIdentity => ({
  kind: 'check-in',
  subjectId: session.id,
  offset: CHECK_IN_OFFSET,
  version: session.version,
});

/** What a one-time schedule would deliver for `identity`, with the Scheduler's context attributes. */
export function payloadFor(seeded: Pick<SeededClinic, 'client' | 'plan'>, identity: MessageIdentity, scheduledTime?: string): DispatchPayload {
  return {
    message: identity,
    clientId: seeded.client.id,
    planId: seeded.plan.id,
    ...(identity.kind === 'maintenance-nudge' ? {} : { sessionId: identity.subjectId }),
    therapistId: seeded.plan.therapistId,
    ...(scheduledTime ? { scheduledTime, executionId: randomUUID(), attempt: 1 } : {}),
  };
}
