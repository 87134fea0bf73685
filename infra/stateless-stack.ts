/**
 * The stateless stack: everything that can be destroyed and rebuilt from the code and the table.
 * Built by walking the topology manifest (shared/config/manifest.ts), the same list the local twin runs:
 * - every function (KeepwellFunction), its environment and exactly the grants that environment
 *   needs (wiring.ts, constructs/function-grants.ts), and its trigger, by the manifest's trigger
 *   walk (the twin's too): the table stream, the one-time message schedules, a recurring
 *   schedule, the page API or the SES events topic;
 * - the schedule group and the Scheduler execution role, allowed to invoke only the functions
 *   schedules target and to send to the schedule dead-letter queue;
 * - two dead-letter queues: one for schedules Scheduler could not deliver, one for invocations
 *   that failed after Lambda's or EventBridge's retries (async on-failure, stream on-failure);
 * - the SES sending identity and configuration set, whose events reach `ses-events` through a
 *   topic of their own (constructs/ses-sending.ts);
 * - the queue key: the dead-letter queues and that topic, usable by the roles and services that
 *   send to or read them, each named in its policy;
 * - the alarms, their topic and a dashboard; the outputs the CLI reads.
 */
import { ArnFormat, CfnOutput, type CfnElement, Duration, RemovalPolicy, Stack, TimeZone, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SnsEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from './config.js';
import { KeepwellFunction } from './constructs/keepwell-function.js';
import { allowRolesThrough, restrictedKey } from './constructs/keys.js';
import { FrontDoor } from './constructs/front-door.js';
import { FunctionGrants } from './constructs/function-grants.js';
import { OpsAlarms } from './constructs/ops-alarms.js';
import { SesSending } from './constructs/ses-sending.js';
import { DISPATCH_METRICS_SERVICE, METRICS_NAMESPACE, WEB_METRICS_SERVICE } from '../shared/adapters/metrics/names.js';
import { WebApi } from './constructs/web-api.js';
import { SECURITY_HEADERS } from '../shared/web/http.js';
import { functionConstructId, functionRoleName, resourcePrefix, type StackOutputKey } from './names.js';
import { acknowledge } from './nag.js';
import {
  FUNCTIONS,
  LAMBDA_ASYNC_RETRY_ATTEMPTS,
  RECURRING_RETRY_POLICY,
  recurringInput,
  recurringSchedule,
  streamSettings,
  walkTriggers,
  type FunctionName,
  type FunctionSpec,
  type Trigger,
} from '../shared/config/manifest.js';
import { wireFunction, type Wiring } from './wiring.js';

/** How Scheduler retries a recurring schedule's invocation before it goes to the schedule DLQ. */
export const RECURRING_RETRY = {
  retryAttempts: RECURRING_RETRY_POLICY.MaximumRetryAttempts,
  maxEventAge: Duration.seconds(RECURRING_RETRY_POLICY.MaximumEventAgeInSeconds),
} as const;

/** Lambda's own retries of a failed asynchronous invocation before the on-failure destination. */
export const ASYNC_RETRY_ATTEMPTS = LAMBDA_ASYNC_RETRY_ATTEMPTS;

/** The stream iterator age above which schedules lag enough to matter (reminders are ≥ 60 min ahead). */
export const STREAM_LAG_ALARM_MS = 10 * 60 * 1000;

export interface KeepwellAppStackProps extends StackProps {
  /** The stage's validated configuration (infra/config.ts). */
  readonly config: StageConfig;
  /** The table, with its stream, from the stateful stack. */
  readonly table: dynamodb.ITable;
  /** The table's key, from the stateful stack (its policy there names the function roles). */
  readonly tableKey: kms.IKey;
  /** The customer-managed key for log groups and the alarm topic, from the stateful stack. */
  readonly dataKey: kms.IKey;
  /** Absolute path of the project root; the manifest's entries are relative to it. */
  readonly projectRoot: string;
  /**
   * The WAF web ACL (us-east-1) for CloudFront in front of the page API.
   * @default - no CloudFront: the page API answers directly
   */
  readonly webAclArn?: string;
  /**
   * Pre-built code per function instead of bundling its entry (template tests, which would
   * otherwise bundle six functions per synth).
   * @default - every entry bundled with esbuild
   */
  readonly codeFor?: (spec: FunctionSpec) => lambda.Code;
}

/** Account-level SES reputation (what SES's enforcement reviews), published by SES itself. */
function sesReputationMetric(metricName: string, options: { period: Duration; statistic: string }): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: 'AWS/SES', metricName, ...options });
}

