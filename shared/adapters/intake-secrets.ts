/**
 * The webhook secrets of the intake sources. In AWS each is an SSM Parameter Store SecureString,
 * read through Powertools Parameters the first time its source posts, then cached for the life of
 * the container (up to `maxAge`); the local twin hands them over raw in INTAKE_SECRETS (JSON,
 * source → secret). A secret never reaches a log or an error: errors name the parameter only.
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { optionalEnv } from '../config/env.js';
import type { IntakeConfig } from '../intake/config.js';

export const INTAKE_SECRET_MAX_AGE_SECONDS = 3600;

export class IntakeSecretError extends Error {
  override readonly name = 'IntakeSecretError';
  constructor(
    readonly parameterName: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(`the intake secret parameter "${parameterName}" ${why}`, options);
  }
}

/** The secret of one source, by its name. */
export type SecretReader = (source: string) => Promise<string>;

export function secretsFromEnv(config: IntakeConfig, env: NodeJS.ProcessEnv = process.env): SecretReader {
  const local = optionalEnv('INTAKE_SECRETS', env);
  if (local) {
    const secrets = JSON.parse(local) as Record<string, unknown>;
    return async (source) => {
      const secret = secrets[source];
      if (typeof secret !== 'string' || secret === '') throw new IntakeSecretError(`INTAKE_SECRETS.${source}`, 'is missing');
      return secret;
    };
  }
  const endpoint = optionalEnv('SSM_ENDPOINT', env);
  let provider: SSMProvider | undefined;
  return async (source) => {
    const parameterName = config.sources[source]?.secretParameter;
    if (!parameterName) throw new IntakeSecretError(`(source ${source})`, 'is not configured');
    provider ??= new SSMProvider({ clientConfig: endpoint ? { endpoint } : {} });
    let value: unknown;
    try {
      value = await provider.get(parameterName, { decrypt: true, maxAge: INTAKE_SECRET_MAX_AGE_SECONDS });
    } catch (error) {
      throw new IntakeSecretError(parameterName, 'could not be read from SSM Parameter Store', { cause: error });
    }
    if (typeof value !== 'string' || value.length < 16) throw new IntakeSecretError(parameterName, 'is empty or shorter than 16 characters');
    return value;
  };
}
