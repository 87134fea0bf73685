/**
 * Fuzzing three more boundaries (fast-check, fixed seed, bounded runs; more under
 * `npm run test:fuzz`):
 * - scenario files: a valid scenario with one field replaced by anything, or any JSON at all, is
 *   accepted or refused with a ValidationError naming every bad field by path — nothing else;
 * - dispatch payloads: a valid payload with one field replaced or left out is either a payload
 *   dispatch acts on or `invalid` with the field paths, and an invalid one sends nothing and
 *   writes nothing to the ledger;
 * - link tokens: any string, or a real token with one character changed, is refused with
 *   InvalidTokenError (never another error), and only the unchanged token is accepted.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { virtualClock } from '../../local/clock.js';
import { parseScenario } from '../../local/simulation/scenario.js';
import { createHandler } from '../../functions/dispatch/handler.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { InvalidTokenError, TOKEN_PURPOSES } from '../../shared/security/tokens.js';
import { FUZZ_TIMEOUT_MS, fuzzRuns } from '../support/fuzz.js';
import { clinicFixture, payloadFor, reminderIdentity, seedClinic, testSigner } from '../support/memory-clinic.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';

type Json = Record<string, unknown>;

const anything = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constantFrom(
    '2027-02-30T10:00:00Z',
    '2027-04-31T09:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:00:00+05:00',
    '',
    'x'.repeat(3000),
    'Europe/Nowhere',
    '../../etc',
    'nul\u0000',
    '\u202Eevil',
    'P-1D',
    'PT0S',
  ),
  fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxKeys: 3 }),
);

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

/** A copy of `value` with `path` set to `replacement` (left out when undefined). */
function replaced<T>(value: T, path: ReadonlyArray<string | number>, replacement: unknown): T {
  const copy = structuredClone(value);
  let parent = copy as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

/** A ValidationError whose every issue names a field (or the root) and says why. */
function expectFieldError(error: unknown): asserts error is ValidationError {
  expect(error).toBeInstanceOf(ValidationError);
  const { issues } = error as ValidationError;
  expect(issues.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(typeof issue.path).toBe('string');
    expect(issue.reason.trim()).not.toBe('');
  }
}

describe('a scenario file, fuzzed', () => {
  const scenario = JSON.parse(readFileSync(new URL('../../examples/team-kit.json', import.meta.url), 'utf8')) as Json;
  const withChaos = {
    ...scenario,
    chaos: { seed: 1, faults: [{ fault: 'ses-throttle', rate: 0.5, from: '2027-02-01T00:00:00Z', until: '2027-02-02T00:00:00Z' }] },
  };
  const paths = pathsOf(withChaos);

  it(
    'with one field replaced, is accepted or refused naming the bad fields by path',
    () => {
      fc.assert(
        fc.property(fc.constantFrom(...paths), anything, (path, value) => {
          let error: unknown;
          try {
            parseScenario(replaced(withChaos, path, value));
          } catch (caught) {
            error = caught;
          }
          if (error === undefined) return;
          expectFieldError(error);
          // The replaced field, or something that refers to it, is among those named.
          const top = String(path[0]);
          expect(error.issues.some((i) => i.path.startsWith(top) || i.path.startsWith('events') || i.path.startsWith('simulate') || i.path === '')).toBe(true);
        }),
        fuzzRuns(400),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'as any JSON at all, is refused with a field error, never another error',
    () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
          let error: unknown;
          try {
            parseScenario(value);
          } catch (caught) {
            error = caught;
          }
          expectFieldError(error);
        }),
        fuzzRuns(300),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('a dispatch payload, fuzzed', () => {
  it(
    'is acted on, or refused as invalid with the field paths, sending and recording nothing',
    async () => {
      const clock = virtualClock(new Date('2027-01-30T14:00:00.000Z'));
      const silent = { info: () => {}, warn: () => {}, error: () => {} };
      const template = await (async () => {
        const store = new MemoryStore({ now: () => clock.now() });
        const seeded = await seedClinic(store);
        return payloadFor(seeded, reminderIdentity(seeded.sessions.at(-1)!), '2027-01-30T14:00:00.000Z');
      })();
      const paths = [...pathsOf({ ...template, redelivery: { count: 1, intendedAt: '2027-01-30T14:00:00.000Z' } })];

      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), anything, async (path, value) => {
          const store = new MemoryStore({ now: () => clock.now() });
          await seedClinic(store);
          const mailer = new MemoryMailer();
          const handler = createHandler({
            store,
            ledger: store,
            mailer,
            scheduler: new InMemoryMessageScheduler(),
            tokens: testSigner(),
            clinic: clinicFixture(),
            clock,
            log: silent,
          });
          const payload = replaced({ ...template, redelivery: { count: 1, intendedAt: '2027-01-30T14:00:00.000Z' } }, path, value);

          const result = await handler(payload);

          if (result.status !== 'invalid') return;
          expect(result.issues.length).toBeGreaterThan(0);
          // Each issue names a field: the one replaced, or one that must agree with it (sessionId and message.subjectId).
          for (const issue of result.issues) {
            expect(issue.reason.trim()).not.toBe('');
            expect(issue.path).not.toBe('');
          }
          expect(mailer.sent).toEqual([]);
          expect(store.ledgerEntries()).toEqual([]);
        }),
        fuzzRuns(200),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'as any JSON at all, is refused as invalid, never thrown',
    async () => {
      const store = new MemoryStore();
      const mailer = new MemoryMailer();
      const handler = createHandler({
        store,
        ledger: store,
        mailer,
        scheduler: new InMemoryMessageScheduler(),
        tokens: testSigner(),
        clinic: clinicFixture(),
        clock: { now: () => new Date('2027-01-30T14:00:00.000Z') },
        log: { info: () => {}, warn: () => {}, error: () => {} },
      });
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
          expect((await handler(value)).status).toBe('invalid');
          expect(mailer.sent).toEqual([]);
        }),
        fuzzRuns(300),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('a link token, fuzzed', () => {
  const signer = testSigner();
  const now = new Date('2027-02-01T09:00:00.000Z');

  it(
    'is refused with InvalidTokenError whatever the string',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 700 }),
            fc.base64String({ maxLength: 200 }).map((b) => `${b}.${b}`),
          ),
          fc.constantFrom(...TOKEN_PURPOSES),
          (token, purpose) => {
            expect(() => signer.verify(token, purpose, now)).toThrow(InvalidTokenError);
          },
        ),
        fuzzRuns(500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'is refused with one character changed, and accepted only as issued',
    () => {
      fc.assert(
        fc.property(fc.constantFrom(...TOKEN_PURPOSES), fc.nat(), fc.constantFrom(...'ABCabc019-_.='), (purpose, at, replacement) => {
          const token = signer.issue({ purpose, clientId: 'c-sam', subject: 's-1', now });
          const index = at % token.length;
          const changed = `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
          expect(signer.verify(token, purpose, now)).toMatchObject({ clientId: 'c-sam', subject: 's-1', purpose });
          if (changed !== token) expect(() => signer.verify(changed, purpose, now)).toThrow(InvalidTokenError);
        }),
        fuzzRuns(500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
