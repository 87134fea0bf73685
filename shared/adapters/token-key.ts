/**
 * The link-token key. In AWS it is an SSM Parameter Store SecureString, read once per container
 * through Powertools Parameters (decrypted, cached for `maxAge`); the local twin may hand the raw
 * key over in TOKEN_KEY instead. The key's value never reaches a log or an error message: errors
 * name the parameter, never its contents.
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SSMClientConfig } from '@aws-sdk/client-ssm';
import { MissingEnvironmentError, optionalEnv } from '../config/env.js';
import { TokenSigner } from '../security/tokens.js';

/** The key changes only on a deliberate rotation; an hour bounds how long a container keeps an old one. */
export const TOKEN_KEY_MAX_AGE_SECONDS = 3600;

export class TokenKeyError extends Error {
  override readonly name = 'TokenKeyError';
  constructor(readonly parameterName: string, why: string, options?: { cause?: unknown }) {
    super(`the link-token key parameter "${parameterName}" ${why}`, options);
  }
}

export interface TokenKeyOptions {
  /** SSM endpoint of a local twin; AWS's own when absent. */
  readonly endpoint?: string;
  readonly maxAgeSeconds?: number;
  /** Extra SSM client settings (region, credentials) for a local endpoint. */
  readonly clientConfig?: SSMClientConfig;
}

// One provider (and so one SSM client and one cache) per endpoint, for the life of the container.
const providers = new Map<string, SSMProvider>();

function providerFor(options: TokenKeyOptions): SSMProvider {
  const id = options.endpoint ?? '';
  let provider = providers.get(id);
  if (!provider) {
    provider = new SSMProvider({ clientConfig: { ...options.clientConfig, ...(options.endpoint ? { endpoint: options.endpoint } : {}) } });
    providers.set(id, provider);
  }
  return provider;
}

/** Reads and decrypts the key; cached by Powertools for `maxAgeSeconds`. */
export async function loadTokenKey(parameterName: string, options: TokenKeyOptions = {}): Promise<string> {
  let value: unknown;
  try {
    value = await providerFor(options).get(parameterName, { decrypt: true, maxAge: options.maxAgeSeconds ?? TOKEN_KEY_MAX_AGE_SECONDS });
  } catch (error) {
    throw new TokenKeyError(parameterName, 'could not be read from SSM Parameter Store', { cause: error });
  }
  if (typeof value !== 'string' || value === '') throw new TokenKeyError(parameterName, 'is empty');
  return value;
}

/** A signer over `key`, refusing a key too short to sign with (without echoing the key). */
function signerOver(key: string, source: string): TokenSigner {
  try {
    return new TokenSigner(key);
  } catch (error) {
    throw new TokenKeyError(source, 'holds a key shorter than 32 bytes', { cause: error });
  }
}

/**
 * The TokenSigner for this container: from TOKEN_KEY when the local twin sets it, otherwise
 * from the SSM parameter named by TOKEN_KEY_PARAMETER (at SSM_ENDPOINT when set).
 */
export async function fromEnv(env: NodeJS.ProcessEnv = process.env, options: Omit<TokenKeyOptions, 'endpoint'> = {}): Promise<TokenSigner> {
  const raw = optionalEnv('TOKEN_KEY', env);
  if (raw) return signerOver(raw, 'TOKEN_KEY');
  const parameterName = optionalEnv('TOKEN_KEY_PARAMETER', env);
  if (!parameterName) {
    throw new MissingEnvironmentError('missing environment variable TOKEN_KEY_PARAMETER (or TOKEN_KEY for a local twin): set by the CDK stack or the local twin');
  }
  const endpoint = optionalEnv('SSM_ENDPOINT', env);
  return signerOver(await loadTokenKey(parameterName, { ...options, ...(endpoint ? { endpoint } : {}) }), parameterName);
}
