import { describe, expect, it } from 'vitest';
import { createHandler, handler as lambdaHandler, SummarySweepError } from '../../functions/summary/handler.js';
import { MissingEnvironmentError } from '../../shared/config/env.js';
import { PermanentError, RetryableError, SendOutcomeUnknownError } from '../../shared/domain/errors.js';
import { clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema, type Therapist } from '../../shared/domain/model.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { sendDueSummaries, STALE_CLAIM_MS, SUMMARY_SKIP_REASON, type SendSummariesDeps } from '../../shared/use-cases/send-summaries.js';
import { classify as errorOutcome } from '../../shared/domain/errors.js';
import { OUTCOME_UNKNOWN } from '../../shared/use-cases/delivery/lease.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import { instant } from '../support/instant.js';
import { addMs } from '../../shared/domain/time.js';

const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'care@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
});
const amy = therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' });
const quiet = therapistSchema.parse({
  id: 't-quiet',
  name: 'Quinn Tate',
  email: 'quinn@harbour.example',
  timezone: 'Europe/London',
  summary: { whenEmpty: 'none' },
});

// Amy's daily summary for 9–10 Feb 2027 falls due at 07:00Z on the 10th.
const DUE = instant('2027-02-10T07:00:00.000Z');
const NAME = 'su.t-amy.20270209.v1';
const at = (iso: string, plusMs = 0) => addMs(instant(iso), plusMs);

/** Powertools' Logger drops an attribute under one of its own keys (with a warning): so does this one. */
const RESERVED_LOG_KEYS = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id']);
const kept = (attributes: object) => Object.fromEntries(Object.entries(attributes).filter(([key]) => !RESERVED_LOG_KEYS.has(key)));

class RecordingLogger {
  readonly lines: string[] = [];
  info(message: string, attributes: object) {
    this.lines.push(JSON.stringify({ level: 'info', message, ...kept(attributes) }));
  }
  warn(message: string, attributes: object) {
    this.lines.push(JSON.stringify({ level: 'warn', message, ...kept(attributes) }));
  }
  error(message: string, attributes: object) {
    this.lines.push(JSON.stringify({ level: 'error', message, ...kept(attributes) }));
  }
}

async function practice(...therapists: Therapist[]) {
  const store = new MemoryStore();
  for (const t of therapists) await store.putTherapist(t);
  const mailer = new MemoryMailer();
  const logger = new RecordingLogger();
  const deps: SendSummariesDeps = { store, ledger: store, mailer, clinic, logger };
  return { store, mailer, logger, deps };
}

async function withCheckIn(store: MemoryStore, notes = 'Sore after gardening') {
  await store.putClient(clientSchema.parse({ id: 'c-sam', name: 'Sam Rivers', email: 'sam.rivers@example.com', timezone: 'Europe/London' }));
  await store.putPlan(
    planSchema.parse({ id: 'p-sam', clientId: 'c-sam', therapistId: 't-amy', goal: 'back-pain', phases: [{ name: 'initial', everyDays: 7 }] }),
  );
  await store.saveSession(
    sessionSchema.parse({ id: 's-sam-1', planId: 'p-sam', start: '2027-02-08T10:00:00Z', durationMinutes: 60, location: 'Room 1', status: 'completed' }),
  );
  await store.recordCheckIn({
    clientId: 'c-sam',
    sessionId: 's-sam-1',
    answers: { pain: 9, mobility: 3, stress: 7, sleep: 2, notes, wantsToRebook: true },
    at: instant('2027-02-09T12:00:00.000Z'),
  });
}

