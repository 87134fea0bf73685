/**
 * The twin and the deployed stack walk the same triggers with the same settings: the stream
 * poller reads the table stream as the event source mapping does, and the twin creates the
 * recurring schedules the stack creates. The expected values are written here, once for both.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_ASYNC_RETRY_DELAYS_MS, triggersFor } from '../../local/twin.js';
import { resourcesOf, synthesizeStage, type SynthesizedStage } from './support.js';

let dev: SynthesizedStage;
beforeAll(() => {
  dev = synthesizeStage('dev');
});

const twin = triggersFor({});
const FILTERS = [
  { dynamodb: { NewImage: { type: { S: ['session', 'plan', 'client'] } } } },
  { dynamodb: { OldImage: { type: { S: ['session', 'plan', 'client'] } } } },
];

describe('the table stream', () => {
  it('is read in batches of 50, retried 5 times, filtered to sessions, plans and clients: deployed', () => {
    dev.appTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumRetryAttempts: 5,
      FilterCriteria: { Filters: FILTERS.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
      FunctionName: { Ref: Match.stringLikeRegexp('^SyncSchedulesFunction') },
    });
  });

  it('is read in batches of 50, retried 5 times, filtered to sessions, plans and clients: in the twin', () => {
    expect(twin.stream.functionName).toBe('sync-schedules');
    expect(twin.stream.settings).toEqual({ batchSize: 50, maxRetries: 5, filterPatterns: FILTERS });
  });
});

describe('the recurring schedules', () => {
  const expected = [
    {
      name: 'keepwell-reconcile',
      fn: 'reconcile',
      expression: 'rate(1 hour)',
      input: '{"scheduledTime":"<aws.scheduler.scheduled-time>","lookAheadHours":72}',
    },
    { name: 'keepwell-summary', fn: 'summary', expression: 'cron(0/15 * * * ? *)', input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}' },
    { name: 'keepwell-intake-feeds', fn: 'intake-feeds', expression: 'rate(15 minutes)', input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}' },
  ];
  const retryPolicy = { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 };

  it.each(expected)('$name: deployed with its expression, UTC, no time window, 3 retries within an hour, its input', (schedule) => {
    dev.appTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: schedule.name,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({ Input: schedule.input, RetryPolicy: retryPolicy }),
    });
  });

  it.each(expected)('$name: created by the twin with the same settings', (schedule) => {
    const created = twin.recurring.find((r) => r.input.Name === schedule.name);
    expect(created?.functionName).toBe(schedule.fn);
    expect(created?.input).toMatchObject({
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Input: schedule.input, RetryPolicy: retryPolicy },
    });
  });

  it('are the only recurring schedules, in the stack and in the twin', () => {
    const deployed = Object.values(resourcesOf(dev.appTemplate, 'AWS::Scheduler::Schedule')).map((r) => r.Properties?.Name);
    expect(deployed.sort()).toEqual(['keepwell-intake-feeds', 'keepwell-reconcile', 'keepwell-summary']);
    expect(twin.recurring.map((r) => r.input.Name).sort()).toEqual(['keepwell-intake-feeds', 'keepwell-reconcile', 'keepwell-summary']);
  });
});

describe('asynchronous invocations', () => {
  it('are retried twice by Lambda before the on-failure destination, deployed and in the twin', () => {
    for (const fn of ['Dispatch', 'Reconcile', 'Summary', 'SesEvents', 'IntakeFeeds']) {
      dev.appTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: Match.stringLikeRegexp(`^${fn}Function`) },
        MaximumRetryAttempts: 2,
      });
    }
    expect(LAMBDA_ASYNC_RETRY_DELAYS_MS).toHaveLength(2);
    expect([...twin.scheduleTargets].sort()).toEqual(['dispatch', 'intake-feeds', 'reconcile', 'summary']);
  });
});
