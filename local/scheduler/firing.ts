/**
 * Fires due schedules at their local target handlers, the way EventBridge Scheduler invokes targets:
 * context attributes substituted into the input, failed invocations retried with exponential backoff
 * within the RetryPolicy, exhausted ones sent to a dead-letter store, one-time schedules with
 * ActionAfterCompletion DELETE removed once their invocation is settled.
 *
 * FlexibleTimeWindow is accepted but not applied: locally every schedule fires at its exact time, so
 * runs are repeatable.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, VirtualClock } from '../clock.js';
import { followingFireAt, type ScheduleStore, type StoredSchedule } from './store.js';

export type TargetHandler = (payload: unknown) => Promise<unknown>;

/** Test hook: deliver every invocation twice with the same execution id, as an at-least-once redelivery. */
export type DuplicateDelivery = 'none' | 'sequential' | 'concurrent';

/** Chooses, for each invocation, whether it is delivered twice (a fault layer's rate or window). */
export type DuplicateDeliveryRule = DuplicateDelivery | ((delivery: { readonly scheduleName: string; readonly firedAt: Date }) => DuplicateDelivery);

/** Work to run on the scheduler's clock, in time order with the firings (Lambda's own retries in the twin). */
interface Timer {
  readonly dueAt: Date;
  readonly work: () => Promise<void>;
}

export interface FireInfo {
  readonly scheduleName: string;
  readonly groupName: string;
  readonly scheduleArn: string;
  readonly targetArn: string;
  readonly executionId: string;
  readonly scheduledTime: Date;
  readonly firedAt: Date;
  /** 1 for the first invocation, then one more per retry. */
  readonly attempt: number;
  /** 2 for the duplicate copy when duplicate delivery is on. */
  readonly copy: 1 | 2;
  readonly payload: unknown;
}

export interface DeadLetter {
  readonly scheduleName: string;
  readonly groupName: string;
  readonly scheduleArn: string;
  readonly executionId: string;
  readonly scheduledTime: Date;
  /** The payload of the last attempt; the raw input text when it was not JSON. */
  readonly payload: unknown;
  readonly error: string;
  readonly attempts: number;
  /** Target.DeadLetterConfig.Arn: the queue AWS would have sent this event to. */
  readonly deadLetterArn: string | undefined;
  readonly failedAt: Date;
}

export interface FiringOptions {
  readonly clock: Clock;
  readonly targets: Readonly<Record<string, TargetHandler>>;
  readonly settle?: () => Promise<void>;
  readonly onFire?: (info: FireInfo) => void;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  readonly duplicateDelivery: DuplicateDeliveryRule;
}

interface Delivery {
  readonly record: StoredSchedule;
  readonly executionId: string;
  readonly scheduledTime: Date;
  readonly attempt: number;
  /** Event age, which bounds retries, counts from the first attempt. */
  readonly firstAttemptAt: Date;
}

interface PendingRetry extends Delivery {
  readonly dueAt: Date;
}

const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185;
const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400;
const FIRST_RETRY_DELAY_MS = 1_000;
const MAXIMUM_RETRY_DELAY_MS = 5 * 60_000;

/** How long after failed attempt number `attempt` the next one is made: 1 s, 2 s, 4 s … capped at 5 min. */
export function retryDelayMs(attempt: number): number {
  return Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1), MAXIMUM_RETRY_DELAY_MS);
}

/** Input failures no retry can fix (the input is not JSON) go to the dead-letter store at once. */
class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

export class Firing {
  readonly deadLetters: DeadLetter[] = [];
  duplicateDelivery: DuplicateDeliveryRule;
  private retries: PendingRetry[] = [];
  private timers: Timer[] = [];
  private queue: Promise<void> = Promise.resolve();
  private busyCount = 0;

  constructor(
    private readonly store: ScheduleStore,
    private readonly options: FiringOptions,
  ) {
    this.duplicateDelivery = options.duplicateDelivery;
  }

