import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/reconcile/handler.js';
import { InMemoryMessageScheduler, type SchedulerCall } from '../support/memory-scheduler.js';
import { RetryableError } from '../../shared/domain/errors.js';
import { clientSchema, clinicSchema, planSchema, therapistSchema } from '../../shared/domain/model.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { bookSession, unsubscribe } from '../../shared/use-cases/manage-plans.js';
import { reconcile } from '../../shared/use-cases/reconcile.js';
import { syncSchedules, type SchedulingDeps } from '../../shared/use-cases/sync-schedules.js';
import { MemoryStore } from '../support/memory-store.js';
import { instant } from '../support/instant.js';

// London is on GMT in February, so local and UTC times read the same.
const NOW = '2027-02-01T09:00:00.000Z';
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'hello@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
});

async function clinicWithSam(options: { fault?: (call: SchedulerCall) => Error | undefined; clients?: string[] } = {}) {
  let now = NOW;
  const store = new MemoryStore({ now: () => new Date(now) });
  const scheduler = new InMemoryMessageScheduler(options.fault);
  const deps: SchedulingDeps = { store, ledger: store, scheduler, clinic, clock: { now: () => new Date(now) } };
  await store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' }));
  for (const id of options.clients ?? ['sam']) {
    await store.putClient(clientSchema.parse({ id: `c-${id}`, name: `Client ${id}`, email: `${id}@example.com`, timezone: 'Europe/London' }));
    await store.putPlan(
      planSchema.parse({
        id: `p-${id}`,
        clientId: `c-${id}`,
        therapistId: 't-amy',
        goal: 'general-wellness',
        phases: [{ name: 'maintenance', everyDays: 28 }],
      }),
    );
  }
  /** Books through the writer and lets sync-schedules see it, as the stream would. */
  const book = async (id: string, start: string, client = 'sam') => {
    const after = await bookSession(store, { id, planId: `p-${client}`, start, durationMinutes: 60, location: 'Room 1' });
    await syncSchedules(deps, { type: 'session', after });
    return after;
  };
  const setNow = (instant: string) => {
    now = instant;
  };
  return { store, scheduler, deps, book, setNow };
}

