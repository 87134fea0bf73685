/**
 * Webhook signatures: HMAC-SHA256 over the raw body with the source's secret, compared in
 * constant time. The generic format signs `<unix seconds>.<body>` and sends
 * `Keepwell-Signature: t=<seconds>,v1=<hex>`; Cal.com signs the body alone and sends the hex digest
 * in `X-Cal-Signature-256` (its signed `createdAt` is the timestamp the replay window checks).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A signed request older (or further in the future) than this is refused as a replay. */
export const REPLAY_WINDOW_MS = 5 * 60 * 1000;

export type SignatureProblem = 'missing signature' | 'malformed signature' | 'wrong signature' | 'stale timestamp';

export function hmacHex(secret: string, data: Buffer | string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** Constant-time comparison of two hex digests (a length mismatch is a plain mismatch). */
export function digestsEqual(expectedHex: string, givenHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(/^[0-9a-f]+$/i.test(givenHex) ? givenHex : '', 'hex');
  return given.length === expected.length && timingSafeEqual(expected, given);
}

/** Whether `at` lies within the replay window around `now`. */
export function withinReplayWindow(at: Date, now: Date): boolean {
  return Math.abs(now.getTime() - at.getTime()) <= REPLAY_WINDOW_MS;
}

/** The header value the generic format expects for `body` signed at `at`. */
export function keepwellSignature(secret: string, body: Buffer | string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmacHex(secret, Buffer.concat([Buffer.from(`${t}.`), Buffer.from(body)]))}`;
}

/** Checks a `Keepwell-Signature` header; undefined when the request is authentic and fresh. */
export function checkKeepwellSignature(secret: string, body: Buffer, header: string | undefined, now: Date): SignatureProblem | undefined {
  if (!header) return 'missing signature';
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1) return 'malformed signature';
  const expected = hmacHex(secret, Buffer.concat([Buffer.from(`${t}.`), body]));
  if (!digestsEqual(expected, v1)) return 'wrong signature';
  if (!withinReplayWindow(new Date(Number(t) * 1000), now)) return 'stale timestamp';
  return undefined;
}

/** Checks Cal.com's `X-Cal-Signature-256` header (hex HMAC-SHA256 of the raw body). */
export function checkCalSignature(secret: string, body: Buffer, header: string | undefined): SignatureProblem | undefined {
  if (!header) return 'missing signature';
  if (!/^[0-9a-f]{64}$/i.test(header.trim())) return 'malformed signature';
  return digestsEqual(hmacHex(secret, body), header.trim()) ? undefined : 'wrong signature';
}
