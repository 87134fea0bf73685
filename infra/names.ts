/**
 * The names a stage's deployment is found by: its two stacks and the outputs the CLI reads.
 * Pure data, no CDK imports, so the CLI can import it without loading aws-cdk-lib.
 */

export interface StackNames {
  /** The table: kept on `cdk destroy`, changed rarely. */
  readonly stateful: string;
  /** Functions, schedules, queues, the page API, SES configuration and alarms. */
  readonly stateless: string;
  /** The WAF web ACL in us-east-1, for a stage with the `waf` option. */
  readonly edge: string;
}

export function stackNames(stage: string): StackNames {
  return { stateful: `keepwell-${stage}-data`, stateless: `keepwell-${stage}-app`, edge: `keepwell-${stage}-edge` };
}

/** Prefix of every name this stage creates in a shared account (schedule group, config set, dispatch). */
export function resourcePrefix(stage: string): string {
  return `keepwell-${stage}`;
}

/**
 * The fixed name of a function's role. The data stack's table key names the roles allowed to use
 * it by ARN, before the app stack (which depends on it) creates them: a name both stacks can spell.
 */
export function functionRoleName(stage: string, functionName: string): string {
  return `${resourcePrefix(stage)}-${functionName}`;
}

/**
 * The outputs of the stateless stack (without exports, so stacks stay independently deletable).
 * The CLI describes `stackNames(stage).stateless` and reads these keys.
 */
export const STACK_OUTPUTS = [
  'TableName',
  'ScheduleGroupName',
  'ScheduleDlqUrl',
  'FailedInvocationsQueueUrl',
  'WebUrl',
  'DispatchFunctionArn',
  'SchedulerRoleArn',
  'ConfigurationSetName',
] as const;
export type StackOutputKey = (typeof STACK_OUTPUTS)[number];

/** The construct id of a manifest function in the stateless stack (`sync-schedules` → `SyncSchedules`). */
export function functionConstructId(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_: string, __: string, c: string) => c.toUpperCase());
}