describe('reconcile heals the look-ahead window', () => {
  it('recreates a schedule that went missing, and touches nothing else', async () => {
    const { scheduler, deps, book } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    const original = scheduler.schedules.get('rm.s-1.P2D.v1');
    scheduler.schedules.delete('rm.s-1.P2D.v1');
    scheduler.calls.length = 0;

    const counts = await reconcile(deps);

    expect(scheduler.schedules.get('rm.s-1.P2D.v1')).toEqual(original);
    expect(counts).toMatchObject({ healed: 1, failed: 0 });
    expect(scheduler.calls.filter((c) => c.operation !== 'list')).toEqual([{ operation: 'upsert', name: 'rm.s-1.P2D.v1' }]);
  });

  it('does nothing on a second pass once everything is in place', async () => {
    const { deps, scheduler, book } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    scheduler.schedules.clear();
    await reconcile(deps);

    const second = await reconcile(deps);

    expect(second.healed).toBe(0);
    expect(scheduler.names()).toEqual(['ci.s-1.after.v1', 'rm.s-1.P2D.v1', 'rm.s-1.PT2H.v1']);
  });

  it('sends an overdue reminder now when the ledger shows it never went out', async () => {
    const { scheduler, deps, book, setNow } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    scheduler.schedules.clear();
    // Past the 2-hour reminder's due time (08:00), still 90 minutes before the session.
    setNow('2027-02-03T08:30:00.000Z');

    await reconcile(deps);

    expect(scheduler.schedules.get('rm.s-1.PT2H.v1')?.at).toBe('2027-02-03T08:30:00.000Z');
  });

  it('leaves alone a message the ledger shows was already sent', async () => {
    const { store, scheduler, deps, book, setNow } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    setNow('2027-02-03T08:30:00.000Z');
    // The 2-hour reminder fired at 08:00, went out, and its schedule deleted itself.
    await store.claim({ name: 'rm.s-1.PT2H.v1', kind: 'reminder', clientId: 'c-sam', sessionId: 's-1', now: instant('2027-02-03T08:00:00.000Z') });
    await store.markSent('rm.s-1.PT2H.v1', 'ses-1', instant('2027-02-03T08:00:01.000Z'));
    scheduler.schedules.delete('rm.s-1.PT2H.v1');

    const counts = await reconcile(deps);

    expect(scheduler.schedules.has('rm.s-1.PT2H.v1')).toBe(false);
    expect(counts.healed).toBe(0);
  });

  it('leaves a released message alone while its retry schedule waits, and heals it once none does', async () => {
    const { store, scheduler, deps, book, setNow } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    setNow('2027-02-03T08:01:00.000Z');
    // The 2-hour reminder was throttled at 08:00: dispatch released it and scheduled its own retry.
    await store.claim({ name: 'rm.s-1.PT2H.v1', kind: 'reminder', clientId: 'c-sam', sessionId: 's-1', now: instant('2027-02-03T08:00:00.000Z') });
    await store.release('rm.s-1.PT2H.v1');
    const original = scheduler.schedules.get('rm.s-1.PT2H.v1')!;
    scheduler.schedules.delete('rm.s-1.PT2H.v1');
    await scheduler.upsert({ ...original, name: 'rm.s-1.PT2H.v1.r2', at: instant('2027-02-03T08:02:00.000Z') });

    const whileRetrying = await reconcile(deps);
    const retryGone = scheduler.schedules.delete('rm.s-1.PT2H.v1.r2');
    const afterwards = await reconcile(deps);

    expect(whileRetrying.healed).toBe(0);
    expect(retryGone).toBe(true);
    expect(afterwards.healed).toBe(1);
    expect(scheduler.schedules.has('rm.s-1.PT2H.v1')).toBe(true);
  });

  it('deletes a schedule left behind for an older version of a moved session', async () => {
    const { store, scheduler, deps, book } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    const stale = scheduler.schedules.get('rm.s-1.PT2H.v1')!;
    const moved = await store.saveSession({ ...(await store.findSession('s-1'))!, start: instant('2027-02-03T15:00:00.000Z'), version: 2 });
    await syncSchedules(deps, { type: 'session', after: moved });
    await scheduler.upsert(stale);

    await reconcile(deps);

    expect(scheduler.names().filter((n) => n.startsWith('rm.s-1.'))).toEqual(['rm.s-1.P2D.v2', 'rm.s-1.PT2H.v2']);
  });

  it('reads only the window: a session next month is not examined', async () => {
    const { deps, book } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    await book('s-2', '2027-03-03T10:00:00Z');

    const counts = await reconcile(deps, { lookAheadHours: 72 });

    expect(counts.checked).toBe(1);
  });

  it('keeps going past a subject that fails, and reports it', async () => {
    const throttle = (call: SchedulerCall) => (call.operation === 'list' && call.name.includes('s-1.') ? new RetryableError('throttled') : undefined);
    const { scheduler, deps, book } = await clinicWithSam({ fault: throttle, clients: ['sam', 'kim'] });
    await book('s-1', '2027-02-03T10:00:00Z');
    await book('s-2', '2027-02-03T11:00:00Z', 'kim');
    scheduler.schedules.clear();

    const counts = await reconcile(deps);

    expect(counts.failed).toBe(1);
    expect(scheduler.names()).toEqual(['ci.s-2.after.v1', 'rm.s-2.P2D.v1', 'rm.s-2.PT2H.v1']);
  });
});

/** The maintenance nudges among the schedules. */
function nudges(scheduler: InMemoryMessageScheduler): string[] {
  return scheduler.names().filter((name) => name.startsWith('mn.'));
}

