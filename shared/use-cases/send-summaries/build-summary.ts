/**
 * Gathers what one therapist's follow-up summary says about one period: the build step of the
 * summary's send in the sweep (send-summaries.ts). Step by step:
 * 1. Read the therapist's plans (one Query) and their sessions, check-ins, reschedule requests
 *    and plan changes from a little before the period (whose check-ins fall due in it) to the next
 *    summary (the coming sessions) — four Queries on the therapist index, sized by activity.
 * 2. Read the full record of each client with a check-in or a request in the period (one Query
 *    each: names, the plan's earlier check-ins for the trend, the sessions they refer to), and
 *    just the profile of the other clients the summary names (one GetItem each).
 * 3. Compare each check-in with the plan's baseline and the previous check-in (both captured
 *    when the answers were stored), flag what needs attention, and draw each plan's pain trend
 *    (summary-check-ins.ts).
 * 4. List who did not answer a check-in that fell due in the period, who asked to reschedule or
 *    to book, which plans are due or lapsed on maintenance (and for how long), and the booked
 *    sessions until the next summary.
 * Nothing is written; the result holds Instants, and the template formats them in local time.
 */
import { Duration } from 'luxon';
import type { Client, Therapist } from '../../domain/model.js';
import { checkInDueAt, sessionEnd } from '../../domain/schedule-rules.js';
import type { SummaryPeriod } from '../../domain/summary-period.js';
import { byTime, checkInLine, planTrends, type SummaryClinic } from './summary-check-ins.js';
import { addMs, localDate, type Instant } from '../../domain/time.js';
import type { ClientBundle, ClinicStore, StoredPlan, StoredSession } from '../../ports/store.js';
import { mapWithConcurrency } from '../../util/concurrency.js';
import type {
  ComingSession,
  MaintenanceLine,
  PlanChangeLine,
  RebookLine,
  RequestLine,
  SummaryClient,
  SummaryCounts,
  SummaryData,
  UnansweredCheckIn,
} from '../../domain/summary.js';

