/**
 * An in-memory ClinicStore + Ledger + TokenStore for unit tests, behaving like the DynamoDB store
 * (shared/adapters/dynamodb/store.ts and the port adapters it is made of): the same derived fields (session numbers, baselines), the
 * same conditional outcomes (a claim held, a skip that never overwrites a claim or a sent or
 * deferred entry, a settle refused with LedgerConflictError, a day cap held by another message —
 * each ledger move allowed from the states shared/domain/ledger-states.ts gives it, the table the
 * DynamoDB ledger's conditions are made from),
 * the same errors (NotFoundError, and the SDK's condition and transaction exceptions where the
 * DynamoDB store lets them through). Check-ins are compared with the plan's baseline by the same
 * domain function (domain/baseline.ts); the intake's baseline is taken once, the first answers winning. Every read returns a copy,
 * as a real read would.
 *
 * `calls` counts each port method, and `failNext(method, error)` makes the next call(s) of a
 * method throw, for tests of what a use case does when storage fails.
 *
 * By default every call completes within one microtask, so concurrent callers never interleave
 * inside a call. `latency` (a random source in [0, 1), seeded for a repeatable run) makes each port
 * call wait a random number of macrotask turns before it acts and again before it answers, as a
 * request to DynamoDB and its response take time: concurrent callers then reach the data in varied
 * orders, and a claim can lose a race as a conditional write can. The action itself stays atomic,
 * as one DynamoDB request is.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  CATEGORIES,
  type Category,
  type CheckInAnswers,
  type Client,
  type IntakeAnswers,
  type Plan,
  scoresOf,
  type Session,
  type Therapist,
} from '../../shared/domain/model.js';
import { checkInComparison } from '../../shared/domain/baseline.js';
import { EmailInUseError, NotFoundError, LedgerConflictError } from '../../shared/domain/errors.js';
import { normalizeEmail, sameEmail } from '../../shared/domain/email-address.js';
import { numberSessions } from '../../shared/domain/schedule-rules.js';
import { earlierBookingsOf } from '../../shared/domain/booking-emails.js';
import type {
  ClaimRequest,
  ClaimResult,
  ClientBundle,
  ClinicStore,
  Ledger,
  LedgerEntry,
  MaintenanceMark,
  MessageContext,
  RescheduleRequest,
  StoredCheckIn,
  StoredPlan,
  StoredSession,
  TherapistActivity,
  TokenStore,
} from '../../shared/ports/store.js';
import type { PlanChangeResult } from '../../shared/ports/store.js';
import type { PlanChange } from '../../shared/domain/plan-change.js';
import { LEDGER_MOVES, mayMove } from '../../shared/domain/ledger-states.js';
import { instantOf, type Instant } from '../../shared/domain/time.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Method = keyof ClinicStore | keyof Ledger | keyof TokenStore;

/** Every port method, once: the compiler insists on all of them, so latency cannot miss one. */
const PORT_METHODS: Record<Method, true> = {
  putTherapist: true,
  putClient: true,
  putPlan: true,
  saveSession: true,
  updatePlanStatus: true,
  setPreference: true,
  suppressByEmail: true,
  recordCheckIn: true,
  recordBaseline: true,
  recordConfirmation: true,
  recordRescheduleRequest: true,
  setMaintenanceMark: true,
  recordPlanChange: true,
  getClient: true,
  getTherapist: true,
  getClientBundle: true,
  findClientIdByEmail: true,
  findSession: true,
  findPlan: true,
  getMessageContext: true,
  sessionsStartingBetween: true,
  therapistActivity: true,
  therapistPlans: true,
  planHistory: true,
  plansNeedingMaintenanceAction: true,
  listTherapists: true,
  claim: true,
  release: true,
  markSent: true,
  markSkipped: true,
  clearSkip: true,
  settleSkipped: true,
  markFailed: true,
  recordDelivery: true,
  get: true,
  holdDayCap: true,
  listSince: true,
  consume: true,
  isConsumed: true,
  takeActionSlot: true,
};

/** The most macrotask turns a call waits on each side of its action in latency mode. */
const MAX_LATENCY_TURNS = 8;

async function macrotaskTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface MemoryStoreOptions {
  readonly now?: () => Date;
  /** A random source in [0, 1): each port call then waits random macrotask turns around its action. */
  readonly latency?: () => number;
}

const copy = <T>(value: T): T => structuredClone(value);

