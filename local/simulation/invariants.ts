/**
 * The delivery promise, checked after a run: every message the time rules planned ends as exactly
 * one of sent, skipped (with a reason) or failed (with a reason), and no email goes out twice.
 *
 * Step by step:
 * 1. For each session the run knew (its current version), every reminder and check-in identity the
 *    rules can give it — as if booked on an active plan, since a cancellation or a pause must
 *    leave a skip behind — whose nominal due time falls inside the window. A kind the client
 *    refuses at the end (unsubscribed, suppressed) counts only where the ledger has its identity:
 *    an unsubscribe leaves a skip behind for what was planned, but a session moved after it
 *    plans nothing of that kind for its new version.
 * 2. Each such identity's ledger entry, following a deferral (`-d1`, `-d2` …) to the copy that owns
 *    the send: sent, skipped with a reason or failed with a reason is settled; a deferral to after
 *    the window is pending; no entry, or one still claimed or released, is lost.
 * 3. Booking emails follow changes, not the calendar, so they are judged from the ledger: every
 *    booking entry must be settled, and each session the run booked must end with the booking email
 *    its final state calls for — confirmation (or change notice after a move), or for a cancelled
 *    session the cancellation notice or the confirmation skipped in the undo window — unless that
 *    kind is turned off or the client is suppressed. None of them is lost.
 * 4. Every other ledger entry (nudges, summaries, alerts, old versions) must be settled too.
 * 5. Every email SES holds for the run must be the one a ledger entry recorded: a copy of a recorded
 *    email that no entry names went out twice (an SDK resend, say), and so did a message id two
 *    entries name. Copies are found by content; when SES local is shared with other runs, which
 *    may send the very same email, only the second rule applies.
 */
import { deferredIdentity, isBookingKind, messageName, type BookingKind, type MessageIdentity } from '../../shared/domain/message.js';
import { bookingName, isEnabled } from '../../shared/domain/booking-emails.js';
import { planSessionMessages } from '../../shared/domain/schedule-rules.js';
import { receives } from '../../shared/domain/eligibility.js';
import type { ClinicStore, LedgerEntry, StoredPlan, StoredSession } from '../../shared/ports/store.js';
import type { Client, Clinic } from '../../shared/domain/model.js';
import { toInstant } from '../../shared/domain/time.js';
import { latestByName, type SesStoredEmail } from './outbox.js';

export interface InvariantReport {
  /** Identities the time rules planned inside the window. */
  readonly planned: number;
  readonly sent: number;
  readonly skipped: number;
  readonly failed: number;
  /** Deferred to after the window: neither settled nor lost yet. */
  readonly pending: number;
  readonly lost: readonly string[];
  /** Unrecorded copies of a recorded email, and SES message ids more than one entry names. */
  readonly duplicated: readonly string[];
  /** Ledger entries outside the planned set that are still claimed or released. */
  readonly unsettled: readonly string[];
  /** Skips and failures without a reason. */
  readonly unexplained: readonly string[];
  /** Booking confirmations, change and cancellation notices: planned (entries, and any missing), and where they ended. */
  readonly bookingEmails: { readonly planned: number; readonly sent: number; readonly skipped: number; readonly failed: number };
}

export interface InvariantInput {
  readonly store: Pick<ClinicStore, 'findSession' | 'findPlan' | 'getClient'>;
  readonly clinic: Pick<Clinic, 'quietHours'> & Partial<Pick<Clinic, 'bookingEmails'>>;
  readonly sessionIds: readonly string[];
  /**
   * Sessions the run booked (imported or booked in the window): each must end with a booking
   * email. Omitted: booking entries are judged only for being settled.
   */
  readonly bookedSessionIds?: readonly string[];
  readonly entries: readonly LedgerEntry[];
  /** What SES local holds for the run; only emails to `recipients` are judged (SES local may be shared). */
  readonly emails: readonly SesStoredEmail[];
  readonly recipients: ReadonlySet<string>;
  /**
   * SES local is shared with other runs (a `--ses-endpoint` given): another run may send the same
   * email to the same address, so unrecorded copies cannot be told apart and are not judged.
   */
  readonly sesShared?: boolean;
  readonly from: string;
  readonly until: string;
}

type Settlement = 'sent' | 'skipped' | 'failed' | 'pending' | 'lost';

