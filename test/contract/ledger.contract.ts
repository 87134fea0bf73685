/**
 * The Ledger and TokenStore contract: what every implementation must do, written once and run
 * against the in-memory fake (test/unit/contracts.test.ts) and the DynamoDB store on DynamoDB Local
 * (test/integration/contracts.test.ts). The states and conditions are the DynamoDB store's: a claim
 * only over nothing, a released entry or a plain skip; markSent and settleSkipped only from claimed;
 * markFailed from claimed or released; a skip never over a claim, a send, a failure or a deferral.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LedgerConflictError } from '../../shared/domain/errors.js';
import type { ClaimRequest, Ledger, TokenStore } from '../../shared/ports/store.js';

/**
 * Makes the implementation under test. `racing`: the concurrency cases ask for one whose calls take
 * time, so concurrent callers interleave (the fake's latency mode; DynamoDB always does).
 */
export type PortFactory<T> = (options: { racing: boolean }) => Promise<T>;

const NOW = '2030-06-01T09:00:00.000Z';
const LATER = '2030-06-01T09:00:05.000Z';
const unique = (label: string) => `ci.s-${label}-${randomUUID().slice(0, 8)}.after.v1`;
const request = (name: string, now = NOW): ClaimRequest => ({
  name,
  kind: 'check-in',
  clientId: 'c-contract',
  planId: 'p-contract',
  sessionId: 's-contract',
  therapistId: 't-contract',
  dueAt: '2030-06-01T08:00:00.000Z',
  now,
});