describe('the summary sweep', () => {
  it('sends each therapist one summary per period, however often it runs', async () => {
    const { store, mailer, deps } = await practice(amy);
    await withCheckIn(store);

    const first = await sendDueSummaries(deps, DUE);
    const again = await sendDueSummaries(deps, at(DUE, 15 * 60_000));

    expect(first.counts.sent).toBe(1);
    expect(again.counts).toMatchObject({ sent: 0, done: 1 });
    expect(mailer.to('amy@harbour.example')).toHaveLength(1);
    expect(await store.get(NAME)).toMatchObject({ status: 'sent', kind: 'summary', therapistId: 't-amy', sesMessageId: 'mem-1' });
  });

  it('sends nothing before the local hour', async () => {
    const { store, mailer, deps } = await practice(amy);
    await store.markSkipped(
      { name: 'su.t-amy.20270208.v1', kind: 'summary', therapistId: 't-amy', now: instant('2027-02-09T07:00:00.000Z') },
      SUMMARY_SKIP_REASON,
    );

    const report = await sendDueSummaries(deps, at(DUE, -60_000));

    expect(report.counts).toMatchObject({ sent: 0, done: 1 });
    expect(mailer.sent).toHaveLength(0);
  });

  it('tags the email with opaque ids only, and logs no name, address or answer', async () => {
    const { store, mailer, logger, deps } = await practice(amy);
    await withCheckIn(store, 'private note about my knee');

    await sendDueSummaries(deps, DUE);
    const email = mailer.sent[0]!;

    expect(email.tags).toEqual({ message: NAME, kind: 'summary' });
    expect(email.subject).not.toContain('Sam');
    expect(email.text).toContain('Sam Rivers');
    const logs = logger.lines.join('\n');
    expect(logs).toContain(NAME);
    for (const secret of ['Sam', 'Rivers', 'sam.rivers@example.com', 'amy@harbour.example', 'Amy Chen', 'knee']) expect(logs).not.toContain(secret);
  });

  it('records "nothing new" for a therapist who wants no empty summaries', async () => {
    const { store, mailer, deps } = await practice(quiet);

    const report = await sendDueSummaries(deps, DUE);

    expect(report.counts.skipped).toBe(1);
    expect(mailer.sent).toHaveLength(0);
    expect(await store.get('su.t-quiet.20270209.v1')).toMatchObject({ status: 'skipped', reason: 'nothing new' });
  });

  it('sends a one-line summary for an empty period by default', async () => {
    const { mailer, deps } = await practice(amy);

    await sendDueSummaries(deps, DUE);

    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]?.subject).toBe('Daily summary · Wed 10 Feb · No check-ins');
    expect(mailer.sent[0]?.attachments).toEqual([]);
  });

  it('releases the claim on a retryable send error and sends at the next sweep', async () => {
    const { store, mailer, deps } = await practice(amy);
    await withCheckIn(store);
    mailer.failNext(new RetryableError('SES is throttling'));

    const throttled = await sendDueSummaries(deps, DUE);
    const statusAfterThrottle = (await store.get(NAME))?.status;
    const next = await sendDueSummaries(deps, at(DUE, 15 * 60_000));

    expect(throttled.counts.retry).toBe(1);
    expect(statusAfterThrottle).toBe('released');
    expect(next.counts.sent).toBe(1);
    expect(mailer.sent).toHaveLength(1);
  });

  it('records a permanent error as failed and does not try again', async () => {
    const { store, mailer, deps } = await practice(amy);
    mailer.failNext(new PermanentError('SES refused the email (MessageRejected) for amy@harbour.example', 'MessageRejected'));

    const failed = await sendDueSummaries(deps, DUE);
    const next = await sendDueSummaries(deps, at(DUE, 15 * 60_000));

    expect(failed.counts.failed).toBe(1);
    // The ledger keeps the error's name and code, never its message (which may quote an address).
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: 'PermanentError (MessageRejected)' });
    expect(next.counts.done).toBe(1);
    expect(mailer.sent).toHaveLength(0);
  });

  it('retries when reading the data fails before anything was sent', async () => {
    const { store, mailer, deps } = await practice(amy);
    store.failNext('therapistPlans', new Error('connection reset'));

    const broken = await sendDueSummaries(deps, DUE);
    const next = await sendDueSummaries(deps, at(DUE, 15 * 60_000));

    expect(broken.counts.retry).toBe(1);
    expect(next.counts.sent).toBe(1);
    expect(mailer.sent).toHaveLength(1);
  });

  it('leaves a live claim alone, and marks one whose attempt died "outcome unknown" without resending it', async () => {
    const { store, mailer, deps } = await practice(amy);
    await store.claim({ name: NAME, kind: 'summary', therapistId: 't-amy', dueAt: DUE, now: DUE });

    const whileHeld = await sendDueSummaries(deps, at(DUE, 60_000));
    const afterItDied = await sendDueSummaries(deps, at(DUE, STALE_CLAIM_MS));
    const later = await sendDueSummaries(deps, at(DUE, 2 * STALE_CLAIM_MS));

    expect(whileHeld.counts['in-progress']).toBe(1);
    expect(afterItDied.counts.failed).toBe(1);
    expect(later.counts.done).toBe(1);
    expect(mailer.sent).toHaveLength(0);
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
  });

  it('keeps the claim when SES gave no answer, and records "outcome unknown" once the claim is stale', async () => {
    const { store, mailer, deps } = await practice(amy);
    mailer.failNext(new SendOutcomeUnknownError('SES gave no answer (TimeoutError)'));

    const unanswered = await sendDueSummaries(deps, DUE);
    const statusAfter = (await store.get(NAME))?.status;
    const afterStale = await sendDueSummaries(deps, at(DUE, STALE_CLAIM_MS));

    expect(unanswered.counts.failed).toBe(1);
    expect(statusAfter).toBe('claimed');
    expect(afterStale.counts.failed).toBe(1);
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
    expect(mailer.sent).toHaveLength(0);
  });

  it('catches up after an outage with the latest period only, closing the one a retry left open', async () => {
    const { store, mailer, deps } = await practice(amy);
    mailer.failNext(new RetryableError('SES is throttling'));
    await sendDueSummaries(deps, DUE);

    // No sweep runs for two days; the next one finds the 11–12 Feb period due.
    const report = await sendDueSummaries(deps, instant('2027-02-12T09:00:00.000Z'));

    expect(report.counts.sent).toBe(1);
    expect(mailer.sent.map((e) => e.tags?.message)).toEqual(['su.t-amy.20270211.v1']);
    expect(await store.get('su.t-amy.20270210.v1')).toBeUndefined();
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: 'not sent before the next summary fell due' });
  });

  it('closes the previous period as failed when a retry is still pending as the next falls due', async () => {
    const { store, mailer, deps } = await practice(amy);
    mailer.failNext(new RetryableError('SES is throttling'), 96);
    for (let step = 0; step < 96; step++) await sendDueSummaries(deps, at(DUE, step * 15 * 60_000));

    const nextDay = await sendDueSummaries(deps, at(DUE, 24 * 3_600_000));

    expect(nextDay.counts.sent).toBe(1);
    expect(await store.get(NAME)).toMatchObject({ status: 'failed', reason: 'not sent before the next summary fell due' });
  });

  it('keeps going when one therapist fails', async () => {
    const { store, mailer, deps } = await practice(amy, quiet);
    store.failNext('claim', new ValidationError('claim', [{ path: 'name', reason: 'bad' }]));

    const report = await sendDueSummaries(deps, DUE);

    expect(report.counts).toMatchObject({ failed: 1, skipped: 1 });
    expect(mailer.sent).toHaveLength(0);
  });

  it('maps errors to retry, fail or keep the claim in one place', () => {
    expect(errorOutcome(new SendOutcomeUnknownError('no answer'), 'send')).toBe('keep');
    expect(errorOutcome(new RetryableError('x'), 'send')).toBe('retry');
    expect(errorOutcome(new PermanentError('x', 'MessageRejected'), 'before-send')).toBe('fail');
    expect(errorOutcome(new Error('socket hang up'), 'before-send')).toBe('retry');
    // After the mailer was called an unknown error may mean it went: never send twice.
    expect(errorOutcome(new Error('socket hang up'), 'send')).toBe('fail');
  });
});

