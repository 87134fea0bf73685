/**
 * Exactly once under concurrency: many deliveries of one message racing through the real
 * sendMessage use case, on a store whose every call takes a random number of turns, so the
 * deliveries interleave between reading the state, claiming and settling in a different order on
 * every seed.
 */
import { describe, expect, it } from 'vitest';
import { virtualClock } from '../../local/clock.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { RetryableError } from '../../shared/domain/errors.js';
import { messageName } from '../../shared/domain/message.js';
import { sendMessage, type SendMessageDeps } from '../../shared/use-cases/send-message.js';
import { checkInIdentity, clinicFixture, payloadFor, reminderIdentity, seedClinic, testSigner } from '../support/memory-clinic.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import { seededRandom } from '../support/seeded-random.js';

const P2D_DUE = '2027-01-30T14:00:00.000Z';
const CHECK_IN_DUE = '2027-02-02T15:00:00.000Z';
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

async function race(seed: number, kind: 'reminder' | 'check-in', deliveries = 20) {
  const clock = virtualClock(new Date('2027-01-01T00:00:00.000Z'));
  const store = new MemoryStore({ now: () => clock.now(), latency: seededRandom(seed) });
  const mailer = new MemoryMailer();
  const seeded = await seedClinic(store);
  const deps: SendMessageDeps = {
    store,
    ledger: store,
    mailer,
    scheduler: new InMemoryMessageScheduler(),
    tokens: testSigner(),
    clinic: clinicFixture(),
    clock,
  };
  const session = seeded.sessions.at(-1)!;
  const identity = kind === 'reminder' ? reminderIdentity(session) : checkInIdentity(session);
  const due = kind === 'reminder' ? P2D_DUE : CHECK_IN_DUE;
  clock.set(new Date(due));

  const results = await Promise.allSettled(Array.from({ length: deliveries }, () => sendMessage(deps, payloadFor(seeded, identity, due))));

  const outcomes = results.map((r) =>
    r.status === 'fulfilled' ? r.value.status : r.reason instanceof RetryableError ? 'in-flight retry' : `error: ${String(r.reason)}`,
  );
  return { outcomes, mailer, entry: await store.get(messageName(identity)) };
}

describe('20 concurrent deliveries of one message', () => {
  it.each(SEEDS)('send one reminder; the rest end as duplicate or in-flight retry (seed %i)', async (seed) => {
    const { outcomes, mailer, entry } = await race(seed, 'reminder');

    expect(mailer.sent).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'sent' && o !== 'duplicate' && o !== 'in-flight retry')).toEqual([]);
    expect(entry).toMatchObject({ status: 'sent', sesMessageId: mailer.sent[0]!.messageId });
  });

  it.each(SEEDS)('send one check-in, holding the day cap once (seed %i)', async (seed) => {
    const { outcomes, mailer, entry } = await race(seed, 'check-in');

    expect(mailer.sent).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'sent' && o !== 'duplicate' && o !== 'in-flight retry')).toEqual([]);
    expect(entry?.status).toBe('sent');
  });

  it('really interleave: across seeds, some deliveries find the claim in flight and others find it settled', async () => {
    const all = (await Promise.all(SEEDS.map((seed) => race(seed, 'reminder')))).flatMap((r) => r.outcomes);

    expect(all).toContain('in-flight retry');
    expect(all).toContain('duplicate');
  });
});
