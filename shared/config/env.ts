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

/**
 * What only the local twin sets, never CDK: the endpoints, the link-token key itself (instead of
 * its SSM parameter), the webhook secrets (instead of their SSM parameters), and leave to poll
 * feeds served on 127.0.0.1 over plain HTTP.
 */
export const LOCAL_ONLY_NAMES = [...LOCAL_ENDPOINT_NAMES, 'TOKEN_KEY', 'INTAKE_SECRETS', 'INTAKE_FEEDS_ALLOW_LOOPBACK_HTTP'] as const;

/**
 * The manifest's variables a function starts without: the twin sets none of them. The keyring
 * takes TOKEN_KEY instead of TOKEN_KEY_PARAMETER (and names both when neither is set); without a
 * previous key parameter no rotation is under way; without FAILED_INVOCATIONS_URL ses-events
 * throws a failed event for Lambda's retries instead of dead-lettering its ids.
 */
export const OPTIONAL_AT_START: ReadonlySet<EnvName> = new Set(['TOKEN_KEY_PARAMETER', 'TOKEN_PREVIOUS_KEY_PARAMETER', 'FAILED_INVOCATIONS_URL']);

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
