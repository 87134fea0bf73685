/** What the scheduling kernel works with: the store, the ledger, the Scheduler, the clinic and a clock. */
import type { Client, Clinic } from '../../domain/model.js';
import type { Clock } from '../../ports/clock.js';
import type { OpsLog } from '../../ports/log.js';
import type { MessageScheduler } from '../../ports/scheduler.js';
import type { ClinicStore, Ledger, StoredPlan, StoredSession } from '../../ports/store.js';

export interface SchedulingDeps {
  readonly store: ClinicStore;
  readonly ledger: Ledger;
  readonly scheduler: MessageScheduler;
  readonly clinic: Clinic;
  readonly clock: Clock;
  readonly log?: OpsLog;
}

/** One table change, as the item's images before and after (absent on insert / on delete). */
export type SubjectChange =
  | { readonly type: 'session'; readonly before?: StoredSession; readonly after?: StoredSession }
  | { readonly type: 'plan'; readonly before?: StoredPlan; readonly after?: StoredPlan }
  | { readonly type: 'client'; readonly before?: Client; readonly after?: Client };
