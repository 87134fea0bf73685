/** What the scheduling kernel works with: the store, the ledger, the Scheduler, the clinic and a clock. */
import type { Clinic } from '../../domain/model.js';
import type { Clock } from '../../ports/clock.js';
import type { OpsLog } from '../../ports/log.js';
import type { MessageScheduler } from '../../ports/scheduler.js';
import type { ClinicStore, Ledger } from '../../ports/store.js';

export interface SchedulingDeps {
  readonly store: ClinicStore;
  readonly ledger: Ledger;
  readonly scheduler: MessageScheduler;
  readonly clinic: Clinic;
  readonly clock: Clock;
  readonly log?: OpsLog;
}
