import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acceleratedClock, virtualClock, type Clock, type VirtualClock } from '../../local/clock.js';
import { startLocalScheduler, type LocalScheduler, type LocalSchedulerOptions } from '../../local/scheduler/server.js';

const ROLE_ARN = 'arn:aws:iam::000000000000:role/keepwell-scheduler';
const DISPATCH_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:keepwell-dispatch';
const SUMMARY_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:keepwell-summary';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:000000000000:keepwell-dispatch-dlq';
// The attempt number is left unquoted, so after substitution it arrives as a JSON number.
const CONTEXT_INPUT = JSON.stringify({
  sessionId: 's-1',
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
  attempt: '<aws.scheduler.attempt-number>',
}).replace('"<aws.scheduler.attempt-number>"', '<aws.scheduler.attempt-number>');

interface ContextPayload {
  sessionId: string;
  scheduledTime: string;
  executionId: string;
  attempt: number;
}

const running: LocalScheduler[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((scheduler) => scheduler.close()));
});

async function start<C extends Clock>(clock: C, options: Partial<LocalSchedulerOptions> = {}) {
  const scheduler = await startLocalScheduler({ targets: {}, ...options, clock });
  running.push(scheduler);
  const client = new SchedulerClient({
    endpoint: scheduler.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  return { scheduler, client, clock };
}

function startVirtual(at: string, options: Partial<LocalSchedulerOptions> = {}) {
  return start<VirtualClock>(virtualClock(new Date(at)), options);
}

function oneTime(name: string, at: string, overrides: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput {
  return {
    Name: name,
    ScheduleExpression: `at(${at})`,
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: CONTEXT_INPUT },
    ...overrides,
  };
}

/** A target handler that records what it received and the scheduler clock's time when it ran. */
function recordingHandler(clock: Clock, behaviour: (payload: ContextPayload, call: number) => Promise<void> = async () => {}) {
  const calls: { payload: ContextPayload; at: string }[] = [];
  const handler = async (payload: unknown) => {
    const typed = payload as ContextPayload;
    calls.push({ payload: typed, at: clock.now().toISOString() });
    await behaviour(typed, calls.length);
  };
  return { calls, handler };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('expected the request to be rejected');
}

describe('the local Scheduler API, driven through @aws-sdk/client-scheduler', () => {
  it('creates a schedule and reads it back with the defaults AWS fills in', async () => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');

    const created = await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-03T09:00:00')));
    const schedule = await client.send(new GetScheduleCommand({ Name: 'reminder-s1' }));

    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/default/reminder-s1');
    expect(schedule).toMatchObject({
      Arn: created.ScheduleArn,
      Name: 'reminder-s1',
      GroupName: 'default',
      ScheduleExpression: 'at(2025-06-03T09:00:00)',
      State: 'ENABLED',
      ActionAfterCompletion: 'NONE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: CONTEXT_INPUT },
    });
    expect(schedule.CreationDate).toEqual(new Date('2025-06-01T08:00:00Z'));
  });

  it('replaces the whole definition on update, resetting the fields the update leaves out', async () => {
    const { client, clock } = await startVirtual('2025-06-01T08:00:00Z');
    await client.send(
      new CreateScheduleCommand(
        oneTime('reminder-s1', '2025-06-03T09:00:00', {
          Description: 'first booking',
          State: 'DISABLED',
          ActionAfterCompletion: 'DELETE',
          ScheduleExpressionTimezone: 'Europe/London',
          Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, RetryPolicy: { MaximumRetryAttempts: 3 } },
        }),
      ),
    );
    clock.set(new Date('2025-06-01T09:00:00Z'));

    await client.send(new UpdateScheduleCommand(oneTime('reminder-s1', '2025-06-04T10:00:00')));
    const schedule = await client.send(new GetScheduleCommand({ Name: 'reminder-s1' }));

    expect(schedule.ScheduleExpression).toBe('at(2025-06-04T10:00:00)');
    expect(schedule.Description).toBeUndefined();
    expect(schedule.ScheduleExpressionTimezone).toBeUndefined();
    expect(schedule.State).toBe('ENABLED');
    expect(schedule.ActionAfterCompletion).toBe('NONE');
    expect(schedule.Target?.RetryPolicy).toBeUndefined();
    expect(schedule.CreationDate).toEqual(new Date('2025-06-01T08:00:00Z'));
    expect(schedule.LastModificationDate).toEqual(new Date('2025-06-01T09:00:00Z'));
  });

  it('deletes a schedule, after which every operation on it is ResourceNotFoundException', async () => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-03T09:00:00')));

    await client.send(new DeleteScheduleCommand({ Name: 'reminder-s1' }));

    const errors = [
      await rejectionOf(client.send(new GetScheduleCommand({ Name: 'reminder-s1' }))),
      await rejectionOf(client.send(new UpdateScheduleCommand(oneTime('reminder-s1', '2025-06-03T09:00:00')))),
      await rejectionOf(client.send(new DeleteScheduleCommand({ Name: 'reminder-s1' }))),
    ];

    for (const error of errors) {
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.message).toBe('Schedule reminder-s1 does not exist.');
    }
  });

  it('refuses to create a schedule whose name is taken with ConflictException', async () => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-03T09:00:00')));

    const error = await rejectionOf(client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-05T09:00:00'))));

    expect(error).toBeInstanceOf(ConflictException);
    expect(error.message).toBe('Schedule reminder-s1 already exists.');
  });

  it('answers a repeated create with the same client token as the first, as a retried request', async () => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');
    const request = oneTime('reminder-s1', '2025-06-03T09:00:00', { ClientToken: 'retry-token-1' });

    const first = await client.send(new CreateScheduleCommand(request));
    const retried = await client.send(new CreateScheduleCommand(request));

    expect(retried.ScheduleArn).toBe(first.ScheduleArn);
  });

  it('lists schedules by name prefix, group and state, one page at a time', async () => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');
    for (const name of ['reminder-e', 'reminder-a', 'check-in-a', 'reminder-c', 'reminder-b', 'reminder-d']) {
      await client.send(new CreateScheduleCommand(oneTime(name, '2025-06-03T09:00:00')));
    }
    await client.send(new CreateScheduleCommand(oneTime('reminder-f', '2025-06-03T09:00:00', { State: 'DISABLED' })));
    await client.send(new CreateScheduleGroupCommand({ Name: 'clinic' }));
    await client.send(new CreateScheduleCommand(oneTime('reminder-g', '2025-06-03T09:00:00', { GroupName: 'clinic' })));

    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListSchedulesCommand({ NamePrefix: 'reminder-', GroupName: 'default', State: 'ENABLED', MaxResults: 2, NextToken: nextToken }),
      );
      pages.push((page.Schedules ?? []).map((summary) => summary.Name ?? ''));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    const inClinic = await client.send(new ListSchedulesCommand({ GroupName: 'clinic' }));

    expect(pages).toEqual([['reminder-a', 'reminder-b'], ['reminder-c', 'reminder-d'], ['reminder-e']]);
    expect(inClinic.Schedules).toEqual([expect.objectContaining({ Name: 'reminder-g', GroupName: 'clinic', State: 'ENABLED', Target: { Arn: DISPATCH_ARN } })]);
  });

  it('manages schedule groups, deleting a group together with its schedules', async () => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');

    const created = await client.send(new CreateScheduleGroupCommand({ Name: 'clinic' }));
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-03T09:00:00', { GroupName: 'clinic' })));
    const group = await client.send(new GetScheduleGroupCommand({ Name: 'clinic' }));
    const groups = await client.send(new ListScheduleGroupsCommand({}));
    const duplicate = await rejectionOf(client.send(new CreateScheduleGroupCommand({ Name: 'clinic' })));
    await client.send(new DeleteScheduleGroupCommand({ Name: 'clinic' }));
    const scheduleAfterDelete = await rejectionOf(client.send(new GetScheduleCommand({ Name: 'reminder-s1', GroupName: 'clinic' })));
    const defaultDelete = await rejectionOf(client.send(new DeleteScheduleGroupCommand({ Name: 'default' })));

    expect(created.ScheduleGroupArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule-group/clinic');
    expect(group).toMatchObject({ Name: 'clinic', State: 'ACTIVE', Arn: created.ScheduleGroupArn });
    expect(groups.ScheduleGroups?.map((summary) => summary.Name)).toEqual(['clinic', 'default']);
    expect(duplicate).toBeInstanceOf(ConflictException);
    expect(scheduleAfterDelete).toBeInstanceOf(ResourceNotFoundException);
    expect(scheduleAfterDelete.message).toBe('Schedule group clinic does not exist.');
    expect(defaultDelete).toBeInstanceOf(ValidationException);
  });

  it('refuses a schedule in a group that does not exist with ResourceNotFoundException', async () => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');

    const error = await rejectionOf(client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-03T09:00:00', { GroupName: 'nope' }))));

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe('Schedule group nope does not exist.');
  });

  it.each<[string, Partial<CreateScheduleCommandInput>, RegExp]>([
    ['a 65-character name', { Name: 'r'.repeat(65) }, /Name must be 1 to 64 characters/],
    ['a name with a space', { Name: 'reminder s1' }, /Name may only contain letters, digits/],
    ['a cron with five fields', { ScheduleExpression: 'cron(0 7 * * ?)' }, /ScheduleExpression cron\(0 7 \* \* \?\) is not valid: .*6 fields/],
    ['a rate with a plural unit for 1', { ScheduleExpression: 'rate(1 hours)' }, /ScheduleExpression rate\(1 hours\) is not valid: .*singular/],
    ['an unknown time zone', { ScheduleExpressionTimezone: 'Europe/Atlantis' }, /ScheduleExpressionTimezone Europe\/Atlantis is not a valid IANA time zone/],
    ['no FlexibleTimeWindow', { FlexibleTimeWindow: undefined }, /FlexibleTimeWindow is required/],
    [
      'a FLEXIBLE window without its size',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } },
      /FlexibleTimeWindow.MaximumWindowInMinutes is required when Mode is FLEXIBLE/,
    ],
    [
      'a window over a day',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1441 } },
      /FlexibleTimeWindow.MaximumWindowInMinutes must be from 1 to 1440/,
    ],
    ['no target role', { Target: { Arn: DISPATCH_ARN, RoleArn: undefined } }, /Target.RoleArn is required/],
    [
      'too many retries',
      { Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, RetryPolicy: { MaximumRetryAttempts: 186 } } },
      /Target.RetryPolicy.MaximumRetryAttempts must be from 0 to 185/,
    ],
    [
      'an event age under a minute',
      { Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, RetryPolicy: { MaximumEventAgeInSeconds: 59 } } },
      /Target.RetryPolicy.MaximumEventAgeInSeconds must be from 60 to 86400/,
    ],
    ['an unknown completion action', { ActionAfterCompletion: 'ARCHIVE' as 'DELETE' }, /ActionAfterCompletion must be NONE or DELETE/],
    [
      'an EndDate before the StartDate of a recurring schedule',
      { ScheduleExpression: 'rate(1 hour)', StartDate: new Date('2025-06-02T00:00:00Z'), EndDate: new Date('2025-06-01T12:00:00Z') },
      /EndDate must be later than StartDate/,
    ],
  ])('rejects %s with ValidationException saying which field and why', async (_case, overrides, message) => {
    const { client } = await startVirtual('2025-06-01T08:00:00Z');

    const error = await rejectionOf(client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-03T09:00:00', overrides))));

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toMatch(message);
  });
});

