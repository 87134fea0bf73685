/**
 * What the intake pipeline needs from storage: the state a delivery is judged against (read in
 * one request where the table allows), one all-or-nothing commit of the change, and the
 * delivery log `keepwell intake list` reads.
 */
import type { Client, Plan, Session, Therapist } from '../domain/model.js';
import type { Instant } from '../domain/time.js';
import type { IntakeAction } from '../intake/event.js';
import type { ClientBundle } from './store.js';

export type DeliveryStatus = 'accepted' | 'ignored' | 'refused';

/** One webhook delivery (or feed event) and what became of it. */
export interface DeliveryRecord {
  readonly source: string;
  readonly deliveryId: string;
  readonly status: DeliveryStatus;
  readonly reason?: string;
  readonly action?: IntakeAction;
  readonly bookingId?: string;
  readonly sessionId?: string;
  readonly clientId?: string;
  readonly eventType?: string;
  readonly at: Instant;
}

/** A source booking id → the Keepwell session it became, and the newest source version applied to it. */
export interface BookingLink {
  readonly source: string;
  readonly bookingId: string;
  readonly version: number;
  readonly sessionId?: string;
  readonly clientId?: string;
  /** Cancelled before Keepwell knew the booking: an older create arriving later must not revive it. */
  readonly cancelled?: boolean;
}

export interface IntakeState {
  /** The delivery, when it was recorded before (a retry, or a concurrent copy that won). */
  readonly delivery?: DeliveryRecord;
  readonly link?: BookingLink;
  readonly previousLink?: BookingLink;
  /** The client the booking belongs to (by link, else by email), with their plans and sessions. */
  readonly bundle?: ClientBundle;
  readonly therapist?: Therapist;
  /** The booking's address belongs to a client erased with `keepwell client erase`. */
  readonly erased?: boolean;
}

export interface IntakeLookup {
  readonly source: string;
  readonly deliveryId: string;
  readonly bookingId: string;
  readonly previousBookingId?: string;
  readonly email?: string;
  readonly therapistId?: string;
}

/** Everything one delivery writes, in one transaction. */
export interface IntakeChange {
  readonly delivery: DeliveryRecord;
  /** Each written only if it is absent or holds an older version than its own. */
  readonly links: readonly BookingLink[];
  readonly newClient?: Client;
  readonly newPlan?: Plan;
  /** The session as it is to be; `expectedVersion` undefined: it must not exist yet. */
  readonly session?: { readonly value: Session; readonly expectedVersion?: number; readonly intakeVersion: number };
  /** The client's bundle the change was decided on (for session numbering). */
  readonly bundle?: ClientBundle;
}

/** duplicate: the delivery was recorded meanwhile; conflict: the booking changed meanwhile (decide again). */
export type CommitResult = 'committed' | 'duplicate' | 'conflict';

/** What the last poll of a feed learnt, for the next conditional GET. */
export interface FeedState {
  readonly source: string;
  readonly etag?: string;
  readonly lastModified?: string;
  readonly polledAt: Instant;
}

export interface IntakeStore {
  loadIntakeState(lookup: IntakeLookup): Promise<IntakeState>;
  commitIntake(change: IntakeChange): Promise<CommitResult>;
  /** Records a delivery that changes nothing else; false when it was recorded before. */
  recordIntakeDelivery(record: DeliveryRecord): Promise<boolean>;
  listDeliveries(from: Instant, to: Instant): Promise<DeliveryRecord[]>;
  getFeedState(source: string): Promise<FeedState | undefined>;
  putFeedState(state: FeedState): Promise<void>;
}
