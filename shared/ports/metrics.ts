/**
 * The delivery figures the system reports about itself: what each message ended as, and how late
 * it went. The Powertools adapter writes them as CloudWatch embedded metrics (log lines, no API
 * calls); without one, nothing is reported (the twin, unit tests).
 */
import type { MessageKind } from '../domain/message.js';

/** What one delivery attempt ended as, as dispatch reports it. */
export type DeliveryStatus = 'sent' | 'skipped' | 'deferred' | 'retry-scheduled' | 'duplicate' | 'failed';

export interface DeliveryMetrics {
  /** One attempt's outcome; `reason` is a short bounded code (see reasonCode), never free text. */
  outcome(kind: MessageKind, status: DeliveryStatus, reason?: string): void;
  /** Send time minus the time the message was due, for an email that went. */
  lateness(kind: MessageKind, milliseconds: number): void;
}
