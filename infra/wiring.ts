/**
 * Turns a function's manifest entry into its environment and its IAM grants. An environment
 * variable names a resource, and the permission to use that resource comes with it: the manifest
 * is checked so that no function gets a variable without the grant it needs, or a grant without
 * the variable that tells it where to use it.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import type { EnvName } from '../shared/config/env.js';
import type { FunctionSpec, Permission } from '../shared/config/manifest.js';

/** The permissions that make each variable usable (any one of them). `[]`: plain configuration. */
export const ENV_NEEDS: Readonly<Record<EnvName, readonly Permission[]>> = {
  TABLE_NAME: ['table'],
  SCHEDULE_GROUP: ['schedules:manage'],
  SCHEDULER_ROLE_ARN: ['schedules:manage'],
  DISPATCH_FUNCTION_ARN: ['schedules:manage'],
  SCHEDULE_DLQ_ARN: ['schedules:manage'],
  CLINIC_CONFIG: [],
  CONFIGURATION_SET: ['ses:send'],
  TOKEN_KEY_PARAMETER: ['token-key:read'],
  TOKEN_PREVIOUS_KEY_PARAMETER: ['token-previous-key:read'],
  INTAKE_CONFIG: [],
  FAILED_INVOCATIONS_URL: ['dead-letters:send'],
};

/** The variables each permission is useless without. */
export const PERMISSION_NEEDS: Readonly<Record<Permission, readonly EnvName[]>> = {
  table: ['TABLE_NAME'],
  'schedules:manage': ['SCHEDULE_GROUP', 'SCHEDULER_ROLE_ARN', 'DISPATCH_FUNCTION_ARN', 'SCHEDULE_DLQ_ARN'],
  'ses:send': ['CONFIGURATION_SET', 'CLINIC_CONFIG'],
  'token-key:read': ['TOKEN_KEY_PARAMETER'],
  'token-previous-key:read': ['TOKEN_PREVIOUS_KEY_PARAMETER'],
  'intake-secrets:read': ['INTAKE_CONFIG'],
  'dead-letters:send': ['FAILED_INVOCATIONS_URL'],
};

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** Every inconsistency between a function's variables and permissions, as readable lines. */
export function manifestProblems(spec: FunctionSpec): string[] {
  const problems: string[] = [];
  for (const name of spec.environment) {
    const needs = ENV_NEEDS[name];
    if (needs.length > 0 && !needs.some((p) => spec.permissions.includes(p))) {
      problems.push(`${spec.name}: environment ${name} needs permission ${needs.join(' or ')}`);
    }
  }
  for (const permission of spec.permissions) {
    const missing = PERMISSION_NEEDS[permission].filter((n) => !spec.environment.includes(n));
    if (missing.length > 0) problems.push(`${spec.name}: permission ${permission} needs environment ${missing.join(', ')}`);
  }
  const usesTable = spec.permissions.includes('table');
  if (usesTable && (!spec.table || spec.table.actions.length === 0)) problems.push(`${spec.name}: permission table needs a table entry listing its actions`);
  if (!usesTable && spec.table) problems.push(`${spec.name}: a table entry needs permission table`);
  return problems;
}

/** A function with the construct that holds it and its role (a KeepwellFunction). */
export interface Grantee extends IConstruct {
  readonly function: lambda.Function;
}

export interface Wiring {
  /** The value of every variable a function may be given. */
  readonly environment: Readonly<Record<EnvName, string>>;
  /** How each permission is granted (`table` from the spec's own `table` entry). */
  readonly grants: Readonly<Record<Permission, (fn: Grantee, spec: FunctionSpec) => void>>;
}

/** Sets the function's variables and grants its permissions, after checking the manifest entry. */
export function wireFunction(target: Grantee, spec: FunctionSpec, wiring: Wiring): void {
  const problems = manifestProblems(spec);
  if (problems.length > 0) throw new ManifestError(`shared/config/manifest.ts is inconsistent:\n  - ${problems.join('\n  - ')}`);
  for (const name of spec.environment) target.function.addEnvironment(name, wiring.environment[name]);
  for (const permission of new Set(spec.permissions)) wiring.grants[permission](target, spec);
}
