/**
 * Shared by the infra tests: the stages as cdk.json defines them, and one synthesis per stage
 * with tiny inline function code (bundling is proven once, in bundle.test.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildKeepwell, PROJECT_ROOT, type KeepwellStacks } from '../../infra/keepwell.js';
import { functionConstructId } from '../../infra/names.js';

export function cdkContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export function stagesInCdkJson(): string[] {
  return Object.keys((cdkContext().stages ?? {}) as object);
}

export const INLINE_CODE = lambda.Code.fromInline('export const handler = async () => ({});');

export interface SynthesizedStage {
  readonly app: App;
  readonly stacks: KeepwellStacks;
  readonly appTemplate: Template;
  readonly dataTemplate: Template;
}

/** Builds and synthesizes one stage (cdk-nag runs as part of the synth, as it does for `cdk synth`). */
export function synthesizeStage(stage: string, context: Record<string, unknown> = cdkContext()): SynthesizedStage {
  const app = new App({ context });
  const stacks = buildKeepwell(app, { stage, codeFor: () => INLINE_CODE });
  app.synth();
  return { app, stacks, appTemplate: Template.fromStack(stacks.app), dataTemplate: Template.fromStack(stacks.data) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;

export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The logical id of the single resource of `type` whose logical id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(resourcesOf(template, type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.length}: ${ids.join(', ')}`);
  return ids[0] as string;
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, unknown>;
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourceList(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Every statement of the policies attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((policy) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The statements of one Keepwell function's role (the KeepwellFunction construct id is PascalCase). */
export function functionStatements(template: Template, functionName: string): Statement[] {
  return statementsOfRole(template, logicalId(template, 'AWS::IAM::Role', `${functionConstructId(functionName)}Role`));
}