  /** The earliest instant anything fires: an enabled schedule's next occurrence or a retry. */
  nextDueAt(): Date | undefined {
    let earliest = this.store.earliestFireAt()?.getTime();
    for (const retry of this.retries) earliest = Math.min(earliest ?? Infinity, retry.dueAt.getTime());
    for (const timer of this.timers) earliest = Math.min(earliest ?? Infinity, timer.dueAt.getTime());
    return earliest === undefined ? undefined : new Date(earliest);
  }

  /** Fires everything due by the clock now, settling after each round, until nothing more is due. */
  runDue(options: { settleFirst: boolean } = { settleFirst: true }): Promise<void> {
    return this.exclusive(() => this.drain(this.options.clock.now(), undefined, options.settleFirst));
  }

  /**
   * Jumps the virtual clock from one due instant to the next up to `instant`, firing and settling
   * at each, so work that handlers or the settle hook create before `instant` fires in time order.
   */
  advanceTo(clock: VirtualClock, instant: Date): Promise<void> {
    return this.exclusive(async () => {
      if (instant.getTime() < clock.now().getTime()) {
        throw new RangeError(`Cannot advance the scheduler back from ${clock.now().toISOString()} to ${instant.toISOString()}`);
      }
      await this.drain(instant, clock, true);
      clock.advanceTo(instant);
    });
  }

  /**
   * Runs `work` once the clock reaches `dueAt`, in the same firing round as anything else due then,
   * so a virtual clock waits for it like for a firing. Its failure is the work's own to report.
   */
  later(dueAt: Date, work: () => Promise<void>): void {
    this.timers.push({ dueAt, work });
  }

  /** Whether a drain is running or waiting; the timer loop skips a tick rather than queue behind it. */
  isBusy(): boolean {
    return this.busyCount > 0;
  }

