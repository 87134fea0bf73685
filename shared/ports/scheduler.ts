/** One-time message schedules. The EventBridge Scheduler adapter implements it. */
import type { DispatchPayload } from '../domain/dispatch-payload.js';
import type { Instant } from '../domain/time.js';

export interface OneTimeSchedule {
  /** The message name (shared/domain/message.ts): schedule name, ledger key and SES tag. */
  readonly name: string;
  readonly at: Instant;
  readonly payload: Omit<DispatchPayload, 'scheduledTime' | 'executionId' | 'attempt'>;
}

export interface ScheduledEntry {
  readonly name: string;
  readonly at?: Instant;
}

export interface MessageScheduler {
  /** Creates the schedule, or replaces it in full when it exists. */
  upsert(schedule: OneTimeSchedule): Promise<'created' | 'updated'>;
  /** Deletes it; false when it was already gone. */
  remove(name: string): Promise<boolean>;
  /** Schedules whose names start with `prefix` (all of one subject's messages). */
  list(prefix: string): Promise<ScheduledEntry[]>;
}