describe('the local Scheduler firing on a virtual clock', () => {
  it('fires an at() schedule at its time in its zone with the context attributes substituted', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const dispatch = recordingHandler(clock);
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-01T10:00:00', { ScheduleExpressionTimezone: 'Europe/London' })));

    const dueAt = scheduler.nextDueAt();
    await scheduler.advanceTo(new Date('2025-06-01T08:59:59Z'));
    const callsBeforeDue = dispatch.calls.length;
    await scheduler.advanceTo(new Date('2025-06-01T12:00:00Z'));

    expect(dueAt).toEqual(new Date('2025-06-01T09:00:00Z'));
    expect(callsBeforeDue).toBe(0);
    expect(dispatch.calls).toEqual([
      {
        at: '2025-06-01T09:00:00.000Z',
        payload: { sessionId: 's-1', scheduledTime: '2025-06-01T09:00:00Z', executionId: expect.stringMatching(/^[0-9a-f-]{36}$/), attempt: 1 },
      },
    ]);
    expect(clock.now()).toEqual(new Date('2025-06-01T12:00:00Z'));
    expect((await client.send(new GetScheduleCommand({ Name: 'reminder-s1' }))).State).toBe('ENABLED');
    expect(scheduler.nextDueAt()).toBeUndefined();
  });

  it('fires an at() schedule that is already past on the next round', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const dispatch = recordingHandler(clock);
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    await client.send(new CreateScheduleCommand(oneTime('reminder-late', '2025-05-31T09:00:00')));

    await scheduler.runDue();

    expect(dispatch.calls).toEqual([expect.objectContaining({ at: '2025-06-01T08:00:00.000Z' })]);
    expect(dispatch.calls[0]?.payload.scheduledTime).toBe('2025-05-31T09:00:00Z');
  });

  it('does not fire a disabled schedule', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const fired: string[] = [];
    const { scheduler, client } = await start(clock, {
      targets: {
        [DISPATCH_ARN]: async (payload) => {
          fired.push((payload as { name: string }).name);
        },
      },
    });
    for (const [name, state] of [
      ['reminder-on', 'ENABLED'],
      ['reminder-off', 'DISABLED'],
    ] as const) {
      const Target = { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: JSON.stringify({ name }) };
      await client.send(new CreateScheduleCommand(oneTime(name, '2025-06-01T09:00:00', { State: state, Target })));
    }

    await scheduler.advanceTo(new Date('2025-06-02T00:00:00Z'));

    expect(fired).toEqual(['reminder-on']);
  });

  it('dead-letters at once, without retrying, an input that is not JSON', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const dispatch = recordingHandler(clock);
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    const Target = { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: 'session <aws.scheduler.attempt-number>' };
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-01T09:00:00', { Target })));

    await scheduler.advanceTo(new Date('2025-06-02T00:00:00Z'));

    expect(dispatch.calls).toEqual([]);
    expect(scheduler.deadLetters).toEqual([
      expect.objectContaining({ attempts: 1, payload: 'session 1', error: expect.stringMatching(/Target.Input is not valid JSON/) }),
    ]);
  });

  it('retries a failing target with exponential backoff, then dead-letters the event', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const dispatch = recordingHandler(clock, async () => {
      throw new Error('SES is throttling');
    });
    const onDeadLetter = vi.fn();
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler }, onDeadLetter });
    await client.send(
      new CreateScheduleCommand(
        oneTime('reminder-s1', '2025-06-01T09:00:00', {
          Target: {
            Arn: DISPATCH_ARN,
            RoleArn: ROLE_ARN,
            Input: CONTEXT_INPUT,
            RetryPolicy: { MaximumRetryAttempts: 3 },
            DeadLetterConfig: { Arn: DLQ_ARN },
          },
        }),
      ),
    );

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    expect(dispatch.calls.map((call) => [call.at, call.payload.attempt])).toEqual([
      ['2025-06-01T09:00:00.000Z', 1],
      ['2025-06-01T09:00:01.000Z', 2],
      ['2025-06-01T09:00:03.000Z', 3],
      ['2025-06-01T09:00:07.000Z', 4],
    ]);
    expect(new Set(dispatch.calls.map((call) => call.payload.executionId)).size).toBe(1);
    expect(scheduler.deadLetters).toEqual([
      expect.objectContaining({
        scheduleName: 'reminder-s1',
        groupName: 'default',
        error: 'SES is throttling',
        attempts: 4,
        deadLetterArn: DLQ_ARN,
        payload: expect.objectContaining({ sessionId: 's-1', attempt: 4 }),
      }),
    ]);
    expect(onDeadLetter).toHaveBeenCalledWith(scheduler.deadLetters[0]);
  });

  it('stops retrying once the next attempt would be older than MaximumEventAgeInSeconds', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const dispatch = recordingHandler(clock, async () => {
      throw new Error('down');
    });
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    await client.send(
      new CreateScheduleCommand(
        oneTime('reminder-s1', '2025-06-01T09:00:00', {
          Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: CONTEXT_INPUT, RetryPolicy: { MaximumEventAgeInSeconds: 60 } },
        }),
      ),
    );

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    // Attempts at +0, +1, +3, +7, +15 and +31 s; the next would be at +63 s, past the 60 s age.
    expect(dispatch.calls.at(-1)?.at).toBe('2025-06-01T09:00:31.000Z');
    expect(scheduler.deadLetters.map((letter) => letter.attempts)).toEqual([6]);
  });

  it('dead-letters an unknown target after its retries', async () => {
    const { scheduler, client } = await startVirtual('2025-06-01T08:00:00Z');
    await client.send(
      new CreateScheduleCommand(
        oneTime('reminder-s1', '2025-06-01T09:00:00', {
          Target: { Arn: SUMMARY_ARN, RoleArn: ROLE_ARN, RetryPolicy: { MaximumRetryAttempts: 0 } },
        }),
      ),
    );

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    expect(scheduler.deadLetters).toEqual([
      expect.objectContaining({ attempts: 1, error: `No local handler is registered for target ${SUMMARY_ARN}`, payload: {} }),
    ]);
  });

  it('deletes a one-time schedule with ActionAfterCompletion DELETE only once its invocation has completed', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const dispatch = recordingHandler(clock, async (_payload, call) => {
      if (call === 1) throw new Error('first attempt fails');
    });
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    await client.send(new CreateScheduleCommand(oneTime('reminder-delete', '2025-06-01T09:00:00', { ActionAfterCompletion: 'DELETE' })));

    await scheduler.advanceTo(new Date('2025-06-01T09:00:00Z'));
    const whileRetrying = await client.send(new GetScheduleCommand({ Name: 'reminder-delete' }));
    await scheduler.advanceTo(new Date('2025-06-01T09:00:01Z'));
    const afterSuccess = await rejectionOf(client.send(new GetScheduleCommand({ Name: 'reminder-delete' })));

    expect(whileRetrying.Name).toBe('reminder-delete');
    expect(dispatch.calls).toHaveLength(2);
    expect(afterSuccess).toBeInstanceOf(ResourceNotFoundException);
    expect(scheduler.list()).toEqual([]);
  });

  it('deletes a dead-lettered one-time schedule with ActionAfterCompletion DELETE and keeps one with NONE', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const failing = async () => {
      throw new Error('down');
    };
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: failing } });
    const noRetries = { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, RetryPolicy: { MaximumRetryAttempts: 0 } };
    await client.send(new CreateScheduleCommand(oneTime('delete-me', '2025-06-01T09:00:00', { ActionAfterCompletion: 'DELETE', Target: noRetries })));
    await client.send(new CreateScheduleCommand(oneTime('keep-me', '2025-06-01T09:00:00', { ActionAfterCompletion: 'NONE', Target: noRetries })));

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    expect(scheduler.deadLetters.map((letter) => letter.scheduleName).sort()).toEqual(['delete-me', 'keep-me']);
    expect(scheduler.list().map((record) => [record.name, record.definition.State])).toEqual([['keep-me', 'ENABLED']]);
  });

  it('fires a recurring cron at 07:00 in its time zone across the spring clock change, until its EndDate', async () => {
    const clock = virtualClock(new Date('2025-03-28T12:00:00Z'));
    const summary = recordingHandler(clock);
    const { scheduler, client } = await start(clock, { targets: { [SUMMARY_ARN]: summary.handler } });
    await client.send(
      new CreateScheduleCommand({
        Name: 'summary-therapist-1',
        ScheduleExpression: 'cron(0 7 * * ? *)',
        ScheduleExpressionTimezone: 'Europe/London',
        EndDate: new Date('2025-03-31T12:00:00Z'),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: SUMMARY_ARN, RoleArn: ROLE_ARN, Input: CONTEXT_INPUT },
      }),
    );

    await scheduler.advanceTo(new Date('2025-04-03T00:00:00Z'));

    expect(summary.calls.map((call) => [call.at, call.payload.scheduledTime])).toEqual([
      ['2025-03-29T07:00:00.000Z', '2025-03-29T07:00:00Z'],
      ['2025-03-30T06:00:00.000Z', '2025-03-30T06:00:00Z'],
      ['2025-03-31T06:00:00.000Z', '2025-03-31T06:00:00Z'],
    ]);
    expect(new Set(summary.calls.map((call) => call.payload.executionId)).size).toBe(3);
  });

  it('fires a rate schedule from its StartDate', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const summary = recordingHandler(clock);
    const { scheduler, client } = await start(clock, { targets: { [SUMMARY_ARN]: summary.handler } });
    await client.send(
      new CreateScheduleCommand({
        Name: 'reconcile',
        ScheduleExpression: 'rate(6 hours)',
        StartDate: new Date('2025-06-01T09:30:00Z'),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: SUMMARY_ARN, RoleArn: ROLE_ARN, Input: CONTEXT_INPUT },
      }),
    );

    await scheduler.advanceTo(new Date('2025-06-02T00:00:00Z'));

    expect(summary.calls.map((call) => call.at)).toEqual(['2025-06-01T09:30:00.000Z', '2025-06-01T15:30:00.000Z', '2025-06-01T21:30:00.000Z']);
  });

  it('delivers every firing twice, one after the other, with the same execution id when duplicate delivery is sequential', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const events: string[] = [];
    const dispatch = recordingHandler(clock, async (_payload, call) => {
      events.push(`start ${call}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      events.push(`end ${call}`);
    });
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    scheduler.setDuplicateDelivery('sequential');
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-01T09:00:00')));

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(dispatch.calls[0]?.payload).toEqual(dispatch.calls[1]?.payload);
  });

  it('delivers every firing twice at once with the same execution id when duplicate delivery is concurrent', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const events: string[] = [];
    const dispatch = recordingHandler(clock, async (_payload, call) => {
      events.push(`start ${call}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      events.push(`end ${call}`);
    });
    const onFire = vi.fn();
    const { scheduler, client } = await start(clock, {
      targets: { [DISPATCH_ARN]: dispatch.handler },
      duplicateDelivery: 'concurrent',
      onFire,
    });
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-01T09:00:00')));

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    expect(events).toEqual(['start 1', 'start 2', 'end 1', 'end 2']);
    expect(dispatch.calls[0]?.payload.executionId).toBe(dispatch.calls[1]?.payload.executionId);
    expect(onFire.mock.calls.map(([info]) => [info.scheduleName, info.copy, info.attempt])).toEqual([
      ['reminder-s1', 1, 1],
      ['reminder-s1', 2, 1],
    ]);
  });

  it('delivers twice only the firings a duplicate-delivery rule picks', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const dispatch = recordingHandler(clock);
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    scheduler.setDuplicateDelivery(({ scheduleName }) => (scheduleName === 'reminder-s2' ? 'sequential' : 'none'));
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-01T09:00:00')));
    await client.send(new CreateScheduleCommand(oneTime('reminder-s2', '2025-06-01T09:30:00')));

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    expect(dispatch.calls.map((c) => c.at)).toEqual(['2025-06-01T09:00:00.000Z', '2025-06-01T09:30:00.000Z', '2025-06-01T09:30:00.000Z']);
  });

  it('runs work handed to later at its time, in order with the firings, and the clock waits for it', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const events: string[] = [];
    const dispatch = recordingHandler(clock, async () => void events.push(`fired at ${clock.now().toISOString()}`));
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler } });
    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-01T09:00:00')));
    scheduler.later(new Date('2025-06-01T08:30:00Z'), async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push(`later at ${clock.now().toISOString()}`);
    });

    await scheduler.advanceTo(new Date('2025-06-01T10:00:00Z'));

    expect(events).toEqual(['later at 2025-06-01T08:30:00.000Z', 'fired at 2025-06-01T09:00:00.000Z']);
    expect(scheduler.nextDueAt()).toBeUndefined();
  });

  it('settles after each round so schedules created by that work fire in time order before the target', async () => {
    const clock = virtualClock(new Date('2025-06-01T08:00:00Z'));
    const fired: string[] = [];
    // Stands in for the DynamoDB stream: a handler's writes turn into schedules only when it is drained.
    const unsyncedWrites: { name: string; at: string }[] = [{ name: 'reminder-s1', at: '2025-06-01T09:00:00' }];
    const targets = {
      [DISPATCH_ARN]: async (payload: unknown) => {
        const { name } = payload as { name: string };
        fired.push(`${name} at ${clock.now().toISOString()}`);
        if (name === 'reminder-s1') unsyncedWrites.push({ name: 'check-in-s1', at: '2025-06-01T09:10:00' });
      },
    };
    let client: SchedulerClient | undefined;
    const settle = async () => {
      for (const write of unsyncedWrites.splice(0)) {
        await client?.send(
          new CreateScheduleCommand(
            oneTime(write.name, write.at, { Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: JSON.stringify({ name: write.name }) } }),
          ),
        );
      }
    };
    const started = await start(clock, { targets, settle });
    client = started.client;
    await client.send(
      new CreateScheduleCommand(
        oneTime('nudge-p1', '2025-06-01T09:30:00', { Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: JSON.stringify({ name: 'nudge-p1' }) } }),
      ),
    );

    await started.scheduler.advanceTo(new Date('2025-06-01T12:00:00Z'));

    expect(fired).toEqual(['reminder-s1 at 2025-06-01T09:00:00.000Z', 'check-in-s1 at 2025-06-01T09:10:00.000Z', 'nudge-p1 at 2025-06-01T09:30:00.000Z']);
    expect(clock.now()).toEqual(new Date('2025-06-01T12:00:00Z'));
  });
});

describe('the local Scheduler on a clock that runs by itself', () => {
  it('fires due schedules from its timer on an accelerated clock', async () => {
    // One real second is an hour of clinic time.
    const clock = acceleratedClock({ start: new Date('2025-06-01T08:00:00Z'), factor: 3600 });
    const dispatch = recordingHandler(clock);
    const { scheduler, client } = await start(clock, { targets: { [DISPATCH_ARN]: dispatch.handler }, tickMs: 20 });

    await client.send(new CreateScheduleCommand(oneTime('reminder-s1', '2025-06-01T08:30:00')));

    await vi.waitFor(() => expect(dispatch.calls).toHaveLength(1), { timeout: 5_000, interval: 20 });
    expect(dispatch.calls[0]?.payload.scheduledTime).toBe('2025-06-01T08:30:00Z');
    expect(new Date(dispatch.calls[0]?.at ?? 0).getTime()).toBeGreaterThanOrEqual(Date.parse('2025-06-01T08:30:00Z'));
    await expect(scheduler.advanceTo(new Date('2025-06-02T00:00:00Z'))).rejects.toThrow(/needs a virtual clock/);
  });
});
