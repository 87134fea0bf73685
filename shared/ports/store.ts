/**
 * What the use cases need from storage. The DynamoDB adapter implements it on one table
 * (shared/adapters/dynamodb); unit tests use the in-memory fake (test/support/memory-store.ts).
 */
import type { CheckIn, CheckInAnswers, Client, IntakeAnswers, Plan, ScoreSet, Session, Therapist, Category } from '../domain/model.js';
import type { MessageKind } from '../domain/message.js';
import type { Instant } from '../domain/time.js';
import type { PlanChange } from '../domain/plan-change.js';
import type { EarlierBooking } from '../domain/booking-emails.js';
import type { LedgerStatus } from '../domain/ledger-states.js';
import type { MaintenanceMark } from '../domain/maintenance.js';

/** A session as stored: the booking plus what the writers derive and the web pages record. */
export interface StoredSession extends Session {
  readonly clientId: string;
  readonly therapistId: string;
  /** 1-based position among the plan's non-cancelled sessions, and its phase. */
  readonly number?: number;
  /** 1-based position within its phase ("session 3 of 6"). */
  readonly inPhase?: number;
  readonly phase?: string;
  readonly ofPhase?: number;
  readonly maintenance?: boolean;
  readonly checkInAnsweredAt?: Instant;
  readonly confirmedAt?: Instant;
  readonly rescheduleRequestedAt?: Instant;
  /** Earlier versions of the booking, newest first, kept by the writers as the version rises (earlierBookingsOf). */
  readonly earlier?: readonly EarlierBooking[];
}

export type { MaintenanceMark };

/** The client's state before treatment, against which every check-in on the plan is compared. */
export interface PlanBaseline extends ScoreSet {
  /** When the intake questionnaire was answered. */
  readonly at: Instant;
  /** The intake's "What brings you in?" (health data: never logged, never in a URL, id or tag). */
  readonly reason?: string;
  /** Set only on a baseline taken from a first check-in, before the intake questionnaire existed. */
  readonly sessionId?: string;
}

export interface StoredPlan extends Plan {
  /** The intake questionnaire's answers; absent until the client answers it. */
  readonly baseline?: PlanBaseline;
  readonly maintenanceMark?: MaintenanceMark;
  /** When reconcile should next look at this plan's maintenance (sparse index). */
  readonly maintenanceActionAt?: Instant;
}

export interface StoredCheckIn extends CheckIn {
  /** The previous check-in's scores on the same plan, captured when these answers were stored. */
  readonly previous?: ScoreSet;
  /** The plan's baseline scores when these answers were stored; absent while the plan had none. */
  readonly baselineScores?: ScoreSet;
}

export interface RescheduleRequest {
  readonly sessionId: string;
  readonly clientId: string;
  readonly planId: string;
  readonly therapistId: string;
  readonly message: string;
  readonly at: Instant;
}

/** Everything stored about one client, read in one Query. */
export interface ClientBundle {
  readonly client: Client;
  readonly plans: StoredPlan[];
  readonly sessions: StoredSession[];
  readonly checkIns: StoredCheckIn[];
  readonly requests: RescheduleRequest[];
}

/** What dispatch needs to decide and render one message, read in one request. */
export interface MessageContext {
  readonly client?: Client;
  readonly plan?: StoredPlan;
  readonly session?: StoredSession;
  readonly therapist?: Therapist;
  /** The message name already holding this client's non-urgent slot for the local day, if any. */
  readonly dayCapHolder?: string;
}

/** The ledger's statuses and the moves between them: shared/domain/ledger-states.ts. */
export type { LedgerStatus } from '../domain/ledger-states.js';

export interface LedgerEntry {
  readonly name: string;
  readonly kind: MessageKind;
  readonly status: LedgerStatus;
  readonly clientId?: string;
  readonly planId?: string;
  readonly sessionId?: string;
  readonly therapistId?: string;
  readonly dueAt?: Instant;
  readonly claimedAt?: Instant;
  readonly attempts: number;
  readonly reason?: string;
  /**
   * Set on a skip that handed the message on to a deferral schedule (`-d1` …): that copy owns the
   * send now, so this entry is final and never claimed again under the original name.
   */
  readonly deferredTo?: Instant;
  readonly sesMessageId?: string;
  readonly delivery?: { readonly event: string; readonly at: Instant; readonly detail?: string };
  readonly updatedAt: Instant;
}

