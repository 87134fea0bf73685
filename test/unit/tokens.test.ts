import { describe, expect, it } from 'vitest';
import { InvalidTokenError, parseTokenKey, TokenKeyFormatError, TokenSigner } from '../../shared/security/tokens.js';
import { TOKEN_KEY_MAX_AGE_SECONDS, TOKEN_KEY_RELOAD_INTERVAL_SECONDS, TokenKeyring } from '../../shared/adapters/token-key.js';

// 32 random bytes each, in base64 (`openssl rand -base64 32`).
const KEY = 'gn5DuGuJCkE3oYjIstK37h+bS3ashSbdeIKHrz1dN98=';
const OTHER_KEY = 'NuPcM94vx2bqvJbsqKP3Mt3X5g+hxH57kSbH8WAQ1p8=';
const NEW_KEY = 'j2/gTNyLf4PuZL2BozeYsAF4hDoWyqojmBvw8amUCNo=';
const NOW = new Date('2027-02-01T10:00:00Z');

const issueUnder = (signer: TokenSigner, subject = 's-1') => signer.issue({ purpose: 'check-in', clientId: 'c-1', subject, now: NOW });
const whyRefused = (verify: () => unknown) => {
  try {
    verify();
  } catch (error) {
    if (error instanceof InvalidTokenError) return error.why;
    throw error;
  }
  return 'accepted';
};

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
    const [, body] = token.split('.') as [string, string];
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

  it('names the key that signed it by an id, and the id is not the key', () => {
    const [keyId] = issueUnder(signer).split('.') as [string];
    expect(keyId).toBe(signer.keyIds[0]);
    expect(keyId).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(KEY).not.toContain(keyId);
    expect(new TokenSigner(OTHER_KEY).keyIds[0]).not.toBe(keyId);
  });

  const flip = (text: string, at: number) => {
    const raw = Buffer.from(text, 'base64url');
    raw[at] = (raw[at] ?? 0) ^ 1;
    return raw.toString('base64url');
  };
  it.each([
    [
      'a flipped bit in the body',
      (t: string) => {
        const [k, b, s] = t.split('.') as [string, string, string];
        return `${k}.${flip(b, 14)}.${s}`;
      },
      'signature',
    ],
    [
      'a flipped bit in the signature',
      (t: string) => {
        const [k, b, s] = t.split('.') as [string, string, string];
        return `${k}.${b}.${flip(s, 0)}`;
      },
      'signature',
    ],
    ['another key', (t: string) => t, 'key'],
    ["another key's token relabelled with this key's id", (t: string) => [signer.keyIds[0], ...t.split('.').slice(1)].join('.'), 'signature'],
    ['no signature', (t: string) => t.split('.').slice(0, 2).join('.'), 'malformed'],
    ['no key id (a token without one)', (t: string) => t.split('.').slice(1).join('.'), 'malformed'],
  ])('refuses %s', (what, tamper, why) => {
    const issuer = what.startsWith('another key') ? new TokenSigner(OTHER_KEY) : signer;
    const token = tamper(issueUnder(issuer));
    expect(whyRefused(() => signer.verify(token, 'check-in', NOW))).toBe(why);
  });

  it('refuses another purpose and an expired token', () => {
    const token = signer.issue({ purpose: 'check-in', clientId: 'c-1', subject: 's-1', now: NOW });
    expect(() => signer.verify(token, 'confirm', NOW)).toThrow(InvalidTokenError);
    expect(() => signer.verify(token, 'check-in', new Date('2027-02-08T10:00:00Z'))).toThrow(expect.objectContaining({ why: 'expired' }));
  });
});

describe('a rotated key', () => {
  const before = new TokenSigner(KEY);
  const during = new TokenSigner(NEW_KEY, KEY);
  const after = new TokenSigner(NEW_KEY);

  it('signs every new link while the previous key still verifies the links issued before', () => {
    const old = issueUnder(before, 's-old');
    const fresh = issueUnder(during, 's-new');
    expect(fresh.split('.')[0]).toBe(after.keyIds[0]);
    expect(during.verify(old, 'check-in', NOW).subject).toBe('s-old');
    expect(during.verify(fresh, 'check-in', NOW).subject).toBe('s-new');
    expect(during.keyIds).toEqual([after.keyIds[0], before.keyIds[0]]);
  });

  it('stops verifying the old links once the previous key is dropped, and only then', () => {
    const old = issueUnder(before);
    expect(whyRefused(() => during.verify(old, 'check-in', NOW))).toBe('accepted');
    expect(whyRefused(() => after.verify(old, 'check-in', NOW))).toBe('key');
    expect(whyRefused(() => after.verify(issueUnder(during), 'check-in', NOW))).toBe('accepted');
  });

  it('is refused by a signer that holds only the key before it', () => {
    expect(whyRefused(() => before.verify(issueUnder(during), 'check-in', NOW))).toBe('key');
  });
});