/** Drops undefined fields, as the document client's removeUndefinedValues does. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

function transactionCancelled(): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]',
    $metadata: {},
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
  });
}

const byStart = (a: StoredSession, b: StoredSession) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id);
const utcMonth = (instant: string) => instant.slice(0, 7);
const byTimeAndId = (a: PlanChange, b: PlanChange) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id);

const positionOf = (record: LedgerRecord) => record.outboxAt ?? record.entry.updatedAt;

interface LedgerRecord {
  entry: LedgerEntry;
  /** The outbox index position (gsi1): set when the entry is skipped, released, sent or failed; a claim clears it. */
  outboxAt?: string;
}

export class MemoryStore implements ClinicStore, Ledger, TokenStore {
  readonly calls: Partial<Record<Method, number>> = {};
  private readonly faults = new Map<Method, unknown[]>();
  private readonly now: () => Date;

  private readonly therapists = new Map<string, Therapist>();
  private readonly clients = new Map<string, Client>();
  private readonly emails = new Map<string, string>();
  private readonly plans = new Map<string, StoredPlan>();
  private readonly maintenanceIndexed = new Set<string>();
  private readonly sessions = new Map<string, StoredSession>();
  private readonly checkIns = new Map<string, StoredCheckIn>();
  private readonly requests = new Map<string, RescheduleRequest>();
  private readonly dayCaps = new Map<string, { holder: string; expiresAt: string }>();
  private readonly ledger = new Map<string, LedgerRecord>();
  private readonly tokens = new Map<string, string>();
  /** Plan history by `<clientId>#<planId>#<change id>`, as the table keys it. */
  private readonly planChanges = new Map<string, PlanChange>();

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? (() => new Date());
    if (options.latency) this.addLatency(options.latency);
  }

  /** Wraps each port method of this instance: wait, act atomically, wait, answer (or throw). */
  private addLatency(random: () => number): void {
    const turns = () => Math.floor(random() * (MAX_LATENCY_TURNS + 1));
    for (const method of Object.keys(PORT_METHODS) as Method[]) {
      const act = (this[method] as (...args: unknown[]) => Promise<unknown>).bind(this);
      const delayed = async (...args: unknown[]) => {
        await macrotaskTurns(turns());
        try {
          return await act(...args);
        } finally {
          await macrotaskTurns(turns());
        }
      };
      Object.defineProperty(this, method, { value: delayed, writable: true, configurable: true });
    }
  }

  /** The next `times` calls of `method` throw `error` before touching any data. */
  failNext(method: Method, error: unknown, times = 1): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...Array.from({ length: times }, () => error)]);
  }

  /** Every ledger entry, claims in flight included (listSince leaves them out), oldest first. */
  ledgerEntries(): LedgerEntry[] {
    return [...this.ledger.values()]
      .sort((a, b) => positionOf(a).localeCompare(positionOf(b)) || a.entry.name.localeCompare(b.entry.name))
      .map((r) => copy(r.entry));
  }

  private enter(method: Method): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    const pending = this.faults.get(method);
    if (pending && pending.length > 0) throw pending.shift();
  }

  private stamp(): Instant {
    return instantOf(this.now());
  }

  // ---------------------------------------------------------------- writers

  async putTherapist(therapist: Therapist): Promise<void> {
    this.enter('putTherapist');
    this.therapists.set(therapist.id, copy(therapist));
  }

  async putClient(client: Client, options: { expectNew?: boolean } = {}): Promise<void> {
    this.enter('putClient');
    const previous = this.clients.get(client.id);
    if (options.expectNew && previous) throw transactionCancelled();
    const holder = this.emails.get(normalizeEmail(client.email));
    if (holder !== undefined && holder !== client.id) throw new EmailInUseError(client.id, holder);
    if (previous && !sameEmail(previous.email, client.email)) this.emails.delete(normalizeEmail(previous.email));
    this.clients.set(client.id, copy(client));
    this.emails.set(normalizeEmail(client.email), client.id);
  }

  async putPlan(plan: Plan): Promise<void> {
    this.enter('putPlan');
    const existing = this.plans.get(plan.id);
    const stored: StoredPlan = { ...existing, ...copy(plan) };
    this.plans.set(plan.id, stored);
    if (existing?.maintenanceActionAt && plan.status === 'active') this.maintenanceIndexed.add(plan.id);
    else this.maintenanceIndexed.delete(plan.id);
  }

  async saveSession(session: Session): Promise<StoredSession> {
    this.enter('saveSession');
    const plan = this.plans.get(session.planId);
    if (!plan) throw new NotFoundError('plan', session.planId);
    const others = [...this.sessions.values()].filter((s) => s.planId === plan.id && s.id !== session.id);
    const numbering = numberSessions(plan, [...others, session]);
    const toStored = (s: Session, previous?: StoredSession): StoredSession => {
      const n = numbering.get(s.id);
      const earlier = earlierBookingsOf(previous, s);
      return defined({
        ...previous,
        ...copy(s),
        ...(earlier ? { earlier } : {}),
        clientId: plan.clientId,
        therapistId: plan.therapistId,
        number: n?.number,
        inPhase: n?.inPhase,
        phase: n?.phase,
        ofPhase: n?.ofPhase,
        maintenance: n?.maintenance,
      });
    };
    const saved = toStored(session, this.sessions.get(session.id));
    this.sessions.set(session.id, saved);
    for (const other of others) {
      const n = numbering.get(other.id);
      if (n && (n.number !== other.number || n.phase !== other.phase || n.ofPhase !== other.ofPhase)) this.sessions.set(other.id, toStored(other, other));
    }
    return copy(saved);
  }

  async updatePlanStatus(clientId: string, planId: string, status: Plan['status']): Promise<StoredPlan> {
    this.enter('updatePlanStatus');
    const plan = this.plans.get(planId);
    if (!plan || plan.clientId !== clientId) throw new NotFoundError('plan', planId);
    const updated: StoredPlan = { ...plan, status };
    this.plans.set(planId, updated);
    if (status !== 'active') this.maintenanceIndexed.delete(planId);
    return copy(updated);
  }

  async setPreference(clientId: string, category: Category | 'all', subscribed: boolean): Promise<Client> {
    this.enter('setPreference');
    const client = this.clients.get(clientId);
    if (!client) throw new NotFoundError('client', clientId);
    const preferences = { ...client.preferences };
    for (const c of category === 'all' ? CATEGORIES : [category]) preferences[c] = subscribed;
    const updated: Client = { ...client, preferences };
    this.clients.set(clientId, updated);
    return copy(updated);
  }

  async suppressByEmail(email: string, reason: 'bounce' | 'complaint', at: Instant, detail?: string): Promise<Client | undefined> {
    this.enter('suppressByEmail');
    const clientId = this.emails.get(normalizeEmail(email));
    const client = clientId ? this.clients.get(clientId) : undefined;
    if (!clientId || !client) return undefined;
    const updated: Client = { ...client, suppressed: { reason, at, ...(detail ? { detail: detail.slice(0, 500) } : {}) } };
    this.clients.set(clientId, updated);
    return copy(updated);
  }

  async recordCheckIn(input: { clientId: string; sessionId: string; answers: CheckInAnswers; at: Instant }): Promise<StoredCheckIn | undefined> {
    this.enter('recordCheckIn');
    const session = this.sessions.get(input.sessionId);
    if (!this.clients.has(input.clientId) || !session || session.clientId !== input.clientId) throw new NotFoundError('session', input.sessionId);
    const plan = this.plans.get(session.planId);
    if (!plan) throw new NotFoundError('plan', session.planId);
    if (this.checkIns.has(session.id)) return undefined;

    const checkIn: StoredCheckIn = {
      ...copy(input.answers),
      sessionId: session.id,
      planId: plan.id,
      clientId: input.clientId,
      therapistId: plan.therapistId,
      answeredAt: input.at,
      baseline: false,
      ...checkInComparison(
        plan,
        [...this.checkIns.values()].filter((c) => c.clientId === input.clientId),
        input.at,
      ),
    };
    this.checkIns.set(session.id, checkIn);
    this.sessions.set(session.id, { ...session, checkInAnsweredAt: input.at });
    return copy(checkIn);
  }

  async recordBaseline(input: { clientId: string; planId: string; answers: IntakeAnswers; at: Instant }): Promise<'recorded' | 'already-answered'> {
    this.enter('recordBaseline');
    const plan = this.plans.get(input.planId);
    if (!plan || plan.clientId !== input.clientId) throw new NotFoundError('plan', input.planId);
    if (plan.baseline) return 'already-answered';
    const { reason, ...scores } = input.answers;
    this.plans.set(plan.id, { ...plan, baseline: { ...scoresOf(scores), at: input.at, ...(reason ? { reason } : {}) } });
    return 'recorded';
  }

  async recordConfirmation(clientId: string, sessionId: string, at: Instant): Promise<boolean> {
    this.enter('recordConfirmation');
    const session = this.sessions.get(sessionId);
    if (!session || session.clientId !== clientId || session.confirmedAt !== undefined) return false;
    this.sessions.set(sessionId, { ...session, confirmedAt: at });
    return true;
  }

  async recordRescheduleRequest(request: RescheduleRequest): Promise<boolean> {
    this.enter('recordRescheduleRequest');
    const session = this.sessions.get(request.sessionId);
    if (this.requests.has(request.sessionId) || !session || session.clientId !== request.clientId) return false;
    this.requests.set(request.sessionId, copy(request));
    this.sessions.set(session.id, { ...session, rescheduleRequestedAt: request.at });
    return true;
  }

  async setMaintenanceMark(clientId: string, planId: string, mark: MaintenanceMark | undefined, nextActionAt: Instant | undefined): Promise<void> {
    this.enter('setMaintenanceMark');
    const plan = this.plans.get(planId);
    if (!plan || plan.clientId !== clientId) throw conditionFailed();
    const { maintenanceMark: _mark, maintenanceActionAt: _at, ...rest } = plan;
    this.plans.set(planId, { ...rest, ...(mark ? { maintenanceMark: copy(mark) } : {}), ...(nextActionAt ? { maintenanceActionAt: nextActionAt } : {}) });
    if (nextActionAt) this.maintenanceIndexed.add(planId);
    else this.maintenanceIndexed.delete(planId);
  }

  async recordPlanChange(change: PlanChange, phaseIndex: number): Promise<PlanChangeResult> {
    this.enter('recordPlanChange');
    const key = `${change.clientId}#${change.planId}#${change.id}`;
    if (this.planChanges.has(key)) return { status: 'duplicate' };
    const plan = this.plans.get(change.planId);
    const phase = plan?.phases[phaseIndex];
    if (!plan || plan.clientId !== change.clientId || !phase || plan.status !== change.before.status || phase.everyDays !== change.before.maintenanceEveryDays)
      return { status: 'stale' };
    const phases = plan.phases.map((p, i) => (i === phaseIndex ? { ...p, everyDays: change.after.maintenanceEveryDays } : p));
    const updated: StoredPlan = { ...plan, status: change.after.status, phases };
    this.plans.set(plan.id, updated);
    if (change.after.status !== 'active') this.maintenanceIndexed.delete(plan.id);
    this.planChanges.set(key, defined(copy(change)));
    return { status: 'recorded', plan: copy(updated) };
  }

  // ---------------------------------------------------------------- readers

  async getClient(clientId: string): Promise<Client | undefined> {
    this.enter('getClient');
    return copy(this.clients.get(clientId));
  }

  async getTherapist(therapistId: string): Promise<Therapist | undefined> {
    this.enter('getTherapist');
    return copy(this.therapists.get(therapistId));
  }

  async getClientBundle(clientId: string): Promise<ClientBundle | undefined> {
    this.enter('getClientBundle');
    const client = this.clients.get(clientId);
    if (!client) return undefined;
    const bySk = <T>(items: Iterable<T>, keep: (t: T) => boolean, key: (t: T) => string) =>
      [...items].filter(keep).sort((a, b) => key(a).localeCompare(key(b)));
    return copy({
      client,
      plans: bySk(
        this.plans.values(),
        (p) => p.clientId === clientId,
        (p) => p.id,
      ),
      sessions: [...this.sessions.values()].filter((s) => s.clientId === clientId).sort((a, b) => a.start.localeCompare(b.start)),
      checkIns: bySk(
        this.checkIns.values(),
        (c) => c.clientId === clientId,
        (c) => c.sessionId,
      ),
      requests: bySk(
        this.requests.values(),
        (r) => r.clientId === clientId,
        (r) => r.sessionId,
      ),
    });
  }

  async findClientIdByEmail(email: string): Promise<string | undefined> {
    this.enter('findClientIdByEmail');
    return this.emails.get(normalizeEmail(email));
  }

  async findSession(sessionId: string): Promise<StoredSession | undefined> {
    this.enter('findSession');
    return copy(this.sessions.get(sessionId));
  }

  async findPlan(planId: string): Promise<StoredPlan | undefined> {
    this.enter('findPlan');
    return copy(this.plans.get(planId));
  }

  async getMessageContext(k: { clientId: string; planId?: string; sessionId?: string; therapistId?: string; dayCapDate?: string }): Promise<MessageContext> {
    this.enter('getMessageContext');
    const context: Mutable<MessageContext> = {};
    const client = this.clients.get(k.clientId);
    if (client) context.client = copy(client);
    // Plans and sessions live in their client's partition: another client's ids find nothing.
    const plan = k.planId ? this.plans.get(k.planId) : undefined;
    if (plan && plan.clientId === k.clientId) context.plan = copy(plan);
    const session = k.sessionId ? this.sessions.get(k.sessionId) : undefined;
    if (session && session.clientId === k.clientId) context.session = copy(session);
    const therapist = k.therapistId ? this.therapists.get(k.therapistId) : undefined;
    if (therapist) context.therapist = copy(therapist);
    const cap = k.dayCapDate ? this.dayCaps.get(`${k.clientId}#${k.dayCapDate}`) : undefined;
    if (cap) context.dayCapHolder = cap.holder;
    return context;
  }

  async sessionsStartingBetween(from: string, to: string): Promise<StoredSession[]> {
    this.enter('sessionsStartingBetween');
    return copy([...this.sessions.values()].filter((s) => s.start >= from && s.start <= to).sort(byStart));
  }

  async therapistActivity(therapistId: string, from: string, to: string): Promise<TherapistActivity> {
    this.enter('therapistActivity');
    // The index sort keys are `<TYPE>#<instant>#<id>`: an instant equal to `to` sorts after it.
    const within = (at: string) => at >= from && at < to;
    return copy({
      sessions: [...this.sessions.values()].filter((s) => s.therapistId === therapistId && within(s.start)).sort(byStart),
      checkIns: [...this.checkIns.values()]
        .filter((c) => c.therapistId === therapistId && within(c.answeredAt))
        .sort((a, b) => a.answeredAt.localeCompare(b.answeredAt)),
      requests: [...this.requests.values()].filter((r) => r.therapistId === therapistId && within(r.at)).sort((a, b) => a.at.localeCompare(b.at)),
      planChanges: [...this.planChanges.values()].filter((c) => c.therapistId === therapistId && within(c.at)).sort(byTimeAndId),
    });
  }

  async planHistory(clientId: string, planId: string): Promise<PlanChange[]> {
    this.enter('planHistory');
    return copy([...this.planChanges.values()].filter((c) => c.clientId === clientId && c.planId === planId).sort(byTimeAndId));
  }

  async therapistPlans(therapistId: string): Promise<StoredPlan[]> {
    this.enter('therapistPlans');
    return copy([...this.plans.values()].filter((p) => p.therapistId === therapistId).sort((a, b) => a.id.localeCompare(b.id)));
  }

  async plansNeedingMaintenanceAction(until: string, lookbackMonths = 3): Promise<StoredPlan[]> {
    this.enter('plansNeedingMaintenanceAction');
    const end = new Date(until);
    const first = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - lookbackMonths, 1)).toISOString().slice(0, 7);
    return copy(
      [...this.maintenanceIndexed]
        .map((id) => this.plans.get(id))
        .filter((p): p is StoredPlan => p?.maintenanceActionAt !== undefined)
        .filter((p) => utcMonth(p.maintenanceActionAt!) >= first && p.maintenanceActionAt! <= until)
        .sort((a, b) => a.maintenanceActionAt!.localeCompare(b.maintenanceActionAt!) || a.id.localeCompare(b.id)),
    );
  }

  async listTherapists(): Promise<Therapist[]> {
    this.enter('listTherapists');
    return copy([...this.therapists.values()].sort((a, b) => a.id.localeCompare(b.id)));
  }

  // ---------------------------------------------------------------- ledger

  private newEntry(request: ClaimRequest, status: 'claimed' | 'skipped', extra: Partial<LedgerEntry> & { attempts: number }): LedgerRecord {
    const entry = defined<LedgerEntry>({
      name: request.name,
      kind: request.kind,
      clientId: request.clientId,
      planId: request.planId,
      sessionId: request.sessionId,
      therapistId: request.therapistId,
      dueAt: request.dueAt,
      status,
      updatedAt: request.now,
      ...extra,
    });
    return status === 'claimed' ? { entry } : { entry, outboxAt: request.now };
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    this.enter('claim');
    const existing = this.ledger.get(request.name);
    if (existing && !mayMove('claim', existing.entry)) return { claimed: false, existing: copy(existing.entry) };
    this.ledger.set(request.name, this.newEntry(request, 'claimed', { claimedAt: request.now, attempts: 1 }));
    return { claimed: true };
  }

  async release(name: string): Promise<void> {
    this.enter('release');
    const record = this.ledger.get(name);
    if (!record || !mayMove('release', record.entry)) return;
    const now = this.stamp();
    record.entry = { ...record.entry, status: LEDGER_MOVES.release.to, updatedAt: now };
    record.outboxAt = now;
  }

  /** As the DynamoDB ledger's conditional settle: only where `move` may start, else LedgerConflictError. */
  private finish(move: 'markSent' | 'markFailed' | 'settleSkipped', name: string, fields: Partial<LedgerEntry>, now: Instant): void {
    const record = this.ledger.get(name);
    const status = LEDGER_MOVES[move].to;
    if (!record || !mayMove(move, record.entry)) throw new LedgerConflictError(name, status, { cause: conditionFailed() });
    record.entry = { ...record.entry, status, ...fields, updatedAt: now };
    record.outboxAt = now;
  }

  async markSent(name: string, sesMessageId: string, now: Instant): Promise<void> {
    this.enter('markSent');
    this.finish('markSent', name, { sesMessageId }, now);
  }

  async markFailed(name: string, reason: string, now: Instant): Promise<void> {
    this.enter('markFailed');
    this.finish('markFailed', name, { reason: reason.slice(0, 500) }, now);
  }

  async clearSkip(name: string): Promise<void> {
    this.enter('clearSkip');
    const entry = this.ledger.get(name)?.entry;
    if (entry && mayMove('clearSkip', entry)) this.ledger.delete(name);
  }

  async settleSkipped(name: string, reason: string, now: Instant, deferredTo?: Instant): Promise<void> {
    this.enter('settleSkipped');
    this.finish('settleSkipped', name, { reason: reason.slice(0, 500), ...(deferredTo ? { deferredTo } : {}) }, now);
  }

  async markSkipped(request: ClaimRequest, reason: string): Promise<LedgerEntry | undefined> {
    this.enter('markSkipped');
    // A live claim is another attempt's to settle; a sent, failed or deferred entry stands.
    const existing = this.ledger.get(request.name)?.entry;
    if (!mayMove('markSkipped', existing)) return copy(existing);
    this.ledger.set(request.name, this.newEntry(request, 'skipped', { reason: reason.slice(0, 500), attempts: 0 }));
    return undefined;
  }

  async recordDelivery(sesMessageId: string | undefined, name: string, event: string, at: Instant, detail?: string): Promise<void> {
    this.enter('recordDelivery');
    const record = this.ledger.get(name);
    if (!record || (sesMessageId !== undefined && record.entry.sesMessageId !== sesMessageId)) return;
    record.entry = { ...record.entry, delivery: { event, at, ...(detail ? { detail: detail.slice(0, 300) } : {}) } };
  }

  async get(name: string): Promise<LedgerEntry | undefined> {
    this.enter('get');
    return copy(this.ledger.get(name)?.entry);
  }

  async holdDayCap(clientId: string, localDate: string, name: string, expiresAt: string): Promise<boolean> {
    this.enter('holdDayCap');
    const key = `${clientId}#${localDate}`;
    const cap = this.dayCaps.get(key);
    if (cap && cap.holder !== name) return false;
    this.dayCaps.set(key, { holder: name, expiresAt });
    return true;
  }

  async listSince(since: string, until: string = this.stamp()): Promise<LedgerEntry[]> {
    this.enter('listSince');
    return this.ledgerEntries().filter((e) => {
      const at = this.ledger.get(e.name)!.outboxAt;
      return at !== undefined && at >= since && at <= until;
    });
  }

  // ---------------------------------------------------------------- tokens

  async consume(tokenId: string, expiresAt: string): Promise<boolean> {
    this.enter('consume');
    if (this.tokens.has(tokenId)) return false;
    this.tokens.set(tokenId, expiresAt);
    return true;
  }

  async isConsumed(tokenId: string): Promise<boolean> {
    this.enter('isConsumed');
    return this.tokens.has(tokenId);
  }

  private readonly actionCounts = new Map<string, number>();

  async takeActionSlot(clientId: string, window: string, limit: number): Promise<boolean> {
    this.enter('takeActionSlot');
    const key = `${clientId}#${window}`;
    const count = this.actionCounts.get(key) ?? 0;
    if (count >= limit) return false;
    this.actionCounts.set(key, count + 1);
    return true;
  }
}
