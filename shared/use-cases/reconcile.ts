/**
 * reconcile: the hourly sweep that heals what the stream-driven path missed, and acts on
 * maintenance that has fallen due.
 *
 * Step by step:
 * 1. Read the sessions starting in the window (a look-back for check-ins still pending, a
 *    look-ahead for reminders) from the day buckets, and each of their plans and clients by key,
 *    once per plan. Reads grow with the window, never with the table.
 * 2. For each session, work out the messages it should have (the same rules as sync-schedules),
 *    list the subject's schedules by name prefix, and create each missing one unless the ledger
 *    shows it already went out (a lost stream event, a failed create, a schedule dropped after its
 *    retries). A message whose retry schedule (`<name>.r<n>`) is waiting is not missing: dispatch
 *    released it for that retry, and a second schedule would start a second chain of attempts.
 *    Schedules left behind for an older version of the session are deleted.
 * 3. For each plan whose maintenance action time has come (the sparse month index), re-read the
 *    client's bundle and settle it (settleMaintenance in scheduling/maintenance.ts, shared with
 *    sync-schedules): booked → look
 *    again when the next booked session ends; not due yet → look again at the due time; due → one
 *    nudge per due period (named by the due date; the ledger is checked first), mark it due and look
 *    again when it would lapse; lapsed → mark it lapsed (summaries list it) and stop looking until a
 *    session, the plan or the client changes; not active → leave the index. Each plan looked at
 *    leaves with a later action time or none, so none falls behind the index's look-back.
 * 4. Return the counts. Retryable failures do not stop the pass; they are counted and reported.
 */
import type { Client } from '../domain/model.js';
import { retryOfName, retryScheduleName, subjectPrefix } from '../domain/message.js';
import { addMs, toInstant, type Instant } from '../domain/time.js';
import type { OneTimeSchedule } from '../ports/scheduler.js';
import type { StoredPlan, StoredSession } from '../ports/store.js';
import { clientMessages, scheduled } from '../domain/eligibility.js';
import { errorName, outcomeOf } from '../domain/errors.js';
import { silentLog } from '../ports/log.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { converge, sessionSchedule, type ConvergeCounts } from './scheduling/converge.js';
import type { SchedulingDeps } from './scheduling/deps.js';
import { stillOwed } from './scheduling/ledger.js';
import { settleMaintenance, type MaintenanceSettled } from './scheduling/maintenance.js';

export interface ReconcileOptions {
  /** Sessions starting up to this far ahead get their reminders checked. @default 72 */
  readonly lookAheadHours?: number;
  /** Sessions that started this far back get their pending check-in checked. @default 48 */
  readonly lookBackHours?: number;
  /** Sessions and plans worked on at once (bounds the Scheduler's request rate). @default 8 */
  readonly concurrency?: number;
}

export interface ReconcileCounts {
  /** Schedules created because they were missing, or deleted because they were stale. */
  readonly healed: number;
  /** Maintenance nudges scheduled. */
  readonly nudged: number;
  /** Plans newly marked lapsed. */
  readonly lapsed: number;
  /** Sessions and plans examined. */
  readonly checked: number;
  /** Sessions or plans whose work failed with a retryable error; the next pass tries again. */
  readonly failed: number;
}

export const DEFAULT_LOOK_AHEAD_HOURS = 72;
export const DEFAULT_LOOK_BACK_HOURS = 48;
const HOUR_MS = 3_600_000;

