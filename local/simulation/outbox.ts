/**
 * What a twin sent, skipped and failed: the ledger (every message's outcome, stamped in the twin's
 * time) joined with SES v2 local's store (every email it accepted, with subject and bodies) by the
 * SES message id the ledger recorded at send time. The simulation report, `npm start`'s email lines
 * and the tests all read emails through here, so they agree on what counts as sent.
 */
import { kindOfName, MESSAGE_KINDS, type MessageKind } from '../../shared/domain/message.js';
import type { LedgerEntry } from '../../shared/ports/store.js';

/** An email as SES v2 local stores it (GET /store). */
export interface SesStoredEmail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: { readonly to: string[]; readonly cc?: string[]; readonly bcc?: string[] };
  readonly subject: string;
  readonly body: { readonly html?: string; readonly text?: string };
  /** Real time of acceptance, epoch seconds. */
  readonly at: number;
}

export interface SentEmail {
  /** The twin's time of the send (the ledger's `sent` stamp). */
  readonly sentAt: string;
  readonly to: string;
  readonly kind: MessageKind;
  /** Reminders only: the plan's ISO duration exactly as written (P2D, PT48H). */
  readonly offset?: string;
  readonly subject: string;
  /** The message name: schedule name, ledger key and SES tag. */
  readonly name: string;
  readonly clientId?: string;
  readonly sessionId?: string;
  readonly planId?: string;
  readonly therapistId?: string;
  readonly text: string;
  readonly html: string;
}

export interface OutcomeEntry {
  readonly at: string;
  readonly kind: MessageKind;
  readonly name: string;
  readonly reason: string;
  readonly dueAt?: string;
  readonly clientId?: string;
  readonly sessionId?: string;
  readonly planId?: string;
  readonly therapistId?: string;
}

export interface Outbox {
  readonly emails: SentEmail[];
  readonly skipped: OutcomeEntry[];
  readonly failed: OutcomeEntry[];
  /** Ledger entries marked sent whose email SES local does not hold (another SES endpoint, or a cleared store). */
  readonly unmatched: string[];
}

export { kindOfName };

/**
 * The offset part of a message name, `rm.<subject>.<offset>.v<version>`. Ids and offsets never
 * contain a dot, so the name splits cleanly; a name shortened with a hash (over 64 characters)
 * has lost its offset and yields undefined.
 */
export function offsetOfName(name: string): string | undefined {
  const parts = name.split('.');
  if (parts.length !== 4 || !/^v\d+$/.test(parts[3] ?? '')) return undefined;
  return parts[2];
}

function ids(entry: LedgerEntry) {
  return {
    ...(entry.clientId ? { clientId: entry.clientId } : {}),
    ...(entry.sessionId ? { sessionId: entry.sessionId } : {}),
    ...(entry.planId ? { planId: entry.planId } : {}),
    ...(entry.therapistId ? { therapistId: entry.therapistId } : {}),
  };
}

function byTimeThenName<T extends { name: string }>(time: (x: T) => string) {
  return (a: T, b: T) => (time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function isKind(kind: string): kind is MessageKind {
  return (MESSAGE_KINDS as readonly string[]).includes(kind);
}

/** Each message name's most recent entry: a name read twice (across queries) counts once. */
export function latestByName(entries: readonly LedgerEntry[]): Map<string, LedgerEntry> {
  const latest = new Map<string, LedgerEntry>();
  for (const entry of entries) {
    const seen = latest.get(entry.name);
    if (!seen || seen.updatedAt <= entry.updatedAt) latest.set(entry.name, entry);
  }
  return latest;
}

/**
 * Joins ledger entries with SES's stored emails. One email per SES message id the ledger marked
 * sent, in send order; skipped and failed entries with their reasons. Entries repeated across
 * queries (a name read twice) count once.
 */
export function joinOutbox(entries: readonly LedgerEntry[], stored: readonly SesStoredEmail[]): Outbox {
  const byMessageId = new Map(stored.map((e) => [e.messageId, e]));
  const latest = latestByName(entries);
  const emails: SentEmail[] = [];
  const skipped: OutcomeEntry[] = [];
  const failed: OutcomeEntry[] = [];
  const unmatched: string[] = [];
  for (const entry of latest.values()) {
    const kind = isKind(entry.kind) ? entry.kind : kindOfName(entry.name);
    if (!kind) continue;
    if (entry.status === 'sent') {
      const email = entry.sesMessageId ? byMessageId.get(entry.sesMessageId) : undefined;
      if (!email) {
        unmatched.push(entry.name);
        continue;
      }
      const offset = kind === 'reminder' ? offsetOfName(entry.name) : undefined;
      emails.push({
        sentAt: entry.updatedAt,
        to: email.destination.to.join(', '),
        kind,
        ...(offset ? { offset } : {}),
        subject: email.subject,
        name: entry.name,
        ...ids(entry),
        text: email.body.text ?? '',
        html: email.body.html ?? '',
      });
    } else if (entry.status === 'skipped' || entry.status === 'failed') {
      const outcome: OutcomeEntry = {
        at: entry.updatedAt,
        kind,
        name: entry.name,
        reason: entry.reason ?? (entry.status === 'skipped' ? 'skipped' : 'failed'),
        ...(entry.dueAt ? { dueAt: entry.dueAt } : {}),
        ...ids(entry),
      };
      (entry.status === 'skipped' ? skipped : failed).push(outcome);
    }
  }
  emails.sort(byTimeThenName((e) => e.sentAt));
  skipped.sort(byTimeThenName((e) => e.at));
  failed.sort(byTimeThenName((e) => e.at));
  return { emails, skipped, failed, unmatched };
}

export class SesStoreError extends Error {
  override readonly name = 'SesStoreError';
  constructor(endpoint: string, options?: { cause?: unknown }) {
    super(`could not read SES v2 local's store at ${endpoint}/store`, options);
  }
}

/** Every email SES v2 local accepted, optionally only those accepted since `sinceEpochSeconds` (real time). */
export async function fetchSesStore(endpoint: string, sinceEpochSeconds?: number): Promise<SesStoredEmail[]> {
  const url = sinceEpochSeconds === undefined ? `${endpoint}/store` : `${endpoint}/store?since=${Math.floor(sinceEpochSeconds)}`;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as { emails?: SesStoredEmail[] };
    return body.emails ?? [];
  } catch (error) {
    throw new SesStoreError(endpoint, { cause: error });
  }
}
