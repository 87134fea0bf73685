/**
 * The link-token keys. In AWS each is an SSM Parameter Store SecureString, read through Powertools
 * Parameters (decrypted): the current key (TOKEN_KEY_PARAMETER), which signs and verifies, and,
 * for the pages only, the previous key (TOKEN_PREVIOUS_KEY_PARAMETER), which still verifies the
 * links issued before a rotation; that parameter may be absent (no rotation in progress). The local
 * twin may hand the raw key over in TOKEN_KEY instead. Both keys are checked when the container
 * starts: base64 text of at least 32 random bytes (shared/security/tokens.ts parseTokenKey). The
 * key's value never reaches a log or an error message: errors name the parameter, never its
 * contents.
 *
 * A container reloads the keys an hour after it read them, and at once (at most once a minute)
 * when a link names a key id it does not hold: a container that read the keys just before a
 * rotation accepts the new key's links as soon as the first one arrives (docs/DEPLOY.md).
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ParameterNotFoundError } from '@aws-lambda-powertools/parameters/errors';
import type { SSMClientConfig } from '@aws-sdk/client-ssm';
import { MissingEnvironmentError, optionalEnv } from '../config/env.js';
import {
  InvalidTokenError,
  parseTokenKey,
  TokenKeyFormatError,
  TokenSigner,
  type IssueInput,
  type LinkSigner,
  type TokenClaims,
  type TokenPurpose,
} from '../security/tokens.js';

/** The key changes only on a deliberate rotation; an hour bounds how long a container keeps an old one. */
export const TOKEN_KEY_MAX_AGE_SECONDS = 3600;

/** A link under an unknown key id makes a container re-read the keys at most this often. */
export const TOKEN_KEY_RELOAD_INTERVAL_SECONDS = 60;

