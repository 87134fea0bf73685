import { Logger } from '@aws-lambda-powertools/logger';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/sync-schedules/handler.js';
import { atExpression, retryPolicyFor, scheduleInput } from '../../shared/adapters/scheduler/eventbridge.js';
import { InMemoryMessageScheduler, type SchedulerCall } from '../support/memory-scheduler.js';
import { PermanentError, RetryableError } from '../../shared/domain/errors.js';
import { clientSchema, clinicSchema, planSchema, therapistSchema } from '../../shared/domain/model.js';
import { SKIP_REASONS, type MaintenanceStatus } from '../../shared/domain/schedule-rules.js';
import type { MaintenanceMark, StoredSession } from '../../shared/ports/store.js';
import { reconcile } from '../../shared/use-cases/reconcile.js';
import {
  bookSession,
  cancelSession,
  markSession,
  pausePlan,
  rescheduleSession,
  resumePlan,
  suppressAddress,
  unsubscribe,
} from '../../shared/use-cases/manage-plans.js';
import { nextMaintenanceAction } from '../../shared/domain/maintenance.js';
import { diffMessages } from '../../shared/domain/schedule-diff.js';
import { syncSchedules, type OpsLog, type SchedulingDeps } from '../../shared/use-cases/sync-schedules.js';
import { MemoryStore } from '../support/memory-store.js';
import { instant } from '../support/instant.js';
import type { Instant } from '../../shared/domain/time.js';

// London is on GMT in February, so local and UTC times read the same.
const NOW = instant('2027-02-01T09:00:00.000Z');
// Booking emails are off here: these tests are about the time rules; booking-emails.test.ts covers them with the same writers.
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'hello@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
  bookingEmails: { confirmation: false, change: false, cancellation: false },
});

interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