export function ledgerContract(make: PortFactory<Ledger>): void {
  const ledger = () => make({ racing: false });

  /** An entry brought to a state through the port itself. */
  async function entryIn(l: Ledger, state: 'claimed' | 'released' | 'sent' | 'failed' | 'skipped' | 'deferred', name = unique(state)): Promise<string> {
    if (state === 'skipped') {
      await l.markSkipped(request(name), 'plan paused');
      return name;
    }
    await l.claim(request(name));
    if (state === 'released') await l.release(name);
    if (state === 'sent') await l.markSent(name, `ses-${name}`, LATER);
    if (state === 'failed') await l.markFailed(name, 'rejected', LATER);
    if (state === 'deferred') await l.settleSkipped(name, 'deferred to 2030-06-02T09:00:00.000Z', LATER, '2030-06-02T09:00:00.000Z');
    return name;
  }

  describe('claiming', () => {
    it('claims a name nobody holds, recording who, when and how often', async () => {
      const l = await ledger();
      const name = unique('claim');

      expect(await l.claim(request(name))).toEqual({ claimed: true });
      expect(await l.get(name)).toMatchObject({
        name,
        kind: 'check-in',
        status: 'claimed',
        clientId: 'c-contract',
        sessionId: 's-contract',
        dueAt: '2030-06-01T08:00:00.000Z',
        claimedAt: NOW,
        attempts: 1,
        updatedAt: NOW,
      });
    });

    it('refuses a second claim and hands back the entry standing', async () => {
      const l = await ledger();
      const name = await entryIn(l, 'claimed');

      const second = await l.claim(request(name, LATER));

      expect(second).toMatchObject({ claimed: false, existing: { name, status: 'claimed', claimedAt: NOW } });
    });

    it('hands back the standing entry in full, its delivery event included, when a claim or a skip is refused', async () => {
      const l = await ledger();
      const name = await entryIn(l, 'sent');
      await l.recordDelivery(`ses-${name}`, name, 'Delivery', LATER, 'ok');
      const standing = await l.get(name);

      const claim = await l.claim(request(name, LATER));
      const skip = await l.markSkipped(request(name, LATER), 'plan paused');

      expect(claim).toEqual({ claimed: false, existing: standing });
      expect(skip).toEqual(standing);
      expect(standing?.delivery).toEqual({ event: 'Delivery', at: LATER, detail: 'ok' });
    });

    it('lets a released claim be taken again', async () => {
      const l = await ledger();
      const name = await entryIn(l, 'released');
      expect((await l.get(name))?.status).toBe('released');

      expect(await l.claim(request(name, LATER))).toEqual({ claimed: true });
      expect(await l.get(name)).toMatchObject({ status: 'claimed', claimedAt: LATER });
    });

    it('lets a plain skip be claimed, but not a deferral, a send or a failure', async () => {
      const l = await ledger();
      for (const state of ['skipped'] as const) expect(await l.claim(request(await entryIn(l, state), LATER))).toEqual({ claimed: true });
      for (const state of ['deferred', 'sent', 'failed'] as const) {
        const name = await entryIn(l, state);
        const result = await l.claim(request(name, LATER));
        expect(result.claimed, state).toBe(false);
        expect(result.claimed ? undefined : result.existing.status).toBe(state === 'deferred' ? 'skipped' : state);
      }
      const deferred = await l.claim(request(await entryIn(l, 'deferred'), LATER));
      expect(deferred.claimed ? undefined : deferred.existing.deferredTo).toBe('2030-06-02T09:00:00.000Z');
    });

    it('gives nothing back on a release of an entry that is not claimed, and creates none', async () => {
      const l = await ledger();
      const sent = await entryIn(l, 'sent');
      const missing = unique('missing');

      await l.release(sent);
      await l.release(missing);

      expect((await l.get(sent))?.status).toBe('sent');
      expect(await l.get(missing)).toBeUndefined();
    });
  });

  describe('settling', () => {
    it('records a send with its SES id, from a claim only', async () => {
      const l = await ledger();
      const name = await entryIn(l, 'claimed');

      await l.markSent(name, 'ses-1', LATER);

      expect(await l.get(name)).toMatchObject({ status: 'sent', sesMessageId: 'ses-1', updatedAt: LATER });
      for (const state of ['released', 'sent', 'failed', 'skipped', 'deferred'] as const) {
        await expect(l.markSent(await entryIn(l, state), 'ses-2', LATER), state).rejects.toBeInstanceOf(LedgerConflictError);
      }
      await expect(l.markSent(unique('missing'), 'ses-3', LATER)).rejects.toBeInstanceOf(LedgerConflictError);
    });

    it('records a failure with its reason from a claim or a released claim, and from nothing else', async () => {
      const l = await ledger();
      for (const state of ['claimed', 'released'] as const) {
        const name = await entryIn(l, state);
        await l.markFailed(name, 'x'.repeat(600), LATER);
        expect(await l.get(name)).toMatchObject({ status: 'failed', reason: 'x'.repeat(500) });
      }
      for (const state of ['sent', 'failed', 'skipped', 'deferred'] as const) {
        await expect(l.markFailed(await entryIn(l, state), 'late', LATER), state).rejects.toBeInstanceOf(LedgerConflictError);
      }
      await expect(l.markFailed(unique('missing'), 'late', LATER)).rejects.toBeInstanceOf(LedgerConflictError);
    });

    it('settles a claim as skipped, with the deferral when one owns the send, from a claim only', async () => {
      const l = await ledger();
      const plain = await entryIn(l, 'claimed');
      const deferred = await entryIn(l, 'deferred');

      await l.settleSkipped(plain, 'quiet hours', LATER);

      expect(await l.get(plain)).toMatchObject({ status: 'skipped', reason: 'quiet hours' });
      expect((await l.get(plain))?.deferredTo).toBeUndefined();
      expect(await l.get(deferred)).toMatchObject({ status: 'skipped', deferredTo: '2030-06-02T09:00:00.000Z' });
      for (const state of ['released', 'sent', 'failed', 'skipped', 'deferred'] as const) {
        await expect(l.settleSkipped(await entryIn(l, state), 'again', LATER), state).rejects.toBeInstanceOf(LedgerConflictError);
      }
    });
  });

  describe('skipping without a claim', () => {
    it('creates the skip when there is no entry, with no attempt counted', async () => {
      const l = await ledger();
      const name = unique('skip');

      expect(await l.markSkipped(request(name), 'plan paused')).toBeUndefined();
      expect(await l.get(name)).toMatchObject({ status: 'skipped', reason: 'plan paused', attempts: 0, updatedAt: NOW });
    });

    it('replaces a plain skip or a released claim', async () => {
      const l = await ledger();
      for (const state of ['skipped', 'released'] as const) {
        const name = await entryIn(l, state);
        expect(await l.markSkipped(request(name, LATER), 'unsubscribed from check-ins')).toBeUndefined();
        expect(await l.get(name)).toMatchObject({ status: 'skipped', reason: 'unsubscribed from check-ins' });
      }
    });

    it('never overwrites a live claim, a send, a failure or a deferral, and returns what stands', async () => {
      const l = await ledger();
      for (const state of ['claimed', 'sent', 'failed', 'deferred'] as const) {
        const name = await entryIn(l, state);
        const before = await l.get(name);
        const standing = await l.markSkipped(request(name, LATER), 'plan paused');
        expect(standing, state).toMatchObject({ name, status: before!.status });
        expect(await l.get(name)).toEqual(before);
      }
    });

    it('clears a plain skip, and leaves a deferral, a claim, a send and a failure alone', async () => {
      const l = await ledger();
      const skipped = await entryIn(l, 'skipped');
      await l.clearSkip(skipped);
      expect(await l.get(skipped)).toBeUndefined();
      for (const state of ['deferred', 'claimed', 'sent', 'failed'] as const) {
        const name = await entryIn(l, state);
        const before = await l.get(name);
        await l.clearSkip(name);
        expect(await l.get(name), state).toEqual(before);
      }
      await expect(l.clearSkip(unique('missing'))).resolves.toBeUndefined();
    });
  });

  describe('deliveries', () => {
    it('records a delivery event on the entry whose SES id matches, and on nothing else', async () => {
      const l = await ledger();
      const name = await entryIn(l, 'sent');

      await l.recordDelivery('ses-other', name, 'Bounce', LATER);
      expect((await l.get(name))?.delivery).toBeUndefined();
      await l.recordDelivery(`ses-${name}`, name, 'Delivery', LATER, 'ok');
      expect((await l.get(name))?.delivery).toEqual({ event: 'Delivery', at: LATER, detail: 'ok' });
      const missing = unique('missing');
      await l.recordDelivery(undefined, missing, 'Delivery', LATER);
      expect(await l.get(missing)).toBeUndefined();
    });
  });

  describe('the day cap', () => {
    it('is held by the first message; the same message again keeps it, another is refused', async () => {
      const l = await ledger();
      const client = `c-${randomUUID().slice(0, 8)}`;
      const expires = '2030-06-03T00:00:00.000Z';

      expect(await l.holdDayCap(client, '2030-06-01', 'first', expires)).toBe(true);
      expect(await l.holdDayCap(client, '2030-06-01', 'first', expires)).toBe(true);
      expect(await l.holdDayCap(client, '2030-06-01', 'second', expires)).toBe(false);
      expect(await l.holdDayCap(client, '2030-06-02', 'second', expires)).toBe(true);
      expect(await l.holdDayCap(`${client}-b`, '2030-06-01', 'second', expires)).toBe(true);
    });
  });

  describe('the outbox', () => {
    it('lists settled entries in time order within the window, both ends included, across days; never a claim', async () => {
      const l = await ledger();
      // A day of its own, so entries other cases wrote stay outside the window.
      const day = `2031-0${1 + Math.floor(Math.random() * 9)}-1${Math.floor(Math.random() * 9)}`;
      const at = (time: string) => `${day}T${time}.000Z`;
      const [skipped, sent, failed, claimed, reclaimed, late] = ['skipped', 'sent', 'failed', 'claimed', 'reclaimed', 'late'].map(unique) as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      await l.markSkipped(request(skipped, at('08:00:00')), 'plan paused');
      await l.claim(request(sent, at('08:59:00')));
      await l.markSent(sent, 'ses-1', at('09:00:00'));
      await l.claim(request(failed, at('09:00:00')));
      await l.markFailed(failed, 'rejected', at('23:59:59'));
      await l.claim(request(claimed, at('10:00:00')));
      await l.markSkipped(request(reclaimed, at('10:00:00')), 'plan paused');
      await l.claim(request(reclaimed, at('10:30:00')));
      await l.markSkipped(request(late, at('23:59:59')), 'plan paused');
      const next = new Date(Date.parse(at('00:00:00')) + 86_400_000).toISOString().slice(0, 10);

      const names = async (since: string, until: string) => (await l.listSince(since, until)).map((e) => e.name);

      expect(await names(at('08:00:00'), at('09:00:00'))).toEqual([skipped, sent]);
      expect(await names(at('08:00:01'), at('23:59:59'))).toEqual([sent, ...[failed, late].sort()]);
      expect(await names(at('00:00:00'), `${next}T12:00:00.000Z`)).toEqual([skipped, sent, ...[failed, late].sort()]);
      expect(await names(`${next}T00:00:00.000Z`, `${next}T12:00:00.000Z`)).toEqual([]);
    });
  });

  describe('under concurrency', () => {
    const racing = () => make({ racing: true });

    it('lets exactly one of 20 concurrent claims of one name through', async () => {
      const l = await racing();
      const name = unique('race');

      const results = await Promise.all(Array.from({ length: 20 }, () => l.claim(request(name))));

      expect(results.filter((r) => r.claimed)).toHaveLength(1);
      expect(results.filter((r) => !r.claimed).map((r) => (r.claimed ? '' : r.existing.status))).toEqual(Array(19).fill('claimed'));
    });

    it('gives the day cap to exactly one of 20 concurrent holders', async () => {
      const l = await racing();
      const client = `c-${randomUUID().slice(0, 8)}`;

      const held = await Promise.all(Array.from({ length: 20 }, (_, i) => l.holdDayCap(client, '2030-06-01', `message-${i}`, '2030-06-03T00:00:00.000Z')));

      expect(held.filter(Boolean)).toHaveLength(1);
    });

    it('settles a claim once when a send and a failure race for it', async () => {
      const l = await racing();
      const name = await entryIn(l, 'claimed');

      const results = await Promise.allSettled([l.markSent(name, 'ses-1', LATER), l.markFailed(name, 'late', LATER)]);

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected');
      expect(rejected?.status === 'rejected' ? rejected.reason : undefined).toBeInstanceOf(LedgerConflictError);
      expect(['sent', 'failed']).toContain((await l.get(name))?.status);
    });

    it('keeps a claim that races a skip: the claim is always taken and stands', async () => {
      const l = await racing();
      for (let round = 0; round < 5; round++) {
        const name = unique('skip-race');
        const [claim] = await Promise.all([l.claim(request(name)), l.markSkipped(request(name), 'plan paused')]);
        expect(claim).toEqual({ claimed: true });
        expect((await l.get(name))?.status).toBe('claimed');
      }
    });
  });
}