export interface ClaimRequest {
  readonly name: string;
  readonly kind: MessageKind;
  readonly clientId?: string;
  readonly planId?: string;
  readonly sessionId?: string;
  readonly therapistId?: string;
  readonly dueAt?: Instant;
  readonly now: Instant;
}

/** The outcome of trying to claim a message identity. */
export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly existing: LedgerEntry };

export interface TherapistActivity {
  readonly sessions: StoredSession[];
  readonly checkIns: StoredCheckIn[];
  readonly requests: RescheduleRequest[];
  /** Changes made to the therapist's plans in the window (plan history), oldest first. */
  readonly planChanges: PlanChange[];
}

/**
 * The outcome of recordPlanChange: `recorded` with the plan as it now stands; `duplicate` when a
 * change with this id is in the history already (a link that acted); `stale` when the plan no
 * longer stands as the change's `before` says (another change came first).
 */
export type PlanChangeResult = { readonly status: 'recorded'; readonly plan: StoredPlan } | { readonly status: 'duplicate' } | { readonly status: 'stale' };

export interface ClinicStore {
  // Writers — each keeps the derived fields (session numbers, indexes) consistent in one transaction.
  putTherapist(therapist: Therapist): Promise<void>;
  /** Creates or replaces a client and its email lookup; `expectNew` refuses to overwrite. */
  putClient(client: Client, options?: { expectNew?: boolean }): Promise<void>;
  putPlan(plan: Plan): Promise<void>;
  /** Writes the session and renumbers the plan's sessions in one transaction. */
  saveSession(session: Session): Promise<StoredSession>;
  updatePlanStatus(clientId: string, planId: string, status: Plan['status']): Promise<StoredPlan>;
  setPreference(clientId: string, category: Category | 'all', subscribed: boolean): Promise<Client>;
  suppressByEmail(email: string, reason: 'bounce' | 'complaint', at: Instant, detail?: string): Promise<Client | undefined>;
  /**
   * Stores the answers once: the check-in item (with the plan's baseline and the previous check-in
   * as they stand, domain/baseline.ts) and the session's answered mark, in one transaction.
   * Returns undefined when already answered.
   */
  recordCheckIn(input: { clientId: string; sessionId: string; answers: CheckInAnswers; at: Instant }): Promise<StoredCheckIn | undefined>;
  /**
   * Stores the intake questionnaire's answers as the plan's baseline, in one conditional write:
   * the first answers win. `already-answered` when the plan has a baseline; NotFoundError when the
   * plan is not this client's.
   */
  recordBaseline(input: { clientId: string; planId: string; answers: IntakeAnswers; at: Instant }): Promise<'recorded' | 'already-answered'>;
  recordConfirmation(clientId: string, sessionId: string, at: Instant): Promise<boolean>;
  recordRescheduleRequest(request: RescheduleRequest): Promise<boolean>;
  setMaintenanceMark(clientId: string, planId: string, mark: MaintenanceMark | undefined, nextActionAt: Instant | undefined): Promise<void>;
  /**
   * Sets the plan's status and the interval of phase `phaseIndex` to `change.after`, and adds the
   * change to the plan's history, in one transaction, on two conditions: the plan still stands as
   * `change.before` says, and no change with `change.id` was recorded before.
   */
  recordPlanChange(change: PlanChange, phaseIndex: number): Promise<PlanChangeResult>;

