/**
 * Adjusting a plan (the summary email's page and the CLI share adjustPlan) on the in-memory fakes:
 * what each action writes, its history entry, what it refuses, and that the schedules follow
 * through sync-schedules exactly as for any other plan write.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { allowedActions, applyAdjustment, maintenancePhaseIndex, planChangeWords } from '../../shared/domain/plan-change.js';
import { clinicSchema } from '../../shared/domain/model.js';
import type { PlanChangeResult } from '../../shared/ports/store.js';
import { adjustPlan, planHistory } from '../../shared/use-cases/manage-plans.js';
import { syncSchedules, type SchedulingDeps } from '../../shared/use-cases/sync-schedules.js';
import { MemoryStore } from '../support/memory-store.js';
import { seedClinic } from '../support/memory-clinic.js';

const NOW = new Date('2027-01-28T09:00:00.000Z');

async function practice() {
  const store = new MemoryStore({ now: () => NOW });
  // Sessions on 18 and 25 January have happened; the one on 1 February is booked.
  const seeded = await seedClinic(store);
  const adjust = (adjustment: unknown, extra: { therapistId?: string; changeId?: string; by?: string; now?: Date } = {}) =>
    adjustPlan(store, { planId: seeded.plan.id, adjustment, by: extra.by ?? 't-jo', via: 'email-link', now: NOW, ...extra });
  return { store, seeded, adjust };
}

describe('adjustPlan', () => {
  it('changes the maintenance interval, keeps the rest of the plan, and records who, when, why and what it was', async () => {
    const { store, seeded, adjust } = await practice();

    const result = await adjust({ action: 'interval', days: 21, note: 'Flare-ups between sessions' }, { changeId: 'link-1' });

    expect(result).toMatchObject({
      status: 'adjusted',
      plan: {
        status: 'active',
        phases: [
          { name: 'initial', sessions: 6, everyDays: 7 },
          { name: 'maintenance', everyDays: 21 },
        ],
      },
    });
    const { changes } = await planHistory(store, seeded.plan.id);
    expect(changes).toEqual([
      {
        id: 'link-1',
        planId: seeded.plan.id,
        clientId: seeded.client.id,
        therapistId: 't-jo',
        action: 'interval',
        before: { status: 'active', maintenanceEveryDays: 28 },
        after: { status: 'active', maintenanceEveryDays: 21 },
        by: 't-jo',
        via: 'email-link',
        note: 'Flare-ups between sessions',
        at: NOW.toISOString(),
      },
    ]);
    expect(planChangeWords(changes[0]!)).toBe('maintenance interval 28 → 21 days');
  });

  it.each([
    ['pause', 'active', 'paused'],
    ['complete', 'active', 'completed'],
  ] as const)('%ss an active plan', async (action, from, to) => {
    const { store, seeded, adjust } = await practice();

    const result = await adjust({ action });

    expect(result).toMatchObject({ status: 'adjusted', change: { action, before: { status: from }, after: { status: to } } });
    expect((await store.findPlan(seeded.plan.id))?.status).toBe(to);
    expect((await planHistory(store, seeded.plan.id)).changes[0]).not.toHaveProperty('note');
  });

  it('resumes a paused plan, each change its own history entry in order', async () => {
    const { store, seeded, adjust } = await practice();

    await adjust({ action: 'pause', note: 'Away for a month' });
    const resumed = await adjust({ action: 'resume' }, { now: new Date(NOW.getTime() + 60_000) });

    expect(resumed).toMatchObject({ status: 'adjusted', plan: { status: 'active' } });
    expect((await planHistory(store, seeded.plan.id)).changes.map((c) => c.action)).toEqual(['pause', 'resume']);
  });

  it('writes nothing for a change the plan already has, and refuses one its state does not allow', async () => {
    const { store, seeded, adjust } = await practice();

    const same = await adjust({ action: 'interval', days: 28 });
    await adjust({ action: 'complete' });
    const pauseCompleted = await adjust({ action: 'pause' });
    const intervalCompleted = await adjust({ action: 'interval', days: 14 });

    expect(same).toMatchObject({ status: 'unchanged', reason: 'the maintenance interval is already 28 days' });
    expect(pauseCompleted).toMatchObject({ status: 'refused', reason: 'a completed plan cannot be paused' });
    expect(intervalCompleted).toMatchObject({ status: 'refused', reason: 'a completed plan has no maintenance interval to change; resume it first' });
    expect((await planHistory(store, seeded.plan.id)).changes.map((c) => c.action)).toEqual(['complete']);
  });

  it('reports every bad field by path and reason, writing nothing', async () => {
    const { store, seeded, adjust } = await practice();

    const unknown = await adjust({ action: 'delete' });
    const noDays = await adjust({ action: 'interval' });
    const badDays = await adjust({ action: 'interval', days: 400, note: 'two\nlines' });

    expect(unknown).toEqual({ status: 'invalid', issues: [{ path: 'action', reason: 'choose what to change: the interval, pause, resume or complete' }] });
    expect(noDays).toEqual({ status: 'invalid', issues: [{ path: 'days', reason: 'enter the new interval in days' }] });
    expect(badDays).toEqual({
      status: 'invalid',
      issues: [
        { path: 'days', reason: 'the interval must be at most 365 days' },
        { path: 'note', reason: 'the note must be one line, without line breaks' },
      ],
    });
    expect(store.calls.recordPlanChange ?? 0).toBe(0);
    expect((await store.findPlan(seeded.plan.id))?.phases[1]?.everyDays).toBe(28);
  });

  it("treats another therapist's plan as missing", async () => {
    const { store, seeded, adjust } = await practice();

    await expect(adjust({ action: 'pause' }, { therapistId: 't-other' })).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.findPlan(seeded.plan.id))?.status).toBe('active');
  });

  it('acts once per change id: the same link confirmed twice changes the plan once', async () => {
    const { store, seeded, adjust } = await practice();

    const [first, second] = await Promise.all([
      adjust({ action: 'interval', days: 21 }, { changeId: 'link-1' }),
      adjust({ action: 'interval', days: 21 }, { changeId: 'link-1' }),
    ]);
    const later = await adjust({ action: 'pause' }, { changeId: 'link-1' });

    expect([first.status, second.status].sort()).toEqual(['adjusted', 'already-done']);
    expect(later).toEqual({ status: 'already-done' });
    expect((await planHistory(store, seeded.plan.id)).changes).toHaveLength(1);
  });

  it('decides again from fresh state when another write moved the plan in between', async () => {
    const { store, seeded, adjust } = await practice();
    const record = store.recordPlanChange.bind(store);
    let raced = false;
    store.recordPlanChange = async (change, phaseIndex): Promise<PlanChangeResult> => {
      if (!raced) {
        raced = true;
        // An operator pauses the plan between the page's read and its write.
        await record({ ...change, id: 'cli-1', action: 'pause', after: { ...change.before, status: 'paused' } }, phaseIndex);
      }
      return record(change, phaseIndex);
    };

    const result = await adjust({ action: 'interval', days: 21 });

    expect(result).toMatchObject({
      status: 'adjusted',
      change: { before: { status: 'paused', maintenanceEveryDays: 28 }, after: { status: 'paused', maintenanceEveryDays: 21 } },
    });
    expect((await planHistory(store, seeded.plan.id)).changes.map((c) => c.action).sort()).toEqual(['interval', 'pause']);
  });
});

describe('the schedules after an adjustment', () => {
  const clinic = clinicSchema.parse({ name: 'Calm & Co', senderEmail: 'hello@calm.test', timezone: 'Europe/London', baseUrl: 'https://calm.test' });

  it('follow through sync-schedules: a pause removes the booked session’s messages, a new interval moves maintenance', async () => {
    const { store, seeded, adjust } = await practice();
    const scheduler = new InMemoryMessageScheduler();
    const deps: SchedulingDeps = { store, ledger: store, scheduler, clinic, clock: { now: () => NOW } };
    const asStreamed = async (write: () => Promise<unknown>) => {
      const before = await store.findPlan(seeded.plan.id);
      await write();
      const after = await store.findPlan(seeded.plan.id);
      await syncSchedules(deps, { type: 'plan', ...(before ? { before } : {}), ...(after ? { after } : {}) });
    };
    const booked = seeded.sessions[2]!;
    await syncSchedules(deps, { type: 'session', after: booked });
    const scheduled = [...scheduler.schedules.keys()].filter((name) => name.includes(booked.id));

    await asStreamed(() => adjust({ action: 'pause' }));
    const whilePaused = [...scheduler.schedules.keys()].filter((name) => name.includes(booked.id));
    const skipped = store
      .ledgerEntries()
      .filter((e) => e.sessionId === booked.id)
      .map((e) => [e.name, e.reason]);
    await asStreamed(() => adjust({ action: 'resume' }));

    // The booking's confirmation is about the booking, which a pause does not cancel: its schedule
    // stays (dispatch skips it while the plan is paused); the plan's own messages go and come back.
    const isBookingEmail = (name: string) => name.startsWith('bc.');
    expect(scheduled.filter((name) => !isBookingEmail(name)).length).toBeGreaterThan(0);
    expect(whilePaused).toEqual(scheduled.filter(isBookingEmail));
    expect([...scheduler.schedules.keys()].filter((name) => name.includes(booked.id)).sort()).toEqual([...scheduled].sort());
    expect(skipped.sort()).toEqual(
      scheduled
        .filter((name) => !isBookingEmail(name))
        .map((name) => [name, 'plan paused'])
        .sort(),
    );
  });

  it('look at maintenance again at the new due date after an interval change', async () => {
    const store = new MemoryStore({ now: () => NOW });
    // One maintenance session on 4 January, nothing booked: due 1 February at 10:00, every 28 days.
    const seeded = await seedClinic(store, { plan: { phases: [{ name: 'maintenance', everyDays: 28 }] }, starts: ['2027-01-04T10:00:00.000Z'] });
    const deps: SchedulingDeps = { store, ledger: store, scheduler: new InMemoryMessageScheduler(), clinic, clock: { now: () => NOW } };
    await syncSchedules(deps, { type: 'session', after: seeded.sessions[0]! });
    const dueBefore = (await store.findPlan(seeded.plan.id))?.maintenanceActionAt;

    const before = await store.findPlan(seeded.plan.id);
    await adjustPlan(store, { planId: seeded.plan.id, adjustment: { action: 'interval', days: 35 }, by: 'operator', via: 'cli', now: NOW });
    const after = await store.findPlan(seeded.plan.id);
    await syncSchedules(deps, { type: 'plan', before: before!, after: after! });

    expect(dueBefore).toBe('2027-02-01T10:00:00.000Z');
    expect((await store.findPlan(seeded.plan.id))?.maintenanceActionAt).toBe('2027-02-08T10:00:00.000Z');
  });
});

describe('the plan-change rules', () => {
  it('take the phase named maintenance, else the last, as the maintenance interval', () => {
    expect(
      maintenancePhaseIndex({
        phases: [
          { name: 'initial', sessions: 6, everyDays: 7 },
          { name: 'Maintenance', everyDays: 28 },
          { name: 'tail', everyDays: 60 },
        ],
      }),
    ).toBe(1);
    expect(
      maintenancePhaseIndex({
        phases: [
          { name: 'initial', sessions: 6, everyDays: 7 },
          { name: 'follow-up', everyDays: 42 },
        ],
      }),
    ).toBe(1);
  });

  it('offer only the actions that change the plan in its state', () => {
    expect(allowedActions({ status: 'active', maintenanceEveryDays: 28 })).toEqual(['interval', 'pause', 'complete']);
    expect(allowedActions({ status: 'paused', maintenanceEveryDays: 28 })).toEqual(['interval', 'resume', 'complete']);
    expect(allowedActions({ status: 'completed', maintenanceEveryDays: 28 })).toEqual(['resume']);
    for (const status of ['active', 'paused', 'completed'] as const) {
      for (const action of allowedActions({ status, maintenanceEveryDays: 28 })) {
        expect(applyAdjustment({ status, maintenanceEveryDays: 28 }, { action, days: 14, note: undefined })).toHaveProperty('after');
      }
    }
  });
});