export function tokenStoreContract(make: PortFactory<TokenStore>): void {
  it('consumes a token once: true, then false', async () => {
    const tokens = await make({ racing: false });
    const id = randomUUID();

    expect(await tokens.consume(id, '2030-06-02T00:00:00.000Z')).toBe(true);
    expect(await tokens.consume(id, '2030-06-02T00:00:00.000Z')).toBe(false);
    expect(await tokens.consume(randomUUID(), '2030-06-02T00:00:00.000Z')).toBe(true);
  });

  it('says a token is spent only once it was consumed', async () => {
    const tokens = await make({ racing: false });
    const id = randomUUID();

    expect(await tokens.isConsumed(id)).toBe(false);
    await tokens.consume(id, '2030-06-02T00:00:00.000Z');
    expect(await tokens.isConsumed(id)).toBe(true);
    expect(await tokens.isConsumed(randomUUID())).toBe(false);
  });

  it("counts a client's actions per window up to the limit, then refuses, each client and window apart", async () => {
    const tokens = await make({ racing: false });
    const client = `c-${randomUUID().slice(0, 8)}`;
    const take = (who: string, window: string) => tokens.takeActionSlot(who, window, 3, '2030-06-02T00:00:00.000Z');

    expect([
      await take(client, '2030-06-01T10'),
      await take(client, '2030-06-01T10'),
      await take(client, '2030-06-01T10'),
      await take(client, '2030-06-01T10'),
    ]).toEqual([true, true, true, false]);
    expect(await take(client, '2030-06-01T11')).toBe(true);
    expect(await take(`${client}-b`, '2030-06-01T10')).toBe(true);
  });

  it('lets exactly the limit of 20 concurrent actions through', async () => {
    const tokens = await make({ racing: true });
    const client = `c-${randomUUID().slice(0, 8)}`;

    const results = await Promise.all(Array.from({ length: 20 }, () => tokens.takeActionSlot(client, '2030-06-01T10', 5, '2030-06-02T00:00:00.000Z')));

    expect(results.filter(Boolean)).toHaveLength(5);
  });

  it('lets exactly one of 20 concurrent consumes of a token through', async () => {
    const tokens = await make({ racing: true });
    const id = randomUUID();

    const results = await Promise.all(Array.from({ length: 20 }, () => tokens.consume(id, '2030-06-02T00:00:00.000Z')));

    expect(results.filter(Boolean)).toHaveLength(1);
  });
}
