/**
 * The scheduling path end to end on the local twin's real parts: writers on DynamoDB Local, the
 * table stream read by the stream poller into the real sync-schedules handler, schedules held by
 * the local EventBridge Scheduler (read back through @aws-sdk/client-scheduler), fired by a
 * virtual clock at a recording dispatch target; and the reconcile handler healing what went missing.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  ValidationException,
  type GetScheduleCommandOutput,
} from '@aws-sdk/client-scheduler';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler as createReconcileHandler } from '../../functions/reconcile/handler.js';
import { functionSpec, recurringInput } from '../../shared/config/manifest.js';
import { createHandler as createSyncHandler } from '../../functions/sync-schedules/handler.js';
import { virtualClock } from '../../local/clock.js';
import { startLocalScheduler } from '../../local/scheduler/server.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller.js';
import { EventBridgeMessageScheduler, RETRY_POLICIES } from '../../shared/adapters/scheduler/eventbridge.js';
import { PermanentError, RetryableError } from '../../shared/domain/errors.js';
import { clientSchema, clinicSchema, planSchema, therapistSchema } from '../../shared/domain/model.js';
import type { MessageScheduler } from '../../shared/ports/scheduler.js';
import { bookSession, cancelSession, pausePlan, rescheduleSession, resumePlan, unsubscribe } from '../../shared/use-cases/manage-plans.js';
import type { ReconcileCounts } from '../../shared/use-cases/reconcile.js';
import { createTestTable } from '../support/local-aws.js';

const GROUP = 'keepwell-test';
const DISPATCH_ARN = 'arn:aws:lambda:eu-west-2:000000000000:function:keepwell-dispatch';
const RECONCILE_ARN = 'arn:aws:lambda:eu-west-2:000000000000:function:keepwell-reconcile';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/keepwell-scheduler';
const DLQ_ARN = 'arn:aws:sqs:eu-west-2:000000000000:keepwell-schedule-dlq';
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'hello@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
});
const SAM = { name: 'Sam Patel', email: 'sam.scheduling@example.com' };

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Options {
  /** Wraps the real adapter, to inject faults the local Scheduler cannot produce (throttling). */
  readonly wrap?: (scheduler: MessageScheduler) => MessageScheduler;
  readonly phases?: ReadonlyArray<{ name: string; sessions?: number; everyDays: number }>;
  /** The clinic's maintenanceGraceDays. @default 14 */
  readonly graceDays?: number;
}

