/**
 * The MessageScheduler port in memory, for unit tests and benchmarks: the same contract as
 * the EventBridge adapter (upsert replaces in full, remove reports whether it existed, list by
 * prefix), with every call recorded and an optional fault hook to stand in for throttling or a
 * rejected request.
 */
import type { MessageScheduler, OneTimeSchedule, ScheduledEntry } from '../../shared/ports/scheduler.js';

export type SchedulerOperation = 'upsert' | 'remove' | 'list';

export interface SchedulerCall {
  readonly operation: SchedulerOperation;
  /** The schedule name, or the prefix for `list`. */
  readonly name: string;
}

export class InMemoryMessageScheduler implements MessageScheduler {
  readonly schedules = new Map<string, OneTimeSchedule>();
  readonly calls: SchedulerCall[] = [];

  /** Returns an error to throw instead of performing the call, or undefined to let it through. */
  constructor(private readonly fault: (call: SchedulerCall) => Error | undefined = () => undefined) {}

  async upsert(schedule: OneTimeSchedule): Promise<'created' | 'updated'> {
    this.record({ operation: 'upsert', name: schedule.name });
    const existed = this.schedules.has(schedule.name);
    this.schedules.set(schedule.name, schedule);
    return existed ? 'updated' : 'created';
  }

  async remove(name: string): Promise<boolean> {
    this.record({ operation: 'remove', name });
    return this.schedules.delete(name);
  }

  async list(prefix: string): Promise<ScheduledEntry[]> {
    this.record({ operation: 'list', name: prefix });
    return [...this.schedules.values()].filter((s) => s.name.startsWith(prefix)).map((s) => ({ name: s.name, at: s.at }));
  }

  /** Names in order, for compact assertions. */
  names(): string[] {
    return [...this.schedules.keys()].sort();
  }

  private record(call: SchedulerCall): void {
    this.calls.push(call);
    const error = this.fault(call);
    if (error) throw error;
  }
}
