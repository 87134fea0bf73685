/**
 * The stateful stack: what must outlive any redeploy or `cdk destroy` of the app, kept apart from
 * everything that can be rebuilt.
 * - the table (key schema and indexes from shared/adapters/dynamodb/table-definition.ts, the same
 *   definition the local twin creates its table from), with PITR and daily backups;
 * - the customer-managed key of the table (and so of its stream, PITR and on-demand backups) and
 *   of the backup vault, usable only through DynamoDB and AWS Backup by the roles named in its
 *   policy: the functions' (fixed names, see names.ts), the backup role, the deploy role and the
 *   stage's operator roles;
 * - the backup vault, under that key, whose access policy denies deleting or shortening a
 *   recovery point to everyone (the plan's lifecycle expires them);
 * - the customer-managed KMS key that encrypts the log groups and the alarm topic.
 * Everything here is retained on delete. The link-token key is state too, but CloudFormation
 * cannot create an SSM SecureString: ops create it once per stage (docs/DEPLOY.md), outside any stack.
 */
import { Aws, DefaultStackSynthesizer, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { ALL_INDEXES, TABLE_KEYS } from '../shared/adapters/dynamodb/table-definition.js';
import { allowRolesThrough, restrictedKey } from './constructs/keys.js';
import { functionRoleName } from './names.js';
import { acknowledge } from './nag.js';
import { FUNCTIONS } from '../shared/config/manifest.js';

export interface KeepwellDataStackProps extends StackProps {
  /** The stage: the function roles allowed to use the table key are named after it. */
  readonly stage: string;
  /**
   * IAM roles whose holders run the `keepwell` CLI against this stage (outbox, dlq, client …):
   * allowed to use the table key through DynamoDB.
   * @default - none: only the functions, AWS Backup and the deploy role can read the table
   */
  readonly operatorRoleArns?: readonly string[];
}

/** What DynamoDB and AWS Backup do with a table key on a caller's behalf. */
const TABLE_KEY_USE = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'];

const S = dynamodb.AttributeType.STRING;

export class KeepwellDataStack extends Stack {
  readonly table: dynamodb.Table;
  readonly tableKey: kms.Key;
  readonly backupVault: backup.BackupVault;
  readonly dataKey: kms.Key;

  constructor(scope: Construct, id: string, props: KeepwellDataStackProps) {
    super(scope, id, props);

    this.tableKey = restrictedKey(this, 'TableKey', 'Keepwell: the table, its stream, point-in-time recovery and backups');

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: S },
      sortKey: { name: TABLE_KEYS.sortKey, type: S },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.tableKey,
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of ALL_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: S },
        sortKey: { name: index.sortKey, type: S },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // PITR restores any second of the last 35 days; the daily backups outlive that window and a
    // mistaken `cdk destroy` of this stack (the vault is retained like the table).
    this.backupVault = new backup.BackupVault(this, 'BackupVault', {
      encryptionKey: this.tableKey,
      // Nobody deletes a recovery point or shortens its retention: the plan's lifecycle expires it.
      blockRecoveryPointDeletion: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const backupRole = new iam.Role(this, 'BackupRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup: the daily backups of the Keepwell table',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup')],
    });
    acknowledge(
      backupRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'AWS Backup needs its service-role policy to read the table; AWS maintains it for exactly that purpose.',
    );
    const plan = backup.BackupPlan.daily35DayRetention(this, 'Backups', this.backupVault);
    plan.addSelection('Table', { resources: [backup.BackupResource.fromDynamoDbTable(this.table)], role: backupRole });

    // The table key: used only through DynamoDB, by the function roles (fixed names), the deploy
    // role (DynamoDB asks for a grant on its behalf when it creates or updates the table) and the
    // stage's operators; and through DynamoDB or AWS Backup by the backup role.
    const deployRole = this.synthesizer instanceof DefaultStackSynthesizer ? [Fn.sub(this.synthesizer.cloudFormationExecutionRoleArn)] : [];
    allowRolesThrough(this.tableKey, 'UseThroughDynamoDB', {
      service: 'dynamodb',
      actions: TABLE_KEY_USE,
      roleArns: [
        ...FUNCTIONS.filter((f) => f.permissions.includes('table')).map((f) =>
          this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: functionRoleName(props.stage, f.name) }),
        ),
        ...deployRole,
        ...(props.operatorRoleArns ?? []),
      ],
    });
    this.tableKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BackUpThroughAwsBackup',
        principals: [new iam.ArnPrincipal(backupRole.roleArn)],
        actions: TABLE_KEY_USE,
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': [`dynamodb.${Aws.REGION}.amazonaws.com`, `backup.${Aws.REGION}.amazonaws.com`] } },
      }),
    );

    this.dataKey = restrictedKey(this, 'DataKey', 'Keepwell: log groups and the alarm topic');
    // CloudWatch Logs encrypts this account's log groups in this region with it.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
      }),
    );
    // CloudWatch alarms publish to the encrypted ops topic; without this they fail silently.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
  }
}