  private exclusive(work: () => Promise<void>): Promise<void> {
    this.busyCount++;
    const run = this.queue.then(work).finally(() => this.busyCount--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async drain(until: Date, virtual: VirtualClock | undefined, settleFirst: boolean): Promise<void> {
    if (settleFirst) await this.settle();
    for (;;) {
      const next = this.nextDueAt();
      if (next === undefined || next.getTime() > until.getTime()) return;
      if (virtual && next.getTime() > virtual.now().getTime()) virtual.advanceTo(next);
      await this.fireDue(this.options.clock.now());
      await this.settle();
    }
  }

  private async settle(): Promise<void> {
    await this.options.settle?.();
  }

  private async fireDue(firedAt: Date): Promise<void> {
    const due: Delivery[] = this.store
      .takeDue(firedAt, followingFireAt)
      .map(({ record, scheduledTime }) => ({ record, executionId: randomUUID(), scheduledTime, attempt: 1, firstAttemptAt: firedAt }));
    const retriesDue = this.retries.filter((retry) => retry.dueAt <= firedAt);
    this.retries = this.retries.filter((retry) => retry.dueAt > firedAt);
    due.push(...retriesDue);
    due.sort((a, b) => a.scheduledTime.getTime() - b.scheduledTime.getTime());
    const timersDue = this.timers.filter((timer) => timer.dueAt <= firedAt);
    this.timers = this.timers.filter((timer) => timer.dueAt > firedAt);
    await Promise.all([...due.map((delivery) => this.attempt(delivery, firedAt)), ...timersDue.map((timer) => timer.work().catch(() => undefined))]);
  }

  private async attempt(delivery: Delivery, firedAt: Date): Promise<void> {
    const input = renderInput(delivery);
    const failure = await this.invoke(delivery, input, firedAt);
    if (failure === undefined) {
      this.completed(delivery.record);
      return;
    }
    const retryPolicy = delivery.record.definition.Target.RetryPolicy;
    const maximumRetries = retryPolicy?.MaximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
    const maximumAgeMs = (retryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS) * 1000;
    const dueAt = new Date(firedAt.getTime() + retryDelayMs(delivery.attempt));
    const retriesLeft = delivery.attempt <= maximumRetries;
    const youngEnough = dueAt.getTime() - delivery.firstAttemptAt.getTime() <= maximumAgeMs;
    if (!(failure instanceof InvalidInputError) && retriesLeft && youngEnough) {
      this.retries.push({ ...delivery, attempt: delivery.attempt + 1, dueAt });
      return;
    }
    this.deadLetter(delivery, input, failure, firedAt);
    this.completed(delivery.record);
  }

  /** Delivers one attempt (twice when duplicate delivery is on); resolves to the first failure, if any. */
  private async invoke(delivery: Delivery, input: string, firedAt: Date): Promise<unknown> {
    const deliverCopy = async (copy: 1 | 2): Promise<void> => {
      const payload = parseInput(input);
      const target = delivery.record.definition.Target;
      this.options.onFire?.({
        scheduleName: delivery.record.name,
        groupName: delivery.record.groupName,
        scheduleArn: delivery.record.arn,
        targetArn: target.Arn,
        executionId: delivery.executionId,
        scheduledTime: delivery.scheduledTime,
        firedAt,
        attempt: delivery.attempt,
        copy,
        payload,
      });
      const handler = this.options.targets[target.Arn];
      if (!handler) throw new Error(`No local handler is registered for target ${target.Arn}`);
      await handler(payload);
    };
    let outcomes: PromiseSettledResult<void>[];
    const rule = this.duplicateDelivery;
    const mode = typeof rule === 'function' ? rule({ scheduleName: delivery.record.name, firedAt }) : rule;
    switch (mode) {
      case 'none':
        outcomes = await Promise.allSettled([deliverCopy(1)]);
        break;
      case 'sequential':
        outcomes = [...(await Promise.allSettled([deliverCopy(1)])), ...(await Promise.allSettled([deliverCopy(2)]))];
        break;
      case 'concurrent':
        outcomes = await Promise.allSettled([deliverCopy(1), deliverCopy(2)]);
        break;
    }
    const rejected = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    return rejected?.reason;
  }

  private deadLetter(delivery: Delivery, input: string, failure: unknown, failedAt: Date): void {
    const letter: DeadLetter = {
      scheduleName: delivery.record.name,
      groupName: delivery.record.groupName,
      scheduleArn: delivery.record.arn,
      executionId: delivery.executionId,
      scheduledTime: delivery.scheduledTime,
      payload: failure instanceof InvalidInputError ? input : parseInput(input),
      error: failure instanceof Error ? failure.message : String(failure),
      attempts: delivery.attempt,
      deadLetterArn: delivery.record.definition.Target.DeadLetterConfig?.Arn,
      failedAt,
    };
    this.deadLetters.push(letter);
    this.options.onDeadLetter?.(letter);
  }

  /** After a delivery is settled, a schedule with nothing left to fire is removed if it asked for that. */
  private completed(record: StoredSchedule): void {
    if (record.definition.ActionAfterCompletion !== 'DELETE' || record.nextFireAt !== undefined) return;
    if (this.retries.some((retry) => retry.record === record)) return;
    this.store.deleteIfCurrent(record);
  }
}

/** Target.Input with the context attributes AWS substitutes; AWS sends `{}` when there is no input. */
function renderInput(delivery: Delivery): string {
  const input = delivery.record.definition.Target.Input ?? '{}';
  return input
    .replaceAll('<aws.scheduler.scheduled-time>', delivery.scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z'))
    .replaceAll('<aws.scheduler.execution-id>', delivery.executionId)
    .replaceAll('<aws.scheduler.attempt-number>', String(delivery.attempt));
}

function parseInput(input: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch (error) {
    throw new InvalidInputError(`Target.Input is not valid JSON after substituting context attributes: ${String(error)}`, {
      cause: error,
    });
  }
}