describe('a link-token key', () => {
  it('is accepted as base64 of at least 32 random bytes, with surrounding whitespace trimmed', () => {
    expect(parseTokenKey(KEY)).toHaveLength(32);
    expect(parseTokenKey(`${KEY}\n`)).toEqual(parseTokenKey(KEY));
    expect(parseTokenKey(Buffer.from(KEY, 'base64'))).toHaveLength(32);
  });

  it.each([
    ['text that is not base64', 'not a base64 key but long enough to be one, surely!!', /is not base64 text/],
    ['base64 with a character of another alphabet', `${KEY.slice(0, -2)}_=`, /is not base64 text/],
    [
      'base64 of fewer than 32 bytes',
      Buffer.from(KEY, 'base64').subarray(0, 31).toString('base64'),
      /decodes to 31 bytes; a link-token key must be at least 32 random bytes/,
    ],
    ['32 bytes of one value', Buffer.alloc(32, 7).toString('base64'), /does not look random/],
    ['a repeated short pattern', Buffer.from('abcd'.repeat(12)).toString('base64'), /does not look random/],
    ['an empty string', '', /is not base64 text/],
  ])('is refused as %s, with a reason that never quotes it', (_what, key, message) => {
    expect(() => parseTokenKey(key)).toThrow(TokenKeyFormatError);
    expect(() => parseTokenKey(key)).toThrow(message);
    try {
      new TokenSigner(KEY, key);
    } catch (error) {
      expect(error).toBeInstanceOf(TokenKeyFormatError);
      if (key.length > 0) expect((error as Error).message).not.toContain(key);
      return;
    }
    throw new Error('the previous key was accepted');
  });
});

describe("a container's keyring", () => {
  /** What the SSM parameters hold now; the loader reads it as the real one reads SSM. */
  function parameters(current: string, previous?: string) {
    const state = { current, previous, reads: 0, failing: false };
    const load = async () => {
      state.reads += 1;
      if (state.failing) throw new Error('SSM unreachable');
      return new TokenSigner(state.current, state.previous);
    };
    return { state, load };
  }
  function clock() {
    let ms = NOW.getTime();
    return { nowMs: () => ms, advance: (seconds: number) => (ms += seconds * 1000) };
  }

  it('verifies a link issued under a key rotated in after it read the keys, by reading them again', async () => {
    const ssm = parameters(KEY);
    const time = clock();
    const web = await TokenKeyring.open(ssm.load, { nowMs: time.nowMs });
    const old = web.issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-old', now: NOW });
    // Rotation: the current key is copied to the previous parameter, then replaced.
    ssm.state.previous = KEY;
    ssm.state.current = NEW_KEY;
    const dispatch = await TokenKeyring.open(ssm.load, { nowMs: time.nowMs });
    const fresh = dispatch.issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-new', now: NOW });

    expect((await web.verify(fresh, 'confirm', NOW)).subject).toBe('s-new');
    expect((await web.verify(old, 'confirm', NOW)).subject).toBe('s-old');
    expect(web.keyIds).toEqual(new TokenSigner(NEW_KEY, KEY).keyIds);
  });

  it('re-reads the keys an hour after reading them, so a dropped previous key stops verifying', async () => {
    const ssm = parameters(NEW_KEY, KEY);
    const time = clock();
    const web = await TokenKeyring.open(ssm.load, { nowMs: time.nowMs });
    const old = new TokenSigner(KEY).issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-old', now: NOW });
    ssm.state.previous = undefined;

    time.advance(TOKEN_KEY_MAX_AGE_SECONDS - 1);
    expect((await web.verify(old, 'confirm', NOW)).subject).toBe('s-old');
    expect(ssm.state.reads).toBe(1);
    time.advance(1);
    await expect(web.verify(old, 'confirm', NOW)).rejects.toMatchObject({ why: 'key' });
    // The hourly read, then one more for the unknown key id (a rotation may have just happened).
    expect(ssm.state.reads).toBe(3);
  });

  it('re-reads for unknown key ids at most once a minute, so forged ids cannot flood SSM', async () => {
    const ssm = parameters(KEY);
    const time = clock();
    const web = await TokenKeyring.open(ssm.load, { nowMs: time.nowMs });
    const forged = new TokenSigner(OTHER_KEY).issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-1', now: NOW });
    for (let i = 0; i < 5; i += 1) await expect(web.verify(forged, 'confirm', NOW)).rejects.toMatchObject({ why: 'key' });
    expect(ssm.state.reads).toBe(2);
    time.advance(TOKEN_KEY_RELOAD_INTERVAL_SECONDS);
    await expect(web.verify(forged, 'confirm', NOW)).rejects.toMatchObject({ why: 'key' });
    expect(ssm.state.reads).toBe(3);
  });

  it('keeps the keys it holds when SSM cannot be read, and tries again a minute later', async () => {
    const ssm = parameters(KEY);
    const time = clock();
    const web = await TokenKeyring.open(ssm.load, { nowMs: time.nowMs });
    const link = web.issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-1', now: NOW });
    ssm.state.failing = true;
    time.advance(TOKEN_KEY_MAX_AGE_SECONDS);
    expect((await web.verify(link, 'confirm', NOW)).subject).toBe('s-1');
    time.advance(TOKEN_KEY_RELOAD_INTERVAL_SECONDS - 1);
    await web.refresh();
    expect(ssm.state.reads).toBe(2);
    time.advance(1);
    await web.refresh();
    expect(ssm.state.reads).toBe(3);
  });

  it('issues under a rotated key once refreshed an hour on', async () => {
    const ssm = parameters(KEY);
    const time = clock();
    const dispatch = await TokenKeyring.open(ssm.load, { nowMs: time.nowMs });
    ssm.state.previous = KEY;
    ssm.state.current = NEW_KEY;
    await dispatch.refresh();
    expect(dispatch.issue({ purpose: 'confirm', clientId: 'c', subject: 's', now: NOW }).split('.')[0]).toBe(new TokenSigner(KEY).keyIds[0]);
    time.advance(TOKEN_KEY_MAX_AGE_SECONDS);
    await dispatch.refresh();
    expect(dispatch.issue({ purpose: 'confirm', clientId: 'c', subject: 's', now: NOW }).split('.')[0]).toBe(new TokenSigner(NEW_KEY).keyIds[0]);
  });
});
