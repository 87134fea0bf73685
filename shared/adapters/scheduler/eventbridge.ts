/**
 * The MessageScheduler port on EventBridge Scheduler: one one-time `at()` schedule per message, in
 * Keepwell's schedule group, named by the message name, targeting the dispatch function.
 *
 * The schedule's Input carries only what dispatchPayloadSchema allows (the message identity, opaque
 * ids and the Scheduler's context attributes), so no name, address or answer ever reaches the
 * Scheduler, its logs or its dead-letter queue.
 *
 * SDK errors become the domain's named errors here, once: a ValidationException is a
 * PermanentError (no retry can fix the request), throttling and 5xx are RetryableErrors; anything
 * else (access denied, a missing group) is passed on as it is, so it fails loudly.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
  type RetryPolicy,
  type SchedulerClientConfig,
} from '@aws-sdk/client-scheduler';
import { optionalEnv, readEnv } from '../../config/env.js';
import { dispatchPayloadSchema, SCHEDULER_CONTEXT } from '../../domain/dispatch-payload.js';
import { PermanentError, RetryableError } from '../../domain/errors.js';
import { isUrgent, type MessageKind } from '../../domain/message.js';
import { msOf, type Instant } from '../../domain/time.js';
import type { MessageScheduler, OneTimeSchedule, ScheduledEntry } from '../../ports/scheduler.js';

/**
 * How long EventBridge Scheduler keeps retrying a failed dispatch invocation, by urgency.
 * - Reminders: an hour. A reminder that arrives later than that may land after the client has
 *   set off, or after a 2-hour reminder's session began: worse than none. Twenty attempts with the
 *   Scheduler's exponential back-off spread over that hour, enough to ride out a throttled or
 *   briefly failing dispatch function.
 * - Check-ins and nudges: six hours. A check-in a few hours late still asks about the same day, and a
 *   nudge is a nudge whenever it comes; more attempts keep the back-off going for the longer window.
 * An invocation that exhausts its retries lands in the dead-letter queue (alarmed), and reconcile
 * reschedules a message whose schedule is gone while the ledger holds no record of it.
 */
export const RETRY_POLICIES: Readonly<Record<'urgent' | 'deferrable', Readonly<Required<RetryPolicy>>>> = {
  urgent: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
  deferrable: { MaximumEventAgeInSeconds: 6 * 3600, MaximumRetryAttempts: 60 },
};

export function retryPolicyFor(kind: MessageKind): Required<RetryPolicy> {
  return { ...RETRY_POLICIES[isUrgent(kind) ? 'urgent' : 'deferrable'] };
}

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC. The Scheduler counts whole seconds, so a due time with
 * milliseconds is rounded up: a message never fires before its due time.
 */
export function atExpression(at: Instant): string {
  const ms = msOf(at);
  const wholeSecond = Math.ceil(ms / 1000) * 1000;
  return `at(${new Date(wholeSecond).toISOString().slice(0, 19)})`;
}

/** The schedule's Target.Input: the validated payload plus the context-attribute placeholders. */
export function scheduleInput(payload: OneTimeSchedule['payload']): string {
  // Parsing strips any field the schema does not name, so nothing else can slip into the Input.
  const parsed = dispatchPayloadSchema.parse({ ...payload, ...SCHEDULER_CONTEXT });
  return JSON.stringify(parsed);
}

export interface EventBridgeSchedulerOptions {
  readonly client: SchedulerClient;
  /** Keepwell's schedule group (SCHEDULE_GROUP). */
  readonly groupName: string;
  /** The dispatch function (DISPATCH_FUNCTION_ARN). */
  readonly targetArn: string;
  /** The role the Scheduler assumes to invoke it (SCHEDULER_ROLE_ARN). */
  readonly roleArn: string;
  /** The queue for invocations that exhausted their retries (SCHEDULE_DLQ_ARN). */
  readonly deadLetterArn: string;
}

