/**
 * A small practice for the web page tests (unit, integration and browser): one therapist, one
 * client, a plan, a session that has happened (for the check-in) and one still to come (for
 * confirm and reschedule), and the signed links the emails would carry. Ids and addresses are
 * unique per call, so tests can share one table and one SES local inbox.
 */
import { randomUUID } from 'node:crypto';
import { clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema, type Clinic, type Client, type Therapist } from '../../shared/domain/model.js';
import type { ClinicStore, StoredSession } from '../../shared/ports/store.js';
import { pagePaths, type LinkSigner, type TokenPurpose } from '../../shared/security/tokens.js';

/** A test key: 32 random bytes in base64, the minimum TokenSigner accepts. */
export const TEST_TOKEN_KEY = 'Yz3KLK0A1pMgdh7x1LGCrjh2BI5bUeraKWWK8VGY2c4=';

/** Wednesday 10 March 2027, noon UTC: the tests' "now". */
export const NOW = new Date('2027-03-10T12:00:00.000Z');

export function testClinic(baseUrl = 'https://care.harbour.example'): Clinic {
  return clinicSchema.parse({
    name: 'Harbour Massage Clinic',
    senderEmail: 'care@harbour.example',
    timezone: 'Europe/London',
    baseUrl,
    phone: '020 7946 0000',
    emergencyNumber: '999',
  });
}

export interface Practice {
  readonly therapist: Therapist;
  readonly client: Client;
  readonly planId: string;
  /** Yesterday at 15:00 UTC: 10:00 in the client's zone (New York). */
  readonly past: StoredSession;
  /** Saturday 13 March 2027 at 14:30 UTC. */
  readonly upcoming: StoredSession;
}

export async function seedPractice(store: ClinicStore, options: { tag?: string } = {}): Promise<Practice> {
  const tag = options.tag ?? randomUUID().slice(0, 8);
  const therapist = therapistSchema.parse({ id: `t-${tag}`, name: 'Amy Chen', email: `amy-${tag}@harbour.example`, timezone: 'Europe/London' });
  const client = clientSchema.parse({ id: `c-${tag}`, name: 'Sam Rivera', email: `sam-${tag}@client.example`, timezone: 'America/New_York' });
  const plan = planSchema.parse({
    id: `p-${tag}`,
    clientId: client.id,
    therapistId: therapist.id,
    goal: 'back-pain',
    phases: [
      { name: 'initial', sessions: 6, everyDays: 7 },
      { name: 'maintenance', everyDays: 28 },
    ],
  });
  await store.putTherapist(therapist);
  await store.putClient(client);
  await store.putPlan(plan);
  const past = await store.saveSession(
    sessionSchema.parse({
      id: `s-${tag}-1`,
      planId: plan.id,
      start: '2027-03-09T15:00:00Z',
      durationMinutes: 60,
      location: 'Room 2, 14 Quay Street',
      status: 'completed',
    }),
  );
  const upcoming = await store.saveSession(
    sessionSchema.parse({ id: `s-${tag}-2`, planId: plan.id, start: '2027-03-13T14:30:00Z', durationMinutes: 60, location: 'Room 2, 14 Quay Street' }),
  );
  return { therapist, client, planId: plan.id, past, upcoming };
}

/** A second session on the same plan, for a check-in compared against the first (the baseline). */
export async function addPastSession(store: ClinicStore, practice: Practice, n: number, start: string): Promise<StoredSession> {
  return store.saveSession(
    sessionSchema.parse({
      id: `${practice.past.id.slice(0, -2)}-${n}`,
      planId: practice.planId,
      start,
      durationMinutes: 60,
      location: practice.past.location,
      status: 'completed',
    }),
  );
}

const PATH: Record<TokenPurpose, (token: string) => string> = {
  'check-in': pagePaths.checkIn,
  confirm: pagePaths.confirm,
  reschedule: pagePaths.reschedule,
  unsubscribe: pagePaths.unsubscribe,
  resubscribe: pagePaths.resubscribe,
  'adjust-plan': pagePaths.adjustPlan,
  intake: pagePaths.intake,
};

/** The path of a page link, as an email built at `now` would carry it. */
export function linkPath(signer: Pick<LinkSigner, 'issue'>, purpose: TokenPurpose, clientId: string, subject: string, now: Date = NOW): string {
  return PATH[purpose](signer.issue({ purpose, clientId, subject, now }));
}

/** The token inside a page path. */
export function tokenOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
