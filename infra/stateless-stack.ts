/**
 * The stateless stack: everything that can be destroyed and rebuilt from the code and the table.
 * Built by walking the topology manifest (infra/topology.ts), the same list the local twin runs:
 * - every function (KeepwellFunction), its environment and exactly the grants that environment
 *   needs (wiring.ts), and its trigger: the table stream, the one-time message schedules, a
 *   recurring schedule, the page API or the SES events rule;
 * - the schedule group and the Scheduler execution role, allowed to invoke only the functions
 *   schedules target and to send to the schedule dead-letter queue;
 * - two dead-letter queues: one for schedules Scheduler could not deliver, one for invocations
 *   that failed after Lambda's or EventBridge's retries (async on-failure, stream on-failure);
 * - the SES sending identity and configuration set, whose events reach `ses-events` through the
 *   default event bus;
 * - the alarms, their topic and a dashboard; the outputs the CLI reads.
 */
import { ArnFormat, CfnOutput, type CfnElement, Duration, RemovalPolicy, Stack, TimeZone, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ALL_INDEXES } from '../shared/adapters/dynamodb/table-definition.js';
import type { StageConfig } from './config.js';
import { KeepwellFunction } from './constructs/keepwell-function.js';
import { OpsAlarms } from './constructs/ops-alarms.js';
import { DISPATCH_METRICS_SERVICE, METRICS_NAMESPACE } from '../shared/adapters/metrics/names.js';
import { WebApi } from './constructs/web-api.js';
import { functionConstructId, resourcePrefix, type StackOutputKey } from './names.js';
import { acknowledge } from './nag.js';
import { FUNCTIONS, streamFilterPatterns, LAMBDA_ASYNC_RETRY_ATTEMPTS, RECURRING_RETRY_POLICY, recurringInput, type FunctionName, type FunctionSpec, type Trigger } from './topology.js';
import { wireFunction, type Grantee } from './wiring.js';

/** The SES events ses-events handles, as EventBridge detail-types. */
export const SES_EVENT_DETAIL_TYPES = ['Email Bounced', 'Email Complaint Received', 'Email Delivered', 'Email Rejected', 'Email Delivery Delayed'] as const;

/** Item reads and index queries; TransactGetItems is authorized as GetItem. */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'] as const;
/** Item writes; TransactWriteItems is authorized as the Put/Update/Delete/ConditionCheck it contains. */
export const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;

/** How Scheduler retries a recurring schedule's invocation before it goes to the schedule DLQ. */
export const RECURRING_RETRY = { retryAttempts: RECURRING_RETRY_POLICY.MaximumRetryAttempts, maxEventAge: Duration.seconds(RECURRING_RETRY_POLICY.MaximumEventAgeInSeconds) } as const;

/** Lambda's own retries of a failed asynchronous invocation before the on-failure destination. */
export const ASYNC_RETRY_ATTEMPTS = LAMBDA_ASYNC_RETRY_ATTEMPTS;

/** The stream iterator age above which schedules lag enough to matter (reminders are ≥ 60 min ahead). */
export const STREAM_LAG_ALARM_MS = 10 * 60 * 1000;

export interface KeepwellAppStackProps extends StackProps {
  /** The stage's validated configuration (infra/config.ts). */
  readonly config: StageConfig;
  /** The table, with its stream, from the stateful stack. */
  readonly table: dynamodb.ITable;
  /** The customer-managed key for log groups and the alarm topic, from the stateful stack. */
  readonly dataKey: kms.IKey;
  /** Absolute path of the project root; the manifest's entries are relative to it. */
  readonly projectRoot: string;
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
  readonly configurationSet: ses.ConfigurationSet;
  readonly senderIdentity: ses.EmailIdentity;
  readonly webApi: WebApi;
  readonly ops: OpsAlarms;