async function clinicWithSam(options: { fault?: (call: SchedulerCall) => Error | undefined } = {}) {
  let now = NOW;
  const store = new MemoryStore({ now: () => new Date(now) });
  const scheduler = new InMemoryMessageScheduler(options.fault);
  const lines: LogLine[] = [];
  const log: OpsLog = {
    info: (message, attributes) => lines.push({ level: 'info', message, attributes }),
    warn: (message, attributes) => lines.push({ level: 'warn', message, attributes }),
    error: (message, attributes) => lines.push({ level: 'error', message, attributes }),
  };
  const deps: SchedulingDeps = { store, ledger: store, scheduler, clinic, clock: { now: () => new Date(now) }, log };
  await store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' }));
  await store.putClient(clientSchema.parse({ id: 'c-sam', name: 'Sam Patel', email: 'sam@example.com', timezone: 'Europe/London' }));
  await store.putPlan(
    planSchema.parse({
      id: 'p-sam',
      clientId: 'c-sam',
      therapistId: 't-amy',
      goal: 'back-pain',
      phases: [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
    }),
  );

  // Sam answered his intake questionnaire: these tests are about the session messages' time rules;
  // the intake's own planning is tested in intake-questionnaire.test.ts.
  await store.recordBaseline({ clientId: 'c-sam', planId: 'p-sam', answers: { pain: 6, mobility: 5, stress: 5, sleep: 6, reason: '' }, at: NOW });

  /** Runs a writer and hands sync-schedules the session's images before and after it, as the stream would. */
  const sessionChange = async (sessionId: string, write: () => Promise<unknown>) => {
    const before = await store.findSession(sessionId);
    await write();
    const after = await store.findSession(sessionId);
    return syncSchedules(deps, { type: 'session', ...(before ? { before } : {}), ...(after ? { after } : {}) });
  };
  const planChange = async (write: () => Promise<unknown>) => {
    const before = await store.findPlan('p-sam');
    await write();
    const after = await store.findPlan('p-sam');
    return syncSchedules(deps, { type: 'plan', ...(before ? { before } : {}), ...(after ? { after } : {}) });
  };
  const clientChange = async (write: () => Promise<unknown>) => {
    const before = await store.getClient('c-sam');
    await write();
    const after = await store.getClient('c-sam');
    return syncSchedules(deps, { type: 'client', ...(before ? { before } : {}), ...(after ? { after } : {}) });
  };
  const book = (id: string, start: string) =>
    sessionChange(id, () => bookSession(store, { id, planId: 'p-sam', start, durationMinutes: 60, location: 'Room 1' }));
  const setNow = (at: string) => {
    now = instant(at);
  };
  return { store, scheduler, deps, lines, sessionChange, planChange, clientChange, book, setNow };
}

/** name → due time, for compact assertions. */
function timetable(scheduler: InMemoryMessageScheduler): Record<string, string> {
  return Object.fromEntries([...scheduler.schedules.values()].map((s) => [s.name, s.at]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

const BOOKED_TIMETABLE = {
  'ci.s-1.after.v1': '2027-02-11T11:00:00.000Z',
  'rm.s-1.P2D.v1': '2027-02-08T10:00:00.000Z',
  'rm.s-1.PT2H.v1': '2027-02-10T08:00:00.000Z',
};

describe('sync-schedules for a session', () => {
  it('gives a new booking its two reminders and its check-in, at their due times', async () => {
    const { scheduler, book } = await clinicWithSam();

    const outcome = await book('s-1', '2027-02-10T10:00:00Z');

    expect(timetable(scheduler)).toEqual(BOOKED_TIMETABLE);
    expect(outcome.upserted).toBe(3);
  });

  it('hands the Scheduler opaque ids only: no name, address or answer', async () => {
    const { scheduler, book } = await clinicWithSam();

    await book('s-1', '2027-02-10T10:00:00Z');

    expect(scheduler.schedules.get('rm.s-1.P2D.v1')?.payload).toEqual({
      message: { kind: 'reminder', subjectId: 's-1', offset: 'P2D', version: 1 },
      clientId: 'c-sam',
      planId: 'p-sam',
      sessionId: 's-1',
      therapistId: 't-amy',
    });
  });

  it('makes no Scheduler call for a change that moves no message (a new room)', async () => {
    const { store, scheduler, book, sessionChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    scheduler.calls.length = 0;

    await sessionChange('s-1', async () => {
      const session = (await store.findSession('s-1'))!;
      await store.saveSession({ ...session, location: 'Room 2' });
    });

    expect(scheduler.calls).toEqual([]);
  });

  it('moves only the check-in of a session that runs longer: one call, the reminders untouched', async () => {
    const { store, scheduler, book, sessionChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    scheduler.calls.length = 0;

    await sessionChange('s-1', async () => {
      const session = (await store.findSession('s-1'))!;
      await store.saveSession({ ...session, durationMinutes: 90 });
    });

    expect(scheduler.calls).toEqual([{ operation: 'upsert', name: 'ci.s-1.after.v1' }]);
    expect(timetable(scheduler)['ci.s-1.after.v1']).toBe('2027-02-11T11:30:00.000Z');
  });

  it('does not even read the store for a change no rule looks at (a confirmation)', async () => {
    const { store, book, sessionChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    const readsBefore = store.calls.getClientBundle ?? 0;

    await sessionChange('s-1', () => store.recordConfirmation('c-sam', 's-1', NOW));

    expect(store.calls.getClientBundle ?? 0).toBe(readsBefore);
  });

  it('moves a rescheduled session: the old version deleted, the new one created, six calls in all', async () => {
    const { scheduler, book, sessionChange, store } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    scheduler.calls.length = 0;

    await sessionChange('s-1', () => rescheduleSession(store, 's-1', '2027-02-12T15:00:00Z'));

    expect(timetable(scheduler)).toEqual({
      'ci.s-1.after.v2': '2027-02-13T16:00:00.000Z',
      'rm.s-1.P2D.v2': '2027-02-10T15:00:00.000Z',
      'rm.s-1.PT2H.v2': '2027-02-12T13:00:00.000Z',
    });
    expect(scheduler.calls.map((c) => c.operation).sort()).toEqual(['remove', 'remove', 'remove', 'upsert', 'upsert', 'upsert']);
  });

  it('removes every pending message of a cancelled session', async () => {
    const { scheduler, book, sessionChange, store } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    const outcome = await sessionChange('s-1', () => cancelSession(store, 's-1'));

    expect(timetable(scheduler)).toEqual({});
    expect(outcome.removed).toBe(3);
  });

  it('records the reminders a last-minute booking came too late for as skipped, once', async () => {
    const { store, scheduler, book, sessionChange } = await clinicWithSam();

    await book('s-1', '2027-02-01T09:30:00Z');
    await sessionChange('s-1', async () => {
      const session = (await store.findSession('s-1'))!;
      await store.saveSession({ ...session, durationMinutes: 90 });
    });

    expect(Object.keys(timetable(scheduler))).toEqual(['ci.s-1.after.v1']);
    expect(store.ledgerEntries().map((e) => [e.name, e.status, e.reason])).toEqual([
      ['rm.s-1.P2D.v1', 'skipped', SKIP_REASONS.tooLate],
      ['rm.s-1.PT2H.v1', 'skipped', SKIP_REASONS.tooLate],
    ]);
    expect(store.calls.markSkipped).toBe(2);
  });

  it('records nothing for history: a session imported after it took place', async () => {
    const { store, scheduler, book } = await clinicWithSam();

    await book('s-0', '2026-11-02T10:00:00Z');

    expect(timetable(scheduler)).toEqual({});
    expect(store.ledgerEntries()).toEqual([]);
  });
});

describe('sync-schedules for a plan', () => {
  it('removes the pending messages of a paused plan and recreates them on resume', async () => {
    const { store, scheduler, book, planChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await planChange(() => pausePlan(store, 'p-sam'));
    const whilePaused = timetable(scheduler);
    await planChange(() => resumePlan(store, 'p-sam'));

    expect(whilePaused).toEqual({});
    expect(timetable(scheduler)).toEqual(BOOKED_TIMETABLE);
  });

  it('reads nothing when only reconcile bookkeeping changed on the plan', async () => {
    const { store, scheduler, planChange } = await clinicWithSam();
    const readsBefore = store.calls.getClientBundle ?? 0;

    await planChange(() => store.setMaintenanceMark('c-sam', 'p-sam', undefined, instant('2027-03-01T10:00:00.000Z')));

    expect(store.calls.getClientBundle ?? 0).toBe(readsBefore);
    expect(scheduler.calls).toEqual([]);
  });
});

describe('sync-schedules for a client', () => {
  it('removes only the reminders when the client unsubscribes from reminders', async () => {
    const { store, scheduler, book, clientChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await clientChange(() => unsubscribe(store, 'c-sam', 'reminders'));

    expect(timetable(scheduler)).toEqual({ 'ci.s-1.after.v1': '2027-02-11T11:00:00.000Z' });
  });

  it('removes everything for a suppressed address', async () => {
    const { store, scheduler, book, clientChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await clientChange(() => suppressAddress(store, 'sam@example.com', 'bounce', NOW));

    expect(timetable(scheduler)).toEqual({});
  });

  it('makes no call when only the client’s name changes', async () => {
    const { store, scheduler, book, clientChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    scheduler.calls.length = 0;

    await clientChange(async () => store.putClient({ ...(await store.getClient('c-sam'))!, name: 'Samira Patel' }));

    expect(scheduler.calls).toEqual([]);
  });
});

describe('sync-schedules leaves a trace of every message it removes', () => {
  const ledgerOf = (store: MemoryStore) => store.ledgerEntries().map((e) => [e.name, e.status, e.reason]);

  it('records each pending message of a cancelled session as skipped "session cancelled"', async () => {
    const { store, book, sessionChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    const outcome = await sessionChange('s-1', () => cancelSession(store, 's-1'));

    expect(ledgerOf(store)).toEqual([
      ['ci.s-1.after.v1', 'skipped', 'session cancelled'],
      ['rm.s-1.P2D.v1', 'skipped', 'session cancelled'],
      ['rm.s-1.PT2H.v1', 'skipped', 'session cancelled'],
    ]);
    expect(store.ledgerEntries()[1]).toMatchObject({
      clientId: 'c-sam',
      planId: 'p-sam',
      sessionId: 's-1',
      therapistId: 't-amy',
      dueAt: '2027-02-08T10:00:00.000Z',
    });
    expect(outcome.skipsRecorded).toBe(3);
  });

  it('records the old version’s messages of a moved session as "version moved on"', async () => {
    const { store, book, sessionChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await sessionChange('s-1', () => rescheduleSession(store, 's-1', '2027-02-12T15:00:00Z'));

    expect(ledgerOf(store)).toEqual([
      ['ci.s-1.after.v1', 'skipped', 'version moved on'],
      ['rm.s-1.P2D.v1', 'skipped', 'version moved on'],
      ['rm.s-1.PT2H.v1', 'skipped', 'version moved on'],
    ]);
  });

  it('records only the messages still ahead: one already due went out or has its own entry', async () => {
    const { store, book, sessionChange, setNow } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    setNow('2027-02-09T09:00:00.000Z');

    await sessionChange('s-1', () => cancelSession(store, 's-1'));

    expect(ledgerOf(store).map(([name]) => name)).toEqual(['ci.s-1.after.v1', 'rm.s-1.PT2H.v1']);
  });

  it('records "plan paused", and a resume clears those skips as it re-creates the schedules', async () => {
    const { store, scheduler, book, planChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await planChange(() => pausePlan(store, 'p-sam'));
    const whilePaused = ledgerOf(store);
    await planChange(() => resumePlan(store, 'p-sam'));

    expect(whilePaused).toEqual([
      ['ci.s-1.after.v1', 'skipped', 'plan paused'],
      ['rm.s-1.P2D.v1', 'skipped', 'plan paused'],
      ['rm.s-1.PT2H.v1', 'skipped', 'plan paused'],
    ]);
    expect(ledgerOf(store)).toEqual([]);
    expect(timetable(scheduler)).toEqual(BOOKED_TIMETABLE);
  });

  it('clears nothing when a move re-creates schedules: there was no skip to lift', async () => {
    const { store, book, sessionChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await sessionChange('s-1', () => rescheduleSession(store, 's-1', '2027-02-12T15:00:00Z'));

    expect(store.calls.clearSkip ?? 0).toBe(0);
  });

  it('clears the reminders’ skips when the client subscribes to reminders again', async () => {
    const { store, book, clientChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    await clientChange(() => unsubscribe(store, 'c-sam', 'reminders'));

    await clientChange(() => store.setPreference('c-sam', 'reminders', true));

    expect(ledgerOf(store)).toEqual([]);
    expect(store.calls.clearSkip).toBe(2);
  });

  it('records "unsubscribed from reminders" for the reminders only, and "address suppressed (bounce)" for all', async () => {
    const { store, book, clientChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await clientChange(() => unsubscribe(store, 'c-sam', 'reminders'));
    const unsubscribed = ledgerOf(store);
    await clientChange(() => suppressAddress(store, 'sam@example.com', 'bounce', NOW));

    expect(unsubscribed).toEqual([
      ['rm.s-1.P2D.v1', 'skipped', 'unsubscribed from reminders'],
      ['rm.s-1.PT2H.v1', 'skipped', 'unsubscribed from reminders'],
    ]);
    expect(ledgerOf(store)).toContainEqual(['ci.s-1.after.v1', 'skipped', 'address suppressed (bounce)']);
  });

  it('never turns a message in flight or already sent into a skip', async () => {
    const { store, book, sessionChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    await store.claim({ name: 'rm.s-1.P2D.v1', kind: 'reminder', now: NOW });
    await store.claim({ name: 'rm.s-1.PT2H.v1', kind: 'reminder', now: NOW });
    await store.markSent('rm.s-1.PT2H.v1', 'ses-1', NOW);

    await sessionChange('s-1', () => cancelSession(store, 's-1'));

    expect(ledgerOf(store)).toEqual(
      expect.arrayContaining([
        ['rm.s-1.P2D.v1', 'claimed', undefined],
        ['rm.s-1.PT2H.v1', 'sent', undefined],
        ['ci.s-1.after.v1', 'skipped', 'session cancelled'],
      ]),
    );
    expect(store.ledgerEntries()).toHaveLength(3);
  });
});

describe('sync-schedules and maintenance', () => {
  it('keeps a plan with a booked session in the maintenance index, to be looked at when the session ends', async () => {
    const { store, book } = await clinicWithSam();

    const outcome = await book('s-1', '2027-02-10T10:00:00Z');

    const plan = (await store.findPlan('p-sam'))!;
    expect(outcome.maintenance).toBe('set');
    expect(plan.maintenanceActionAt).toBe('2027-02-10T11:00:00.000Z');
    expect(await store.plansNeedingMaintenanceAction('2027-02-10T11:00:00.000Z')).toEqual([expect.objectContaining({ id: 'p-sam' })]);
  });

  it('moves the action to the due time once the session is recorded, and to the next session’s end once that is booked', async () => {
    const { store, book, sessionChange, setNow } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    setNow('2027-02-10T12:00:00.000Z');

    await sessionChange('s-1', () => markSession(store, 's-1', 'completed'));
    const afterSession = (await store.findPlan('p-sam'))!.maintenanceActionAt;
    await book('s-2', '2027-02-17T10:00:00Z');
    const afterBooking = (await store.findPlan('p-sam'))!.maintenanceActionAt;

    // Initial phase: every 7 days, due at 10:00 local on the client's calendar.
    expect(afterSession).toBe('2027-02-17T10:00:00.000Z');
    expect(afterBooking).toBe('2027-02-17T11:00:00.000Z');
  });

  it('leaves a nudge owed now to reconcile’s next pass: the action time becomes now, nothing is scheduled', async () => {
    const { store, scheduler, book, sessionChange, setNow } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    await book('s-2', '2027-02-12T10:00:00Z');
    // s-1 took place; on 11 February (due since the 10th) the client cancels s-2.
    setNow('2027-02-11T15:00:00.000Z');

    await sessionChange('s-2', () => cancelSession(store, 's-2'));

    const plan = (await store.findPlan('p-sam'))!;
    expect(plan.maintenanceActionAt).toBe('2027-02-11T15:00:00.000Z');
    expect(plan.maintenanceMark).toBeUndefined();
    expect(scheduler.names().filter((n) => n.startsWith('mn.'))).toEqual([]);
  });

  it('puts a plan whose history is long past where the next pass sees it, however old its due date', async () => {
    const { store, book } = await clinicWithSam();

    // Imported a year after the fact: due and lapsed long before the index's three-month look-back.
    await book('s-0', '2026-01-05T10:00:00Z');

    expect((await store.findPlan('p-sam'))!.maintenanceActionAt).toBe(NOW);
    expect(await store.plansNeedingMaintenanceAction(NOW)).toEqual([expect.objectContaining({ id: 'p-sam' })]);
  });

  it('voids a pending nudge and clears the due mark when the client books, and watches the new session instead', async () => {
    const { store, scheduler, deps, book, setNow } = await clinicWithSam();
    await book('s-1', '2027-02-03T10:00:00Z');
    setNow('2027-02-10T11:00:00.000Z');
    await reconcile(deps);
    const nudgedBefore = scheduler.names().filter((n) => n.startsWith('mn.'));

    await book('s-2', '2027-02-12T10:00:00Z');

    const plan = (await store.findPlan('p-sam'))!;
    expect(nudgedBefore).toEqual(['mn.p-sam.20270210.v1']);
    expect(scheduler.names().filter((n) => n.startsWith('mn.'))).toEqual([]);
    expect(plan.maintenanceMark).toBeUndefined();
    expect(plan.maintenanceActionAt).toBe('2027-02-12T11:00:00.000Z');
  });

  it('takes a paused plan out of the index and puts it back on resume', async () => {
    const { store, book, planChange } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');

    await planChange(() => pausePlan(store, 'p-sam'));
    const whilePaused = (await store.findPlan('p-sam'))!.maintenanceActionAt;
    await planChange(() => resumePlan(store, 'p-sam'));

    expect(whilePaused).toBeUndefined();
    expect((await store.findPlan('p-sam'))!.maintenanceActionAt).toBe('2027-02-10T11:00:00.000Z');
  });

  it('puts a plan back in the index when it is paused and resumed before the stream catches up', async () => {
    const { store, deps, book } = await clinicWithSam();
    await book('s-1', '2027-02-10T10:00:00Z');
    const active = (await store.findPlan('p-sam'))!;
    await pausePlan(store, 'p-sam');
    const paused = (await store.findPlan('p-sam'))!;
    await resumePlan(store, 'p-sam');
    const resumed = (await store.findPlan('p-sam'))!;

    // Both records reach sync-schedules after both writes: the resume's image still shows the old action time.
    await syncSchedules(deps, { type: 'plan', before: active, after: paused });
    await syncSchedules(deps, { type: 'plan', before: paused, after: resumed });

    expect(await store.plansNeedingMaintenanceAction('2027-02-10T11:00:00.000Z')).toEqual([expect.objectContaining({ id: 'p-sam' })]);
  });
});

describe('nextMaintenanceAction', () => {
  const base = { attended: 1, phaseIndex: 0, cadenceDays: 28, lastAttendedStart: instant('2027-01-04T10:00:00.000Z') } as const;
  const period = { dueAt: instant('2027-02-01T10:00:00.000Z'), lapsedAt: instant('2027-02-15T10:00:00.000Z') } as const;
  const markedDue: MaintenanceMark = { state: 'due', ...period, markedAt: instant('2027-02-01T10:00:00.000Z') };
  const markedLapsed: MaintenanceMark = { state: 'lapsed', ...period, markedAt: instant('2027-02-15T10:00:00.000Z') };

  it('looks at a booked plan again when its next booked session ends', () => {
    const booked: MaintenanceStatus = {
      ...base,
      nextBookedStart: instant('2027-01-20T10:00:00.000Z'),
      nextBookedEnd: instant('2027-01-20T11:00:00.000Z'),
      state: 'booked',
    };

    expect(nextMaintenanceAction(booked, markedDue)).toEqual({ act: 'wait', at: '2027-01-20T11:00:00.000Z' });
  });

  it('looks at a plan that is not due yet at its due time, and never at an inactive or unstarted one', () => {
    expect(nextMaintenanceAction({ ...base, ...period, state: 'not-due' }, undefined)).toEqual({ act: 'wait', at: period.dueAt });
    expect(nextMaintenanceAction({ ...base, state: 'not-due' }, undefined)).toEqual({ act: 'wait' });
    expect(nextMaintenanceAction({ attended: 0, phaseIndex: 0, cadenceDays: 28, state: 'not-started' }, undefined)).toEqual({ act: 'wait' });
  });

  it('nudges a due period once: after the mark names it, it waits for the lapse time', () => {
    const due: MaintenanceStatus = { ...base, ...period, state: 'due' };

    expect(nextMaintenanceAction(due, undefined)).toEqual({ act: 'nudge', ...period });
    expect(nextMaintenanceAction(due, markedDue)).toEqual({ act: 'wait', mark: markedDue, at: period.lapsedAt });
  });

  it('nudges again for a new due period, whatever an older mark says', () => {
    const laterPeriod = { dueAt: instant('2027-03-01T10:00:00.000Z'), lapsedAt: instant('2027-03-15T10:00:00.000Z') };

    expect(nextMaintenanceAction({ ...base, ...laterPeriod, state: 'due' }, markedLapsed)).toEqual({ act: 'nudge', ...laterPeriod });
  });

  it('marks a lapsed period once, then stops looking', () => {
    const lapsed: MaintenanceStatus = { ...base, ...period, state: 'lapsed' };

    expect(nextMaintenanceAction(lapsed, markedDue)).toEqual({ act: 'lapse', ...period });
    expect(nextMaintenanceAction(lapsed, markedLapsed)).toEqual({ act: 'wait', mark: markedLapsed });
  });
});

describe('sync-schedules when the Scheduler fails', () => {
  it('logs a refused request by schedule name and still schedules the other messages', async () => {
    const refuse = (call: SchedulerCall) => (call.name === 'rm.s-1.P2D.v1' ? new PermanentError('refused', 'ValidationException') : undefined);
    const { scheduler, lines, book } = await clinicWithSam({ fault: refuse });

    const outcome = await book('s-1', '2027-02-10T10:00:00Z');

    expect(Object.keys(timetable(scheduler))).toEqual(['ci.s-1.after.v1', 'rm.s-1.PT2H.v1']);
    expect(outcome.rejected).toBe(1);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.attributes.schedule)).toEqual(['rm.s-1.P2D.v1']);
  });

  it('fails the change on throttling, and the retry converges on the same three schedules', async () => {
    let throttled = true;
    const throttle = (call: SchedulerCall) => (throttled && call.name === 'rm.s-1.PT2H.v1' ? new RetryableError('throttled') : undefined);
    const { scheduler, store, deps } = await clinicWithSam({ fault: throttle });
    const after = await bookSession(store, { id: 's-1', planId: 'p-sam', start: '2027-02-10T10:00:00Z', durationMinutes: 60, location: 'Room 1' });

    const first = syncSchedules(deps, { type: 'session', after });
    await expect(first).rejects.toBeInstanceOf(RetryableError);
    throttled = false;
    await syncSchedules(deps, { type: 'session', after });

    expect(timetable(scheduler)).toEqual(BOOKED_TIMETABLE);
  });
});

describe('diffMessages', () => {
  it('asks for nothing when names and due times are unchanged', async () => {
    const message = {
      identity: { kind: 'reminder' as const, subjectId: 's-1', offset: 'P2D', version: 1 },
      name: 'rm.s-1.P2D.v1',
      dueAt: instant('2027-02-08T10:00:00.000Z'),
    };
    const decisions = [{ action: 'schedule' as const, message }];

    expect(diffMessages(decisions, decisions)).toEqual({ upserts: [], removals: [] });
  });
});

// ------------------------------------------------------------------ the stream handler

const quietLogger = () => new Logger({ serviceName: 'sync-schedules-test', logLevel: 'SILENT' });

function sessionRecord(sequenceNumber: string, session: StoredSession): unknown {
  const item = { ...session, pk: `CLIENT#${session.clientId}`, sk: `SESSION#${session.id}`, type: 'session' };
  return {
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: { SequenceNumber: sequenceNumber, Keys: marshall({ pk: item.pk, sk: item.sk }), NewImage: marshall(item), StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}

async function clientRecord(sequenceNumber: string, store: MemoryStore): Promise<unknown> {
  const client = await store.getClient('c-sam');
  return insertRecord(sequenceNumber, { ...client, pk: 'CLIENT#c-sam', sk: 'CLIENT', type: 'client' });
}

async function planRecord(sequenceNumber: string, store: MemoryStore): Promise<unknown> {
  const plan = await store.findPlan('p-sam');
  return insertRecord(sequenceNumber, { ...plan, pk: 'CLIENT#c-sam', sk: 'PLAN#p-sam', type: 'plan' });
}

function insertRecord(sequenceNumber: string, item: Record<string, unknown> & { pk: string; sk: string }): unknown {
  return {
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: sequenceNumber,
      Keys: marshall({ pk: item.pk, sk: item.sk }),
      NewImage: marshall(item, { removeUndefinedValues: true }),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

function streamEvent(records: unknown[]): DynamoDBStreamEvent {
  return { Records: records } as DynamoDBStreamEvent;
}

describe('the sync-schedules stream handler', () => {
  it('reports the first failed record and every one after it, yet still schedules the records after it', async () => {
    const throttle = (call: SchedulerCall) => (call.name.includes('.s-2.') ? new RetryableError('throttled') : undefined);
    const { store, scheduler, deps } = await clinicWithSam({ fault: throttle });
    const sessions: StoredSession[] = [];
    for (const [i, start] of ['2027-02-10T10:00:00Z', '2027-02-17T10:00:00Z', '2027-02-24T10:00:00Z'].entries()) {
      sessions.push(await bookSession(store, { id: `s-${i + 1}`, planId: 'p-sam', start, durationMinutes: 60, location: 'Room 1' }));
    }
    const handler = createHandler({ ...deps, logger: quietLogger() });

    const response = await handler(streamEvent(sessions.map((s, i) => sessionRecord(String(i + 1), s))));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '2' }, { itemIdentifier: '3' }]);
    expect(scheduler.names().filter((n) => n.includes('.s-3.'))).toHaveLength(3);
  });

  it('skips a record whose image is not a valid session, without failing the batch', async () => {
    const { store, scheduler, deps } = await clinicWithSam();
    const good = await bookSession(store, { id: 's-1', planId: 'p-sam', start: '2027-02-10T10:00:00Z', durationMinutes: 60, location: 'Room 1' });
    // Not an instant on purpose: the stream image is what is being refused.
    const poison = { ...good, id: 's-9', start: 'next Tuesday' as Instant };
    const handler = createHandler({ ...deps, logger: quietLogger() });

    const response = await handler(streamEvent([sessionRecord('1', poison), sessionRecord('2', good)]));

    expect(response.batchItemFailures).toEqual([]);
    expect(Object.keys(timetable(scheduler))).toHaveLength(3);
  });

  it('ignores items that are not sessions, plans or clients', async () => {
    const { scheduler, deps } = await clinicWithSam();
    const handler = createHandler({ ...deps, logger: quietLogger() });
    const ledgerItem = { pk: 'MSG#rm.s-1.P2D.v1', sk: 'MSG', type: 'message', status: 'sent' };

    const response = await handler(streamEvent([{ eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: marshall(ledgerItem) } }]));

    expect(response.batchItemFailures).toEqual([]);
    expect(scheduler.calls).toEqual([]);
  });

  it.each([
    ['client, plan, session in one batch', [['client', 'plan', 'session']]],
    ['session, client, plan in one batch', [['session', 'client', 'plan']]],
    ['session, then client and plan in later batches', [['session'], ['client'], ['plan']]],
  ] as const)("plans a session's messages once, from its own insert record: %s", async (_, batches) => {
    const { store, scheduler, deps } = await clinicWithSam();
    const session = await bookSession(store, { id: 's-1', planId: 'p-sam', start: '2027-02-10T10:00:00Z', durationMinutes: 60, location: 'Room 1' });
    const handler = createHandler({ ...deps, logger: quietLogger() });
    const records = { client: await clientRecord('1', store), plan: await planRecord('2', store), session: sessionRecord('3', session) };

    for (const batch of batches) {
      const response = await handler(streamEvent(batch.map((type) => records[type])));
      expect(response.batchItemFailures).toEqual([]);
    }

    expect(timetable(scheduler)).toEqual(BOOKED_TIMETABLE);
    // One create per message: the client's and the plan's inserts plan no session.
    expect(
      scheduler.calls
        .filter((c) => c.operation === 'upsert')
        .map((c) => c.name)
        .sort(),
    ).toEqual(Object.keys(BOOKED_TIMETABLE).sort());
  });

  it("reads the client's bundle strongly consistent for a session's insert, and eventually consistent for its changes", async () => {
    const { store, deps } = await clinicWithSam();
    const session = await bookSession(store, { id: 's-1', planId: 'p-sam', start: '2027-02-10T10:00:00Z', durationMinutes: 60, location: 'Room 1' });
    const reads: Array<boolean | undefined> = [];
    const read = store.getClientBundle.bind(store);
    store.getClientBundle = (clientId: string, consistent?: boolean) => {
      reads.push(consistent);
      return read(clientId);
    };

    await syncSchedules(deps, { type: 'session', after: session });
    await syncSchedules(deps, { type: 'session', before: session, after: { ...session, start: instant('2027-02-11T10:00:00.000Z'), version: 2 } });

    expect(reads).toEqual([true, false]);
  });
});

describe('the schedule definition sent to EventBridge Scheduler', () => {
  it('rounds a due time with milliseconds up to the next whole second, never earlier', () => {
    expect(atExpression(instant('2027-02-08T10:00:00.000Z'))).toBe('at(2027-02-08T10:00:00)');
    expect(atExpression(instant('2027-02-08T10:00:00.001Z'))).toBe('at(2027-02-08T10:00:01)');
  });

  it('drops from the Input any field the dispatch payload does not name', () => {
    const smuggled = { message: { kind: 'reminder' as const, subjectId: 's-1', offset: 'P2D', version: 1 }, clientId: 'c-sam', email: 'sam@example.com' };

    const input = JSON.parse(scheduleInput(smuggled)) as Record<string, unknown>;

    expect(input).not.toHaveProperty('email');
    expect(input).toMatchObject({ clientId: 'c-sam', scheduledTime: '<aws.scheduler.scheduled-time>' });
  });

  it('gives reminders an hour of retries and check-ins and nudges six', () => {
    expect(retryPolicyFor('reminder')).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 });
    expect(retryPolicyFor('check-in').MaximumEventAgeInSeconds).toBe(6 * 3600);
    expect(retryPolicyFor('maintenance-nudge').MaximumEventAgeInSeconds).toBe(6 * 3600);
  });
});
