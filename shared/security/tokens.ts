/**
 * Link tokens for the client pages: opaque, bound to one client, one subject and one purpose,
 * expiring. The claims are encrypted (AES-256-GCM), so a link reveals nothing, not even the ids
 * inside it; the whole token is then signed (HMAC-SHA256) and the signature compared in constant
 * time before anything is decrypted. Both keys derive from one secret (HKDF). Single-use purposes
 * are consumed in the table (TokenStore.consume) by the page that acts on them, and every request
 * with one reads the table first (TokenStore.isConsumed, consistently): a spent link is refused.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

// 'resubscribe' is never in an email: the page that confirms an unsubscribe issues it, so the link in
// a forwarded email (or its List-Unsubscribe header) can never undo a client's opt-out.
// 'adjust-plan' is the therapist's link from the summary email: its client claim holds the therapist's
// id and its subject the plan's.
export const TOKEN_PURPOSES = ['check-in', 'confirm', 'reschedule', 'unsubscribe', 'resubscribe', 'adjust-plan'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/** The links that act once: after acting, the page only says the link was used. */
export const SINGLE_USE_PURPOSES = ['check-in', 'confirm', 'reschedule', 'adjust-plan'] as const;
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
};

const claimsSchema = z.object({
  /** Token id, unique per token; the key used to consume a single-use token. */
  j: z.string().regex(/^[A-Za-z0-9_-]{8,32}$/),
  p: z.enum(TOKEN_PURPOSES),
  c: z.string().min(1).max(40),
  /** Subject: a session id, or for unsubscribe the category (reminders, check-ins, maintenance, all). */
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
  constructor(readonly why: 'malformed' | 'signature' | 'expired' | 'purpose') {
    super(`link token rejected: ${why}`);
  }
}

export class TokenSigner {
  private readonly macKey: Buffer;
  private readonly encryptionKey: Buffer;

  constructor(key: string | Buffer) {
    const secret = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (secret.length < 32) throw new Error('the link-token key must be at least 32 bytes');
    this.macKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'keepwell link token mac', 32));
    this.encryptionKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'keepwell link token encryption', 32));
  }

  issue(input: { purpose: TokenPurpose; clientId: string; subject: string; now: Date; lifetimeDays?: number }): string {
    const days = input.lifetimeDays ?? TOKEN_LIFETIME_DAYS[input.purpose];
    const claims = {
      j: randomBytes(12).toString('base64url'),
      p: input.purpose,
      c: input.clientId,
      s: input.subject,
      // Rounded: a lifetime in hours (days = hours / 24) need not be a whole number of seconds in floating point.
      e: Math.floor(input.now.getTime() / 1000) + Math.round(days * 86_400),
    };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
    const body = Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** Verifies signature, expiry and purpose; throws InvalidTokenError otherwise. */
  verify(token: string, purpose: TokenPurpose, now: Date): TokenClaims {
    if (typeof token !== 'string' || token.length > 600) throw new InvalidTokenError('malformed');
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) throw new InvalidTokenError('malformed');
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new InvalidTokenError('signature');
    let parsed: z.output<typeof claimsSchema>;
    try {
      const raw = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, raw.subarray(0, 12));
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

  private sign(body: string): string {
    return createHmac('sha256', this.macKey).update(body).digest('base64url');
  }
}

/** The page URLs an email links to; the token is the only thing in the path. */
export const pagePaths = {
  checkIn: (token: string) => `/check-in/${token}`,
  confirm: (token: string) => `/confirm/${token}`,
  reschedule: (token: string) => `/reschedule/${token}`,
  unsubscribe: (token: string) => `/unsubscribe/${token}`,
  resubscribe: (token: string) => `/resubscribe/${token}`,
  adjustPlan: (token: string) => `/adjust/${token}`,
} as const;
