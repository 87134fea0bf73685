/**
 * Fuzzing the client pages' form posts (fast-check, fixed seed, bounded runs; more under
 * `npm run test:fuzz`): a check-in POST with any answers, any extra fields, any encoding, is
 * answered without a crash — 400 naming each bad field beside it and storing nothing, 415/413 for
 * a body it will not read, or 200 with exactly the answers given, once.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/web/handler.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { linkPath, NOW, seedPractice, testClinic, tokenOf, TEST_TOKEN_KEY } from '../e2e/fixtures.js';
import { FUZZ_TIMEOUT_MS, fuzzRuns } from '../support/fuzz.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';

const SCORES = ['pain', 'mobility', 'stress', 'sleep'] as const;
const signer = new TokenSigner(TEST_TOKEN_KEY);
const silent = { info: () => {}, warn: () => {}, error: () => {} };

function post(path: string, contentType: string | undefined, body: Buffer): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'care.harbour.example', ...(contentType ? { 'content-type': contentType } : {}) },
    requestContext: {
      accountId: '1',
      apiId: 'api',
      domainName: 'care.harbour.example',
      domainPrefix: 'care',
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'fuzz' },
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

/** A score as a person or a script might send it: mostly 0–10, sometimes anything. */
const score = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 10 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', '11', '-1', '2.5', '1e1', ' 7', '07', '٣', 'NaN', '0x5', '10\u0000') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const answers = fc.record(
  {
    pain: score,
    mobility: score,
    stress: score,
    sleep: score,
    notes: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('x'.repeat(2001), 'nul\u0000esc\u001b', '\u202Eright-to-left', '<script>x</script>')),
    wantsToRebook: fc.constantFrom('yes', 'no', 'maybe', ''),
    extra: fc.string({ maxLength: 8 }),
  },
  { requiredKeys: [] },
);
const encoding = fc.constantFrom('urlencoded', 'urlencoded-latin1', 'multipart', 'json', 'none', 'raw-bytes');

function bodyFor(kind: string, token: string, fields: Record<string, string>): { contentType: string | undefined; body: Buffer } {
  const all = { token, ...fields };
  switch (kind) {
    case 'urlencoded':
      return { contentType: 'application/x-www-form-urlencoded', body: Buffer.from(new URLSearchParams(all).toString()) };
    case 'urlencoded-latin1':
      return { contentType: 'application/x-www-form-urlencoded; charset=iso-8859-1', body: Buffer.from(`${new URLSearchParams(all).toString()}&notes=%FF%FE`) };
    case 'multipart': {
      const parts = Object.entries(all).map(([name, value]) => `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
      return { contentType: 'multipart/form-data; boundary=b', body: Buffer.from(`${parts.join('')}--b--\r\n`) };
    }
    case 'json':
      return { contentType: 'application/json', body: Buffer.from(JSON.stringify(all)) };
    case 'none':
      return { contentType: undefined, body: Buffer.from(new URLSearchParams(all).toString()) };
    default:
      return { contentType: 'application/x-www-form-urlencoded', body: Buffer.from([0x74, 0x6f, 0x6b, 0x3d, 0xff, 0x00, 0x25, 0x25, 0x3d, 0x26]) };
  }
}

/** Plainly a score from 0 to 10, or plainly not one (missing, not digits, above 10); "07" or " 7" is neither. */
const plainlyGood = (value: string | undefined) => value !== undefined && /^(10|[0-9])$/.test(value);
const plainlyBad = (value: string | undefined) => value === undefined || !/^\s*\d+\s*$/.test(value) || Number(value) > 10;

describe('a check-in form post, fuzzed', () => {
  it(
    'is answered without a crash: every bad field named and nothing stored, or the answers stored once',
    async () => {
      await fc.assert(
        fc.asyncProperty(answers, encoding, async (fields, kind) => {
          const store = new MemoryStore({ now: () => NOW });
          const practice = await seedPractice(store, { tag: 'fz' });
          const handler = createHandler({
            store,
            ledger: store,
            tokens: store,
            mailer: new MemoryMailer(),
            clinic: testClinic(),
            signer,
            clock: { now: () => NOW },
            log: silent,
          });
          const path = linkPath(signer, 'check-in', practice.client.id, practice.past.id);
          const { contentType, body } = bodyFor(kind, tokenOf(path), fields as Record<string, string>);

          const response = (await handler(post(path, contentType, body))) as APIGatewayProxyStructuredResultV2 & { body: string };
          const stored = (await store.getClientBundle(practice.client.id))?.checkIns ?? [];

          expect(response.statusCode).toBeLessThan(500);
          if (response.statusCode === 200) {
            expect(stored).toHaveLength(1);
            for (const s of SCORES) expect(stored[0]?.[s]).toBe(Number(fields[s]));
            return;
          }
          expect(stored).toEqual([]);
          expect(store.calls.consume ?? 0).toBe(0);
          if (response.statusCode === 400 && (kind === 'urlencoded' || kind === 'multipart')) {
            expect(response.body).toMatch(/<p class="error" id="[a-z]+-error">/);
            for (const s of SCORES) {
              if (plainlyBad(fields[s])) expect(response.body).toContain(`id="${s}-error"`);
              if (plainlyGood(fields[s])) expect(response.body).not.toContain(`id="${s}-error"`);
            }
          }
        }),
        fuzzRuns(120),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
