import { describe, expect, it } from 'vitest';
import { InvalidTokenError, TokenSigner } from '../../shared/security/tokens.js';

const KEY = 'a-test-key-that-is-long-enough-for-hmac-and-aes';
const NOW = new Date('2027-02-01T10:00:00Z');

describe('a link token', () => {
  const signer = new TokenSigner(KEY);

  it('round-trips its purpose, client and subject', () => {
    const token = signer.issue({ purpose: 'check-in', clientId: 'c-sam', subject: 's-sam-1', now: NOW });
    const claims = signer.verify(token, 'check-in', NOW);
    expect(claims).toMatchObject({ purpose: 'check-in', clientId: 'c-sam', subject: 's-sam-1' });
    expect(claims.expiresAt.toISOString()).toBe('2027-02-08T10:00:00.000Z');
  });

  it('reveals nothing of what it carries, however it is decoded', () => {
    const token = signer.issue({ purpose: 'check-in', clientId: 'c-sam-patel', subject: 's-sam-1', now: NOW });
    const [body] = token.split('.') as [string];
    for (const decoded of [token, Buffer.from(body, 'base64url').toString('latin1'), Buffer.from(body, 'base64').toString('latin1')]) {
      expect(decoded).not.toContain('c-sam-patel');
      expect(decoded).not.toContain('s-sam-1');
      expect(decoded).not.toContain('check-in');
    }
  });

  it('is different every time it is issued, so two links cannot be matched', () => {
    const a = signer.issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-1', now: NOW });
    const b = signer.issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-1', now: NOW });
    expect(a).not.toBe(b);
  });

  it.each([
    ['a flipped bit in the body', (t: string) => { const [b, s] = t.split('.') as [string, string]; const raw = Buffer.from(b, 'base64url'); raw[14] = (raw[14] ?? 0) ^ 1; return `${raw.toString('base64url')}.${s}`; }, 'signature'],
    ['a flipped bit in the signature', (t: string) => { const [b, s] = t.split('.') as [string, string]; const raw = Buffer.from(s, 'base64url'); raw[0] = (raw[0] ?? 0) ^ 1; return `${b}.${raw.toString('base64url')}`; }, 'signature'],
    ['another key', (t: string) => t, 'signature'],
    ['no signature', (t: string) => t.split('.')[0]!, 'malformed'],
  ])('refuses %s', (_what, tamper, why) => {
    const issuer = _what === 'another key' ? new TokenSigner('another-key-that-is-also-long-enough-for-it') : signer;
    const token = tamper(issuer.issue({ purpose: 'check-in', clientId: 'c-1', subject: 's-1', now: NOW }));
    expect(() => signer.verify(token, 'check-in', NOW)).toThrow(expect.objectContaining({ name: 'InvalidTokenError', why }));
  });

  it('refuses another purpose and an expired token', () => {
    const token = signer.issue({ purpose: 'check-in', clientId: 'c-1', subject: 's-1', now: NOW });
    expect(() => signer.verify(token, 'confirm', NOW)).toThrow(InvalidTokenError);
    expect(() => signer.verify(token, 'check-in', new Date('2027-02-08T10:00:00Z'))).toThrow(expect.objectContaining({ why: 'expired' }));
  });

  it('needs a key of at least 32 bytes', () => {
    expect(() => new TokenSigner('short')).toThrow(/at least 32 bytes/);
  });
});
