/**
 * Customer-managed KMS keys whose policies name who may use them. The account may administer a
 * key (describe, rotate, change its policy, schedule its deletion) but not use it: there is no
 * `kms:*` for the account root, so an IAM policy alone never lets anyone encrypt or decrypt with
 * it. Each use is a statement of its own: a service principal with a source condition, or the
 * account with `aws:PrincipalArn` naming the roles and `kms:ViaService` naming the one service
 * they use the key through (an IAM policy of the role must allow it too).
 */
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** What the account may do with a Keepwell key: administer it, never encrypt, decrypt or grant. */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/** A rotating, retained key whose policy starts with the account's administration alone. */
export function restrictedKey(scope: Construct, id: string, description: string): kms.Key {
  return new kms.Key(scope, id, {
    description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
    policy: new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({ sid: 'AccountAdministersOnly', principals: [new iam.AccountRootPrincipal()], actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
      ],
    }),
  });
}

/** Lets exactly these roles use the key, only through `service` (e.g. `dynamodb`, `sqs`). */
export function allowRolesThrough(key: kms.Key, sid: string, options: { roleArns: readonly string[]; service: string; actions: readonly string[] }): void {
  if (options.roleArns.length === 0) return;
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid,
      principals: [new iam.AccountRootPrincipal()],
      actions: [...options.actions],
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': `${options.service}.${Aws.REGION}.amazonaws.com`, 'kms:CallerAccount': Aws.ACCOUNT_ID },
        ArnEquals: { 'aws:PrincipalArn': [...options.roleArns] },
      },
    }),
  );
}