export class EventBridgeMessageScheduler implements MessageScheduler {
  constructor(private readonly options: EventBridgeSchedulerOptions) {}

  /** The full definition: UpdateSchedule resets every field it is not given, so both calls send all of it. */
  definition(schedule: OneTimeSchedule): CreateScheduleCommandInput {
    const { groupName, targetArn, roleArn, deadLetterArn } = this.options;
    return {
      Name: schedule.name,
      GroupName: groupName,
      ScheduleExpression: atExpression(schedule.at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: targetArn,
        RoleArn: roleArn,
        Input: scheduleInput(schedule.payload),
        RetryPolicy: retryPolicyFor(schedule.payload.message.kind),
        DeadLetterConfig: { Arn: deadLetterArn },
      },
    };
  }

  async upsert(schedule: OneTimeSchedule): Promise<'created' | 'updated'> {
    const input = this.definition(schedule);
    // Two rounds cover the race where the schedule fires (and deletes itself) between our
    // create's conflict and our update.
    for (let round = 0; round < 2; round++) {
      try {
        await this.call(schedule.name, () => this.options.client.send(new CreateScheduleCommand(input)));
        return 'created';
      } catch (error) {
        if (!(error instanceof ConflictException)) throw error;
      }
      try {
        await this.call(schedule.name, () => this.options.client.send(new UpdateScheduleCommand(input)));
        return 'updated';
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }
    throw new RetryableError(`schedule ${schedule.name} kept appearing and disappearing while being written`);
  }

  async remove(name: string): Promise<boolean> {
    try {
      await this.call(name, () => this.options.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName })));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<ScheduledEntry[]> {
    const entries: ScheduledEntry[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(prefix, () =>
        this.options.client.send(new ListSchedulesCommand({ GroupName: this.options.groupName, NamePrefix: prefix, NextToken: nextToken })),
      );
      for (const summary of page.Schedules ?? []) if (summary.Name) entries.push({ name: summary.Name });
      nextToken = page.NextToken;
    } while (nextToken);
    return entries;
  }

  /** Runs one SDK call, turning the errors the use cases act on into named domain errors. */
  private async call<T>(scheduleName: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error, scheduleName);
    }
  }
}

function translate(error: unknown, scheduleName: string): unknown {
  if (error instanceof ValidationException) {
    return new PermanentError(`the Scheduler rejected schedule ${scheduleName}: ${error.message}`, 'ValidationException', { cause: error });
  }
  const meta = error as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; name?: string };
  const status = meta.$metadata?.httpStatusCode ?? 0;
  if (meta.$retryable || status === 429 || status >= 500 || meta.name === 'ThrottlingException') {
    return new RetryableError(`the Scheduler could not handle schedule ${scheduleName} now (${meta.name ?? 'error'})`, { cause: error });
  }
  return error;
}

// One SDK client per container, made on first use.
let sharedClient: SchedulerClient | undefined;

/** The adapter from the environment the CDK stack (or the local twin, with SCHEDULER_ENDPOINT) sets. */
export function fromEnv(env: NodeJS.ProcessEnv = process.env, clientConfig: SchedulerClientConfig = {}): EventBridgeMessageScheduler {
  const vars = readEnv(['SCHEDULE_GROUP', 'SCHEDULER_ROLE_ARN', 'DISPATCH_FUNCTION_ARN', 'SCHEDULE_DLQ_ARN'], env);
  const endpoint = optionalEnv('SCHEDULER_ENDPOINT', env);
  sharedClient ??= new SchedulerClient({ ...clientConfig, ...(endpoint ? { endpoint } : {}) });
  return new EventBridgeMessageScheduler({
    client: sharedClient,
    groupName: vars.SCHEDULE_GROUP,
    targetArn: vars.DISPATCH_FUNCTION_ARN,
    roleArn: vars.SCHEDULER_ROLE_ARN,
    deadLetterArn: vars.SCHEDULE_DLQ_ARN,
  });
}