  // Readers
  getClient(clientId: string): Promise<Client | undefined>;
  getTherapist(therapistId: string): Promise<Therapist | undefined>;
  /** `consistent`: a strongly consistent read, which sees every write completed before it. */
  getClientBundle(clientId: string, consistent?: boolean): Promise<ClientBundle | undefined>;
  findClientIdByEmail(email: string): Promise<string | undefined>;
  /** Locates a session by id without knowing its client (one index read). */
  findSession(sessionId: string): Promise<StoredSession | undefined>;
  findPlan(planId: string): Promise<StoredPlan | undefined>;
  getMessageContext(keys: { clientId: string; planId?: string; sessionId?: string; therapistId?: string; dayCapDate?: string }): Promise<MessageContext>;
  sessionsStartingBetween(from: Instant, to: Instant): Promise<StoredSession[]>;
  therapistActivity(therapistId: string, from: Instant, to: Instant): Promise<TherapistActivity>;
  therapistPlans(therapistId: string): Promise<StoredPlan[]>;
  /** A plan's history of changes, oldest first. */
  planHistory(clientId: string, planId: string): Promise<PlanChange[]>;
  plansNeedingMaintenanceAction(until: Instant, lookbackMonths?: number): Promise<StoredPlan[]>;
  listTherapists(): Promise<Therapist[]>;
}

/**
 * The ledger's states: `claimed` → `sent` | `failed` | `skipped` (by the claim holder, a deferral
 * included); `claimed` → `released` (retryable error, free for the next attempt); a `skipped`
 * decided before any claim is written directly — as data in shared/domain/ledger-states.ts, which
 * every implementation follows. Conditions, not hope, keep the first terminal state standing: a claim is taken only over nothing, a released entry or a plain skip; a settle
 * needs the claim; a skip never overwrites a claim, a send, a failure or a deferral.
 */
export interface Ledger {
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Gives a held claim back after a retryable error; a no-op when the entry is no longer claimed. */
  release(name: string): Promise<void>;
  /** Settles a held claim as sent. LedgerConflictError when the entry is not (or no longer) claimed. */
  markSent(name: string, sesMessageId: string, now: Instant): Promise<void>;
  /**
   * Records a skip decided without a claim; creates the entry when there is none. Writes nothing
   * when a claim is live or the entry is sent, failed or deferred: that entry stands, and is
   * returned (undefined when the skip was recorded).
   */
  markSkipped(request: ClaimRequest, reason: string): Promise<LedgerEntry | undefined>;
  /**
   * Removes a plain skip that a change has lifted (a resume, a resubscribe, a session booked again),
   * so the message is pending again, not shown as skipped. A claim, a send, a failure or a
   * deferral stays as it is.
   */
  clearSkip(name: string): Promise<void>;
  /**
   * Settles a held claim as skipped — with `deferredTo` when a deferral schedule now owns the
   * send. LedgerConflictError when the entry is not claimed.
   */
  settleSkipped(name: string, reason: string, now: Instant, deferredTo?: Instant): Promise<void>;
  /** Settles a held (or released) claim as failed. LedgerConflictError when it was settled otherwise. */
  markFailed(name: string, reason: string, now: Instant): Promise<void>;
  recordDelivery(sesMessageId: string | undefined, name: string, event: string, at: Instant, detail?: string): Promise<void>;
  get(name: string): Promise<LedgerEntry | undefined>;
  /** Holds the client's non-urgent slot for a local day; true when it is (now) held by `name`. */
  holdDayCap(clientId: string, localDate: string, name: string, expiresAt: Instant): Promise<boolean>;
  listSince(since: Instant, until?: Instant): Promise<LedgerEntry[]>;
}

export interface TokenStore {
  /** Marks a single-use token consumed; false when it already was. `clientId` lets an erasure find it. */
  consume(tokenId: string, expiresAt: Instant, clientId?: string): Promise<boolean>;
  /** Whether a single-use token has been consumed, by a strongly consistent read. */
  isConsumed(tokenId: string): Promise<boolean>;
  /**
   * Counts one page action by `clientId` (a client, or a therapist on the adjust page) in the
   * window named `window` (e.g. the UTC hour), atomically: true while the count stays within
   * `limit`, false once it would pass it (nothing counted then). The count expires at `expiresAt`.
   */
  takeActionSlot(clientId: string, window: string, limit: number, expiresAt: Instant): Promise<boolean>;
}
