/**
 * The intake questionnaire and the baseline it sets: its name and decision rules, how
 * sync-schedules plans it when a plan starts, how dispatch sends or skips it, how its answers
 * become the plan's baseline, and what a check-in is compared with before and after.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { virtualClock, type VirtualClock } from '../../local/clock.js';
import { checkInComparison, comparedBaseline } from '../../shared/domain/baseline.js';
import { firstSessionOf, INTAKE_SKIP_REASONS, intakeIdentity, intakeLinkExpiry, intakeSkipReason } from '../../shared/domain/intake-questionnaire.js';
import { categoryOf, isUrgent, kindOfName, messageName } from '../../shared/domain/message.js';
import { redFlags } from '../../shared/domain/red-flags.js';
import type { DispatchPayload } from '../../shared/domain/dispatch-payload.js';
import { bookSession, pausePlan, suppressAddress, unsubscribe } from '../../shared/use-cases/manage-plans.js';
import { recordCheckIn } from '../../shared/use-cases/record-check-in.js';
import { recordIntake } from '../../shared/use-cases/record-intake.js';
import { sendMessage, type SendMessageDeps } from '../../shared/use-cases/send-message.js';
import { syncSchedules, type SchedulingDeps } from '../../shared/use-cases/sync-schedules.js';
import { buildSummary } from '../../shared/use-cases/send-summaries/build-summary.js';
import { summaryDocument } from '../../shared/email/summary.js';
import { renderDocument } from '../../shared/email/render.js';
import { latestDuePeriod } from '../../shared/domain/summary-period.js';
import { clientFixture, clinicFixture, planFixture, testSigner, therapistFixture } from '../support/memory-clinic.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import type { StoredSession } from '../../shared/ports/store.js';
import { instant } from '../support/instant.js';

const NOW = instant('2027-02-01T09:00:00.000Z');
const FIRST_SESSION = instant('2027-02-03T14:00:00.000Z');
const INTAKE = { pain: 6, mobility: 4, stress: 7, sleep: 5, reason: 'Stiff lower back since the winter.' };

describe('the intake questionnaire as a message', () => {
  it('is named once per plan, read back as its kind, in the check-ins choice, and urgent', () => {
    const name = messageName(intakeIdentity('p-sam'));

    expect(name).toBe('iq.p-sam.intake.v1');
    expect(kindOfName(name)).toBe('intake-questionnaire');
    expect(categoryOf('intake-questionnaire')).toBe('check-ins');
    // It must reach the client before the first session, perhaps the next morning: no quiet-hours or day-cap wait.
    expect(isUrgent('intake-questionnaire')).toBe(true);
  });

  it("takes the plan's earliest session that is not cancelled as its first", () => {
    const sessions = [
      { id: 's-3', planId: 'p-1', start: instant('2027-02-10T10:00:00.000Z'), status: 'booked' },
      { id: 's-1', planId: 'p-1', start: instant('2027-02-01T10:00:00.000Z'), status: 'cancelled' },
      { id: 's-2', planId: 'p-1', start: instant('2027-02-03T10:00:00.000Z'), status: 'booked' },
      { id: 's-x', planId: 'p-2', start: instant('2027-01-01T10:00:00.000Z'), status: 'booked' },
    ];

    expect(firstSessionOf('p-1', sessions)?.id).toBe('s-2');
    expect(firstSessionOf('p-3', sessions)).toBeUndefined();
  });

  it.each([
    ['the plan already has a baseline', { baseline: { pain: 1 } }, { start: FIRST_SESSION, status: 'booked' }, INTAKE_SKIP_REASONS.hasBaseline],
    ['the first session has started', {}, { start: NOW, status: 'booked' }, INTAKE_SKIP_REASONS.firstSessionStarted],
    ['the first session is long past', {}, { start: instant('2026-12-01T10:00:00.000Z'), status: 'completed' }, INTAKE_SKIP_REASONS.firstSessionStarted],
    ['the first session is cancelled', {}, { start: FIRST_SESSION, status: 'cancelled' }, INTAKE_SKIP_REASONS.firstSessionCancelled],
    ['there is no session', {}, undefined, INTAKE_SKIP_REASONS.noSession],
    ['no baseline and the first session ahead: sent', {}, { start: FIRST_SESSION, status: 'booked' }, undefined],
  ])('is skipped when %s', (_, plan, session, reason) => {
    const firstSession = session ? { id: 's-1', planId: 'p-1', ...session } : undefined;

    expect(intakeSkipReason({ plan, ...(firstSession ? { firstSession } : {}), now: NOW })).toBe(reason);
  });

  it("links to a page that works until an hour after the first session's start", () => {
    expect(intakeLinkExpiry(FIRST_SESSION, new Date(NOW)).toISOString()).toBe('2027-02-03T15:00:00.000Z');
  });
});

describe('what a check-in is compared with', () => {
  const checkIns = [
    { planId: 'p-1', answeredAt: instant('2027-02-04T10:00:00.000Z'), pain: 5, mobility: 5, stress: 5, sleep: 5 },
    { planId: 'p-1', answeredAt: instant('2027-02-11T10:00:00.000Z'), pain: 4, mobility: 6, stress: 4, sleep: 6 },
    { planId: 'p-2', answeredAt: instant('2027-02-12T10:00:00.000Z'), pain: 9, mobility: 1, stress: 9, sleep: 1 },
  ];

  it("is the intake's baseline and the latest earlier check-in on the same plan", () => {
    const plan = { id: 'p-1', baseline: { pain: 7, mobility: 3, stress: 6, sleep: 4, at: NOW } };

    expect(checkInComparison(plan, checkIns, instant('2027-02-18T10:00:00.000Z'))).toEqual({
      baselineScores: { pain: 7, mobility: 3, stress: 6, sleep: 4 },
      previous: { pain: 4, mobility: 6, stress: 4, sleep: 6 },
    });
  });

  it('has no baseline while the intake is unanswered, and the first check-in does not become one', () => {
    const first = checkInComparison({ id: 'p-1' }, [], instant('2027-02-04T10:00:00.000Z'));

    expect(first).toEqual({});
    expect(comparedBaseline({ baseline: false, ...first })).toBeUndefined();
  });

  it('raises no change-against-baseline flag without a baseline; the absolute levels still apply', () => {
    const flare = { pain: 8, mobility: 2, stress: 9, sleep: 2 };

    expect(redFlags(flare, undefined)).toEqual(['Pain is 8/10', 'Sleep is 2/10']);
    expect(redFlags(flare, { pain: 4, mobility: 6, stress: 5, sleep: 6 })).toEqual([
      'Pain is 8/10',
      'Pain is up 4 against baseline (4 → 8)',
      'Mobility is down 4 against baseline (6 → 2)',
      'Stress is up 4 against baseline (5 → 9)',
      'Sleep is 2/10',
      'Sleep is down 4 against baseline (6 → 2)',
    ]);
  });
});

describe('planning, sending and answering the intake questionnaire', () => {
  let clock: VirtualClock;
  let store: MemoryStore;
  let scheduler: InMemoryMessageScheduler;
  let mailer: MemoryMailer;
  let sync: SchedulingDeps;
  let send: SendMessageDeps;
  const clinic = clinicFixture({ bookingEmails: { undoMinutes: 5, confirmation: false, change: false, cancellation: false } });
  const therapist = therapistFixture();
  const client = clientFixture({ id: 'c-sam' });
  const plan = planFixture(client, { id: 'p-sam', therapistId: therapist.id });
  const NAME = 'iq.p-sam.intake.v1';

  beforeEach(async () => {
    clock = virtualClock(new Date(NOW));
    store = new MemoryStore({ now: () => clock.now() });
    scheduler = new InMemoryMessageScheduler();
    mailer = new MemoryMailer();
    sync = { store, ledger: store, scheduler, clinic, clock };
    send = { store, ledger: store, mailer, scheduler, tokens: testSigner(), clinic, clock };
    await store.putTherapist(therapist);
    await store.putClient(client);
  });

  /** Writes the plan (and its sessions), then hands sync-schedules each change as the stream would, plan first. */
  async function startPlan(starts: readonly { id: string; start: string; status?: 'booked' | 'completed' }[]): Promise<void> {
    await store.putPlan(plan);
    const sessions: StoredSession[] = [];
    for (const s of starts)
      sessions.push(
        await store.saveSession({
          id: s.id,
          planId: plan.id,
          start: instant(s.start),
          durationMinutes: 60,
          location: 'Room 1',
          status: s.status ?? 'booked',
          version: 1,
        }),
      );
    await syncSchedules(sync, { type: 'plan', after: (await store.findPlan(plan.id))! });
    for (const s of sessions) await syncSchedules(sync, { type: 'session', after: (await store.findSession(s.id))! });
  }

  const intakePayload = (): DispatchPayload => scheduler.schedules.get(NAME)!.payload as DispatchPayload;

  it('is due at once when a plan is created with its first session ahead, naming only opaque ids', async () => {
    await startPlan([{ id: 's-1', start: FIRST_SESSION }]);

    expect(scheduler.schedules.get(NAME)).toEqual({
      name: NAME,
      at: NOW,
      payload: { message: intakeIdentity('p-sam'), clientId: 'c-sam', planId: 'p-sam', sessionId: 's-1', therapistId: therapist.id },
    });
  });

  it("waits for the end of the clinic's quiet hours when a plan starts at night, unless the first session comes sooner", async () => {
    clock.set(new Date('2027-02-01T22:30:00.000Z'));
    await startPlan([{ id: 's-1', start: FIRST_SESSION }]);
    expect(scheduler.schedules.get(NAME)?.at).toBe('2027-02-02T08:00:00.000Z');

    await scheduler.remove(NAME);
    await store.updatePlanStatus('c-sam', 'p-sam', 'paused');
    await store.saveSession({
      id: 's-0',
      planId: plan.id,
      start: instant('2027-02-02T07:30:00.000Z'),
      durationMinutes: 30,
      location: 'Room 1',
      status: 'booked',
      version: 1,
    });
    await syncSchedules(sync, { type: 'plan', before: { ...plan, status: 'paused' }, after: { ...plan, status: 'active' } });
    expect(scheduler.schedules.get(NAME)).toMatchObject({ at: '2027-02-01T22:30:00.000Z', payload: { sessionId: 's-0' } });
  });

  it('is planned when the first session is booked on a plan created with none', async () => {
    await startPlan([]);
    expect(scheduler.schedules.has(NAME)).toBe(false);

    await bookSession(store, { id: 's-1', planId: plan.id, start: FIRST_SESSION, durationMinutes: 60, location: 'Room 1' });
    await syncSchedules(sync, { type: 'session', after: (await store.findSession('s-1'))! });

    expect(intakePayload()).toMatchObject({ sessionId: 's-1' });
  });

  it('is not planned for a plan whose first session is behind it (history), nor once it has a baseline', async () => {
    await startPlan([
      { id: 's-1', start: '2027-01-20T10:00:00.000Z', status: 'completed' },
      { id: 's-2', start: FIRST_SESSION },
    ]);
    expect(scheduler.schedules.has(NAME)).toBe(false);

    await store.recordBaseline({ clientId: 'c-sam', planId: 'p-sam', answers: INTAKE, at: NOW });
    await bookSession(store, { id: 's-0', planId: plan.id, start: '2027-02-02T10:00:00.000Z', durationMinutes: 60, location: 'Room 1' });
    await syncSchedules(sync, { type: 'session', after: (await store.findSession('s-0'))! });
    expect(scheduler.schedules.has(NAME)).toBe(false);
  });

  it('sends the email with a link to the intake page, tagged by its name and kind, and records it in the ledger', async () => {
    await startPlan([{ id: 's-1', start: FIRST_SESSION }]);

    const outcome = await sendMessage(send, intakePayload());

    expect(outcome).toMatchObject({ status: 'sent', name: NAME });
    const [email] = mailer.sent;
    expect(email?.to).toBe(client.email);
    expect(email?.tags).toEqual({ message: NAME, kind: 'intake-questionnaire' });
    expect(email?.subject).toBe('Before your first session with Jo Rivers');
    expect(email?.text).toContain('Hello Sam,');
    const token = /https:\/\/keepwell\.calm\.test\/intake-form\/([A-Za-z0-9_.-]+)/.exec(email!.html)![1]!;
    const claims = testSigner().verify(token, 'intake', clock.now());
    expect(claims).toMatchObject({ clientId: 'c-sam', subject: 'p-sam', expiresAt: new Date('2027-02-03T15:00:00.000Z') });
    expect(email?.headers?.['List-Unsubscribe']).toMatch(/^<https:\/\/keepwell\.calm\.test\/unsubscribe\//);
    expect(await store.get(NAME)).toMatchObject({ status: 'sent', kind: 'intake-questionnaire', planId: 'p-sam', sessionId: 's-1' });
  });

  it.each([
    [
      'the intake was answered in the meantime',
      async () => void (await store.recordBaseline({ clientId: 'c-sam', planId: 'p-sam', answers: INTAKE, at: NOW })),
      'plan already has a baseline',
    ],
    ['the first session has started', async () => clock.set(new Date(FIRST_SESSION)), 'first session already started'],
    ['the plan is paused', async () => void (await pausePlan(store, 'p-sam')), 'plan paused'],
    ['the client unsubscribed from check-ins', async () => void (await unsubscribe(store, 'c-sam', 'check-ins')), 'unsubscribed from check-ins'],
    ['the address is suppressed', async () => void (await suppressAddress(store, client.email, 'bounce', NOW)), 'address suppressed (bounce)'],
  ])('is skipped with the reason when %s', async (_, change, reason) => {
    await startPlan([{ id: 's-1', start: FIRST_SESSION }]);
    const payload = intakePayload();
    await change();

    const outcome = await sendMessage(send, payload);

    expect(outcome).toEqual({ status: 'skipped', name: NAME, reason });
    expect(mailer.sent).toEqual([]);
    expect(await store.get(NAME)).toMatchObject({ status: 'skipped', reason });
  });

  it('stores the answers as the baseline once: a second answer, even an invalid one, is told it was answered', async () => {
    await startPlan([{ id: 's-1', start: FIRST_SESSION }]);
    const answer = (answers: unknown) => recordIntake({ store }, { clientId: 'c-sam', planId: 'p-sam', answers, now: clock.now() });

    const invalid = await answer({ pain: 11, mobility: 4, stress: 7 });
    const first = await answer(INTAKE);
    const again = await answer({});

    expect(invalid).toEqual({
      status: 'invalid',
      issues: [
        { path: 'pain', reason: 'pain must be a whole number from 0 to 10' },
        { path: 'sleep', reason: 'sleep is required' },
      ],
    });
    expect([first, again]).toEqual([{ status: 'recorded' }, { status: 'already-answered' }]);
    expect((await store.findPlan('p-sam'))?.baseline).toEqual({ pain: 6, mobility: 4, stress: 7, sleep: 5, reason: INTAKE.reason, at: NOW });
    await expect(recordIntake({ store }, { clientId: 'c-other', planId: 'p-sam', answers: INTAKE, now: clock.now() })).rejects.toThrow('plan');
  });

  it('refuses "What brings you in?" past its length or with control characters, storing nothing', async () => {
    await startPlan([{ id: 's-1', start: FIRST_SESSION }]);

    const long = await recordIntake({ store }, { clientId: 'c-sam', planId: 'p-sam', answers: { ...INTAKE, reason: 'x'.repeat(2001) }, now: clock.now() });
    const control = await recordIntake({ store }, { clientId: 'c-sam', planId: 'p-sam', answers: { ...INTAKE, reason: 'a\u202Eb' }, now: clock.now() });

    expect(long).toMatchObject({ status: 'invalid', issues: [{ path: 'reason', reason: 'what brings you in must be at most 2,000 characters' }] });
    expect(control).toMatchObject({ status: 'invalid', issues: [{ path: 'reason' }] });
    expect((await store.findPlan('p-sam'))?.baseline).toBeUndefined();
  });
});

