/**
 * The SES sending and function-grant constructs, each synthesized alone in a bare stack with
 * literal inputs (an imported table and key by ARN, a fixed account and region), so every
 * expected value below is written out as the template must hold it.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { FunctionGrants } from '../../infra/constructs/function-grants.js';
import { SesSending } from '../../infra/constructs/ses-sending.js';
import type { FunctionSpec, Permission } from '../../shared/config/manifest.js';
import type { Statement } from './support.js';

const ENV = { account: '123456789012', region: 'eu-west-2' };
const KEY_ARN = 'arn:aws:kms:eu-west-2:123456789012:key/11111111-2222-3333-4444-555555555555';
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-2:123456789012:table/keepwell-test';

describe('SesSending, alone in a stack', () => {
  const synth = (identity: string) => {
    const stack = new Stack(new App(), 'Bare', { env: ENV });
    const topicKey = new kms.Key(stack, 'TopicKey');
    const sending = new SesSending(stack, 'Ses', { name: 'keepwell-test', identity, topicKey });
    return { template: Template.fromStack(stack), sending, stack };
  };

  it('sends through a configuration set with reputation metrics, suppression of bounces and complaints, and TLS required', () => {
    synth('care@harbour.example').template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      Name: 'keepwell-test',
      ReputationOptions: { ReputationMetricsEnabled: true },
      SendingOptions: { SendingEnabled: true },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
    });
  });

  it('publishes bounces, complaints, deliveries, rejects and delays to its own encrypted topic', () => {
    const { template } = synth('care@harbour.example');
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'Keepwell SES events (keepwell-test)', KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint', 'delivery', 'reject', 'deliveryDelay'],
        SnsDestination: { TopicARN: { Ref: topicId } },
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('lets SES use the topic key for this configuration set only', () => {
    const { template } = synth('care@harbour.example');
    const [setId] = Object.keys(template.findResources('AWS::SES::ConfigurationSet'));
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'SesPublishesEvents',
            Effect: 'Allow',
            Principal: { Service: 'ses.amazonaws.com' },
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Resource: '*',
            Condition: {
              StringEquals: {
                'aws:SourceAccount': '123456789012',
                'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:eu-west-2:123456789012:configuration-set/', { Ref: setId }]] },
              },
            },
          },
        ]),
      },
    });
  });

  it('verifies an address as an email identity, a domain as a domain identity, both on the configuration set', () => {
    const byAddress = synth('care@harbour.example');
    const [setId] = Object.keys(byAddress.template.findResources('AWS::SES::ConfigurationSet'));
    byAddress.template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'care@harbour.example',
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: setId } },
    });
    const byDomain = synth('harbour.example');
    byDomain.template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'harbour.example' });
    expect(byDomain.sending.identity.dkimRecords).toHaveLength(3);
  });
});

describe('FunctionGrants, alone in a stack', () => {
  class Target extends Construct {
    readonly function: lambda.Function;
    constructor(scope: Construct, id: string) {
      super(scope, id);
      this.function = new lambda.Function(this, 'Function', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => ({});'),
      });
    }
  }

  const spec = (permissions: readonly Permission[], table?: FunctionSpec['table']): FunctionSpec => ({
    name: 'reconcile',
    entry: 'functions/reconcile/handler.ts',
    description: 'test',
    trigger: { kind: 'message-schedules' },
    environment: [],
    permissions,
    ...(table ? { table } : {}),
    memoryMb: 128,
    timeoutSeconds: 10,
  });

  /** The statements one permission grants a fresh function, with a customer-managed token key or without. */
  const granted = (permission: Permission, options: { table?: FunctionSpec['table']; tokenKmsKeyArn?: string; secrets?: string[] } = {}) => {
    const stack = new Stack(new App(), 'Bare', { env: ENV });
    const target = new Target(stack, 'Target');
    const grants = new FunctionGrants(stack, 'Grants', {
      table: dynamodb.Table.fromTableArn(stack, 'Table', TABLE_ARN),
      tableKey: kms.Key.fromKeyArn(stack, 'TableKey', KEY_ARN),
      scheduleGroup: new scheduler.ScheduleGroup(stack, 'Group', { scheduleGroupName: 'keepwell-test' }),
      scheduleGroupName: 'keepwell-test',
      schedulerRole: iam.Role.fromRoleArn(stack, 'SchedulerRole', 'arn:aws:iam::123456789012:role/keepwell-scheduler'),
      ses: {
        identityArn: 'arn:aws:ses:eu-west-2:123456789012:identity/harbour.example',
        configurationSetArn: 'arn:aws:ses:eu-west-2:123456789012:configuration-set/keepwell-test',
        fromAddress: 'care@harbour.example',
      },
      tokenKey: {
        parameter: '/keepwell/test/token-key',
        previousParameter: '/keepwell/test/token-key-previous',
        ...(options.tokenKmsKeyArn ? { kmsKeyArn: options.tokenKmsKeyArn } : {}),
      },
      intakeSecretParameters: options.secrets ?? [],
      failedInvocations: sqs.Queue.fromQueueArn(stack, 'Failed', 'arn:aws:sqs:eu-west-2:123456789012:keepwell-failed'),
    });
    grants.byPermission[permission](target, spec([permission], options.table));
    const template = Template.fromStack(stack);
    return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
  };
  const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

  it('table: exactly the listed actions on the table and the listed indexes, and the table key only through DynamoDB', () => {
    expect(granted('table', { table: { actions: ['GetItem', 'Query'], indexes: ['byDay'] } })).toEqual([
      { Sid: 'UseTable', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [TABLE_ARN, `${TABLE_ARN}/index/gsi1`] },
      {
        Sid: 'UseTableKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: KEY_ARN,
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-2.amazonaws.com' } },
      },
    ]);
  });

  it('table: refuses a function with the permission and no table entry', () => {
    expect(() => granted('table')).toThrow('function "reconcile": permission table without a table entry');
  });

  it("schedules:manage: the group's schedules, listing, and passing the Scheduler role to Scheduler only", () => {
    expect(granted('schedules:manage')).toEqual([
      {
        Sid: 'ManageMessageSchedules',
        Effect: 'Allow',
        Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'],
        Resource: partitionArn(':scheduler:eu-west-2:123456789012:schedule/keepwell-test/*'),
      },
      { Sid: 'ListSchedules', Effect: 'Allow', Action: 'scheduler:ListSchedules', Resource: '*' },
      {
        Sid: 'PassSchedulerRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: 'arn:aws:iam::123456789012:role/keepwell-scheduler',
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
  });

  it("ses:send: SendEmail through the identity and the configuration set, only from the clinic's address", () => {
    expect(granted('ses:send')).toEqual([
      {
        Sid: 'SendAsClinic',
        Effect: 'Allow',
        Action: 'ses:SendEmail',
        Resource: ['arn:aws:ses:eu-west-2:123456789012:identity/harbour.example', 'arn:aws:ses:eu-west-2:123456789012:configuration-set/keepwell-test'],
        Condition: { StringEquals: { 'ses:FromAddress': 'care@harbour.example' } },
      },
    ]);
  });

  it('token-key:read and token-previous-key:read: one parameter each, and no KMS statement under alias/aws/ssm', () => {
    expect(granted('token-key:read')).toEqual([
      {
        Sid: 'ReadTokenKey',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: partitionArn(':ssm:eu-west-2:123456789012:parameter/keepwell/test/token-key'),
      },
    ]);
    expect(granted('token-previous-key:read')).toEqual([
      {
        Sid: 'ReadPreviousTokenKey',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: partitionArn(':ssm:eu-west-2:123456789012:parameter/keepwell/test/token-key-previous'),
      },
    ]);
  });

  it('token-key:read: a customer-managed key is decryptable through SSM only', () => {
    const tokenKmsKeyArn = 'arn:aws:kms:eu-west-2:123456789012:key/99999999-8888-7777-6666-555555555555';
    expect(granted('token-key:read', { tokenKmsKeyArn })).toContainEqual({
      Sid: 'DecryptTokenKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: tokenKmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': 'ssm.eu-west-2.amazonaws.com' } },
    });
  });

  it('intake-secrets:read: exactly the configured parameters, and nothing when there are none', () => {
    expect(granted('intake-secrets:read', { secrets: ['/keepwell/test/cal-com'] })).toEqual([
      {
        Sid: 'ReadIntakeSecrets',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: partitionArn(':ssm:eu-west-2:123456789012:parameter/keepwell/test/cal-com'),
      },
    ]);
    expect(granted('intake-secrets:read')).toEqual([]);
  });

  it('dead-letters:send: sending to the failed-invocations queue', () => {
    expect(granted('dead-letters:send')).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: 'arn:aws:sqs:eu-west-2:123456789012:keepwell-failed',
      },
    ]);
  });
});
