/**
 * The stateful stack: what must outlive any redeploy or `cdk destroy` of the app, kept apart from
 * everything that can be rebuilt.
 * - the table (key schema and indexes from shared/adapters/dynamodb/table-definition.ts, the same
 *   definition the local twin creates its table from), with PITR and daily backups;
 * - the customer-managed KMS key that encrypts the log groups and the alarm topic.
 * Everything here is retained on delete. The link-token key is state too, but CloudFormation
 * cannot create an SSM SecureString: ops create it once per stage (docs/DEPLOY.md), outside any stack.
 */
import { Aws, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ALL_INDEXES, TABLE_KEYS } from '../shared/adapters/dynamodb/table-definition.js';
import { acknowledge } from './nag.js';

export type KeepwellDataStackProps = StackProps;

const S = dynamodb.AttributeType.STRING;

export class KeepwellDataStack extends Stack {
  readonly table: dynamodb.Table;
  readonly dataKey: kms.Key;

  constructor(scope: Construct, id: string, props?: KeepwellDataStackProps) {
    super(scope, id, props);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: S },
      sortKey: { name: TABLE_KEYS.sortKey, type: S },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
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
    const plan = backup.BackupPlan.daily35DayRetention(this, 'Backups');
    plan.addSelection('Table', { resources: [backup.BackupResource.fromDynamoDbTable(this.table)] });
    acknowledge(plan, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'AWS Backup needs its service-role policy to read the table; AWS maintains it for exactly that purpose.');

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'Keepwell: log groups and the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts this account's log groups in this region with it.
    this.dataKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
    }));
    // CloudWatch alarms publish to the encrypted ops topic; without this they fail silently.
    this.dataKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }));
  }
}