/**
 * The input of a recurring schedule: the time it was due (Scheduler fills it in, so a late or
 * retried run still knows which slot it serves) and, for reconcile, how far ahead to heal.
 */
export { recurringInput };

const ASYNC_TRIGGERS: ReadonlySet<Trigger['kind']> = new Set(['message-schedules', 'recurring', 'ses-events']);

/** The logical id a resource's `GetAtt` shows up under in cdk-nag findings. */
function logicalIdOf(construct: Construct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

export class KeepwellAppStack extends Stack {
  readonly functions: ReadonlyMap<FunctionName, KeepwellFunction>;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
  readonly scheduleDlq: sqs.Queue;
  readonly failedInvocations: sqs.Queue;
  readonly queueKey: kms.Key;
  /** The table as this stack refers to it (by ARN and stream ARN, without its key). */
  private readonly table: dynamodb.ITable;
  /** The configuration set, the sending identity and the SES events topic. */
  readonly ses: SesSending;
  readonly webApi: WebApi;
  /** CloudFront and WAF in front of the page API, for a stage with the `waf` option. */
  readonly frontDoor?: FrontDoor;
  readonly ops: OpsAlarms;

  constructor(scope: Construct, id: string, props: KeepwellAppStackProps) {
    super(scope, id, props);
    const { config } = props;
    // The table by ARN only: CDK's own grants on its key would add the whole account to the key
    // policy in the data stack; the functions' key statements are written here instead.
    this.table = dynamodb.Table.fromTableAttributes(this, 'TableRef', {
      tableArn: props.table.tableArn,
      ...(props.table.tableStreamArn ? { tableStreamArn: props.table.tableStreamArn } : {}),
    });
    const prefix = resourcePrefix(config.stage);
    this.queueKey = restrictedKey(this, 'QueueKey', 'Keepwell: the dead-letter queues and the SES events topic');
    this.scheduleDlq = this.deadLetterQueue('ScheduleDlq', 'Schedules EventBridge Scheduler could not deliver after its retries; redrive with `keepwell dlq`.');
    this.failedInvocations = this.deadLetterQueue(
      'FailedInvocations',
      'Invocations that failed after all retries: async on-failure records and stream batches; redrive with `keepwell dlq`.',
    );
    // Deleting the group deletes its schedules: they are derived from the table, and reconcile
    // recreates those in its look-ahead window after a redeploy.
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', { scheduleGroupName: prefix, removalPolicy: RemovalPolicy.DESTROY });
    this.schedulerRole = this.newSchedulerRole();
    // Id 'Default': the construct adds no part to the logical ids of what it holds, which stay as
    // they were when the stack created them itself (the configuration set has a fixed name).
    this.ses = new SesSending(this, 'Default', { name: prefix, identity: config.sender.identity, topicKey: this.queueKey });
    // `keepwell dlq list|redrive` reads the dead-letter queues.
    allowRolesThrough(this.queueKey, 'OperatorsReadDeadLetters', {
      roleArns: config.operatorRoleArns,
      service: 'sqs',
      actions: ['kms:Decrypt', 'kms:DescribeKey'],
    });
    this.webApi = new WebApi(this, 'PageApi', {
      apiName: prefix,
      throttleRate: config.api.throttleRate,
      throttleBurst: config.api.throttleBurst,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logKey: props.dataKey,
      // Behind CloudFront the clinic's domain is CloudFront's, and the API keeps its own address as the origin.
      ...(config.customDomain && !props.webAclArn ? { customDomain: config.customDomain } : {}),
    });
    if (props.webAclArn) this.frontDoor = this.newFrontDoor(props.webAclArn, config);
    const webUrl = this.frontDoor?.url ?? this.webApi.url;
    // Dispatch creates deferral schedules that target itself: its ARN must exist before it does.
    const dispatchName = `${prefix}-dispatch`;
    const dispatchArn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: dispatchName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.functions = this.addFunctions(props, dispatchName, this.wiring(props, { dispatchArn, webUrl, groupName: prefix }));
    this.attachTriggers(props);
    this.allowDeadLetterSenders();
    this.ops = this.addAlarms(prefix, props);
    this.acknowledgeStackWide();
    this.addOutputs(config, { webUrl, dispatchArn });
  }

  private newSchedulerRole(): iam.Role {
    const role = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invoke Keepwell schedule targets and dead-letter failed deliveries',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnEquals: { 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
    });
    this.scheduleDlq.grantSendMessages(role);
    return role;
  }

  private newFrontDoor(webAclArn: string, config: StageConfig): FrontDoor {
    return new FrontDoor(this, 'FrontDoor', {
      originDomain: `${this.webApi.api.apiId}.execute-api.${this.region}.${this.urlSuffix}`,
      webAclArn,
      securityHeaders: SECURITY_HEADERS,
      ...(config.customDomain && config.waf?.certificateArn
        ? { domain: { domainName: config.customDomain.domainName, certificateArn: config.waf.certificateArn } }
        : {}),
    });
  }

  /** The value of every variable a function may be given, and the grants (constructs/function-grants.ts). */
  private wiring(props: KeepwellAppStackProps, at: { readonly dispatchArn: string; readonly webUrl: string; readonly groupName: string }): Wiring {
    const { config } = props;
    return {
      environment: {
        TABLE_NAME: this.table.tableName,
        SCHEDULE_GROUP: this.scheduleGroup.scheduleGroupName,
        SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
        DISPATCH_FUNCTION_ARN: at.dispatchArn,
        SCHEDULE_DLQ_ARN: this.scheduleDlq.queueArn,
        CLINIC_CONFIG: this.toJsonString({ ...config.clinic, baseUrl: config.baseUrl ?? at.webUrl }),
        CONFIGURATION_SET: this.ses.configurationSet.configurationSetName,
        TOKEN_KEY_PARAMETER: config.tokenKey.parameter,
        TOKEN_PREVIOUS_KEY_PARAMETER: config.tokenKey.previousParameter,
        INTAKE_CONFIG: this.toJsonString(config.intake),
        FAILED_INVOCATIONS_URL: this.failedInvocations.queueUrl,
      },
      grants: new FunctionGrants(this, 'Grants', {
        table: this.table,
        tableKey: props.tableKey,
        scheduleGroup: this.scheduleGroup,
        scheduleGroupName: at.groupName,
        schedulerRole: this.schedulerRole,
        ses: { identityArn: this.ses.identity.emailIdentityArn, configurationSetArn: this.ses.configurationSetArn, fromAddress: config.sender.email },
        tokenKey: config.tokenKey,
        intakeSecretParameters: Object.values(config.intake.sources).flatMap((s) => (s.secretParameter ? [s.secretParameter] : [])),
        failedInvocations: this.failedInvocations,
      }).byPermission,
    };
  }

  /** Every manifest function, with its environment and grants. */
  private addFunctions(props: KeepwellAppStackProps, dispatchName: string, wiring: Wiring): Map<FunctionName, KeepwellFunction> {
    const { config } = props;
    const functions = new Map<FunctionName, KeepwellFunction>();
    for (const spec of FUNCTIONS) {
      const isAsync = ASYNC_TRIGGERS.has(spec.trigger.kind);
      const fn = new KeepwellFunction(this, functionConstructId(spec.name), {
        spec,
        projectRoot: props.projectRoot,
        logRetention: config.logRetentionDays as logs.RetentionDays,
        logKey: props.dataKey,
        serviceName: `keepwell-${spec.name}`,
        ...(spec.name === 'dispatch' ? { functionName: dispatchName } : {}),
        roleName: functionRoleName(config.stage, spec.name),
        ...(props.codeFor ? { code: props.codeFor(spec) } : {}),
        ...(isAsync ? { onFailure: new SqsDestination(this.failedInvocations), retryAttempts: ASYNC_RETRY_ATTEMPTS } : {}),
      });
      wireFunction(fn, spec, wiring);
      acknowledge(
        fn,
        'HIPAA.Security-LambdaConcurrency',
        'On-demand scale: reserved concurrency would cap sends and pages at a guess; the API is throttled and Scheduler spreads the load.',
      );
      acknowledge(
        fn,
        'HIPAA.Security-LambdaInsideVPC',
        'The functions call only AWS APIs (DynamoDB, Scheduler, SES, SSM) over TLS with IAM; a VPC would add NAT cost and no protection.',
      );
      acknowledge(
        fn,
        'HIPAA.Security-LambdaDLQ',
        isAsync
          ? 'Failed asynchronous invocations go to the failed-invocations queue through an on-failure destination, which carries the error and the request (a DLQ would carry less).'
          : "Not invoked asynchronously: stream batches fail over to the failed-invocations queue through the event source's on-failure destination, and the page API answers synchronously.",
      );
      functions.set(spec.name, fn);
    }
    return functions;
  }

  /**
   * Whoever sends to a dead-letter queue encrypts for it: the Scheduler role (schedule DLQ) and
   * every function with an on-failure destination (asynchronous ones, and the stream's reader).
   */
  private allowDeadLetterSenders(): void {
    const senders = FUNCTIONS.filter((f) => ASYNC_TRIGGERS.has(f.trigger.kind) || f.trigger.kind === 'table-stream').map(
      (f) => this.keepwellFunction(f.name).role.roleArn,
    );
    allowRolesThrough(this.queueKey, 'SendDeadLetters', {
      roleArns: [this.schedulerRole.roleArn, ...senders],
      service: 'sqs',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    });
  }

  private acknowledgeStackWide(): void {
    for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) {
      acknowledge(
        this,
        `AwsSolutions-IAM5[Action::${action}]`,
        `CDK's SendMessages grant on a queue under a customer-managed key adds ${action} on that key's ARN alone (the queue key): what SQS calls to encrypt a message for its sender.`,
      );
    }
    acknowledge(
      this,
      'HIPAA.Security-IAMNoInlinePolicy',
      'Each role gets one CDK-generated policy, created with it and attached to it alone; its statements are the least-privilege grants asserted in test/infra.',
    );
  }

  /** The outputs the CLI reads (names.ts STACK_OUTPUTS), and the DNS records a stage must publish. */
  private addOutputs(config: StageConfig, at: { readonly webUrl: string; readonly dispatchArn: string }): void {
    const outputs: Record<StackOutputKey, { value: string; description: string }> = {
      TableName: { value: this.table.tableName, description: 'The Keepwell table' },
      ScheduleGroupName: { value: this.scheduleGroup.scheduleGroupName, description: 'The schedule group of every message and recurring schedule' },
      ScheduleDlqUrl: { value: this.scheduleDlq.queueUrl, description: 'Schedules Scheduler could not deliver' },
      FailedInvocationsQueueUrl: { value: this.failedInvocations.queueUrl, description: 'Invocations that failed after all retries' },
      WebUrl: { value: config.baseUrl ?? at.webUrl, description: 'The origin of the client pages' },
      DispatchFunctionArn: { value: at.dispatchArn, description: 'The function the message schedules invoke' },
      SchedulerRoleArn: { value: this.schedulerRole.roleArn, description: 'The role message schedules run with (the CLI passes it when it recreates one)' },
      ConfigurationSetName: { value: this.ses.configurationSet.configurationSetName, description: 'The SES configuration set every email is sent with' },
    };
    for (const [key, output] of Object.entries(outputs)) new CfnOutput(this, key, output);
    if (this.frontDoor && config.customDomain) {
      new CfnOutput(this, 'WebDomainTarget', {
        value: this.frontDoor.distribution.distributionDomainName,
        description: `Point a CNAME (or alias) for ${config.customDomain.domainName} at this CloudFront domain`,
      });
    }
    if (this.webApi.domainTarget) {
      new CfnOutput(this, 'WebDomainTarget', {
        value: this.webApi.domainTarget,
        description: `Point a CNAME (or alias) for ${config.customDomain?.domainName} here`,
      });
    }
    const identity = config.sender.identity;
    if (!identity.includes('@')) {
      this.ses.identity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `SenderDkimRecord${i + 1}`, {
          value: `${record.name} CNAME ${record.value}`,
          description: `DKIM record ${i + 1} of 3 to add to ${identity}'s DNS`,
        });
      });
    }
  }

  private deadLetterQueue(id: string, description: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      // A data key serves many messages for a while: fewer KMS calls, the same key policy.
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(queue, 'AwsSolutions-SQS3', `This queue is itself a dead-letter queue. ${description}`);
    return queue;
  }

  /** Lets the Scheduler role invoke a target (LambdaInvoke calls it for the recurring schedules too). */
  private allowSchedulerToInvoke(fn: lambda.Function): void {
    fn.grantInvoke(this.schedulerRole);
    this.acknowledgeSchedulerInvoke(fn);
  }

  private acknowledgeSchedulerInvoke(fn: lambda.Function): void {
    acknowledge(
      this.schedulerRole,
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
      `Lambda's grantInvoke also covers the versions and aliases of ${fn.node.scope?.node.id ?? 'the function'} (ARN:*); the grant names this one schedule target.`,
    );
  }

  private keepwellFunction(name: FunctionName): KeepwellFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`function "${name}" is not in the topology manifest`);
    return fn;
  }

  /** Connects each function to its trigger, by the manifest's one trigger walk (the twin's too). */
  private attachTriggers(props: KeepwellAppStackProps): void {
    const { config } = props;
    const fnOf = (spec: FunctionSpec) => this.keepwellFunction(spec.name).function;
    let pagesServed = false;
    walkTriggers<void>({
      'table-stream': (spec, trigger) => {
        const settings = streamSettings(trigger);
        fnOf(spec).addEventSource(
          new DynamoEventSource(this.table, {
            startingPosition: lambda.StartingPosition.TRIM_HORIZON,
            batchSize: settings.batchSize,
            retryAttempts: settings.maxRetries,
            bisectBatchOnError: true,
            reportBatchItemFailures: true,
            onFailure: new SqsDlq(this.failedInvocations),
            filters: settings.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })),
          }),
        );
        acknowledge(
          this.keepwellFunction(spec.name),
          'AwsSolutions-IAM5[Resource::*]',
          "dynamodb:ListStreams, which the stream event source needs, supports no resource-level permission; reading records is granted on the table's stream ARN only.",
        );
      },
      // The schedules themselves are created at run time (sync-schedules, reconcile, dispatch).
      'message-schedules': (spec) => this.allowSchedulerToInvoke(fnOf(spec)),
      recurring: (spec, trigger) => {
        const fn = fnOf(spec);
        const schedule = recurringSchedule(spec, trigger, config);
        this.acknowledgeSchedulerInvoke(fn);
        new scheduler.Schedule(this, `${functionConstructId(spec.name)}Schedule`, {
          scheduleName: schedule.name,
          scheduleGroup: this.scheduleGroup,
          description: spec.description,
          schedule: scheduler.ScheduleExpression.expression(schedule.expression, TimeZone.of(schedule.timezone)),
          timeWindow: scheduler.TimeWindow.off(),
          target: new LambdaInvoke(fn, {
            role: this.schedulerRole,
            deadLetterQueue: this.scheduleDlq,
            retryAttempts: schedule.retryPolicy.MaximumRetryAttempts,
            maxEventAge: Duration.seconds(schedule.retryPolicy.MaximumEventAgeInSeconds),
            input: scheduler.ScheduleTargetInput.fromObject(schedule.input),
          }),
        });
      },
      'http-api': (spec) => {
        if (pagesServed) throw new Error(`function "${spec.name}": the page API already has a function; the manifest must name one http-api function`);
        this.webApi.serve(fnOf(spec));
        pagesServed = true;
      },
      // SNS invokes asynchronously: Lambda's retries, then the failed-invocations destination.
      'ses-events': (spec) => fnOf(spec).addEventSource(new SnsEventSource(this.ses.events)),
      'http-route': (spec, trigger) => this.webApi.route(trigger.method, trigger.path, spec.name, fnOf(spec)),
    });
    if (!pagesServed) throw new Error('the topology manifest has no http-api function: the client pages would have no API');
  }

  private addAlarms(prefix: string, props: KeepwellAppStackProps): OpsAlarms {
    const ops = new OpsAlarms(this, 'Ops', { namePrefix: prefix, alarmEmail: props.config.alarmEmail, topicKey: props.dataKey });
    const fiveMinutes = { period: Duration.minutes(5) };
    ops.add('ScheduleDlqNotEmpty', {
      metric: this.scheduleDlq.metricApproximateNumberOfMessagesVisible({ ...fiveMinutes, statistic: 'Maximum' }),
      threshold: 0,
      description:
        'A schedule could not invoke its target after its retries; its message is waiting in the schedule DLQ. Inspect and redrive with `keepwell dlq list`.',
    });
    ops.add('FailedInvocationsNotEmpty', {
      metric: this.failedInvocations.metricApproximateNumberOfMessagesVisible({ ...fiveMinutes, statistic: 'Maximum' }),
      threshold: 0,
      description: 'A function failed after all retries (async invocation, stream batch or SES event). Inspect and redrive with `keepwell dlq list`.',
    });
    ops.add('SchedulesLost', {
      metric: this.scheduleGroup.metricFailedToBeSentToDLQ(undefined, { ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
      description: 'Scheduler could neither deliver a schedule nor put it on the DLQ: a message may be lost. Check the Scheduler role and the DLQ policy.',
    });
    for (const [name, fn] of this.functions) {
      const id = functionConstructId(name);
      ops.add(`${id}Errors`, {
        metric: fn.function.metricErrors({ ...fiveMinutes, statistic: 'Sum' }),
        threshold: 0,
        description: `The ${name} function failed (see its log group; retries and DLQs keep the work).`,
      });
      ops.add(`${id}Throttles`, {
        metric: fn.function.metricThrottles({ ...fiveMinutes, statistic: 'Sum' }),
        threshold: 0,
        description: `The ${name} function was throttled: the account's concurrency is exhausted.`,
      });
    }
    for (const spec of FUNCTIONS.filter((f) => f.trigger.kind === 'table-stream')) {
      ops.add(`${functionConstructId(spec.name)}IteratorAge`, {
        metric: this.keepwellFunction(spec.name).function.metric('IteratorAge', { ...fiveMinutes, statistic: 'Maximum' }),
        threshold: STREAM_LAG_ALARM_MS,
        evaluationPeriods: 2,
        description: `The table stream is more than ${STREAM_LAG_ALARM_MS / 60_000} minutes behind: schedules lag behind bookings.`,
      });
    }
    const hourly = { period: Duration.hours(1), statistic: 'Maximum' };
    ops.add('SesBounceRate', {
      metric: sesReputationMetric('Reputation.BounceRate', hourly),
      threshold: 0.05,
      description: 'The account bounce rate is above 5%: SES reviews accounts at 5% and may pause sending at 10%. Check addresses and suppressions.',
    });
    ops.add('SesComplaintRate', {
      metric: sesReputationMetric('Reputation.ComplaintRate', hourly),
      threshold: 0.001,
      description: 'The account complaint rate is above 0.1%: SES reviews accounts at 0.1% and may pause sending at 0.5%.',
    });
    ops.add('WebServerErrors', {
      metric: this.webApi.metricServerErrors({ statistic: 'Sum' }),
      threshold: 0,
      description: 'The client pages answered with a 5xx: the web function failed or timed out.',
    });
    this.addDeliveryAlarms(ops);
    ops.addDashboard(deliveryWidgets());
    return ops;
  }

  /**
   * The delivery promise measured in production, from dispatch's embedded metrics
   * (shared/adapters/metrics/powertools.ts): reminders late, failures, outcomes unknown.
   */
  private addDeliveryAlarms(ops: OpsAlarms): void {
    ops.add('ReminderLate', {
      metric: deliveryMetric('SendLateness', { Kind: 'reminder' }, { period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: REMINDER_LATENESS_ALARM_SECONDS,
      description: `A reminder went out more than ${REMINDER_LATENESS_ALARM_SECONDS / 60} minutes after it was due: Scheduler, dispatch or SES is behind (throttling, errors). Check dispatch's log group and \`keepwell outbox\`.`,
    });
    ops.add('DeliveryFailureRatio', {
      metric: failureRatio({}, 'Failed deliveries (% of settled)'),
      threshold: DELIVERY_FAILURE_ALARM_PERCENT,
      description: `More than ${DELIVERY_FAILURE_ALARM_PERCENT}% of the messages settled in the last hour failed. \`keepwell outbox --since 1h\` lists them with their reasons.`,
    });
    // Per kind too: a kind that fails outright must not hide behind a busy one.
    for (const kind of DISPATCHED_KINDS) {
      ops.add(`${functionConstructId(kind)}FailureRatio`, {
        metric: failureRatio({ Kind: kind }, `Failed ${kind} deliveries (% of settled)`),
        threshold: DELIVERY_FAILURE_ALARM_PERCENT,
        description: `More than ${DELIVERY_FAILURE_ALARM_PERCENT}% of the ${kind} messages settled in the last hour failed. \`keepwell outbox --since 1h\` lists them with their reasons.`,
      });
    }
    ops.add('OutcomeUnknown', {
      metric: deliveryMetric('OutcomeUnknown', {}, { period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      description:
        'A message may or may not have reached its client (SES gave no answer, or an attempt stopped between SES and the ledger). It is never resent blind: check the SES sending log before resending by hand.',
    });
  }
}

/** Alarm when a reminder goes out later than this after its due time. */
export const REMINDER_LATENESS_ALARM_SECONDS = 120;
/** Alarm when more than this share of an hour's settled messages failed. */
export const DELIVERY_FAILURE_ALARM_PERCENT = 1;

function deliveryMetric(metricName: string, dimensions: Record<string, string>, options: { period: Duration; statistic: string }): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: DISPATCH_METRICS_SERVICE, ...dimensions }, ...options });
}

/** The kinds dispatch sends, each with its own failure-ratio alarm and graphs. */
const DISPATCHED_KINDS = ['reminder', 'check-in', 'maintenance-nudge'] as const;

/**
 * Failed as a percentage of settled over an hour (0 when nothing settled), across kinds or for
 * one. `idSuffix` keeps the ids apart when one graph draws several.
 */
function failureRatio(dimensions: Record<string, string>, label: string, idSuffix = ''): cloudwatch.MathExpression {
  const hour = { period: Duration.hours(1), statistic: 'Sum' };
  const [failures, settled] = [`failures${idSuffix}`, `settled${idSuffix}`];
  return new cloudwatch.MathExpression({
    expression: `IF(${settled} > 0, 100 * ${failures} / ${settled}, 0)`,
    usingMetrics: { [failures]: deliveryMetric('DeliveryFailures', dimensions, hour), [settled]: deliveryMetric('DeliveriesSettled', dimensions, hour) },
    period: Duration.hours(1),
    label,
  });
}

/** The dashboard's delivery graphs: outcomes and lateness for each kind dispatch sends, and the red-flag alert's delay. */
function deliveryWidgets(): cloudwatch.IWidget[] {
  const hour = { period: Duration.hours(1), statistic: 'Sum' };
  const kinds = DISPATCHED_KINDS;
  // The web function reports it: the therapist alert's send time minus the check-in's answer time.
  const alertDelay = (statistic: string) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'SendLateness',
      dimensionsMap: { service: WEB_METRICS_SERVICE, Kind: 'therapist-alert' },
      period: Duration.minutes(5),
      statistic,
      label: `red-flag alert ${statistic}`,
    });
  return [
    new cloudwatch.GraphWidget({
      title: 'Emails sent by kind',
      left: kinds.map((kind) => deliveryMetric('MessagesSent', { Kind: kind }, hour).with({ label: kind })),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Settled, failed and absorbed duplicates',
      left: [deliveryMetric('DeliveriesSettled', {}, hour).with({ label: 'settled' }), deliveryMetric('DeliveryFailures', {}, hour).with({ label: 'failed' })],
      right: kinds.map((kind) => deliveryMetric('DuplicatesAbsorbed', { Kind: kind }, hour).with({ label: `${kind} duplicates absorbed` })),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Lateness (seconds after due)',
      left: kinds.map((kind) =>
        deliveryMetric('SendLateness', { Kind: kind }, { period: Duration.minutes(5), statistic: 'p99' }).with({ label: `${kind} p99` }),
      ),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Red-flag alert delay (seconds after the answers)',
      left: [alertDelay('p99'), alertDelay('Maximum')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Failed deliveries by kind (% of settled, hourly)',
      left: kinds.map((kind, i) => failureRatio({ Kind: kind }, kind, `_${i}`)),
      width: 12,
    }),
  ];
}