describe('reconcile and maintenance', () => {
  /** Sam's last session was 4 January; maintenance every 28 days makes him due on 1 February at 10:00. */
  async function samDueOnFirstFebruary() {
    const world = await clinicWithSam();
    world.setNow('2027-01-04T12:00:00.000Z');
    await world.book('s-0', '2027-01-04T10:00:00Z');
    world.setNow('2027-02-01T11:00:00.000Z');
    return world;
  }

  it('nudges a plan whose maintenance is due exactly once, however often it runs', async () => {
    const { scheduler, deps, store } = await samDueOnFirstFebruary();

    const runs = [await reconcile(deps), await reconcile(deps), await reconcile(deps)];

    expect(runs.map((r) => r.nudged)).toEqual([1, 0, 0]);
    expect(nudges(scheduler)).toEqual(['mn.p-sam.20270201.v1']);
    expect(scheduler.schedules.get('mn.p-sam.20270201.v1')?.payload).toEqual({
      message: { kind: 'maintenance-nudge', subjectId: 'p-sam', offset: '20270201', version: 1 },
      clientId: 'c-sam',
      planId: 'p-sam',
      therapistId: 't-amy',
    });
    const plan = (await store.findPlan('p-sam'))!;
    expect(plan.maintenanceMark).toMatchObject({ state: 'due', dueAt: '2027-02-01T10:00:00.000Z', lapsedAt: '2027-02-15T10:00:00.000Z' });
    expect(plan.maintenanceActionAt).toBe('2027-02-15T10:00:00.000Z');
  });

  it('holds a nudge that falls in quiet hours until they end', async () => {
    const { scheduler, deps, setNow } = await samDueOnFirstFebruary();
    setNow('2027-02-01T22:00:00.000Z');

    await reconcile(deps);

    expect(scheduler.schedules.get('mn.p-sam.20270201.v1')?.at).toBe('2027-02-02T08:00:00.000Z');
  });

  it('marks the plan lapsed once the grace period is over, and stops looking at it', async () => {
    const { store, scheduler, deps, setNow } = await samDueOnFirstFebruary();
    await reconcile(deps);
    setNow('2027-02-15T10:00:00.000Z');

    const counts = await reconcile(deps);
    const later = await reconcile(deps);

    const plan = (await store.findPlan('p-sam'))!;
    expect(counts.lapsed).toBe(1);
    expect(later.lapsed).toBe(0);
    expect(plan.maintenanceMark?.state).toBe('lapsed');
    expect(plan.maintenanceActionAt).toBeUndefined();
    expect(nudges(scheduler)).toEqual(['mn.p-sam.20270201.v1']);
  });

  it('marks a client who unsubscribed from maintenance as due without nudging', async () => {
    const { store, scheduler, deps } = await samDueOnFirstFebruary();
    await unsubscribe(store, 'c-sam', 'maintenance');

    const counts = await reconcile(deps);

    expect(counts.nudged).toBe(0);
    expect(nudges(scheduler)).toEqual([]);
    expect((await store.findPlan('p-sam'))!.maintenanceMark?.state).toBe('due');
  });
});

const HOUR_MS = 3_600_000;

type World = Awaited<ReturnType<typeof clinicWithSam>>;

/**
 * Runs reconcile on the hour from `from` to `to` (inclusive), as its recurring schedule does, with
 * nothing else written. Reports the passes that nudged or marked a plan lapsed, and any pass after
 * which Sam's plan was left with an action time at or before that pass (it would be stranded).
 */
async function hourlyPasses(world: World, from: string, to: string) {
  const nudgedAt: string[] = [];
  const lapsedAt: string[] = [];
  const stranded: string[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += HOUR_MS) {
    const now = new Date(t).toISOString();
    world.setNow(now);
    const counts = await reconcile(world.deps);
    if (counts.nudged > 0) nudgedAt.push(now);
    if (counts.lapsed > 0) lapsedAt.push(now);
    const next = (await world.store.findPlan('p-sam'))!.maintenanceActionAt;
    if (next !== undefined && next <= now) stranded.push(now);
  }
  return { nudgedAt, lapsedAt, stranded };
}