describe('the summary handler', () => {
  it("runs the sweep at the clock's time and reports the outcome", async () => {
    const { store, mailer } = await practice(amy);
    const handler = createHandler({ store, ledger: store, mailer, clinic, clock: { now: () => new Date(DUE) }, logger: new RecordingLogger() });

    const report = await handler({});

    expect(report).toMatchObject({ at: DUE, therapists: 1, counts: { sent: 1 } });
  });

  it('refuses an event that is not an object', async () => {
    const { store, mailer } = await practice(amy);
    const handler = createHandler({ store, ledger: store, mailer, clinic, clock: { now: () => new Date(DUE) }, logger: new RecordingLogger() });

    await expect(handler('run')).rejects.toThrow(ValidationError);
    expect(mailer.sent).toHaveLength(0);
  });

  it('ends in an error when a summary failed, so the function alarm sees it', async () => {
    const { store, mailer } = await practice(amy);
    mailer.failNext(new PermanentError('rejected', 'MessageRejected'));
    const handler = createHandler({ store, ledger: store, mailer, clinic, clock: { now: () => new Date(DUE) }, logger: new RecordingLogger() });

    await expect(handler({})).rejects.toThrow(SummarySweepError);
  });

  it('built from the environment, names what is missing or malformed', async () => {
    const saved = { ...process.env };
    try {
      for (const name of ['TABLE_NAME', 'CLINIC_CONFIG', 'CONFIGURATION_SET']) delete process.env[name];
      await expect(lambdaHandler({})).rejects.toThrow(MissingEnvironmentError);
      await expect(lambdaHandler({})).rejects.toThrow(/TABLE_NAME, CLINIC_CONFIG, CONFIGURATION_SET/);

      Object.assign(process.env, { TABLE_NAME: 'keepwell', CONFIGURATION_SET: 'keepwell', CLINIC_CONFIG: '{"name":' });
      await expect(lambdaHandler({})).rejects.toThrow('CLINIC_CONFIG is invalid: (root): is not valid JSON');
    } finally {
      process.env = saved;
    }
  });
});
