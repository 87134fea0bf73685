/**
 * What each function's trigger becomes in the twin, by the manifest's one trigger walk
 * (shared/config/manifest.ts walkTriggers, the walk the CDK stack makes) and from the same
 * settings, so the twin reads the stream and creates the recurring schedules as AWS does:
 * - table-stream: the stream poller, with the event source mapping's batch size, retries and filters;
 * - message-schedules and recurring: targets of the local Scheduler, invoked asynchronously with
 *   Lambda's retries; a recurring one also gets its schedule, as CreateSchedule input;
 * - http-api and http-route: the local HTTP server (local/intake.ts routes the manifest's routes);
 * - ses-events: nothing — SES v2 local publishes no events.
 */
import type { CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import { walkTriggers, recurringSchedule, streamSettings, type FunctionName, type StreamSettings } from '../shared/config/manifest.js';

export interface TwinTriggers {
  /** The function the stream poller feeds, and how. */
  readonly stream: { readonly functionName: FunctionName; readonly settings: StreamSettings };
  /** The functions the local Scheduler invokes. */
  readonly scheduleTargets: readonly FunctionName[];
  /** The recurring schedules the stack creates, for the twin to create. */
  readonly recurring: ReadonlyArray<{ readonly functionName: FunctionName; readonly input: CreateScheduleCommandInput }>;
}

export interface TwinTriggerSettings {
  readonly reconcileLookAheadHours: number;
  readonly scheduleGroup: string;
  readonly schedulerRoleArn: string;
  readonly scheduleDlqArn: string;
  readonly functionArn: (name: FunctionName) => string;
}

type Part = { stream?: TwinTriggers['stream']; target?: FunctionName; recurring?: TwinTriggers['recurring'][number] };

export function twinTriggers(settings: TwinTriggerSettings): TwinTriggers {
  const parts = walkTriggers<Part>({
    'table-stream': (spec, trigger) => ({ stream: { functionName: spec.name, settings: streamSettings(trigger) } }),
    'message-schedules': (spec) => ({ target: spec.name }),
    recurring: (spec, trigger) => {
      const schedule = recurringSchedule(spec, trigger, settings);
      const input: CreateScheduleCommandInput = {
        Name: schedule.name,
        GroupName: settings.scheduleGroup,
        ScheduleExpression: schedule.expression,
        ScheduleExpressionTimezone: schedule.timezone,
        FlexibleTimeWindow: schedule.flexibleTimeWindow,
        Target: {
          Arn: settings.functionArn(spec.name),
          RoleArn: settings.schedulerRoleArn,
          Input: JSON.stringify(schedule.input),
          RetryPolicy: schedule.retryPolicy,
          DeadLetterConfig: { Arn: settings.scheduleDlqArn },
        },
      };
      return { target: spec.name, recurring: { functionName: spec.name, input } };
    },
    'http-api': () => ({}),
    'http-route': () => ({}),
    'ses-events': () => ({}),
  });
  const streams = parts.flatMap((p) => (p.stream ? [p.stream] : []));
  const [stream] = streams;
  if (!stream || streams.length > 1) throw new Error('the topology manifest must feed exactly one function from the table stream');
  return {
    stream,
    scheduleTargets: parts.flatMap((p) => (p.target ? [p.target] : [])),
    recurring: parts.flatMap((p) => (p.recurring ? [p.recurring] : [])),
  };
}
