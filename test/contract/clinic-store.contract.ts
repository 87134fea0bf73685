/**
 * The ClinicStore contract for the access patterns the use cases rely on, run against the
 * in-memory store (unit tier) and the DynamoDB store on DynamoDB Local (integration tier). Every
 * case seeds a client of its own, so cases can share one table.
 */
import { expect, it } from 'vitest';
import { rescheduleSession } from '../../shared/use-cases/manage-plans.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import type { ClinicStore, Ledger } from '../../shared/ports/store.js';
import type { PlanChange } from '../../shared/domain/plan-change.js';
import { seedClinic } from '../support/memory-clinic.js';
import type { PortFactory } from './ledger.contract.js';

const ANSWERS = { pain: 7, mobility: 4, stress: 6, sleep: 5, notes: 'tight shoulders', wantsToRebook: false };

export function clinicStoreContract(make: PortFactory<ClinicStore & Ledger>): void {
  const store = () => make({ racing: false });

  it('saves a client, plan and sessions and finds them again by id and by email in any case', async () => {
    const s = await store();
    const { client, plan, therapist, sessions } = await seedClinic(s);

    expect(await s.getClient(client.id)).toMatchObject(client);
    expect(await s.getTherapist(therapist.id)).toMatchObject(therapist);
    expect(await s.findClientIdByEmail(client.email.toUpperCase())).toBe(client.id);
    expect(await s.findPlan(plan.id)).toMatchObject({ id: plan.id, clientId: client.id, therapistId: therapist.id });
    expect(await s.findSession(sessions[1]!.id)).toMatchObject({
      id: sessions[1]!.id,
      clientId: client.id,
      therapistId: therapist.id,
      number: 2,
      phase: 'initial',
      version: 1,
    });
    expect((await s.getClientBundle(client.id))?.sessions.map((x) => x.id)).toEqual(sessions.map((x) => x.id));
    expect(await s.getClient('c-nobody')).toBeUndefined();
    expect(await s.findSession('s-nobody')).toBeUndefined();
    expect(await s.findClientIdByEmail('nobody@example.com')).toBeUndefined();
  });

  it('moves a session to a new time with its version raised, renumbering the plan', async () => {
    const s = await store();
    const { sessions } = await seedClinic(s);

    const moved = await rescheduleSession(s, sessions[0]!.id, '2027-02-08T14:00:00.000Z');

    expect(moved).toMatchObject({ start: '2027-02-08T14:00:00.000Z', version: 2, number: 3 });
    expect(await s.findSession(sessions[0]!.id)).toMatchObject({ version: 2, number: 3 });
    expect((await s.findSession(sessions[1]!.id))?.number).toBe(1);
    expect((await s.findSession(sessions[2]!.id))?.number).toBe(2);
  });

  it('keeps the earlier versions of a moved booking, newest first, for the change notice', async () => {
    const s = await store();
    const { sessions } = await seedClinic(s);
    const first = sessions[0]!;

    await rescheduleSession(s, first.id, '2027-02-08T14:00:00.000Z');
    await rescheduleSession(s, first.id, '2027-02-09T14:00:00.000Z', { location: 'Room 9' });
    const again = await s.findSession(first.id);
    await s.saveSession({ ...again!, status: 'cancelled' });

    expect((await s.findSession(first.id))?.earlier).toEqual([
      { version: 2, start: '2027-02-08T14:00:00.000Z', durationMinutes: first.durationMinutes, location: first.location },
      { version: 1, start: first.start, durationMinutes: first.durationMinutes, location: first.location },
    ]);
  });

  it('suppresses a client by email in any case, and finds nobody for an unknown address', async () => {
    const s = await store();
    const { client } = await seedClinic(s);

    const suppressed = await s.suppressByEmail(client.email.toUpperCase(), 'bounce', '2027-01-20T10:00:00.000Z', 'mailbox full');

    expect(suppressed?.suppressed).toEqual({ reason: 'bounce', at: '2027-01-20T10:00:00.000Z', detail: 'mailbox full' });
    expect((await s.getClient(client.id))?.suppressed?.reason).toBe('bounce');
    expect(await s.suppressByEmail('nobody@example.com', 'complaint', '2027-01-20T10:00:00.000Z')).toBeUndefined();
  });

  it('records a check-in once; with no intake answered it has no baseline and is none, only its previous check-in', async () => {
    const s = await store();
    const { client, sessions } = await seedClinic(s);
    const input = { clientId: client.id, sessionId: sessions[0]!.id, answers: ANSWERS, at: '2027-01-19T10:00:00.000Z' };

    const first = await s.recordCheckIn(input);
    const again = await s.recordCheckIn({ ...input, answers: { ...ANSWERS, pain: 1 } });

    expect(first).toMatchObject({ baseline: false, pain: 7, sessionId: sessions[0]!.id });
    expect(first?.baselineScores).toBeUndefined();
    expect(again).toBeUndefined();
    expect((await s.findSession(sessions[0]!.id))?.checkInAnsweredAt).toBe('2027-01-19T10:00:00.000Z');
    expect((await s.findPlan(sessions[0]!.planId))?.baseline).toBeUndefined();
    const second = await s.recordCheckIn({ ...input, sessionId: sessions[1]!.id, answers: { ...ANSWERS, pain: 4 }, at: '2027-01-26T10:00:00.000Z' });
    expect(second).toMatchObject({ baseline: false, previous: { pain: 7 } });
    expect(second?.baselineScores).toBeUndefined();
  });

  it("stores the intake's answers as the plan's baseline once, the first answers winning whole, and compares later check-ins with them", async () => {
    const s = await store();
    const { client, plan, sessions } = await seedClinic(s);
    const intake = {
      clientId: client.id,
      planId: plan.id,
      answers: { pain: 6, mobility: 3, stress: 7, sleep: 4, reason: 'Stiff neck' },
      at: '2027-01-18T10:00:00.000Z',
    };

    const first = await s.recordBaseline(intake);
    const again = await s.recordBaseline({ ...intake, answers: { pain: 1, mobility: 9, stress: 1, sleep: 9, reason: '' }, at: '2027-01-18T11:00:00.000Z' });

    expect([first, again]).toEqual(['recorded', 'already-answered']);
    expect((await s.findPlan(plan.id))?.baseline).toEqual({ pain: 6, mobility: 3, stress: 7, sleep: 4, reason: 'Stiff neck', at: '2027-01-18T10:00:00.000Z' });
    const checkIn = await s.recordCheckIn({ clientId: client.id, sessionId: sessions[0]!.id, answers: ANSWERS, at: '2027-01-19T10:00:00.000Z' });
    expect(checkIn).toMatchObject({ baseline: false, baselineScores: { pain: 6, mobility: 3, stress: 7, sleep: 4 } });
    await expect(s.recordBaseline({ ...intake, clientId: 'c-nobody' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("reads one message's context in one call, the day cap's holder included; another client's ids find nothing", async () => {
    const s = await store();
    const { client, plan, therapist, sessions } = await seedClinic(s);
    const other = await seedClinic(s);
    await s.holdDayCap(client.id, '2027-02-02', 'ci.s-x.after.v1', '2027-02-04T00:00:00.000Z');

    const context = await s.getMessageContext({
      clientId: client.id,
      planId: plan.id,
      sessionId: sessions[2]!.id,
      therapistId: therapist.id,
      dayCapDate: '2027-02-02',
    });
    const foreign = await s.getMessageContext({ clientId: client.id, planId: other.plan.id, sessionId: other.sessions[0]!.id, dayCapDate: '2027-02-03' });

    expect(context).toMatchObject({
      client: { id: client.id },
      plan: { id: plan.id },
      session: { id: sessions[2]!.id, number: 3 },
      therapist: { id: therapist.id },
      dayCapHolder: 'ci.s-x.after.v1',
    });
    expect(foreign.client?.id).toBe(client.id);
    expect(foreign.plan).toBeUndefined();
    expect(foreign.session).toBeUndefined();
    expect(foreign.dayCapHolder).toBeUndefined();
  });

  it('finds the sessions starting in a window, both ends included, across days, in start order', async () => {
    const s = await store();
    const { client, sessions } = await seedClinic(s, {
      starts: ['2029-03-01T09:00:00.000Z', '2029-03-02T23:30:00.000Z', '2029-03-03T00:15:00.000Z', '2029-03-04T09:00:00.000Z'],
    });
    const mine = async (from: string, to: string) => (await s.sessionsStartingBetween(from, to)).filter((x) => x.clientId === client.id).map((x) => x.id);

    expect(await mine('2029-03-01T09:00:00.000Z', '2029-03-03T00:15:00.000Z')).toEqual(sessions.slice(0, 3).map((x) => x.id));
    expect(await mine('2029-03-01T09:00:00.001Z', '2029-03-03T00:14:59.999Z')).toEqual([sessions[1]!.id]);
    expect(await mine('2029-03-05T00:00:00.000Z', '2029-03-06T00:00:00.000Z')).toEqual([]);
  });

  /** A change of the seeded plan (maintenance is its phase 1, every 28 days). */
  const change = (seed: { client: { id: string }; plan: { id: string }; therapist: { id: string } }, overrides: Partial<PlanChange> = {}): PlanChange => ({
    id: `chg-${seed.plan.id}`,
    planId: seed.plan.id,
    clientId: seed.client.id,
    therapistId: seed.therapist.id,
    action: 'interval',
    before: { status: 'active', maintenanceEveryDays: 28 },
    after: { status: 'active', maintenanceEveryDays: 21 },
    by: seed.therapist.id,
    via: 'email-link',
    note: 'shoulder flaring again',
    at: '2027-03-10T12:00:00.000Z',
    ...overrides,
  });

  it('changes a plan and records it in its history once per change id, keeping the rest of the plan', async () => {
    const s = await store();
    const seed = await seedClinic(s);

    const first = await s.recordPlanChange(change(seed), 1);
    const again = await s.recordPlanChange(
      change(seed, { before: { status: 'active', maintenanceEveryDays: 21 }, after: { status: 'active', maintenanceEveryDays: 14 } }),
      1,
    );

    expect(first).toMatchObject({
      status: 'recorded',
      plan: {
        id: seed.plan.id,
        status: 'active',
        goal: seed.plan.goal,
        phases: [
          { name: 'initial', everyDays: 7 },
          { name: 'maintenance', everyDays: 21 },
        ],
      },
    });
    expect(again).toEqual({ status: 'duplicate' });
    expect((await s.findPlan(seed.plan.id))?.phases[1]?.everyDays).toBe(21);
    expect(await s.planHistory(seed.client.id, seed.plan.id)).toEqual([change(seed)]);
  });

  it('refuses a change whose plan has moved on, writing nothing', async () => {
    const s = await store();
    const seed = await seedClinic(s);

    const stale = await s.recordPlanChange(
      change(seed, { action: 'pause', before: { status: 'paused', maintenanceEveryDays: 28 }, after: { status: 'active', maintenanceEveryDays: 28 } }),
      1,
    );

    expect(stale).toEqual({ status: 'stale' });
    expect((await s.findPlan(seed.plan.id))?.status).toBe('active');
    expect(await s.planHistory(seed.client.id, seed.plan.id)).toEqual([]);
  });

  it("lists a plan's history oldest first, and the therapist's changes in a window with the activity", async () => {
    const s = await store();
    const seed = await seedClinic(s);
    const pause = change(seed, {
      id: 'chg-b',
      action: 'pause',
      before: { status: 'active', maintenanceEveryDays: 28 },
      after: { status: 'paused', maintenanceEveryDays: 28 },
      at: '2027-03-11T09:00:00.000Z',
      via: 'cli',
      by: 'operator',
    });
    const { note: _note, ...resume } = change(seed, {
      id: 'chg-a',
      action: 'resume',
      before: { status: 'paused', maintenanceEveryDays: 28 },
      after: { status: 'active', maintenanceEveryDays: 28 },
      at: '2027-03-12T09:00:00.000Z',
    });

    await s.recordPlanChange(pause, 1);
    await s.recordPlanChange(resume, 1);

    expect((await s.planHistory(seed.client.id, seed.plan.id)).map((c) => c.id)).toEqual(['chg-b', 'chg-a']);
    expect(
      (await s.therapistActivity(seed.therapist.id, '2027-03-11T00:00:00.000Z', '2027-03-12T00:00:00.000Z')).planChanges.filter(
        (c) => c.planId === seed.plan.id,
      ),
    ).toEqual([pause]);
    expect((await s.findPlan(seed.plan.id))?.status).toBe('active');
  });
}
