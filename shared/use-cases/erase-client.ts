/**
 * Erasing a client, and exporting what Keepwell holds about one (a subject-access request).
 *
 * Erase, step by step:
 * 1. Find every item of the client: their partition (profile, plans, sessions, check-ins,
 *    reschedule requests, daily caps), their address lookup, and every item elsewhere that names
 *    them (ledger entries, session and plan references, booking links, intake deliveries, consumed
 *    link tokens). Nothing found and no tombstone: the client is unknown (NotFoundError).
 * 2. Write the tombstones first — by client id, and by a SHA-256 digest of the address — so a
 *    booking webhook or an import that arrives while the erasure runs, or later, cannot bring the
 *    client back: intake ignores it with the reason, import refuses the row.
 * 3. Delete every one-time schedule of their sessions and plans (reminders, check-ins, nudges,
 *    therapist alerts, retries and deferrals), so nothing fires for them.
 * 4. Delete the items, the client's own item first (the stream then finds no client to schedule
 *    for), and look again until nothing is left (a message in flight may have written meanwhile).
 * 5. Report what was removed, by kind, and the schedule names.
 *
 * Link tokens already in the client's inbox are not stored anywhere; once the client is gone they
 * find nothing and show the expired-link page. Emails already sent, and summaries already in a
 * therapist's inbox, are outside Keepwell.
 */
import { NotFoundError } from '../domain/errors.js';
import { MESSAGE_KINDS, subjectPrefix } from '../domain/message.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { ClientItem, ClientRecords } from '../ports/erasure.js';
import type { MessageScheduler } from '../ports/scheduler.js';

export interface ErasureDeps {
  readonly records: ClientRecords;
  readonly scheduler: MessageScheduler;
  readonly now: () => Date;
}

export interface ErasureReport {
  readonly clientId: string;
  readonly erasedAt: Instant;
  /** Items removed, by stored type (client, plan, session, checkin, message, ref, …). */
  readonly removed: Readonly<Record<string, number>>;
  /** One-time schedules deleted, by name. */
  readonly schedules: readonly string[];
  /** Whether the client had been erased before (a repeat finds what a late writer left, or nothing). */
  readonly repeated: boolean;
}

const SCHEDULED_KINDS = MESSAGE_KINDS.filter((k) => k !== 'summary');
const MAX_PASSES = 3;

/** The session and plan ids the client's schedules are named after. */
function subjectsOf(items: readonly ClientItem[]): string[] {
  const ids = new Set<string>();
  for (const item of items) {
    const a = item.attributes;
    if ((item.type === 'session' || item.type === 'plan') && typeof a.id === 'string') ids.add(a.id);
    for (const field of ['sessionId', 'planId'] as const) if (typeof a[field] === 'string') ids.add(a[field]);
  }
  return [...ids];
}

export async function eraseClient(deps: ErasureDeps, clientId: string): Promise<ErasureReport> {
  const earlier = await deps.records.tombstoneOf(clientId);
  let items = await deps.records.itemsOf(clientId);
  if (items.length === 0 && !earlier) throw new NotFoundError('client', clientId);
  const erasedAt = earlier?.erasedAt ?? toInstant(deps.now());
  const email = items.find((i) => i.type === 'client')?.attributes.email;
  await deps.records.markErased(clientId, typeof email === 'string' ? email : undefined, erasedAt);

  const removed: Record<string, number> = {};
  const schedules: string[] = [];
  const subjects = new Set<string>();
  for (let pass = 0; pass < MAX_PASSES && items.length > 0; pass++) {
    for (const id of subjectsOf(items)) subjects.add(id);
    for (const id of subjects) {
      for (const kind of SCHEDULED_KINDS) {
        for (const entry of await deps.scheduler.list(subjectPrefix(kind, id))) {
          if (await deps.scheduler.remove(entry.name)) schedules.push(entry.name);
        }
      }
    }
    const ordered = [...items.filter((i) => i.type === 'client'), ...items.filter((i) => i.type !== 'client')];
    await deps.records.remove(ordered);
    for (const item of ordered) removed[item.type] = (removed[item.type] ?? 0) + 1;
    items = await deps.records.itemsOf(clientId);
  }
  if (items.length > 0) throw new Error(`erasing client ${clientId}: ${items.length} item(s) keep being written; run the erase again`);
  return { clientId, erasedAt, removed, schedules: schedules.sort(), repeated: earlier !== undefined };
}

/** What a subject-access export groups each stored type under. */
const EXPORT_GROUPS: Readonly<Record<string, string>> = {
  client: 'client',
  plan: 'plans',
  session: 'sessions',
  checkin: 'checkIns',
  request: 'rescheduleRequests',
  message: 'messages',
  'booking-link': 'bookingLinks',
  'intake-delivery': 'intakeDeliveries',
};

export interface ClientExport {
  readonly clientId: string;
  readonly exportedAt: Instant;
  readonly client?: Readonly<Record<string, unknown>>;
  /** Plans, sessions, check-ins, reschedule requests, messages, booking links, intake deliveries. */
  readonly [group: string]: unknown;
  /** Bookkeeping items (lookups, references, daily caps, consumed tokens): their count by type. */
  readonly bookkeeping: Readonly<Record<string, number>>;
}

/** Everything Keepwell holds about the client, as JSON-ready data (keys and index attributes left out). */
export async function exportClient(deps: Pick<ErasureDeps, 'records' | 'now'>, clientId: string): Promise<ClientExport> {
  const items = await deps.records.itemsOf(clientId);
  if (items.length === 0) throw new NotFoundError('client', clientId);
  const groups: Record<string, Array<Readonly<Record<string, unknown>>>> = {};
  const bookkeeping: Record<string, number> = {};
  for (const item of items) {
    const group = EXPORT_GROUPS[item.type];
    if (group) {
      groups[group] ??= [];
      groups[group].push(item.attributes);
    } else bookkeeping[item.type] = (bookkeeping[item.type] ?? 0) + 1;
  }
  const { client: [client] = [], ...lists } = groups;
  return { clientId, exportedAt: toInstant(deps.now()), ...(client ? { client } : {}), ...lists, bookkeeping };
}
