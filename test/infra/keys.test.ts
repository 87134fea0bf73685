/**
 * Health data at rest under customer-managed keys whose policies name who may use them: the
 * table (with its stream, PITR and backups) and the backup vault, both dead-letter queues and the
 * SES events topic, the log groups and the alarm topic. The expected principals are written here.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_ADMIN_ACTIONS } from '../../infra/constructs/keys.js';
import { logicalId, resourcesOf, synthesizeStage, type Statement, type SynthesizedStage } from './support.js';

let dev: SynthesizedStage;
let withOperators: SynthesizedStage;
const OPERATOR = 'arn:aws:iam::123456789012:role/keepwell-ops';

beforeAll(async () => {
  dev = synthesizeStage('dev');
  const { cdkContext } = await import('./support.js');
  const context = cdkContext();
  const stages = context.stages as Record<string, Record<string, unknown>>;
  withOperators = synthesizeStage('dev', { ...context, stages: { ...stages, dev: { ...stages.dev, operatorRoleArns: [OPERATOR] } } });
});

type KeyResource = { Properties: { EnableKeyRotation: boolean; KeyPolicy: { Statement: Statement[] } }; DeletionPolicy?: string };
const keyOf = (template: SynthesizedStage['appTemplate'], prefix: string) =>
  resourcesOf(template, 'AWS::KMS::Key')[logicalId(template, 'AWS::KMS::Key', prefix)] as unknown as KeyResource;
const statementsOf = (key: KeyResource) => key.Properties.KeyPolicy.Statement;
const sids = (key: KeyResource) => statementsOf(key).map((s) => s.Sid);
const root = { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } };
const roleArn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/${name}`]] });
const via = (service: string) => ({ 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] });

describe('every Keepwell key', () => {
  it.each([
    ['data', 'TableKey'],
    ['data', 'DataKey'],
    ['app', 'QueueKey'],
  ])('%s stack %s: rotates, is retained, and lets the account administer it but never use it', (stack, prefix) => {
    const key = keyOf(stack === 'data' ? dev.dataTemplate : dev.appTemplate, prefix);

    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    const forRoot = statementsOf(key).filter((s) => JSON.stringify((s as { Principal?: unknown }).Principal) === JSON.stringify(root) && !s.Condition);
    expect(forRoot).toEqual([expect.objectContaining({ Sid: 'AccountAdministersOnly', Action: KEY_ADMIN_ACTIONS })]);
    for (const action of ['kms:*', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:CreateGrant', 'kms:ReEncryptFrom'])
      expect(KEY_ADMIN_ACTIONS).not.toContain(action);
  });
});

describe('the table key', () => {
  it('encrypts the table (so its stream and PITR) and the backup vault', () => {
    const keyArn = { 'Fn::GetAtt': [logicalId(dev.dataTemplate, 'AWS::KMS::Key', 'TableKey'), 'Arn'] };
    dev.dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn } });
    dev.dataTemplate.hasResourceProperties('AWS::Backup::BackupVault', { EncryptionKeyArn: keyArn });
  });

  it('is used only through DynamoDB, by the eight function roles, the deploy role, and nobody else by default', () => {
    const key = keyOf(dev.dataTemplate, 'TableKey');
    const use = statementsOf(key).find((s) => s.Sid === 'UseThroughDynamoDB')!;

    expect(sids(key).sort()).toEqual(['AccountAdministersOnly', 'BackUpThroughAwsBackup', 'UseThroughDynamoDB']);
    expect(use.Condition).toEqual({
      StringEquals: { 'kms:ViaService': via('dynamodb'), 'kms:CallerAccount': { Ref: 'AWS::AccountId' } },
      ArnEquals: {
        'aws:PrincipalArn': [
          ...['sync-schedules', 'dispatch', 'reconcile', 'summary', 'web', 'ses-events', 'intake', 'intake-feeds'].map((name) =>
            roleArn(`keepwell-dev-${name}`),
          ),
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
          { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}' },
        ],
      },
    });
  });

  it('names the function roles by the fixed names the app stack gives them', () => {
    for (const name of ['sync-schedules', 'dispatch', 'web', 'intake-feeds']) {
      dev.appTemplate.hasResourceProperties('AWS::IAM::Role', { RoleName: `keepwell-dev-${name}` });
    }
  });

  it('lets the backup role use it through DynamoDB or AWS Backup only', () => {
    const backup = statementsOf(keyOf(dev.dataTemplate, 'TableKey')).find((s) => s.Sid === 'BackUpThroughAwsBackup')!;

    expect((backup as { Principal?: unknown }).Principal).toEqual({
      AWS: { 'Fn::GetAtt': [logicalId(dev.dataTemplate, 'AWS::IAM::Role', 'BackupRole'), 'Arn'] },
    });
    expect(backup.Condition).toEqual({ StringEquals: { 'kms:ViaService': [via('dynamodb'), via('backup')] } });
  });

  it("adds the stage's operator roles, and only them, when the stage names some", () => {
    const use = statementsOf(keyOf(withOperators.dataTemplate, 'TableKey')).find((s) => s.Sid === 'UseThroughDynamoDB')!;
    const principals = (use.Condition as { ArnEquals: { 'aws:PrincipalArn': unknown[] } }).ArnEquals['aws:PrincipalArn'];

    expect(principals).toHaveLength(10);
    expect(principals.at(-1)).toBe(OPERATOR);
  });

  it('is asked for by each function only through DynamoDB, in its own IAM policy too', () => {
    const policies = Object.values(resourcesOf(dev.appTemplate, 'AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const uses = policies.filter((s) => s.Sid === 'UseTableKey');

    expect(uses).toHaveLength(8);
    for (const use of uses) {
      expect(use.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
      expect(use.Resource).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^keepwell-dev-data:ExportsOutputFnGetAttTableKey/) });
      expect(use.Condition).toEqual({ StringEquals: { 'kms:ViaService': via('dynamodb') } });
    }
  });
});

describe('the queue key', () => {
  const queueKeyArn = () => ({ 'Fn::GetAtt': [logicalId(dev.appTemplate, 'AWS::KMS::Key', 'QueueKey'), 'Arn'] });

  it('encrypts both dead-letter queues and the SES events topic', () => {
    const queues = Object.values(resourcesOf(dev.appTemplate, 'AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties!.KmsMasterKeyId).toEqual(queueKeyArn());
    dev.appTemplate.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: queueKeyArn(), DisplayName: Match.stringLikeRegexp('SES events') });
  });

  it('lets SES use it only for this configuration set, and the senders of dead letters only through SQS', () => {
    const key = keyOf(dev.appTemplate, 'QueueKey');
    const ses = statementsOf(key).find((s) => s.Sid === 'SesPublishesEvents')!;
    const send = statementsOf(key).find((s) => s.Sid === 'SendDeadLetters')!;
    const roleOf = (prefix: string) => ({ 'Fn::GetAtt': [logicalId(dev.appTemplate, 'AWS::IAM::Role', prefix), 'Arn'] });

    expect(sids(key).sort()).toEqual(['AccountAdministersOnly', 'SendDeadLetters', 'SesPublishesEvents']);
    expect((ses as { Principal?: unknown }).Principal).toEqual({ Service: 'ses.amazonaws.com' });
    expect(JSON.stringify(ses.Condition)).toContain(':configuration-set/');
    expect(send.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(send.Condition).toEqual({
      StringEquals: { 'kms:ViaService': via('sqs'), 'kms:CallerAccount': { Ref: 'AWS::AccountId' } },
      // The Scheduler role, then the functions with an on-failure destination: web and intake answer synchronously.
      ArnEquals: {
        'aws:PrincipalArn': ['SchedulerRole', 'SyncSchedulesRole', 'DispatchRole', 'ReconcileRole', 'SummaryRole', 'SesEventsRole', 'IntakeFeedsRole'].map(
          roleOf,
        ),
      },
    });
  });

  it("lets the stage's operators decrypt dead letters through SQS when the stage names some", () => {
    const read = statementsOf(keyOf(withOperators.appTemplate, 'QueueKey')).find((s) => s.Sid === 'OperatorsReadDeadLetters')!;

    expect(read.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    expect(read.Condition).toMatchObject({ ArnEquals: { 'aws:PrincipalArn': [OPERATOR] } });
  });
});

describe('the data key (logs and alarms)', () => {
  it("encrypts every log group, and lets only CloudWatch Logs (for this account's log groups) and CloudWatch alarms use it", () => {
    const key = keyOf(dev.dataTemplate, 'DataKey');
    const logs = statementsOf(key).find((s) => JSON.stringify((s as { Principal?: unknown }).Principal).includes('logs.'))!;

    for (const group of Object.values(resourcesOf(dev.appTemplate, 'AWS::Logs::LogGroup')))
      expect(group.Properties!.KmsKeyId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/DataKey/) });
    expect(logs.Condition).toEqual({
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']],
        },
      },
    });
    expect(statementsOf(key)).toHaveLength(3);
    expect(
      statementsOf(key)
        .filter((s) => s.Sid !== 'AccountAdministersOnly')
        .map((s) => (s as { Principal?: { Service?: unknown } }).Principal?.Service),
    ).toEqual([via('logs'), 'cloudwatch.amazonaws.com']);
  });
});