describe("the therapist's summary and the baseline", () => {
  const therapist = therapistFixture();
  const period = latestDuePeriod(therapist.summary, therapist.timezone, instant('2027-02-10T07:00:00.000Z'));
  const clinic = clinicFixture();

  async function clientWithCheckIn(intake: boolean): Promise<MemoryStore> {
    const store = new MemoryStore();
    const client = clientFixture({ id: 'c-lee', name: 'Lee Hart' });
    const plan = planFixture(client, { id: 'p-lee', therapistId: therapist.id });
    await store.putTherapist(therapist);
    await store.putClient(client);
    await store.putPlan(plan);
    if (intake)
      await store.recordBaseline({
        clientId: client.id,
        planId: plan.id,
        answers: { pain: 4, mobility: 6, stress: 4, sleep: 6, reason: '' },
        at: instant('2027-02-01T09:00:00.000Z'),
      });
    await store.saveSession({
      id: 's-lee-1',
      planId: plan.id,
      start: instant('2027-02-08T10:00:00.000Z'),
      durationMinutes: 60,
      location: 'Room 1',
      status: 'completed',
      version: 1,
    });
    // A flare-up after the first session: every score 3 worse than the intake's.
    await recordCheckIn(
      { store, ledger: store, mailer: new MemoryMailer(), clinic },
      { clientId: client.id, sessionId: 's-lee-1', answers: { pain: 7, mobility: 3, stress: 7, sleep: 3 }, now: instant('2027-02-09T10:00:00.000Z') },
    );
    return store;
  }

  it('compares a check-in with the intake answered before it, and flags the flare-up', async () => {
    const data = await buildSummary({ store: await clientWithCheckIn(true), therapist, period, clinic });
    const { text } = renderDocument(summaryDocument(data), { clinicName: clinic.name });

    expect(data.checkIns[0]).toMatchObject({ baseline: { pain: 4, mobility: 6, stress: 4, sleep: 6 }, isBaseline: false });
    expect(data.checkIns[0]?.flags).toEqual([
      'Pain is up 3 against baseline (4 → 7)',
      'Mobility is down 3 against baseline (6 → 3)',
      'Stress is up 3 against baseline (4 → 7)',
      'Sleep is down 3 against baseline (6 → 3)',
    ]);
    expect(text).toContain('7 (▲3 vs baseline)');
  });

  it('says "no baseline yet" for a client whose intake is unanswered, rather than treating the flare-up as normal', async () => {
    const data = await buildSummary({ store: await clientWithCheckIn(false), therapist, period, clinic });
    const { text } = renderDocument(summaryDocument(data), { clinicName: clinic.name });

    expect(data.checkIns[0]?.baseline).toBeUndefined();
    expect(data.checkIns[0]?.isBaseline).toBe(false);
    expect(data.checkIns[0]?.flags).toEqual([]);
    expect(text).toContain('no baseline yet: pain 7; mobility 3; stress 7; sleep 3');
    expect(text).not.toContain('(baseline)');
  });
});