/** London is on GMT in January and February, so local and UTC times read the same. */
async function startScheduling(start: string, options: Options = {}) {
  const clock = virtualClock(new Date(start));
  const table = await createTestTable({ now: () => clock.now() });
  const fired: unknown[] = [];
  /** What each reconcile pass fired by the recurring schedule reported. */
  const passes: ReconcileCounts[] = [];
  let poller: StreamPoller | undefined;
  const scheduler = await startLocalScheduler({
    clock,
    region: LOCAL_REGION,
    targets: {
      [DISPATCH_ARN]: async (payload) => void fired.push(payload),
      [RECONCILE_ARN]: async (payload) => void passes.push(await reconcile(payload)),
    },
    settle: () => poller?.drain() ?? Promise.resolve(),
  });
  closers.push(() => scheduler.close());

  const client = new SchedulerClient({ endpoint: scheduler.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  closers.push(async () => client.destroy());
  /** Scheduler API calls by operation name, counted on the wire. */
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countSchedulerCalls' },
  );
  await client.send(new CreateScheduleGroupCommand({ Name: GROUP }));

  const adapter = new EventBridgeMessageScheduler({ client, groupName: GROUP, targetArn: DISPATCH_ARN, roleArn: ROLE_ARN, deadLetterArn: DLQ_ARN });
  const logger = new Logger({ serviceName: 'scheduling-test', logLevel: 'SILENT' });
  const clinicOfTest = options.graceDays === undefined ? clinic : { ...clinic, maintenanceGraceDays: options.graceDays };
  const deps = { store: table.store, ledger: table.store, scheduler: options.wrap ? options.wrap(adapter) : adapter, clinic: clinicOfTest, clock, logger };
  const sync = createSyncHandler(deps);
  const reconcile = createReconcileHandler(deps);
  const responses: DynamoDBBatchResponse[] = [];
  poller = startStreamPoller({
    dynamoEndpoint: table.endpoint,
    tableName: table.tableName,
    polling: false,
    maxRetries: 1,
    handler: async (event) => {
      const response = await sync(event);
      responses.push(response);
      return response;
    },
  });
  const streamPoller = poller;
  closers.push(() => streamPoller.stop());

  const { store } = table;
  await store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy.scheduling@harbour.example', timezone: 'Europe/London' }));
  await store.putClient(clientSchema.parse({ id: 'c-sam', ...SAM, timezone: 'Europe/London' }));
  await store.putPlan(
    planSchema.parse({
      id: 'p-sam',
      clientId: 'c-sam',
      therapistId: 't-amy',
      goal: 'back-pain',
      phases: options.phases ?? [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
    }),
  );
  // Sam answered his intake questionnaire: these tests are about the session messages' schedules
  // (the intake's own are tested in intake-questionnaire.test.ts).
  await store.recordBaseline({ clientId: 'c-sam', planId: 'p-sam', answers: { pain: 6, mobility: 5, stress: 5, sleep: 6, reason: '' }, at: start });
  await streamPoller.drain();
  calls.length = 0;
  responses.length = 0;

  const book = (id: string, startAt: string) => bookSession(store, { id, planId: 'p-sam', start: startAt, durationMinutes: 60, location: 'Room 1' });

  /** Every schedule in the group, as GetSchedule describes it, by name. */
  const schedules = async (prefix?: string): Promise<Record<string, GetScheduleCommandOutput>> => {
    const listed = await client.send(new ListSchedulesCommand({ GroupName: GROUP, ...(prefix ? { NamePrefix: prefix } : {}) }));
    const names = (listed.Schedules ?? []).map((s) => s.Name ?? '').sort();
    const described = await Promise.all(names.map((Name) => client.send(new GetScheduleCommand({ Name, GroupName: GROUP }))));
    return Object.fromEntries(names.map((name, i) => [name, described[i]!]));
  };
  /** name → at() expression. */
  const timetable = async (prefix?: string) => Object.fromEntries(Object.entries(await schedules(prefix)).map(([name, s]) => [name, s.ScheduleExpression]));

  /** Runs reconcile the way it is deployed: the manifest's recurring schedule, counted from now. */
  const scheduleReconcile = async () => {
    const { trigger } = functionSpec('reconcile');
    if (trigger.kind !== 'recurring') throw new Error('reconcile is expected to run on a recurring schedule');
    await client.send(
      new CreateScheduleCommand({
        Name: trigger.scheduleName,
        GroupName: GROUP,
        ScheduleExpression: trigger.expression,
        ScheduleExpressionTimezone: trigger.timezone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: RECONCILE_ARN, RoleArn: ROLE_ARN, Input: JSON.stringify(recurringInput('reconcile', { reconcileLookAheadHours: 72 })) },
      }),
    );
  };

  return {
    clock,
    store,
    scheduler,
    client,
    poller: streamPoller,
    adapter,
    reconcile,
    scheduleReconcile,
    passes,
    fired,
    calls,
    responses,
    book,
    schedules,
    timetable,
  };
}

const BOOKED = {
  // The booking confirmation, held for the default 5-minute undo window after the booking at 09:00.
  'bc.s-1.booked.v1': 'at(2027-02-01T09:05:00)',
  'ci.s-1.after.v1': 'at(2027-02-11T11:00:00)',
  'rm.s-1.P2D.v1': 'at(2027-02-08T10:00:00)',
  'rm.s-1.PT2H.v1': 'at(2027-02-10T08:00:00)',
};

describe('a booking and its schedules', () => {
  it('creates exactly its two reminders and check-in, each a one-time UTC schedule that deletes itself', async () => {
    const { poller, book, schedules } = await startScheduling('2027-02-01T09:00:00Z');

    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();

    const all = await schedules();
    expect(Object.fromEntries(Object.entries(all).map(([name, s]) => [name, s.ScheduleExpression]))).toEqual(BOOKED);
    for (const [name, s] of Object.entries(all)) {
      expect(s).toMatchObject({
        GroupName: GROUP,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: {
          Arn: DISPATCH_ARN,
          RoleArn: ROLE_ARN,
          DeadLetterConfig: { Arn: DLQ_ARN },
          // Booking emails are urgent like reminders.
          RetryPolicy: /^(rm|bc)\./.test(name) ? RETRY_POLICIES.urgent : RETRY_POLICIES.deferrable,
        },
      });
    }
  });

  it('puts only the message identity, opaque ids and the Scheduler context in the Input', async () => {
    const { poller, book, schedules } = await startScheduling('2027-02-01T09:00:00Z');

    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();

    const input = (await schedules('rm.s-1.P2D.'))['rm.s-1.P2D.v1']?.Target?.Input ?? '';
    expect(JSON.parse(input)).toEqual({
      message: { kind: 'reminder', subjectId: 's-1', offset: 'P2D', version: 1 },
      clientId: 'c-sam',
      planId: 'p-sam',
      sessionId: 's-1',
      therapistId: 't-amy',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      executionId: '<aws.scheduler.execution-id>',
      attempt: '<aws.scheduler.attempt-number>',
    });
    expect(input).not.toContain(SAM.name);
    expect(input).not.toContain(SAM.email);
  });

  it('fires a reminder at its time with the context filled in, and the schedule is gone afterwards', async () => {
    const { poller, book, scheduler, fired, timetable } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();

    await scheduler.advanceTo(new Date('2027-02-08T10:00:00Z'));

    expect(fired).toEqual([
      // The booking confirmation fired first, 5 minutes after the booking.
      expect.objectContaining({
        message: { kind: 'booking-confirmation', subjectId: 's-1', offset: 'booked', version: 1 },
        scheduledTime: '2027-02-01T09:05:00Z',
      }),
      expect.objectContaining({
        message: { kind: 'reminder', subjectId: 's-1', offset: 'P2D', version: 1 },
        scheduledTime: '2027-02-08T10:00:00Z',
        executionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        attempt: '1',
      }),
    ]);
    expect(Object.keys(await timetable())).toEqual(['ci.s-1.after.v1', 'rm.s-1.PT2H.v1']);
  });

  it('moves the schedules of a rescheduled session: its messages deleted and created again, nothing more', async () => {
    const { store, poller, book, timetable, calls } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();
    calls.length = 0;

    await rescheduleSession(store, 's-1', '2027-02-12T15:00:00Z');
    await poller.drain();

    // Plus the booking emails: two lists (pending confirmation, pending change notice), and the
    // confirmation still in its undo window moved to the new version: one create, one delete.
    expect([...calls].sort()).toEqual([
      'CreateScheduleCommand',
      'CreateScheduleCommand',
      'CreateScheduleCommand',
      'CreateScheduleCommand',
      'DeleteScheduleCommand',
      'DeleteScheduleCommand',
      'DeleteScheduleCommand',
      'DeleteScheduleCommand',
      'ListSchedulesCommand',
      'ListSchedulesCommand',
    ]);
    expect(await timetable()).toEqual({
      'bc.s-1.booked.v2': 'at(2027-02-01T09:05:00)',
      'ci.s-1.after.v2': 'at(2027-02-13T16:00:00)',
      'rm.s-1.P2D.v2': 'at(2027-02-10T15:00:00)',
      'rm.s-1.PT2H.v2': 'at(2027-02-12T13:00:00)',
    });
  });

  it('makes no Scheduler call for a change of room alone', async () => {
    const { store, poller, book, calls } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();
    calls.length = 0;

    const session = (await store.findSession('s-1'))!;
    await store.saveSession({ ...session, location: 'Room 2' });
    await poller.drain();

    expect(calls).toEqual([]);
  });

  it('removes every schedule of a cancelled session', async () => {
    const { store, poller, book, timetable } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();

    await cancelSession(store, 's-1');
    await poller.drain();

    expect(await timetable()).toEqual({});
  });

  it('records each pending message of a cancelled session in the outbox as skipped "session cancelled"', async () => {
    const { store, poller, book } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();

    await cancelSession(store, 's-1');
    await poller.drain();

    const outbox = await store.listSince('2027-02-01T00:00:00.000Z', '2027-02-02T00:00:00.000Z');
    expect(outbox.map((e) => [e.name, e.status, e.reason]).sort()).toEqual([
      // Cancelled within the undo window: the confirmation is skipped and no cancellation notice goes.
      ['bc.s-1.booked.v1', 'skipped', 'cancelled within the undo window: the client was never told of the booking'],
      ['ci.s-1.after.v1', 'skipped', 'session cancelled'],
      ['rm.s-1.P2D.v1', 'skipped', 'session cancelled'],
      ['rm.s-1.PT2H.v1', 'skipped', 'session cancelled'],
    ]);
  });

  it('removes pending schedules while the plan is paused and recreates them when it resumes', async () => {
    const { store, poller, book, timetable } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();

    await pausePlan(store, 'p-sam');
    await poller.drain();
    const whilePaused = await timetable();
    await resumePlan(store, 'p-sam');
    await poller.drain();

    // The confirmation follows the booking, not the plan: it stays, and dispatch skips it while the plan is paused.
    expect(whilePaused).toEqual({ 'bc.s-1.booked.v1': 'at(2027-02-01T09:05:00)' });
    expect(await timetable()).toEqual(BOOKED);
  });

  it('removes the reminder schedules of a client who unsubscribes from reminders, and keeps the check-in', async () => {
    const { store, poller, book, timetable } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-10T10:00:00Z');
    await poller.drain();

    await unsubscribe(store, 'c-sam', 'reminders');
    await poller.drain();

    // The booking confirmation is transactional: an unsubscribe from reminders leaves it.
    expect(await timetable()).toEqual({ 'bc.s-1.booked.v1': 'at(2027-02-01T09:05:00)', 'ci.s-1.after.v1': 'at(2027-02-11T11:00:00)' });
  });
});

describe('faults', () => {
  it('does not let a record that keeps failing block the records after it, and reconcile heals it later', async () => {
    let throttled = true;
    const throttleSessionTwo = (inner: MessageScheduler): MessageScheduler => ({
      upsert: async (schedule) => {
        if (throttled && schedule.name.includes('.s-2.')) throw new RetryableError('ThrottlingException: rate exceeded');
        return inner.upsert(schedule);
      },
      remove: (name) => inner.remove(name),
      list: (prefix) => inner.list(prefix),
    });
    const { poller, book, timetable, responses, reconcile } = await startScheduling('2027-02-01T09:00:00Z', { wrap: throttleSessionTwo });

    await book('s-1', '2027-02-03T10:00:00Z');
    await book('s-2', '2027-02-03T12:00:00Z');
    await book('s-3', '2027-02-03T14:00:00Z');
    await poller.drain();

    const names = Object.keys(await timetable());
    // Two reminders, the check-in and the booking confirmation each.
    expect(names.filter((n) => n.includes('.s-1.'))).toHaveLength(4);
    expect(names.filter((n) => n.includes('.s-3.'))).toHaveLength(4);
    expect(names.filter((n) => n.includes('.s-2.'))).toEqual([]);
    // The first attempt reports s-2's record and all after it; the retry fails again and gives up.
    const firstFailed = responses[0]?.batchItemFailures[0]?.itemIdentifier;
    expect(poller.failures).toHaveLength(1);
    expect(poller.failures[0]?.records[0]?.dynamodb?.Keys?.sk?.S).toBe('SESSION#s-2');
    expect(poller.failures[0]?.records[0]?.dynamodb?.SequenceNumber).toBe(firstFailed);

    throttled = false;
    const healed = await reconcile({});

    expect(healed.healed).toBe(3);
    // Reconcile heals what the time rules plan; a booking email follows a change, and goes with its failed record.
    expect(
      Object.keys(await timetable())
        .filter((n) => n.includes('.s-2.'))
        .sort(),
    ).toEqual(['ci.s-2.after.v1', 'rm.s-2.P2D.v1', 'rm.s-2.PT2H.v1']);
  });

  it('answers a bad name or a bad expression with the real ValidationException', async () => {
    const { client } = await startScheduling('2027-02-01T09:00:00Z');
    const definition = {
      GroupName: GROUP,
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: { Arn: DISPATCH_ARN, RoleArn: ROLE_ARN, Input: '{}' },
    };

    const badName = client.send(new CreateScheduleCommand({ ...definition, Name: 'rm s-1 P2D', ScheduleExpression: 'at(2027-02-08T10:00:00)' }));
    const badExpression = client.send(new CreateScheduleCommand({ ...definition, Name: 'rm.s-1.P2D.v1', ScheduleExpression: 'at(2027-02-30T10:00:00)' }));

    await expect(badName).rejects.toBeInstanceOf(ValidationException);
    await expect(badExpression).rejects.toBeInstanceOf(ValidationException);
  });

  it('turns the Scheduler’s ValidationException into a PermanentError naming the schedule, which is never retried', async () => {
    const { adapter } = await startScheduling('2027-02-01T09:00:00Z');
    const payload = { message: { kind: 'reminder' as const, subjectId: 's-1', offset: 'P2D', version: 1 }, clientId: 'c-sam' };

    const attempt = adapter.upsert({ name: 'rm s-1 P2D', at: '2027-02-08T10:00:00.000Z', payload });

    await expect(attempt).rejects.toBeInstanceOf(PermanentError);
    await expect(attempt).rejects.toMatchObject({ code: 'ValidationException', message: expect.stringContaining('rm s-1 P2D') });
  });
});

describe('reconcile on the local Scheduler', () => {
  it('recreates a schedule that was deleted, exactly as it was', async () => {
    const { poller, book, schedules, client, reconcile } = await startScheduling('2027-02-01T09:00:00Z');
    await book('s-1', '2027-02-03T10:00:00Z');
    await poller.drain();
    const before = (await schedules())['rm.s-1.P2D.v1'];
    await client.send(new DeleteScheduleCommand({ Name: 'rm.s-1.P2D.v1', GroupName: GROUP }));

    const counts = await reconcile({});

    const after = (await schedules())['rm.s-1.P2D.v1'];
    expect(counts).toMatchObject({ healed: 1, failed: 0 });
    expect(after?.ScheduleExpression).toBe(before?.ScheduleExpression);
    expect(after?.Target).toEqual(before?.Target);
  });

  it('gives a plan whose maintenance is due exactly one nudge across several runs', async () => {
    const world = await startScheduling('2027-01-04T12:00:00Z', { phases: [{ name: 'maintenance', everyDays: 28 }] });
    // Sam's last session was on 4 January: every 28 days makes him due on 1 February at 10:00.
    await world.book('s-0', '2027-01-04T10:00:00Z');
    await world.poller.drain();
    await world.scheduler.advanceTo(new Date('2027-02-01T11:00:00Z'));

    const runs = [await world.reconcile({}), await world.reconcile({}), await world.reconcile({})];
    const pending = await world.timetable('mn.');
    await world.scheduler.advanceTo(new Date('2027-02-01T12:00:00Z'));
    const afterFiring = await world.reconcile({});

    expect(runs.map((r) => r.nudged)).toEqual([1, 0, 0]);
    expect(pending).toEqual({ 'mn.p-sam.20270201.v1': 'at(2027-02-01T11:00:00)' });
    const nudges = world.fired.filter((p) => (p as { message: { kind: string } }).message.kind === 'maintenance-nudge');
    expect(nudges).toHaveLength(1);
    expect(afterFiring.nudged).toBe(0);
    expect(await world.timetable('mn.')).toEqual({});
  });
});

/** The maintenance nudges the dispatch target received. */
function firedNudges(fired: readonly unknown[]): Array<{ message: { offset: string }; scheduledTime: string }> {
  return fired.filter((p) => (p as { message: { kind: string } }).message.kind === 'maintenance-nudge') as Array<{
    message: { offset: string };
    scheduledTime: string;
  }>;
}

describe('maintenance when a booked session simply ends', () => {
  // Sam's plan: maintenance every 2 days, lapsed a day after the due date (a short cadence keeps the
  // hourly passes few). He books one session on 4 January, 10:00–11:00; after that nothing is
  // written: nobody marks the session completed.
  const shortCadence = { phases: [{ name: 'maintenance', everyDays: 2 }], graceDays: 1 };

  it('nudges once at 10:00 on the due date and marks the plan lapsed after the grace period, with reconcile running hourly', async () => {
    const world = await startScheduling('2027-01-04T09:00:00Z', shortCadence);
    await world.book('s-1', '2027-01-04T10:00:00Z');
    await world.poller.drain();
    await world.scheduleReconcile();

    await world.scheduler.advanceTo(new Date('2027-01-06T09:00:00Z'));
    const beforeDue = { nudges: firedNudges(world.fired).length, plan: await world.store.findPlan('p-sam') };
    await world.scheduler.advanceTo(new Date('2027-01-07T09:00:00Z'));
    const beforeLapse = await world.store.findPlan('p-sam');
    await world.scheduler.advanceTo(new Date('2027-01-07T10:00:00Z'));

    expect(beforeDue.nudges).toBe(0);
    expect(beforeDue.plan?.maintenanceActionAt).toBe('2027-01-06T10:00:00.000Z');
    // 4 January + 2 days, 10:00 in London (GMT): one nudge, delivered at its due time.
    expect(firedNudges(world.fired)).toEqual([
      expect.objectContaining({ message: expect.objectContaining({ offset: '20270106' }), scheduledTime: '2027-01-06T10:00:00Z' }),
    ]);
    expect(world.passes.reduce((sum, p) => sum + p.nudged, 0)).toBe(1);
    expect(beforeLapse?.maintenanceMark).toMatchObject({ state: 'due', dueAt: '2027-01-06T10:00:00.000Z' });
    const plan = await world.store.findPlan('p-sam');
    expect(plan?.maintenanceMark).toMatchObject({ state: 'lapsed', dueAt: '2027-01-06T10:00:00.000Z', lapsedAt: '2027-01-07T10:00:00.000Z' });
    expect(plan?.maintenanceActionAt).toBeUndefined();
    expect(world.passes.reduce((sum, p) => sum + p.lapsed, 0)).toBe(1);
  });

  it('sends no nudge when the client books the next session before the due date', async () => {
    const world = await startScheduling('2027-01-04T09:00:00Z', shortCadence);
    await world.book('s-1', '2027-01-04T10:00:00Z');
    await world.poller.drain();
    await world.scheduleReconcile();
    await world.scheduler.advanceTo(new Date('2027-01-05T12:00:00Z'));

    await world.book('s-2', '2027-01-07T10:00:00Z');
    await world.poller.drain();
    await world.scheduler.advanceTo(new Date('2027-01-08T12:00:00Z'));

    expect(firedNudges(world.fired)).toEqual([]);
    expect(world.passes.reduce((sum, p) => sum + p.nudged + p.lapsed, 0)).toBe(0);
    const plan = await world.store.findPlan('p-sam');
    expect(plan?.maintenanceMark).toBeUndefined();
    // s-2 took place on 7 January: due again on the 9th.
    expect(plan?.maintenanceActionAt).toBe('2027-01-09T10:00:00.000Z');
  });
});
