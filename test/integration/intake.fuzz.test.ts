/**
 * Fuzzing intake webhooks on the twin (fast-check, fixed seed, bounded runs; more under
 * `npm run test:fuzz`): Keepwell-format deliveries, correctly signed, with one field replaced by
 * anything or left out, posted over HTTP to `/intake/front-desk`. Each is answered without a
 * crash (no 5xx); a refusal names the field it could not read and writes no client, plan or
 * session; an accepted booking is one booking of that client.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepwellSignature } from '../../shared/intake/signature.js';
import type { Twin } from '../../local/twin.js';
import { startHarbourTwin } from '../support/harbour-twin.js';
import { FUZZ_TIMEOUT_MS, fuzzRuns } from '../support/fuzz.js';

const T0 = '2027-02-01T08:00:00.000Z';
let twin: Twin;
// biome-ignore lint/suspicious/noExplicitAny: JSON read back from the twin, checked by the assertions
type Json = Record<string, any>;
const fixture = JSON.parse(readFileSync(new URL('../fixtures/intake/keepwell-booking-created.json', import.meta.url), 'utf8')) as Json;

beforeAll(async () => {
  twin = await startHarbourTwin(T0);
});

afterAll(async () => {
  await twin?.close();
});

const FIELDS = [
  'id',
  'type',
  'occurredAt',
  'booking',
  'booking.id',
  'booking.service',
  'booking.start',
  'booking.durationMinutes',
  'booking.client',
  'booking.client.email',
  'booking.client.name',
  'booking.client.timezone',
] as const;
const anything = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constantFrom(
    '2027-02-30T10:00:00Z',
    '2027-04-31T09:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:00:00+05:00',
    'tomorrow',
    '',
    'x'.repeat(5000),
    'Europe/Nowhere',
    'a@b',
    '\u202Eevil',
    'nul\u0000',
  ),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);

let n = 0;
/** The fixture for a fresh booking and client, with `path` set to `value` (left out when undefined). */
function mutated(path: string, value: unknown): { body: Json; email: string } {
  n += 1;
  const body = structuredClone(fixture);
  body.id = `evt_fuzz_${n}`;
  body.booking.id = `FZ-${n}`;
  const email = `fuzz-${n}-${Date.now()}@example.com`;
  body.booking.client.email = email;
  const keys = path.split('.');
  let parent: Json = body;
  for (const key of keys.slice(0, -1)) parent = parent[key] as Json;
  const last = keys.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return { body, email };
}

async function post(text: string): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${twin.webUrl}/intake/front-desk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'keepwell-signature': keepwellSignature(twin.intake.secrets['front-desk']!, text, twin.clock.now()) },
    body: text,
  });
  const json = (await response.json().catch(() => ({}))) as Json;
  await twin.settle();
  return { status: response.status, json };
}

describe('an intake webhook, fuzzed', () => {
  it(
    'is answered without a crash; a refusal names the field and writes no client, plan or session',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...FIELDS), anything, async (path, value) => {
          const { body, email } = mutated(path, value);
          const { status, json } = await post(JSON.stringify(body));
          const clientId = await twin.store.findClientIdByEmail(email);
          const sessions = clientId ? ((await twin.store.getClientBundle(clientId))?.sessions ?? []) : [];

          expect(status).toBeLessThan(500);
          if (status >= 400) {
            expect(String(json.error ?? '')).not.toBe('');
            // A field of the client or the booking refused: by its path, where the path is the reason.
            if (status === 400 && !path.startsWith('booking.client.email')) expect(String(json.error)).toContain(path.split('.').slice(0, 2).join('.'));
            expect(sessions).toEqual([]);
          } else if (clientId) {
            expect(sessions.length).toBeLessThanOrEqual(1);
          }
        }),
        fuzzRuns(60),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