export interface BuildSummaryInput {
  readonly store: ClinicStore;
  readonly therapist: Therapist;
  readonly period: SummaryPeriod;
  readonly clinic: SummaryClinic;
  /** How many client reads run at once. @default 16 */
  readonly concurrency?: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** The longest a session can run (sessionSchema caps it). */
const MAX_SESSION_MS = 600 * MINUTE_MS;
/** Quiet hours can hold a check-in back for up to a day. */
const QUIET_HOURS_SLACK_MS = DAY_MS;

const within = (at: Instant, from: Instant, to: Instant) => at >= from && at < to;

/** Upper bound of an ISO duration in milliseconds, counting a calendar day as 25 hours. */
function longestMs(iso: string): number {
  const d = Duration.fromISO(iso).shiftTo('days', 'hours', 'minutes', 'seconds', 'milliseconds');
  return d.days * 25 * HOUR_MS + (d.hours * HOUR_MS + d.minutes * MINUTE_MS + d.seconds * 1000 + d.milliseconds);
}

/** Whole calendar days between the local dates of two instants (dates parse as UTC midnights: no DST). */
function calendarDaysBetween(from: Instant, to: Instant, zone: string): number {
  const days = Math.round((Date.parse(localDate(to, zone)) - Date.parse(localDate(from, zone))) / DAY_MS);
  return Math.max(0, days);
}

export async function buildSummary(input: BuildSummaryInput): Promise<SummaryData> {
  const { store, therapist, period, clinic } = input;
  const concurrency = input.concurrency ?? 16;

  const read = await readActivity(store, therapist, period);
  const { planById } = read;
  const clients = await readClients(store, concurrency, read);
  const { who } = clients;
  const { lines, flagged, orderedLines } = checkInLines(read, clients, period);

  // 4. Who needs a reply, who is slipping, and what is coming.
  const unanswered = unansweredCheckIns(read.unansweredCandidates, clients, planById, period, clinic);
  const requestLines = requestLinesOf(read.requests, clients);
  const rebook: RebookLine[] = lines
    .filter((l) => l.wantsToRebook)
    .map((l) => ({ client: l.client, planId: l.planId, answeredAt: l.answeredAt }))
    .sort(byTime((r) => r.answeredAt));
  const maintenance = maintenanceLines(read.maintenancePlans, who, period, therapist);
  const comingSessions = comingSessionsOf(read.coming, who);

  const trends = planTrends({ lines, unanswered, bundles: clients.bundles, planById, period, clinic, who });

  const counts: SummaryCounts = {
    checkIns: lines.length,
    flagged: flagged.length,
    unanswered: unanswered.length,
    requests: requestLines.length,
    wantsToRebook: rebook.length,
    maintenanceDue: maintenance.filter((m) => m.state === 'due').length,
    maintenanceLapsed: maintenance.filter((m) => m.state === 'lapsed').length,
    coming: comingSessions.length,
  };
  const changeLines: PlanChangeLine[] = read.planChanges.map((change) => {
    const goal = planById.get(change.planId)?.goal;
    return { client: who(change.clientId), planId: change.planId, ...(goal ? { goal } : {}), change };
  });
  const isEmpty = lines.length === 0 && unanswered.length === 0 && requestLines.length === 0 && changeLines.length === 0 && !maintenance.some((m) => m.isNew);

  return {
    therapist: { id: therapist.id, name: therapist.name, timezone: therapist.timezone, summary: therapist.summary },
    period,
    counts,
    checkIns: orderedLines,
    unanswered,
    requests: requestLines,
    rebook,
    maintenance,
    coming: comingSessions,
    trends,
    planChanges: changeLines,
    isEmpty,
  };
}

type PeriodActivity = Awaited<ReturnType<typeof readActivity>>;
type SummaryClients = Awaited<ReturnType<typeof readClients>>;

async function readActivity(store: ClinicStore, therapist: Therapist, period: SummaryPeriod) {
  // 1. Plans, then everything on the therapist index from the earliest session whose check-in can
  //    fall due in the period up to the next summary.
  const plans = await store.therapistPlans(therapist.id);
  const planById = new Map(plans.map((p) => [p.id, p]));
  const lookbackMs = Math.max(longestMs('PT24H'), ...plans.map((p) => longestMs(p.checkInAfter))) + MAX_SESSION_MS + QUIET_HOURS_SLACK_MS;
  const activity = await store.therapistActivity(therapist.id, addMs(period.start, -lookbackMs), period.nextEnd);

  const checkIns = activity.checkIns.filter((c) => within(c.answeredAt, period.start, period.end)).sort(byTime((c) => `${c.answeredAt}#${c.sessionId}`));
  const requests = activity.requests.filter((r) => within(r.at, period.start, period.end));
  const coming = activity.sessions
    .filter((s) => s.status === 'booked' && within(s.start, period.end, period.nextEnd))
    .sort(byTime((s) => `${s.start}#${s.id}`));
  const unansweredCandidates = activity.sessions.filter(
    (s) =>
      (s.status === 'booked' || s.status === 'completed') && !s.checkInAnsweredAt && sessionEnd(s) < period.end && planById.get(s.planId)?.status === 'active',
  );
  const maintenancePlans = plans.filter((p) => p.status === 'active' && p.maintenanceMark);
  const planChanges = activity.planChanges.filter((c) => within(c.at, period.start, period.end));
  return { planById, activity, checkIns, requests, coming, unansweredCandidates, maintenancePlans, planChanges };
}

async function readClients(store: ClinicStore, concurrency: number, read: Omit<PeriodActivity, 'planById'>) {
  const { activity, checkIns, requests, coming, unansweredCandidates, maintenancePlans, planChanges } = read;
  // 2. Full records for clients active in the period; profiles for the rest.
  // Clients with an unanswered check-in too: their history says whether it is the third in a row.
  const bundleIds = [...new Set([...checkIns.map((c) => c.clientId), ...requests.map((r) => r.clientId), ...unansweredCandidates.map((s) => s.clientId)])];
  const inBundles = new Set(bundleIds);
  const bundles = new Map<string, ClientBundle>();
  await mapWithConcurrency(bundleIds, concurrency, async (id) => {
    const bundle = await store.getClientBundle(id);
    if (bundle) bundles.set(id, bundle);
  });
  const profiles = new Map<string, Client>([...bundles].map(([id, b]) => [id, b.client]));
  const otherIds = [
    ...new Set([
      ...unansweredCandidates.map((s) => s.clientId),
      ...coming.map((s) => s.clientId),
      ...maintenancePlans.map((p) => p.clientId),
      ...planChanges.map((c) => c.clientId),
    ]),
  ].filter((id) => !inBundles.has(id));
  await mapWithConcurrency(otherIds, concurrency, async (id) => {
    const client = await store.getClient(id);
    if (client) profiles.set(id, client);
  });
  const who = (clientId: string): SummaryClient => {
    const name = profiles.get(clientId)?.name;
    return name === undefined ? { id: clientId } : { id: clientId, name };
  };
  const recentSessions = new Map(activity.sessions.map((s) => [s.id, s]));
  const sessionOf = (clientId: string, sessionId: string): StoredSession | undefined =>
    bundles.get(clientId)?.sessions.find((s) => s.id === sessionId) ?? recentSessions.get(sessionId);
  return { bundles, profiles, who, sessionOf };
}

function checkInLines(read: PeriodActivity, clients: SummaryClients, period: SummaryPeriod) {
  const { bundles, who, sessionOf } = clients;
  // 3. Each check-in against baseline and last, flagged, with its plan's pain trend.
  const lines = read.checkIns.map((c) =>
    checkInLine(c, bundles.get(c.clientId), read.planById.get(c.planId), period, who(c.clientId), sessionOf(c.clientId, c.sessionId)),
  );
  const flagged = lines.filter((l) => l.flags.length > 0);
  const orderedLines = [...flagged, ...lines.filter((l) => l.flags.length === 0)];
  return { lines, flagged, orderedLines };
}

function unansweredCheckIns(
  candidates: readonly StoredSession[],
  clients: SummaryClients,
  planById: PeriodActivity['planById'],
  period: SummaryPeriod,
  clinic: SummaryClinic,
): UnansweredCheckIn[] {
  const { profiles, who } = clients;
  const unanswered: UnansweredCheckIn[] = [];
  for (const session of candidates) {
    const client = profiles.get(session.clientId);
    const plan = planById.get(session.planId);
    // A client who opted out of check-ins (or cannot be emailed) was never asked.
    if (!client || !plan || !client.preferences['check-ins'] || client.suppressed) continue;
    const dueAt = checkInDueAt(session, plan, client.timezone, clinic.quietHours);
    if (within(dueAt, period.start, period.end))
      unanswered.push({ client: who(session.clientId), planId: session.planId, sessionId: session.id, sessionStart: session.start, dueAt });
  }
  unanswered.sort(byTime((u) => `${u.dueAt}#${u.sessionId}`));
  return unanswered;
}

function requestLinesOf(requests: PeriodActivity['requests'], clients: SummaryClients): RequestLine[] {
  const { who, sessionOf } = clients;
  return requests
    .map((r) => {
      const session = sessionOf(r.clientId, r.sessionId);
      return {
        client: who(r.clientId),
        planId: r.planId,
        sessionId: r.sessionId,
        ...(session ? { sessionStart: session.start } : {}),
        message: r.message,
        at: r.at,
      };
    })
    .sort(byTime((r) => `${r.at}#${r.sessionId}`));
}

function maintenanceLines(maintenancePlans: readonly StoredPlan[], who: SummaryClients['who'], period: SummaryPeriod, therapist: Therapist): MaintenanceLine[] {
  return (
    maintenancePlans
      .map((p) => {
        const mark = p.maintenanceMark!;
        // Reconcile refreshes marks hourly; the dates decide the state at the period end.
        const state: 'due' | 'lapsed' = mark.lapsedAt <= period.end ? 'lapsed' : 'due';
        const isNew = within(state === 'lapsed' ? mark.lapsedAt : mark.dueAt, period.start, period.end);
        return {
          client: who(p.clientId),
          planId: p.id,
          goal: p.goal,
          state,
          dueAt: mark.dueAt,
          lapsedAt: mark.lapsedAt,
          daysSinceDue: calendarDaysBetween(mark.dueAt, period.end, therapist.timezone),
          isNew,
        };
      })
      .filter((m) => m.dueAt <= period.end)
      // Longest overdue first: they are the likeliest to be lost.
      .sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.planId.localeCompare(b.planId))
  );
}

function comingSessionsOf(coming: readonly StoredSession[], who: SummaryClients['who']): ComingSession[] {
  return coming.map((s) => ({
    client: who(s.clientId),
    sessionId: s.id,
    start: s.start,
    durationMinutes: s.durationMinutes,
    location: s.location,
    ...(s.number !== undefined ? { number: s.number } : {}),
    ...(s.phase !== undefined ? { phase: s.phase } : {}),
    ...(s.ofPhase !== undefined ? { ofPhase: s.ofPhase } : {}),
  }));
}
