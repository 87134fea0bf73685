/**
 * The delivery pipeline on its own, with a sender that records what it was told: claim, held
 * claim, build, send, record and settle by failure class.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  LedgerConflictError,
  PermanentError,
  RetryableError,
  SendOutcomeUnknownError,
  SentButUnrecordedError,
  ValidationError,
} from '../../shared/domain/errors.js';
import type { OutgoingEmail } from '../../shared/ports/mailer.js';
import type { ClaimRequest } from '../../shared/ports/store.js';
import { OUTCOME_UNKNOWN } from '../../shared/use-cases/delivery/lease.js';
import { deliver, recordSkip, type Built, type RetryStrategy, type Sender } from '../../shared/use-cases/delivery/pipeline.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';

const NAME = 'rm.s-1.P2D.v1';
const NOW = '2027-01-30T14:00:00.000Z';
const LEASE_MS = 60_000;
const EMAIL: OutgoingEmail = {
  from: 'care@clinic.example',
  to: 'sam@example.com',
  subject: 'Your session',
  html: '<p>Hi</p>',
  text: 'Hi',
  tags: { message: NAME },
};
const claimAt = (now: string): ClaimRequest => ({ name: NAME, kind: 'reminder', clientId: 'c-1', sessionId: 's-1', dueAt: NOW, now });
const later = (ms: number) => new Date(Date.parse(NOW) + ms).toISOString();

let store: MemoryStore;
let mailer: MemoryMailer;
let told: string[];

beforeEach(() => {
  store = new MemoryStore({ now: () => new Date(NOW) });
  mailer = new MemoryMailer();
  told = [];
});

/** A sender that answers with what it was told, as a string. */
function sender(options: { build?: () => Promise<Built<string>>; retry?: Partial<RetryStrategy<string>> } = {}): Sender<string> {
  return {
    build: options.build ?? (async () => ({ email: EMAIL })),
    held: (held) => `held: ${held.state}${held.state === 'settled' ? ` ${held.status}` : ''}`,
    sent: (messageId) => `sent ${messageId}`,
    failureReason: (error) => `reason: ${(error as Error).name}`,
    failed: (reason, _error, gaveUp) => `failed (${gaveUp ? 'gave up' : 'refused'}): ${reason}`,
    settledElsewhere: (existing) => `settled elsewhere: ${existing}`,
    retry: {
      retry: async (error) => `retry after ${(error as Error).name}`,
      keep: async (error) => `kept after ${(error as Error).name}`,
      ...options.retry,
    },
  };
}

const run = (s: Sender<string>, now = NOW) =>
  deliver({
    ledger: store,
    mailer,
    claim: claimAt(now),
    leaseMs: LEASE_MS,
    log: { warn: (m) => told.push(m), error: (m) => told.push(m) },
    ids: { messageName: NAME },
    sender: s,
  });

describe('the pipeline sends once', () => {
  it('claims, builds, sends and records the SES id', async () => {
    const outcome = await run(sender());

    expect(outcome).toBe('sent mem-1');
    expect(mailer.sent).toHaveLength(1);
    expect(await store.get(NAME)).toMatchObject({ status: 'sent', sesMessageId: 'mem-1' });
  });

  it('hands a second delivery the settled claim, and sends nothing', async () => {
    await run(sender());

    const again = await run(sender(), later(1_000));

    expect(again).toBe('held: settled sent');
    expect(mailer.sent).toHaveLength(1);
  });

  it('leaves a claim within the lease to the attempt holding it', async () => {
    await store.claim(claimAt(NOW));

    expect(await run(sender(), later(LEASE_MS - 1))).toBe('held: in-flight');
    expect(await store.get(NAME)).toMatchObject({ status: 'claimed' });
  });

  it('marks a claim older than the lease "outcome unknown", never resending it', async () => {
    await store.claim(claimAt(NOW));

    expect(await run(sender(), later(LEASE_MS))).toBe('held: outcome-unknown');
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
    expect(mailer.sent).toEqual([]);
  });

  it('returns what the build settled the claim with, sending nothing', async () => {
    const outcome = await run(
      sender({
        build: async () => {
          await store.settleSkipped(NAME, 'nothing new', NOW);
          return { settled: 'skipped' };
        },
      }),
    );

    expect(outcome).toBe('skipped');
    expect(mailer.sent).toEqual([]);
    expect(await store.get(NAME)).toMatchObject({ status: 'skipped', reason: 'nothing new' });
  });
});

