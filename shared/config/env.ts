/**
 * Environment, read once per container. Only CDK (and the local twin) write these variables;
 * a missing one fails fast with its name, instead of surfacing later as `undefined`.
 */
export const ENV_NAMES = [
  'TABLE_NAME',
  'SCHEDULE_GROUP',
  'SCHEDULER_ROLE_ARN',
  'DISPATCH_FUNCTION_ARN',
  'SCHEDULE_DLQ_ARN',
  'CLINIC_CONFIG',
  'CONFIGURATION_SET',
  'TOKEN_KEY_PARAMETER',
  'TOKEN_PREVIOUS_KEY_PARAMETER',
  'INTAKE_CONFIG',
  'FAILED_INVOCATIONS_URL',
] as const;
export type EnvName = (typeof ENV_NAMES)[number];

/** Endpoints the local twin sets so the same adapters talk to the local services. */
export const LOCAL_ENDPOINT_NAMES = ['DYNAMODB_ENDPOINT', 'SES_ENDPOINT', 'SCHEDULER_ENDPOINT', 'SSM_ENDPOINT'] as const;

export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
}

export function readEnv<N extends string>(names: readonly N[], env: NodeJS.ProcessEnv = process.env): Record<N, string> {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) {
    throw new MissingEnvironmentError(
      `missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: set by the CDK stack or the local twin`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, env[n] as string])) as Record<N, string>;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
