/**
 * What each manifest permission grants a function's role: least privilege, on named resources.
 * wiring.ts calls these next to the environment variable the permission goes with.
 * - table: exactly the item actions the function's store calls, on the table and the indexes it
 *   queries (no `index/*`, no Scan, DescribeTable or batch writes), and the table key only
 *   through DynamoDB;
 * - schedules:manage: the schedules of Keepwell's group, listing them, and passing the Scheduler role;
 * - ses:send: SendEmail through the identity and configuration set, only as the clinic's address;
 * - token-key:read / token-previous-key:read: that one SSM parameter (and its key, if customer-managed);
 * - intake-secrets:read: exactly the sources' secret parameters;
 * - dead-letters:send: the failed-invocations queue.
 */
import { Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INDEXES } from '../../shared/adapters/dynamodb/table-definition.js';
import type { FunctionSpec, Permission } from '../../shared/config/manifest.js';
import { acknowledge } from '../nag.js';
import type { Grantee } from '../wiring.js';

/** What a function's role may do with the table key, and only through DynamoDB. */
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];

export interface FunctionGrantsProps {
  /** The table (by ARN) and the key it is encrypted under. */
  readonly table: dynamodb.ITable;
  readonly tableKey: kms.IKey;
  /** Keepwell's schedule group, and its name as a literal (it names the schedules' ARNs). */
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly scheduleGroupName: string;
  /** The role schedules run with, which the functions pass to Scheduler. */
  readonly schedulerRole: iam.IRole;
  /** The sending identity's and the configuration set's ARNs, and the one address mail is sent from. */
  readonly ses: { readonly identityArn: string; readonly configurationSetArn: string; readonly fromAddress: string };
  /** The link-token key's SSM parameters, and the customer-managed key they are under (@default - alias/aws/ssm). */
  readonly tokenKey: { readonly parameter: string; readonly previousParameter: string; readonly kmsKeyArn?: string };
  /** The SSM parameters holding the intake sources' webhook secrets. */
  readonly intakeSecretParameters: readonly string[];
  /** The queue failed invocations' ids are sent to. */
  readonly failedInvocations: sqs.IQueue;
}

/** A region or account as cdk-nag spells it in a finding: the literal when the stage pins it, else `<AWS::…>`. */
function nagToken(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<${pseudo}>` : value;
}

export class FunctionGrants extends Construct {
  /** How each permission is granted (`table` from the spec's own `table` entry). */
  readonly byPermission: Readonly<Record<Permission, (target: Grantee, spec: FunctionSpec) => void>>;
  private readonly props: FunctionGrantsProps;

  constructor(scope: Construct, id: string, props: FunctionGrantsProps) {
    super(scope, id);
    this.props = props;
    const { tokenKey } = props;
    this.byPermission = {
      table: (target, spec) => this.grantTable(target, spec),
      'schedules:manage': (target) => this.grantSchedules(target),
      'ses:send': (target) => {
        target.function.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'SendAsClinic',
            actions: ['ses:SendEmail'],
            resources: [props.ses.identityArn, props.ses.configurationSetArn],
            // Only as the clinic's own address, even where the identity is the whole domain.
            conditions: { StringEquals: { 'ses:FromAddress': props.ses.fromAddress } },
          }),
        );
      },
      'token-key:read': (target) => this.grantTokenKey(target, 'ReadTokenKey', tokenKey.parameter),
      // The previous key may not exist: the function reads it and treats "not found" as no rotation.
      'token-previous-key:read': (target) => this.grantTokenKey(target, 'ReadPreviousTokenKey', tokenKey.previousParameter),
      'dead-letters:send': (target) => {
        props.failedInvocations.grantSendMessages(target.function);
      },
      // Each source's secret, by its exact parameter name; under alias/aws/ssm no KMS statement is needed.
      'intake-secrets:read': (target) => {
        if (props.intakeSecretParameters.length === 0) return;
        target.function.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'ReadIntakeSecrets',
            actions: ['ssm:GetParameter'],
            resources: props.intakeSecretParameters.map((name) => this.parameterArn(name)),
          }),
        );
      },
    };
  }

  private parameterArn(name: string): string {
    return Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
  }

  /** Exactly the item actions the function's store calls, on the table and the indexes it queries: the manifest's `table` entry. */
  private grantTable(target: Grantee, spec: FunctionSpec): void {
    const access = spec.table;
    if (!access) throw new Error(`function "${spec.name}": permission table without a table entry`);
    const tableArn = this.props.table.tableArn;
    target.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseTable',
        actions: access.actions.map((action) => `dynamodb:${action}`),
        resources: [tableArn, ...access.indexes.map((index) => `${tableArn}/index/${INDEXES[index].indexName}`)],
      }),
    );
    target.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseTableKey',
        actions: TABLE_KEY_ACTIONS,
        resources: [this.props.tableKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }

  private grantSchedules(target: Grantee): void {
    const { scheduleGroup, scheduleGroupName, schedulerRole } = this.props;
    const stack = Stack.of(this);
    const fn = target.function;
    // The group's name is a literal: make the function wait for the group to exist.
    fn.node.addDependency(scheduleGroup);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageMessageSchedules',
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'],
        resources: [stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${scheduleGroupName}/*` })],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ListSchedules', actions: ['scheduler:ListSchedules'], resources: ['*'] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassSchedulerRole',
        actions: ['iam:PassRole'],
        resources: [schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledge(
      target,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${nagToken(stack.region, 'AWS::Region')}:${nagToken(stack.account, 'AWS::AccountId')}:schedule/${scheduleGroupName}/*]`,
      "One-time message schedules are created at run time with names derived from message identities; the grant is limited to Keepwell's own schedule group.",
    );
    acknowledge(
      target,
      'AwsSolutions-IAM5[Resource::*]',
      "scheduler:ListSchedules supports no resource-level permission (Service Authorization Reference); the function lists only with GroupName set to Keepwell's group.",
    );
  }

  /**
   * A SecureString under alias/aws/ssm needs no KMS statement: that key's policy lets any
   * principal of the account decrypt through SSM. A customer-managed key is granted here.
   */
  private grantTokenKey(target: Grantee, sid: string, parameter: string): void {
    target.function.addToRolePolicy(new iam.PolicyStatement({ sid, actions: ['ssm:GetParameter'], resources: [this.parameterArn(parameter)] }));
    const kmsKeyArn = this.props.tokenKey.kmsKeyArn;
    if (!kmsKeyArn) return;
    target.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: sid.replace(/^Read/, 'Decrypt'),
        actions: ['kms:Decrypt'],
        resources: [kmsKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': `ssm.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
