/**
 * A dry run of what one client will be sent over the next weeks (`keepwell preview`).
 *
 * Step by step:
 * 1. read the client's bundle (profile, plans, sessions) in one query;
 * 2. ask the same rules sync-schedules and reconcile use (planSessionMessages for each session,
 *    maintenanceStatus for each plan) what they would schedule from now on;
 * 3. leave out what the ledger shows as already sent, skipped or failed;
 * 4. mark what dispatch would hold back (an unsubscribed category, a suppressed address);
 * 5. list it in time order, in the client's own time zone.
 */
import { firstSessionOf, intakeIdentity, intakeSkipReason } from '../domain/intake-questionnaire.js';
import { categoryOf, messageName, type MessageKind } from '../domain/message.js';
import type { Clinic } from '../domain/model.js';
import { maintenanceStatus, nudgeIdentity, planSessionMessages } from '../domain/schedule-rules.js';
import { applyQuietHours, toInstant, type Instant } from '../domain/time.js';
import { NotFoundError } from '../domain/errors.js';
import type { ClientBundle, ClinicStore, Ledger } from '../ports/store.js';

export interface PreviewItem {
  readonly at: Instant;
  readonly kind: MessageKind;
  readonly name: string;
  readonly planId: string;
  readonly sessionId?: string;
  /** The session the message is about, when there is one. */
  readonly sessionStart?: Instant;
  /** Undefined: it will be sent. Otherwise why it will not be. */
  readonly held?: string;
}

export interface PreviewInput {
  readonly bundle: ClientBundle;
  readonly clinic: Pick<Clinic, 'quietHours' | 'maintenanceGraceDays'>;
  readonly now: Instant;
  readonly weeks: number;
  /** Message names the ledger already holds a final outcome for. */
  readonly done?: ReadonlySet<string>;
}

export function previewMessages(input: PreviewInput): PreviewItem[] {
  const { bundle, clinic } = input;
  const { client } = bundle;
  const now = toInstant(input.now);
  const until = toInstant(Date.parse(now) + input.weeks * 7 * 86_400_000);
  const done = input.done ?? new Set<string>();
  const held = (kind: MessageKind): string | undefined => {
    if (client.suppressed) return `address suppressed (${client.suppressed.reason})`;
    const category = categoryOf(kind);
    return category && !client.preferences[category] ? `unsubscribed from ${category}` : undefined;
  };
  const items: PreviewItem[] = [];
  const add = (item: Omit<PreviewItem, 'held'>) => {
    if (item.at < now || item.at > until || done.has(item.name)) return;
    const why = held(item.kind);
    items.push({ ...item, ...(why ? { held: why } : {}) });
  };

  for (const plan of bundle.plans) {
    const sessions = bundle.sessions.filter((s) => s.planId === plan.id);
    for (const session of sessions) {
      for (const decision of planSessionMessages({ session, plan, client, clinic, now })) {
        if (decision.action !== 'schedule') continue;
        add({
          at: decision.message.dueAt,
          kind: decision.message.identity.kind,
          name: decision.message.name,
          planId: plan.id,
          sessionId: session.id,
          sessionStart: session.start,
        });
      }
    }
    // The intake questionnaire still owed goes out at once.
    const first = firstSessionOf(plan.id, sessions);
    if (plan.status === 'active' && first && !intakeSkipReason({ plan, firstSession: first, now })) {
      add({ at: now, kind: 'intake-questionnaire', name: messageName(intakeIdentity(plan.id)), planId: plan.id });
    }
    const status = maintenanceStatus({ plan, sessions, zone: client.timezone, now, graceDays: clinic.maintenanceGraceDays });
    if (status.dueAt && (status.state === 'not-due' || status.state === 'due' || status.state === 'lapsed')) {
      const name = messageName(nudgeIdentity(plan.id, status.dueAt, client.timezone));
      // A nudge already due goes out at the next moment outside quiet hours.
      const at = status.dueAt > now ? status.dueAt : applyQuietHours(now, client.timezone, clinic.quietHours);
      add({ at, kind: 'maintenance-nudge', name, planId: plan.id });
    }
  }
  return items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.name < b.name ? -1 : 1));
}

export interface PreviewClientDeps {
  readonly store: Pick<ClinicStore, 'getClientBundle'>;
  readonly ledger: Pick<Ledger, 'get'>;
  clinic(): Promise<PreviewInput['clinic']>;
  now(): Instant;
}

/**
 * One client's preview, read from the store: only what the rules would send is looked up in the
 * ledger, a handful of reads, never the whole ledger.
 */
export async function previewClient(
  deps: PreviewClientDeps,
  clientId: string,
  weeks: number,
): Promise<{ bundle: ClientBundle; now: Instant; items: PreviewItem[] }> {
  const bundle = await deps.store.getClientBundle(clientId);
  if (!bundle) throw new NotFoundError('client', clientId);
  const clinic = await deps.clinic();
  const now = deps.now();
  const candidates = previewMessages({ bundle, clinic, now, weeks });
  const done = new Set<string>();
  for (const item of candidates) {
    const entry = await deps.ledger.get(item.name);
    if (entry && entry.status !== 'released') done.add(item.name);
  }
  return { bundle, now, items: candidates.filter((i) => !done.has(i.name)) };
}