export class TokenKeyError extends Error {
  override readonly name = 'TokenKeyError';
  constructor(
    readonly parameterName: string,
    why: string,
    options?: { cause?: unknown },
  ) {
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

/**
 * Reads and decrypts a key, past Powertools' cache: the keyring holds what it read, and reads
 * again only when the key may have changed. `undefined` when `optional` and absent.
 */
export async function loadTokenKey(parameterName: string, options?: TokenKeyOptions): Promise<string>;
export async function loadTokenKey(parameterName: string, options: TokenKeyOptions, optional: true): Promise<string | undefined>;
export async function loadTokenKey(parameterName: string, options: TokenKeyOptions = {}, optional = false): Promise<string | undefined> {
  let value: unknown;
  try {
    value = await providerFor(options).get(parameterName, {
      decrypt: true,
      throwOnMissing: true,
      forceFetch: true,
    });
  } catch (error) {
    if (optional && error instanceof ParameterNotFoundError) return undefined;
    throw new TokenKeyError(parameterName, 'could not be read from SSM Parameter Store', { cause: error });
  }
  if (typeof value !== 'string' || value === '') throw new TokenKeyError(parameterName, 'is empty');
  return value;
}

/** A signer over the keys, refusing one that is not a key (naming where it came from, never echoing it). */
function signerOver(current: { source: string; key: string }, previous?: { source: string; key: string }): TokenSigner {
  for (const { source, key } of [current, ...(previous ? [previous] : [])]) {
    try {
      parseTokenKey(key);
    } catch (error) {
      if (error instanceof TokenKeyFormatError) throw new TokenKeyError(source, error.message, { cause: error });
      throw error;
    }
  }
  return new TokenSigner(current.key, previous?.key);
}

/** Reads the keys the environment names. */
export type TokenKeyLoader = () => Promise<TokenSigner>;

/**
 * This container's signer, behind the LinkSigner the pages and dispatch use: issues under the
 * current key, verifies under the current and the previous one, and re-reads them when they may
 * have rotated (see the module note).
 */
export class TokenKeyring implements LinkSigner {
  private loadedAt: number;
  private lastForcedAt = Number.NEGATIVE_INFINITY;

  private constructor(
    private signer: TokenSigner,
    private readonly load: TokenKeyLoader,
    private readonly nowMs: () => number,
    private readonly maxAgeMs: number,
  ) {
    this.loadedAt = nowMs();
  }

  /** Reads the keys once (throwing TokenKeyError when one is missing or not a key) and holds them. */
  static async open(load: TokenKeyLoader, options: { readonly nowMs?: () => number; readonly maxAgeSeconds?: number } = {}): Promise<TokenKeyring> {
    const nowMs = options.nowMs ?? Date.now;
    return new TokenKeyring(await load(), load, nowMs, (options.maxAgeSeconds ?? TOKEN_KEY_MAX_AGE_SECONDS) * 1000);
  }

  /** The ids of the keys held now, the current one first. */
  get keyIds(): readonly string[] {
    return this.signer.keyIds;
  }

  /** Re-reads the keys when they are older than the max age; a failed read keeps the keys held. */
  async refresh(): Promise<void> {
    if (this.nowMs() - this.loadedAt < this.maxAgeMs) return;
    await this.reload().catch(() => {
      // SSM unreachable: keep serving with the keys held, and look again in a minute.
      this.loadedAt = this.nowMs() - this.maxAgeMs + TOKEN_KEY_RELOAD_INTERVAL_SECONDS * 1000;
    });
  }

  issue(input: IssueInput): string {
    return this.signer.issue(input);
  }

  async verify(token: string, purpose: TokenPurpose, now: Date): Promise<TokenClaims> {
    await this.refresh();
    try {
      return this.signer.verify(token, purpose, now);
    } catch (error) {
      if (!(error instanceof InvalidTokenError && error.why === 'key')) throw error;
      // Signed under a key this container does not hold: a key rotated since it read them, or a
      // dropped key, or a forgery. Re-read at most once a minute, so forgeries cannot flood SSM.
      if (this.nowMs() - this.lastForcedAt < TOKEN_KEY_RELOAD_INTERVAL_SECONDS * 1000) throw error;
      this.lastForcedAt = this.nowMs();
      const reloaded = await this.reload().then(
        () => true,
        () => false,
      );
      if (!reloaded) throw error;
      return this.signer.verify(token, purpose, now);
    }
  }

  private async reload(): Promise<void> {
    this.signer = await this.load();
    this.loadedAt = this.nowMs();
  }
}

/** The loader for this environment: TOKEN_KEY when the local twin sets it, else the SSM parameters. */
export function loaderFromEnv(env: NodeJS.ProcessEnv = process.env, options: Omit<TokenKeyOptions, 'endpoint'> = {}): TokenKeyLoader {
  const raw = optionalEnv('TOKEN_KEY', env);
  if (raw) {
    const signer = signerOver({ source: 'TOKEN_KEY', key: raw });
    return async () => signer;
  }
  const parameterName = optionalEnv('TOKEN_KEY_PARAMETER', env);
  if (!parameterName) {
    throw new MissingEnvironmentError(
      'missing environment variable TOKEN_KEY_PARAMETER (or TOKEN_KEY for a local twin): set by the CDK stack or the local twin',
    );
  }
  const previousName = optionalEnv('TOKEN_PREVIOUS_KEY_PARAMETER', env);
  const endpoint = optionalEnv('SSM_ENDPOINT', env);
  const ssm = { ...options, ...(endpoint ? { endpoint } : {}) };
  return async () => {
    const [current, previous] = await Promise.all([
      loadTokenKey(parameterName, ssm),
      previousName ? loadTokenKey(previousName, ssm, true) : Promise.resolve(undefined),
    ]);
    return signerOver({ source: parameterName, key: current }, previousName && previous !== undefined ? { source: previousName, key: previous } : undefined);
  };
}

/**
 * The keyring for this container: from TOKEN_KEY when the local twin sets it, otherwise from the
 * SSM parameters named by TOKEN_KEY_PARAMETER and (optional) TOKEN_PREVIOUS_KEY_PARAMETER, at
 * SSM_ENDPOINT when set. Fails at start with a TokenKeyError naming a parameter that is missing or
 * does not hold a key.
 */
export async function fromEnv(env: NodeJS.ProcessEnv = process.env, options: Omit<TokenKeyOptions, 'endpoint'> = {}): Promise<TokenKeyring> {
  return TokenKeyring.open(loaderFromEnv(env, options), options.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: options.maxAgeSeconds });
}
