/** The import writer: several records at once, one plan's sessions in order, and a stop that reports what the table holds. */
import { describe, expect, it } from 'vitest';
import { ImportInterruptedError } from '../../shared/domain/errors.js';
import { clientSchema, planSchema, sessionSchema, therapistSchema, type Session } from '../../shared/domain/model.js';
import type { Dataset } from '../../shared/domain/dataset.js';
import { WRITE_CONCURRENCY, writeDataset } from '../../shared/use-cases/import/write.js';
import { MemoryStore } from '../support/memory-store.js';

// More clients than writes in flight, each with two plans.
const CLIENTS = WRITE_CONCURRENCY + 2;
const PLANS_PER_CLIENT = 2;
const SESSIONS_PER_PLAN = 3;
const PLANS = CLIENTS * PLANS_PER_CLIENT;
const clientOf = (planId: string) => planId.replace(/^p-(\d+)-\d+$/, 'c-$1');

function dataset(): Dataset {
  const therapists = [therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' })];
  const clients = Array.from({ length: CLIENTS }, (_, i) =>
    clientSchema.parse({ id: `c-${i}`, name: `Client ${i}`, email: `client${i}@example.com`, timezone: 'Europe/London' }),
  );
  const plans = clients.flatMap((c, i) =>
    Array.from({ length: PLANS_PER_CLIENT }, (_, j) =>
      planSchema.parse({ id: `p-${i}-${j}`, clientId: c.id, therapistId: 't-amy', goal: 'back-pain', phases: [{ name: 'maintenance', everyDays: 7 }] }),
    ),
  );
  // Interleaved by plan, as a file sorted by date would be.
  const sessions: Session[] = [];
  for (let week = 0; week < SESSIONS_PER_PLAN; week++) {
    for (const [n, plan] of plans.entries()) {
      const start = new Date(Date.UTC(2027, 2, 1 + week * 7, 8 + (n % PLANS_PER_CLIENT) * 2)).toISOString();
      sessions.push(sessionSchema.parse({ id: `s-${plan.id.slice(2)}-${week}`, planId: plan.id, start, durationMinutes: 60, location: 'Room 1' }));
    }
  }
  return { therapists, clients, plans, sessions };
}

/** A store whose session writes wait a macrotask turn, recording what was in flight. */
class WatchedStore extends MemoryStore {
  inFlight = new Set<string>();
  most = 0;
  overlapWithinClient = false;
  order: string[] = [];
  failOn?: string;
  failed = false;
  startedAfterFailure = false;

  override async saveSession(session: Session) {
    if (this.failed) this.startedAfterFailure = true;
    const client = clientOf(session.planId);
    if ([...this.inFlight].some((id) => id.startsWith(`${client}:`))) this.overlapWithinClient = true;
    const key = `${client}:${session.id}`;
    this.inFlight.add(key);
    this.most = Math.max(this.most, this.inFlight.size);
    try {
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
      if (session.id === this.failOn) {
        this.failed = true;
        throw new Error('the table refused the write');
      }
      const saved = await super.saveSession(session);
      this.order.push(session.id);
      return saved;
    } finally {
      this.inFlight.delete(key);
    }
  }
}

describe('the import writer', () => {
  it("writes several clients' sessions at once, at most WRITE_CONCURRENCY, and each client's in file order, one at a time", async () => {
    const store = new WatchedStore();

    const counts = await writeDataset(store, dataset(), { existing: 'refuse' });

    expect(counts).toEqual({ therapists: 1, clients: CLIENTS, plans: PLANS, sessions: PLANS * SESSIONS_PER_PLAN });
    expect(store.most).toBe(WRITE_CONCURRENCY);
    expect(store.overlapWithinClient).toBe(false);
    const ids = dataset().sessions.map((s) => s.id);
    for (let i = 0; i < CLIENTS; i++) {
      expect(store.order.filter((id) => id.startsWith(`s-${i}-`))).toEqual(ids.filter((id) => id.startsWith(`s-${i}-`)));
      const bundle = await store.getClientBundle(`c-${i}`);
      for (let j = 0; j < PLANS_PER_CLIENT; j++) {
        expect(bundle?.sessions.filter((s) => s.planId === `p-${i}-${j}`).map((s) => s.number)).toEqual([1, 2, 3]);
      }
    }
  });

  it('starts no write after one fails, and throws that failure once the writes in flight have finished', async () => {
    const store = new WatchedStore();
    store.failOn = 's-1-0-2';

    await expect(writeDataset(store, dataset(), { existing: 'refuse' })).rejects.toThrow('the table refused the write');

    expect(store.inFlight.size).toBe(0);
    expect(store.startedAfterFailure).toBe(false);
    expect(store.order.filter((id) => id.startsWith('s-1-'))).toEqual(['s-1-0-0', 's-1-1-0', 's-1-0-1', 's-1-1-1']);
  });

  it('stops at the signal between writes and says how many records the table holds', async () => {
    const store = new WatchedStore();
    const stop = new AbortController();
    let progress = 0;

    const run = writeDataset(store, dataset(), {
      existing: 'refuse',
      signal: stop.signal,
      onProgress: (done) => {
        progress = done;
        if (done === 1 + CLIENTS + PLANS + 5) stop.abort();
      },
    });

    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportInterruptedError);
    expect(store.inFlight.size).toBe(0);
    expect((error as ImportInterruptedError).written).toBe(progress);
    expect((error as ImportInterruptedError).written).toBe(1 + CLIENTS + PLANS + store.order.length);
    expect(store.order.length).toBeLessThan(PLANS * SESSIONS_PER_PLAN);
  });
});