/** Where one identity ended, following its deferrals. */
function settlement(identity: MessageIdentity, latest: ReadonlyMap<string, LedgerEntry>, until: string): Settlement {
  let current = identity;
  for (let hops = 0; hops < 50; hops += 1) {
    const entry = latest.get(messageName(current));
    if (!entry) return 'lost';
    if (entry.status === 'sent' || entry.status === 'failed') return entry.status;
    if (entry.status !== 'skipped') return 'lost';
    if (!entry.deferredTo) return 'skipped';
    if (entry.deferredTo > until) return 'pending';
    current = deferredIdentity(current);
  }
  return 'lost';
}

export async function checkInvariants(input: InvariantInput): Promise<InvariantReport> {
  const latest = latestByName(input.entries);

  const counts: Record<Settlement, number> = { sent: 0, skipped: 0, failed: 0, pending: 0, lost: 0 };
  const lost: string[] = [];
  const covered = new Set<string>();
  const subjects = await readSubjects(input.store, [...input.sessionIds, ...(input.bookedSessionIds ?? [])]);
  for (const id of new Set(input.sessionIds)) {
    const { session, plan, client } = subjects.get(id) ?? {};
    if (!session || !plan || !client) continue;
    const decisions = planSessionMessages({
      session: { ...session, status: 'booked' },
      plan: { ...plan, status: 'active' },
      client,
      clinic: input.clinic,
      now: toInstant(input.from),
    });
    for (const decision of decisions) {
      if (decision.action !== 'schedule') continue;
      const { identity, dueAt, name } = decision.message;
      if (dueAt > input.until) continue;
      // A kind the client refuses (unsubscribed, suppressed) is planned for it only until the refusal: an
      // identity the ledger never saw came after it (a session moved or booked since) and is owed nothing.
      if (!receives(client, identity.kind) && !latest.has(name)) continue;
      const where = settlement(identity, latest, input.until);
      counts[where] += 1;
      if (where === 'lost') lost.push(name);
      for (let next = identity, hops = 0; hops < 50 && latest.has(messageName(next)); hops += 1, next = deferredIdentity(next)) covered.add(messageName(next));
    }
  }

  const booking = bookingSettlements(input, latest, subjects);
  lost.push(...booking.lost);
  for (const e of latest.values()) if (isBookingKind(e.kind)) covered.add(e.name);

  const unsettled = [...latest.values()].filter((e) => !covered.has(e.name) && (e.status === 'claimed' || e.status === 'released')).map((e) => e.name);
  const unexplained = [...latest.values()].filter((e) => (e.status === 'skipped' || e.status === 'failed') && !e.reason?.trim()).map((e) => e.name);

  const namesByMessageId = new Map<string, string[]>();
  for (const e of latest.values()) {
    if (e.status === 'sent' && e.sesMessageId) namesByMessageId.set(e.sesMessageId, [...(namesByMessageId.get(e.sesMessageId) ?? []), e.name]);
  }
  // An email SES holds that no entry recorded, identical to one this run recorded, went out twice.
  const fingerprint = (email: SesStoredEmail) =>
    JSON.stringify([email.destination.to.map((t) => t.toLowerCase()).sort(), email.subject, email.body.text ?? '', email.body.html ?? '']);
  const ours = input.emails.filter((email) => email.destination.to.some((to) => input.recipients.has(to.toLowerCase())));
  const recorded = new Set(ours.filter((email) => namesByMessageId.has(email.messageId)).map(fingerprint));
  const duplicated = [
    ...ours
      .filter((email) => !input.sesShared && !namesByMessageId.has(email.messageId) && recorded.has(fingerprint(email)))
      .map((email) => `unrecorded copy ${email.messageId}`),
    ...[...namesByMessageId].filter(([, names]) => names.length > 1).map(([id, names]) => `${id} recorded for ${names.join(', ')}`),
  ];

  return {
    planned: counts.sent + counts.skipped + counts.failed + counts.pending + counts.lost,
    sent: counts.sent,
    skipped: counts.skipped,
    failed: counts.failed,
    pending: counts.pending,
    lost,
    duplicated,
    unsettled,
    unexplained,
    bookingEmails: booking.counts,
  };
}