describe('reconcile and a booked session that simply ends', () => {
  // Nothing is written after the booking: nobody marks the session completed.
  it('nudges once at 10:00 on the due date, then marks the plan lapsed after the grace period', async () => {
    const world = await clinicWithSam();
    await world.book('s-1', '2027-02-03T10:00:00Z');

    const passes = await hourlyPasses(world, '2027-02-01T10:00:00.000Z', '2027-03-20T10:00:00.000Z');

    // 3 February + 28 days = 3 March, 10:00 in London; lapsed 14 days later.
    expect(passes.nudgedAt).toEqual(['2027-03-03T10:00:00.000Z']);
    expect(nudges(world.scheduler)).toEqual(['mn.p-sam.20270303.v1']);
    expect(world.scheduler.schedules.get('mn.p-sam.20270303.v1')?.at).toBe('2027-03-03T10:00:00.000Z');
    expect(passes.lapsedAt).toEqual(['2027-03-17T10:00:00.000Z']);
    const plan = (await world.store.findPlan('p-sam'))!;
    expect(plan.maintenanceMark).toMatchObject({ state: 'lapsed', dueAt: '2027-03-03T10:00:00.000Z' });
    expect(plan.maintenanceActionAt).toBeUndefined();
    expect(passes.stranded).toEqual([]);
  });

  it('does not nudge a client who books the next session before the due date', async () => {
    const world = await clinicWithSam();
    await world.book('s-1', '2027-02-03T10:00:00Z');
    const beforeBooking = await hourlyPasses(world, '2027-02-01T10:00:00.000Z', '2027-02-20T10:00:00.000Z');

    await world.book('s-2', '2027-03-10T10:00:00Z');
    const afterBooking = await hourlyPasses(world, '2027-02-20T11:00:00.000Z', '2027-03-20T10:00:00.000Z');

    expect([...beforeBooking.nudgedAt, ...afterBooking.nudgedAt, ...afterBooking.lapsedAt]).toEqual([]);
    expect(nudges(world.scheduler)).toEqual([]);
    const plan = (await world.store.findPlan('p-sam'))!;
    expect(plan.maintenanceMark).toBeUndefined();
    // Due again 28 days after s-2 (10 March): 7 April, 10:00 British Summer Time.
    expect(plan.maintenanceActionAt).toBe('2027-04-07T09:00:00.000Z');
    expect([...beforeBooking.stranded, ...afterBooking.stranded]).toEqual([]);
  });

  it('looks at the plan again when the next booked session ends, while another is still booked', async () => {
    const world = await clinicWithSam();
    await world.book('s-1', '2027-02-03T10:00:00Z');
    await world.book('s-2', '2027-02-17T10:00:00Z');
    world.setNow('2027-02-03T11:00:00.000Z');

    const counts = await reconcile(world.deps);

    expect(counts.nudged).toBe(0);
    expect((await world.store.findPlan('p-sam'))!.maintenanceActionAt).toBe('2027-02-17T11:00:00.000Z');
  });

  it('marks a plan imported with only year-old history lapsed at the next pass, without a nudge', async () => {
    const world = await clinicWithSam();
    await world.book('s-0', '2026-01-04T10:00:00Z');

    const counts = await reconcile(world.deps);

    const plan = (await world.store.findPlan('p-sam'))!;
    expect(counts).toMatchObject({ nudged: 0, lapsed: 1 });
    expect(plan.maintenanceMark).toMatchObject({ state: 'lapsed', dueAt: '2026-02-01T10:00:00.000Z' });
    expect(plan.maintenanceActionAt).toBeUndefined();
    expect(nudges(world.scheduler)).toEqual([]);
  });
});

describe('the reconcile handler', () => {
  const quietLogger = () => new Logger({ serviceName: 'reconcile-test', logLevel: 'SILENT' });

  it('runs one pass at a time: a second invocation joins the running one', async () => {
    const { store, scheduler, deps, book } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    scheduler.calls.length = 0;
    const handler = createHandler({ ...deps, logger: quietLogger() });

    const [first, second] = await Promise.all([handler({}), handler({})]);

    expect(second).toEqual(first);
    expect(store.calls.sessionsStartingBetween).toBe(1);
  });

  it('takes the window from the schedule input', async () => {
    const { deps, book } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    await book('s-2', '2027-02-09T10:00:00Z');
    const handler = createHandler({ ...deps, logger: quietLogger() });

    const counts = await handler({ scheduledTime: '2027-02-01T09:00:00Z', lookAheadHours: 24 * 10 });

    expect(counts.checked).toBe(2);
  });

  it('refuses a window that is not a whole number of hours, naming the field', async () => {
    const { deps } = await clinicWithSam();
    const handler = createHandler({ ...deps, logger: quietLogger() });

    const attempt = handler({ lookAheadHours: 'a week' });

    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow(/lookAheadHours/);
  });

  it('fails the invocation when a subject failed, so the Scheduler runs it again', async () => {
    const throttle = (call: SchedulerCall) => (call.operation === 'list' ? new RetryableError('throttled') : undefined);
    const { deps, book } = await clinicWithSam({ fault: throttle });
    await book('s-1', '2027-02-03T10:00:00Z');
    const handler = createHandler({ ...deps, logger: quietLogger() });

    await expect(handler({})).rejects.toBeInstanceOf(RetryableError);
  });
});
