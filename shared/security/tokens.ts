/**
 * Link tokens for the client pages: opaque, bound to one client, one subject and one purpose,
 * expiring. The claims are encrypted (AES-256-GCM), so a link reveals nothing, not even the ids
 * inside it (only the id of the key that signed it); the whole token is then signed (HMAC-SHA256) and the signature compared in constant
 * time before anything is decrypted. Both keys derive from one secret (HKDF). Each token names the
 * secret that signed it by a key id (a fingerprint of the secret), so a signer holding the current
 * and the previous secret verifies links issued under either while it issues under the current one:
 * the key rotates without breaking a link already in an inbox (docs/DEPLOY.md). Single-use purposes
 * are consumed in the table (TokenStore.consume) by the page that acts on them, and every request
 * with one reads the table first (TokenStore.isConsumed, consistently): a spent link is refused.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

// 'resubscribe' is never in an email: the page that confirms an unsubscribe issues it, so the link in
// a forwarded email (or its List-Unsubscribe header) can never undo a client's opt-out.
// 'adjust-plan' is the therapist's link from the summary email: its client claim holds the therapist's
// id and its subject the plan's.
// 'intake' is the intake questionnaire's link: its subject is the plan's id.
export const TOKEN_PURPOSES = ['check-in', 'confirm', 'reschedule', 'unsubscribe', 'resubscribe', 'adjust-plan', 'intake'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/** The links that act once: after acting, the page only says the link was used. */
export const SINGLE_USE_PURPOSES = ['check-in', 'confirm', 'reschedule', 'adjust-plan', 'intake'] as const;
export type SingleUsePurpose = (typeof SINGLE_USE_PURPOSES)[number];

export function isSingleUse(purpose: TokenPurpose): purpose is SingleUsePurpose {
  return (SINGLE_USE_PURPOSES as readonly string[]).includes(purpose);
}

/** How long each kind of link lives. */
export const TOKEN_LIFETIME_DAYS: Record<TokenPurpose, number> = {
  'check-in': 7,
  confirm: 14,
  reschedule: 14,
  // RFC 8058 one-click unsubscribe must keep working long after the email arrives.
  unsubscribe: 365,
  // Only for the "undo" on the page just shown; short-lived.
  resubscribe: 1,
  // The default; a stage sets 24–72 hours (clinic.adjustLinkHours).
  'adjust-plan': 2,
  // The default; dispatch gives each link until its plan's first session has started (domain/intake-questionnaire.ts).
  intake: 14,
};

const claimsSchema = z.object({
  /** Token id, unique per token; the key used to consume a single-use token. */
  j: z.string().regex(/^[A-Za-z0-9_-]{8,32}$/),
  p: z.enum(TOKEN_PURPOSES),
  c: z.string().min(1).max(40),
  /** Subject: a session id, a plan id (intake, adjust-plan), or for unsubscribe the category (reminders, check-ins, maintenance, all). */
  s: z.string().min(1).max(40),
  /** Expiry, seconds since the epoch. */
  e: z.number().int(),
});

export interface TokenClaims {
  readonly tokenId: string;
  readonly purpose: TokenPurpose;
  readonly clientId: string;
  readonly subject: string;
  readonly expiresAt: Date;
}

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  /** `key`: signed under a key id this signer does not hold (a dropped key, or a forgery). */
  constructor(readonly why: 'malformed' | 'key' | 'signature' | 'expired' | 'purpose') {
    super(`link token rejected: ${why}`);
  }
}

/** A link-token secret that is not at least 32 random bytes in base64; the message never quotes the key. */
export class TokenKeyFormatError extends Error {
  override readonly name = 'TokenKeyFormatError';
}

export const TOKEN_KEY_MIN_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A link-token secret from its base64 text (`openssl rand -base64 32`): at least 32 bytes once
 * decoded, and not an obvious non-random pattern (32 random bytes have ~30 distinct values; fewer
 * than 16 is a repeated or typed value, not a key). A Buffer is taken as the raw bytes.
 */
export function parseTokenKey(key: string | Buffer): Buffer {
  let bytes: Buffer;
  if (typeof key === 'string') {
    const text = key.trim();
    if (!BASE64.test(text) || text.length % 4 !== 0 || Buffer.from(text, 'base64').toString('base64') !== text) {
      throw new TokenKeyFormatError('is not base64 text: create the key with `openssl rand -base64 32`');
    }
    bytes = Buffer.from(text, 'base64');
  } else {
    bytes = key;
  }
  if (bytes.length < TOKEN_KEY_MIN_BYTES) {
    throw new TokenKeyFormatError(
      `decodes to ${bytes.length} bytes; a link-token key must be at least ${TOKEN_KEY_MIN_BYTES} random bytes (\`openssl rand -base64 32\`)`,
    );
  }
  if (new Set(bytes).size < 16) throw new TokenKeyFormatError('does not look random (too few distinct bytes): create the key with `openssl rand -base64 32`');
  return bytes;
}