export async function reconcile(deps: SchedulingDeps, options: ReconcileOptions = {}): Promise<ReconcileCounts> {
  const now = toInstant(deps.clock.now());
  const lookAhead = options.lookAheadHours ?? DEFAULT_LOOK_AHEAD_HOURS;
  const lookBack = options.lookBackHours ?? DEFAULT_LOOK_BACK_HOURS;
  if (!(lookAhead >= 0 && lookBack >= 0)) throw new RangeError(`reconcile window hours must be 0 or more (look-ahead ${lookAhead}, look-back ${lookBack})`);
  const concurrency = options.concurrency ?? 8;
  const tally = { healed: 0, nudged: 0, lapsed: 0, checked: 0, failed: 0 };
  const log = deps.log ?? silentLog;

  // One failing subject must not stop the sweep: its error is counted, logged, and the next pass retries it.
  const attempt = async (subject: Record<string, string>, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      if (outcomeOf(error) === 'skip') {
        log.warn('reconcile skipped a subject it cannot fix', { ...subject, error: errorName(error) });
      } else {
        tally.failed++;
        log.error('reconcile could not finish a subject; the next pass retries it', { ...subject, error: errorName(error) });
      }
    }
  };

  const from = addMs(now, -lookBack * HOUR_MS);
  const to = addMs(now, lookAhead * HOUR_MS);
  const sessions = await deps.store.sessionsStartingBetween(from, to);
  const contexts = await contextsByPlan(deps, sessions, concurrency);
  await mapWithConcurrency(sessions, concurrency, async (session) => {
    tally.checked++;
    const context = contexts.get(session.planId);
    if (!context) return;
    await attempt({ sessionId: session.id }, async () => {
      const counts = await healSession(deps, session, context.plan, context.client, now);
      tally.healed += counts.upserted + counts.removed;
    });
  });

  const plans = await deps.store.plansNeedingMaintenanceAction(now);
  await mapWithConcurrency(plans, concurrency, async (plan) => {
    tally.checked++;
    await attempt({ planId: plan.id }, async () => {
      const settled = await actOnMaintenance(deps, plan, now);
      if (settled?.nudged) tally.nudged++;
      if (settled?.lapsed) tally.lapsed++;
    });
  });

  log.info('reconcile pass finished', { ...tally, window: { from, to } });
  return tally;
}

interface Context {
  readonly plan: StoredPlan;
  readonly client: Client;
}

/** Each plan and its client, read by key once per plan in the window. */
async function contextsByPlan(deps: SchedulingDeps, sessions: readonly StoredSession[], concurrency: number): Promise<Map<string, Context>> {
  const plans = new Map<string, string>();
  for (const s of sessions) if (s.status === 'booked' || s.status === 'completed') plans.set(s.planId, s.clientId);
  const contexts = new Map<string, Context>();
  await mapWithConcurrency([...plans], concurrency, async ([planId, clientId]) => {
    const { plan, client } = await deps.store.getMessageContext({ clientId, planId });
    if (plan && client) contexts.set(planId, { plan, client });
  });
  return contexts;
}

/** A version suffix below the session's current version marks a schedule left behind by a move. */
function isOlderVersion(name: string, version: number): boolean {
  const match = /\.v(\d+)$/.exec(name);
  return match !== null && Number(match[1]) < version;
}

async function healSession(deps: SchedulingDeps, session: StoredSession, plan: StoredPlan, client: Client, now: Instant): Promise<ConvergeCounts> {
  const wanted = scheduled(clientMessages(session, plan, client, deps.clinic, now));
  if (wanted.length === 0) return { upserted: 0, removed: 0, rejected: 0 };
  const kinds = [...new Set(wanted.map((m) => m.identity.kind))];
  const listed = (await Promise.all(kinds.map((kind) => deps.scheduler.list(subjectPrefix(kind, session.id))))).flat().map((e) => e.name);
  const present = new Set(listed);
  for (const name of listed) {
    const retry = retryOfName(name);
    if (retry === undefined) continue;
    // The message a retry schedule belongs to: its name (or the hashed short form) with `.r<n>`.
    const owner = wanted.find((m) => retryScheduleName(m.name, retry) === name);
    if (owner) present.add(owner.name);
  }
  const missing = wanted.filter((m) => !present.has(m.name));
  const upserts: OneTimeSchedule[] = [];
  for (const message of missing) {
    if (await stillOwed(deps, message)) upserts.push(sessionSchedule(message, session, plan));
  }
  const stale = listed.filter((name) => isOlderVersion(name, session.version));
  return converge(deps, upserts, stale);
}

async function actOnMaintenance(deps: SchedulingDeps, indexed: StoredPlan, now: Instant): Promise<MaintenanceSettled | undefined> {
  const bundle = await deps.store.getClientBundle(indexed.clientId);
  const plan = bundle?.plans.find((p) => p.id === indexed.id);
  // The month index is eventually consistent: act only on what the plan itself says now.
  if (!bundle || !plan || plan.maintenanceActionAt === undefined || plan.maintenanceActionAt > now) return undefined;
  const sessions = bundle.sessions.filter((s) => s.planId === plan.id);
  return settleMaintenance(deps, bundle.client, plan, sessions, now, { mode: 'act' });
}