/**
 * The booking emails' side of the promise: every booking entry settled (one claimed or released is
 * lost), and for each session the run booked, one of the names its final state calls for present.
 */
function bookingSettlements(
  input: InvariantInput,
  latest: ReadonlyMap<string, LedgerEntry>,
  subjects: ReadonlyMap<string, Subject>,
): { counts: InvariantReport['bookingEmails']; lost: string[] } {
  const counts = { planned: 0, sent: 0, skipped: 0, failed: 0 };
  const lost: string[] = [];
  for (const e of latest.values()) {
    if (!isBookingKind(e.kind)) continue;
    counts.planned += 1;
    if (e.status === 'sent' || e.status === 'skipped' || e.status === 'failed') counts[e.status] += 1;
    else lost.push(e.name);
  }
  const config = input.clinic.bookingEmails;
  if (!config) return { counts, lost };
  for (const id of new Set(input.bookedSessionIds ?? [])) {
    const { session, client } = subjects.get(id) ?? {};
    // History needs no booking email, and a suppressed address gets none.
    if (!session || !client || client.suppressed || session.start <= input.from) continue;
    const expect = (kinds: readonly BookingKind[], required: boolean) => {
      const names = kinds.map((kind) => bookingName(kind, session));
      if (!required || names.some((name) => latest.has(name))) return;
      counts.planned += 1;
      lost.push(names.join(' or '));
    };
    if (session.status === 'cancelled') expect(['booking-confirmation', 'booking-cancellation'], isEnabled(config, 'booking-cancellation'));
    else if (session.version === 1) expect(['booking-confirmation'], isEnabled(config, 'booking-confirmation'));
    else expect(['booking-confirmation', 'booking-change'], isEnabled(config, 'booking-change'));
  }
  return { counts, lost };
}

interface Subject {
  readonly session?: StoredSession;
  readonly plan?: StoredPlan;
  readonly client?: Client;
}

/** Sessions read at once; a run of a large clinic knows thousands. */
const READ_CONCURRENCY = 16;

/** Each session with its plan and client, every item read once, several reads in flight. */
async function readSubjects(store: InvariantInput['store'], sessionIds: readonly string[]): Promise<Map<string, Subject>> {
  const plans = new Map<string, Promise<StoredPlan | undefined>>();
  const clients = new Map<string, Promise<Client | undefined>>();
  const once = <T>(cache: Map<string, Promise<T>>, id: string, read: () => Promise<T>): Promise<T> => {
    let found = cache.get(id);
    if (!found) {
      found = read();
      cache.set(id, found);
    }
    return found;
  };
  const ids = [...new Set(sessionIds)];
  const subjects = new Map<string, Subject>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      const session = await store.findSession(id);
      if (!session) continue;
      const [plan, client] = await Promise.all([
        once(plans, session.planId, () => store.findPlan(session.planId)),
        once(clients, session.clientId, () => store.getClient(session.clientId)),
      ]);
      subjects.set(id, { session, plan, client });
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, worker));
  return subjects;
}

/** True when nothing was lost, duplicated, left unsettled or left without a reason. */
export function invariantsHold(report: InvariantReport): boolean {
  return report.lost.length === 0 && report.duplicated.length === 0 && report.unsettled.length === 0 && report.unexplained.length === 0;
}

/**
 * One line for the terminal:
 * `planned 412: 380 sent, 30 skipped, 2 failed, 0 pending; 0 lost, 0 duplicated; booking emails: 40 sent, 3 skipped, 0 failed`.
 * The booking emails' part appears when the run had any.
 */
export function invariantLine(r: InvariantReport): string {
  const extra = [r.unsettled.length ? `${r.unsettled.length} unsettled` : '', r.unexplained.length ? `${r.unexplained.length} without a reason` : ''].filter(
    Boolean,
  );
  const b = r.bookingEmails;
  const booking = b.planned > 0 ? `; booking emails: ${b.sent} sent, ${b.skipped} skipped, ${b.failed} failed` : '';
  return `planned ${r.planned}: ${r.sent} sent, ${r.skipped} skipped, ${r.failed} failed, ${r.pending} pending; ${r.lost.length} lost, ${r.duplicated.length} duplicated${extra.length ? `, ${extra.join(', ')}` : ''}${booking}`;
}