  constructor(scope: Construct, id: string, props: KeepwellAppStackProps) {
    super(scope, id, props);
    const { config, table } = props;
    const prefix = resourcePrefix(config.stage);
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    this.scheduleDlq = this.deadLetterQueue('ScheduleDlq', 'Schedules EventBridge Scheduler could not deliver after its retries; redrive with `keepwell dlq`.');
    this.failedInvocations = this.deadLetterQueue('FailedInvocations', 'Invocations that failed after all retries: async on-failure records and stream batches; redrive with `keepwell dlq`.');

    // Deleting the group deletes its schedules: they are derived from the table, and reconcile
    // recreates those in its look-ahead window after a redeploy.
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', { scheduleGroupName: prefix, removalPolicy: RemovalPolicy.DESTROY });
    const groupName = prefix;

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invoke Keepwell schedule targets and dead-letter failed deliveries',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnEquals: { 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
    });
    this.scheduleDlq.grantSendMessages(this.schedulerRole);

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: prefix,
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      // Reminders name a clinic and a time: never send them in clear text between mail servers.
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
    });
    this.configurationSet.addEventDestination('ToEventBridge', {
      destination: ses.EventDestination.eventBus(events.EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.DELIVERY, ses.EmailSendingEvent.REJECT, ses.EmailSendingEvent.DELIVERY_DELAY],
    });
    const identity = config.sender.identity;
    this.senderIdentity = new ses.EmailIdentity(this, 'SenderIdentity', {
      identity: identity.includes('@') ? ses.Identity.email(identity) : ses.Identity.domain(identity),
      configurationSet: this.configurationSet,
    });
    const configurationSetArn = this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName });

    this.webApi = new WebApi(this, 'PageApi', {
      apiName: prefix,
      throttleRate: config.api.throttleRate,
      throttleBurst: config.api.throttleBurst,
      logRetention,
      logKey: props.dataKey,
      ...(config.customDomain ? { customDomain: config.customDomain } : {}),
    });

    // Dispatch creates deferral schedules that target itself: its ARN must exist before it does.
    const dispatchName = `${prefix}-dispatch`;
    const dispatchArn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: dispatchName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const scheduleArns = this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${groupName}/*` });

    // The table and exactly its indexes (no `index/*`), and no Scan: every read is a key lookup or a query.
    const tableResources = [table.tableArn, ...ALL_INDEXES.map((index) => `${table.tableArn}/index/${index.indexName}`)];
    const grantTable = (target: Grantee, sid: string, actions: readonly string[]) =>
      target.function.addToRolePolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources: tableResources }));
    // A SecureString under alias/aws/ssm needs no KMS statement: that key's policy lets any
    // principal of the account decrypt through SSM. A customer-managed key is granted here.
    const grantTokenKey = (target: Grantee, sid: string, parameter: string) => {
      target.function.addToRolePolicy(new iam.PolicyStatement({
        sid,
        actions: ['ssm:GetParameter'],
        resources: [this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: parameter.replace(/^\//, '') })],
      }));
      if (config.tokenKey.kmsKeyArn) {
        target.function.addToRolePolicy(new iam.PolicyStatement({
          sid: sid.replace(/^Read/, 'Decrypt'),
          actions: ['kms:Decrypt'],
          resources: [config.tokenKey.kmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${this.region}.amazonaws.com` } },
        }));
      }
    };
    const wiring = {
      environment: {
        TABLE_NAME: table.tableName,
        SCHEDULE_GROUP: this.scheduleGroup.scheduleGroupName,
        SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
        DISPATCH_FUNCTION_ARN: dispatchArn,
        SCHEDULE_DLQ_ARN: this.scheduleDlq.queueArn,
        CLINIC_CONFIG: this.toJsonString({ ...config.clinic, baseUrl: config.baseUrl ?? this.webApi.url }),
        CONFIGURATION_SET: this.configurationSet.configurationSetName,
        TOKEN_KEY_PARAMETER: config.tokenKey.parameter,
        TOKEN_PREVIOUS_KEY_PARAMETER: config.tokenKey.previousParameter,
        INTAKE_CONFIG: this.toJsonString(config.intake),
      },
      grants: {
        'table:read': (target: Grantee) => grantTable(target, 'ReadTable', TABLE_READ_ACTIONS),
        'table:write': (target: Grantee) => grantTable(target, 'ReadWriteTable', [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS]),
        'schedules:manage': (target: Grantee) => {
          const fn = target.function;
          // The group's name is a literal: make the function wait for the group to exist.
          fn.node.addDependency(this.scheduleGroup);
          fn.addToRolePolicy(new iam.PolicyStatement({
            sid: 'ManageMessageSchedules',
            actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'],
            resources: [scheduleArns],
          }));
          fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ListSchedules', actions: ['scheduler:ListSchedules'], resources: ['*'] }));
          fn.addToRolePolicy(new iam.PolicyStatement({
            sid: 'PassSchedulerRole',
            actions: ['iam:PassRole'],
            resources: [this.schedulerRole.roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          }));
          acknowledge(target, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${groupName}/*]`,
            'One-time message schedules are created at run time with names derived from message identities; the grant is limited to Keepwell\'s own schedule group.');
          acknowledge(target, 'AwsSolutions-IAM5[Resource::*]',
            'scheduler:ListSchedules supports no resource-level permission (Service Authorization Reference); the function lists only with GroupName set to Keepwell\'s group.');
        },
        'ses:send': (target: Grantee) => {
          target.function.addToRolePolicy(new iam.PolicyStatement({
            sid: 'SendAsClinic',
            actions: ['ses:SendEmail'],
            resources: [this.senderIdentity.emailIdentityArn, configurationSetArn],
          }));
        },
        'token-key:read': (target: Grantee) => grantTokenKey(target, 'ReadTokenKey', config.tokenKey.parameter),
        // The previous key may not exist: the function reads it and treats "not found" as no rotation.
        'token-previous-key:read': (target: Grantee) => grantTokenKey(target, 'ReadPreviousTokenKey', config.tokenKey.previousParameter),
        // Each source's secret, by its exact parameter name; under alias/aws/ssm no KMS statement is needed.
        'intake-secrets:read': (target: Grantee) => {
          const parameters = Object.values(config.intake.sources).flatMap((s) => (s.secretParameter ? [s.secretParameter] : []));
          if (parameters.length === 0) return;
          target.function.addToRolePolicy(new iam.PolicyStatement({
            sid: 'ReadIntakeSecrets',
            actions: ['ssm:GetParameter'],
            resources: parameters.map((name) => this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') })),
          }));
        },
      },
    };

    const functions = new Map<FunctionName, KeepwellFunction>();
    for (const spec of FUNCTIONS) {
      const isAsync = ASYNC_TRIGGERS.has(spec.trigger.kind);
      const fn = new KeepwellFunction(this, functionConstructId(spec.name), {
        spec,
        projectRoot: props.projectRoot,
        logRetention,
        logKey: props.dataKey,
        serviceName: `keepwell-${spec.name}`,
        ...(spec.name === 'dispatch' ? { functionName: dispatchName } : {}),
        ...(props.codeFor ? { code: props.codeFor(spec) } : {}),
        ...(isAsync ? { onFailure: new SqsDestination(this.failedInvocations), retryAttempts: ASYNC_RETRY_ATTEMPTS } : {}),
      });
      wireFunction(fn, spec, wiring);
      acknowledge(fn, 'HIPAA.Security-LambdaConcurrency', 'On-demand scale: reserved concurrency would cap sends and pages at a guess; the API is throttled and Scheduler spreads the load.');
      acknowledge(fn, 'HIPAA.Security-LambdaInsideVPC', 'The functions call only AWS APIs (DynamoDB, Scheduler, SES, SSM) over TLS with IAM; a VPC would add NAT cost and no protection.');
      acknowledge(fn, 'HIPAA.Security-LambdaDLQ', isAsync
        ? 'Failed asynchronous invocations go to the failed-invocations queue through an on-failure destination, which carries the error and the request (a DLQ would carry less).'
        : 'Not invoked asynchronously: stream batches fail over to the failed-invocations queue through the event source\'s on-failure destination, and the page API answers synchronously.');
      functions.set(spec.name, fn);
    }
    this.functions = functions;

    this.attachTriggers(props);
    this.ops = this.addAlarms(prefix, props);

    acknowledge(this, 'HIPAA.Security-IAMNoInlinePolicy', 'Each role gets one CDK-generated policy, created with it and attached to it alone; its statements are the least-privilege grants asserted in test/infra.');

    const outputs: Record<StackOutputKey, { value: string; description: string }> = {
      TableName: { value: table.tableName, description: 'The Keepwell table' },
      ScheduleGroupName: { value: this.scheduleGroup.scheduleGroupName, description: 'The schedule group of every message and recurring schedule' },
      ScheduleDlqUrl: { value: this.scheduleDlq.queueUrl, description: 'Schedules Scheduler could not deliver' },
      FailedInvocationsQueueUrl: { value: this.failedInvocations.queueUrl, description: 'Invocations that failed after all retries' },
      WebUrl: { value: config.baseUrl ?? this.webApi.url, description: 'The origin of the client pages' },
      DispatchFunctionArn: { value: dispatchArn, description: 'The function the message schedules invoke' },
      SchedulerRoleArn: { value: this.schedulerRole.roleArn, description: 'The role message schedules run with (the CLI passes it when it recreates one)' },
      ConfigurationSetName: { value: this.configurationSet.configurationSetName, description: 'The SES configuration set every email is sent with' },
    };
    for (const [key, output] of Object.entries(outputs)) new CfnOutput(this, key, output);
    if (this.webApi.domainTarget) {
      new CfnOutput(this, 'WebDomainTarget', { value: this.webApi.domainTarget, description: `Point a CNAME (or alias) for ${config.customDomain?.domainName} here` });
    }
    if (!identity.includes('@')) {
      this.senderIdentity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `SenderDkimRecord${i + 1}`, { value: `${record.name} CNAME ${record.value}`, description: `DKIM record ${i + 1} of 3 to add to ${identity}'s DNS` });
      });
    }
  }

  private deadLetterQueue(id: string, description: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
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
    acknowledge(this.schedulerRole, `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
      `Lambda's grantInvoke also covers the versions and aliases of ${fn.node.scope?.node.id ?? 'the function'} (ARN:*); the grant names this one schedule target.`);
  }

  private keepwellFunction(name: FunctionName): KeepwellFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`function "${name}" is not in the topology manifest`);
    return fn;
  }

  /** Connects each function to its trigger. */
  private attachTriggers(props: KeepwellAppStackProps): void {
    const { config } = props;
    let pagesServed = false;
    for (const spec of FUNCTIONS) {
      const target = this.keepwellFunction(spec.name);
      const fn = target.function;
      const trigger = spec.trigger;
      switch (trigger.kind) {
        case 'table-stream':
          fn.addEventSource(new DynamoEventSource(props.table, {
            startingPosition: lambda.StartingPosition.TRIM_HORIZON,
            batchSize: trigger.batchSize,
            retryAttempts: trigger.maxRetries,
            bisectBatchOnError: true,
            reportBatchItemFailures: true,
            onFailure: new SqsDlq(this.failedInvocations),
            filters: streamFilterPatterns(trigger.itemTypes).map((pattern) => ({ pattern: JSON.stringify(pattern) })),
          }));
          acknowledge(target, 'AwsSolutions-IAM5[Resource::*]',
            'dynamodb:ListStreams, which the stream event source needs, supports no resource-level permission; reading records is granted on the table\'s stream ARN only.');
          break;
        case 'message-schedules':
          // The schedules themselves are created at run time (sync-schedules, reconcile, dispatch).
          this.allowSchedulerToInvoke(fn);
          break;
        case 'recurring':
          this.acknowledgeSchedulerInvoke(fn);
          new scheduler.Schedule(this, `${functionConstructId(spec.name)}Schedule`, {
            scheduleName: trigger.scheduleName,
            scheduleGroup: this.scheduleGroup,
            description: spec.description,
            schedule: scheduler.ScheduleExpression.expression(trigger.expression, TimeZone.of(trigger.timezone)),
            timeWindow: scheduler.TimeWindow.off(),
            target: new LambdaInvoke(fn, {
              role: this.schedulerRole,
              deadLetterQueue: this.scheduleDlq,
              ...RECURRING_RETRY,
              input: scheduler.ScheduleTargetInput.fromObject(recurringInput(spec.name, config)),
            }),
          });
          break;
        case 'http-api':
          if (pagesServed) throw new Error(`function "${spec.name}": the page API already has a function; the manifest must name one http-api function`);
          this.webApi.serve(fn);
          pagesServed = true;
          break;
        case 'ses-events':
          new events.Rule(this, 'SesEventsRule', {
            description: "SES events of Keepwell's configuration set, for suppression and delivery records",
            eventPattern: {
              source: ['aws.ses'],
              detailType: [...SES_EVENT_DETAIL_TYPES],
              detail: { mail: { tags: { 'ses:configuration-set': [this.configurationSet.configurationSetName] } } },
            },
            targets: [new eventTargets.LambdaFunction(fn, { deadLetterQueue: this.failedInvocations, retryAttempts: 8, maxEventAge: Duration.hours(6) })],
          });
          break;
        case 'http-route':
          this.webApi.route(trigger.method, trigger.path, spec.name, fn);
          break;
        default: {
          const unknown: never = trigger;
          throw new Error(`function "${spec.name}": unknown trigger ${JSON.stringify(unknown)}`);
        }
      }
    }
    if (!pagesServed) throw new Error('the topology manifest has no http-api function: the client pages would have no API');
  }

  private addAlarms(prefix: string, props: KeepwellAppStackProps): OpsAlarms {
    const ops = new OpsAlarms(this, 'Ops', { namePrefix: prefix, alarmEmail: props.config.alarmEmail, topicKey: props.dataKey });
    const fiveMinutes = { period: Duration.minutes(5) };
    ops.add('ScheduleDlqNotEmpty', {
      metric: this.scheduleDlq.metricApproximateNumberOfMessagesVisible({ ...fiveMinutes, statistic: 'Maximum' }),
      threshold: 0,
      description: 'A schedule could not invoke its target after its retries; its message is waiting in the schedule DLQ. Inspect and redrive with `keepwell dlq list`.',
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
    const hour = { period: Duration.hours(1), statistic: 'Sum' };
    ops.add('DeliveryFailureRatio', {
      metric: new cloudwatch.MathExpression({
        expression: 'IF(settled > 0, 100 * failures / settled, 0)',
        usingMetrics: { failures: deliveryMetric('DeliveryFailures', {}, hour), settled: deliveryMetric('DeliveriesSettled', {}, hour) },
        period: Duration.hours(1),
        label: 'Failed deliveries (% of settled)',
      }),
      threshold: DELIVERY_FAILURE_ALARM_PERCENT,
      description: `More than ${DELIVERY_FAILURE_ALARM_PERCENT}% of the messages settled in the last hour failed. \`keepwell outbox --since 1h\` lists them with their reasons.`,
    });
    ops.add('OutcomeUnknown', {
      metric: deliveryMetric('OutcomeUnknown', {}, { period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      description: 'A message may or may not have reached its client (SES gave no answer, or an attempt stopped between SES and the ledger). It is never resent blind: check the SES sending log before resending by hand.',
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

/** The dashboard's delivery graphs: outcomes and lateness for each kind dispatch sends. */
function deliveryWidgets(): cloudwatch.IWidget[] {
  const hour = { period: Duration.hours(1), statistic: 'Sum' };
  const kinds = ['reminder', 'check-in', 'maintenance-nudge'];
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
      left: kinds.map((kind) => deliveryMetric('SendLateness', { Kind: kind }, { period: Duration.minutes(5), statistic: 'p99' }).with({ label: `${kind} p99` })),
      width: 12,
    }),
  ];
}