/** What dispatch and the pages need of a signer: issue under the current key, verify under any held. */
export interface LinkSigner {
  issue(input: IssueInput): string;
  verify(token: string, purpose: TokenPurpose, now: Date): TokenClaims | Promise<TokenClaims>;
}

export interface IssueInput {
  readonly purpose: TokenPurpose;
  readonly clientId: string;
  readonly subject: string;
  readonly now: Date;
  readonly lifetimeDays?: number;
}

interface SigningKey {
  readonly id: string;
  readonly macKey: Buffer;
  readonly encryptionKey: Buffer;
}

function signingKey(secret: Buffer): SigningKey {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
  // 48 bits of an HMAC under the secret: names the key, reveals nothing of it.
  const id = createHmac('sha256', secret).update('keepwell link token key id').digest().subarray(0, 6).toString('base64url');
  return { id, macKey: derive('keepwell link token mac'), encryptionKey: derive('keepwell link token encryption') };
}

/** Token layout: `<key id>.<iv + sealed claims + tag>.<HMAC of "<key id>.<body>">`, all base64url. */
export class TokenSigner implements LinkSigner {
  private readonly current: SigningKey;
  private readonly keys: ReadonlyMap<string, SigningKey>;

  /**
   * @param current the key every new token is issued under (base64 text, or raw bytes)
   * @param previous a key still accepted for tokens issued before a rotation @default none
   */
  constructor(current: string | Buffer, previous?: string | Buffer) {
    this.current = signingKey(parseTokenKey(current));
    const held = [this.current, ...(previous === undefined ? [] : [signingKey(parseTokenKey(previous))])];
    this.keys = new Map(held.map((k) => [k.id, k]));
  }

  /** The ids of the keys this signer verifies with, the current one first. */
  get keyIds(): readonly string[] {
    return [...this.keys.keys()];
  }

  issue(input: IssueInput): string {
    const days = input.lifetimeDays ?? TOKEN_LIFETIME_DAYS[input.purpose];
    const claims = {
      j: randomBytes(12).toString('base64url'),
      p: input.purpose,
      c: input.clientId,
      s: input.subject,
      // Rounded: a lifetime in hours (days = hours / 24) need not be a whole number of seconds in floating point.
      e: Math.floor(input.now.getTime() / 1000) + Math.round(days * 86_400),
    };
    const key = this.current;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.encryptionKey, iv);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
    const signed = `${key.id}.${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
    return `${signed}.${sign(key, signed)}`;
  }

  /** Verifies signature, expiry and purpose; throws InvalidTokenError otherwise. */
  verify(token: string, purpose: TokenPurpose, now: Date): TokenClaims {
    if (typeof token !== 'string' || token.length > 600) throw new InvalidTokenError('malformed');
    const [keyId, body, signature, extra] = token.split('.');
    if (!keyId || !body || !signature || extra !== undefined) throw new InvalidTokenError('malformed');
    const key = this.keys.get(keyId);
    if (!key) throw new InvalidTokenError('key');
    const expected = Buffer.from(sign(key, `${keyId}.${body}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new InvalidTokenError('signature');
    let parsed: z.output<typeof claimsSchema>;
    try {
      const raw = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key.encryptionKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
      parsed = claimsSchema.parse(JSON.parse(plain.toString('utf8')));
    } catch {
      throw new InvalidTokenError('malformed');
    }
    if (parsed.p !== purpose) throw new InvalidTokenError('purpose');
    if (parsed.e * 1000 <= now.getTime()) throw new InvalidTokenError('expired');
    return { tokenId: parsed.j, purpose: parsed.p, clientId: parsed.c, subject: parsed.s, expiresAt: new Date(parsed.e * 1000) };
  }
}

function sign(key: SigningKey, signed: string): string {
  return createHmac('sha256', key.macKey).update(signed).digest('base64url');
}

/** The page URLs an email links to; the token is the only thing in the path. */
export const pagePaths = {
  checkIn: (token: string) => `/check-in/${token}`,
  confirm: (token: string) => `/confirm/${token}`,
  reschedule: (token: string) => `/reschedule/${token}`,
  unsubscribe: (token: string) => `/unsubscribe/${token}`,
  resubscribe: (token: string) => `/resubscribe/${token}`,
  adjustPlan: (token: string) => `/adjust/${token}`,
  intake: (token: string) => `/intake-form/${token}`,
} as const;