describe('the pipeline settles a failure by its class', () => {
  it('marks a refusal failed with the sender’s reason', async () => {
    mailer.failNext(new PermanentError('SES refused the email', 'MessageRejected'));

    expect(await run(sender())).toBe('failed (refused): reason: PermanentError');
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: 'reason: PermanentError' });
  });

  it('marks a message whose data is invalid failed, without a retry', async () => {
    const outcome = await run(
      sender({
        build: async () => {
          throw new ValidationError('session', [{ path: 'start', reason: 'bad' }]);
        },
      }),
    );

    expect(outcome).toBe('failed (refused): reason: ValidationError');
    expect(await store.get(NAME)).toMatchObject({ status: 'failed' });
  });

  it('releases the claim on a retryable error and lets the strategy arrange the retry', async () => {
    mailer.failNext(new RetryableError('SES is throttling'));

    expect(await run(sender())).toBe('retry after RetryableError');
    expect(await store.get(NAME)).toMatchObject({ status: 'released' });
  });

  it('marks the message failed, claim not released, when the strategy gives up', async () => {
    mailer.failNext(new RetryableError('SES is throttling'));

    const outcome = await run(sender({ retry: { giveUp: () => 'gave up after 6 retries' } }));

    expect(outcome).toBe('failed (gave up): gave up after 6 retries');
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: 'gave up after 6 retries' });
  });

  it('keeps the claim when SES gave no answer', async () => {
    mailer.failNext(new SendOutcomeUnknownError('SES gave no answer (TimeoutError)'));

    expect(await run(sender())).toBe('kept after SendOutcomeUnknownError');
    expect(await store.get(NAME)).toMatchObject({ status: 'claimed' });
  });

  it('retries an unknown error from the build, and fails one from the mailer, which may have sent the email', async () => {
    const fromBuild = await run(
      sender({
        build: async () => {
          throw new Error('socket hang up');
        },
      }),
    );
    mailer.failNext(new Error('socket hang up'));
    const fromMailer = await run(sender(), later(1_000));

    expect(fromBuild).toBe('retry after Error');
    expect(fromMailer).toBe('failed (refused): reason: Error');
    expect(mailer.sent).toEqual([]);
  });

  it('leaves the outcome another attempt recorded when its own settle loses the race', async () => {
    mailer.failNext(new PermanentError('SES refused the email', 'MessageRejected'));
    store.failNext('markFailed', new LedgerConflictError(NAME, 'failed'));

    expect(await run(sender())).toBe('settled elsewhere: claimed');
  });
});

describe('the pipeline records a send', () => {
  it('keeps the claim as SentButUnrecordedError when the ledger cannot record the send', async () => {
    store.failNext('markSent', new Error('DynamoDB unavailable'));
    let kept: unknown;

    await run(
      sender({
        retry: {
          keep: async (error) => {
            kept = error;
            return 'kept';
          },
        },
      }),
    );

    expect(kept).toBeInstanceOf(SentButUnrecordedError);
    expect((kept as Error).cause).toMatchObject({ message: 'DynamoDB unavailable' });
    expect(await store.get(NAME)).toMatchObject({ status: 'claimed' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('tries the record again as often as the strategy says', async () => {
    store.failNext('markSent', new Error('throttled'));

    expect(await run(sender({ retry: { recordAttempts: 2 } }))).toBe('sent mem-1');
    expect(await store.get(NAME)).toMatchObject({ status: 'sent' });
  });

  it('counts a send as sent when another attempt settled the entry first: the email went, once', async () => {
    store.failNext('markSent', new LedgerConflictError(NAME, 'sent'));

    expect(await run(sender())).toBe('sent mem-1');
    expect(told).toContain('message sent, but the ledger was settled by another attempt');
  });
});

describe('a skip decided before any claim', () => {
  it('is recorded, and leaves a live claim to its attempt', async () => {
    const none = await recordSkip(store, { ...claimAt(NOW), name: 'rm.s-2.P2D.v1' }, 'session cancelled', LEASE_MS);
    await store.claim(claimAt(NOW));
    const live = await recordSkip(store, claimAt(later(1_000)), 'session cancelled', LEASE_MS);

    expect(none).toBeUndefined();
    expect(await store.get('rm.s-2.P2D.v1')).toMatchObject({ status: 'skipped', reason: 'session cancelled' });
    expect(live).toEqual({ state: 'in-flight' });
    expect(await store.get(NAME)).toMatchObject({ status: 'claimed' });
  });

  it('settles a claim older than the lease as "outcome unknown"', async () => {
    await store.claim(claimAt(NOW));

    expect(await recordSkip(store, claimAt(later(LEASE_MS)), 'session cancelled', LEASE_MS)).toEqual({ state: 'outcome-unknown' });
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
  });
});
