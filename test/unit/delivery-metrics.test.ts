/**
 * What dispatch reports about each delivery: outcome by kind with a bounded reason, lateness of
 * each email sent, written by Powertools as CloudWatch embedded metrics on stdout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { virtualClock } from '../../local/clock.js';
import { createHandler } from '../../functions/dispatch/handler.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { PowertoolsDeliveryMetrics } from '../../shared/adapters/metrics/powertools.js';
import { reasonCode } from '../../shared/domain/reason-code.js';
import { BOOKING_SKIP_REASONS, turnedOffReason } from '../../shared/domain/booking-emails.js';
import type { MessageKind } from '../../shared/domain/message.js';
import type { DeliveryMetrics, DeliveryStatus } from '../../shared/ports/metrics.js';
import { OUTCOME_UNKNOWN } from '../../shared/use-cases/send-message.js';
import { recordCheckIn } from '../../shared/use-cases/record-check-in.js';
import { RetryableError } from '../../shared/domain/errors.js';
import { NOW, seedPractice, testClinic } from '../e2e/fixtures.js';
import { clinicFixture, payloadFor, reminderIdentity, seedClinic, testSigner } from '../support/memory-clinic.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';

class RecordingMetrics implements DeliveryMetrics {
  readonly outcomes: Array<[MessageKind, DeliveryStatus, string | undefined]> = [];
  readonly late: Array<[MessageKind, number]> = [];
  outcome(kind: MessageKind, status: DeliveryStatus, reason?: string): void {
    this.outcomes.push([kind, status, reason]);
  }
  lateness(kind: MessageKind, ms: number): void {
    this.late.push([kind, ms]);
  }
}

describe('reason codes for metric dimensions', () => {
  it.each([
    ['superseded by a later reminder', 'superseded-by-a-later-reminder'],
    ['session cancelled', 'session-cancelled'],
    ['deferred to 2027-02-03T08:00:00.000Z: quiet hours', 'deferred'],
    ['gave up after 9 retries: SES is throttling', 'gave-up'],
    [OUTCOME_UNKNOWN, 'outcome-unknown'],
    ['too late: the session starts in under 60 minutes', 'too-late'],
    ['MessageRejected: SES refused the email (MessageRejected)', 'MessageRejected'],
    [BOOKING_SKIP_REASONS.cancelledInWindow, 'cancelled-in-undo-window'],
    [BOOKING_SKIP_REASONS.movedInWindow, 'moved-in-undo-window'],
    [turnedOffReason('booking-change'), 'turned-off'],
    ['Sam said “no” 42 times', 'other'],
    [undefined, 'unknown'],
  ])('%s → %s', (reason, code) => {
    expect(reasonCode(reason)).toBe(code);
  });
});

describe('dispatch reporting each delivery', () => {
  it('reports a sent reminder and how late it went, then the duplicate delivery it absorbed', async () => {
    const clock = virtualClock(new Date('2027-01-30T14:00:42.000Z'));
    const store = new MemoryStore({ now: () => clock.now() });
    const seeded = await seedClinic(store);
    const metrics = new RecordingMetrics();
    const handler = createHandler({
      store,
      ledger: store,
      mailer: new MemoryMailer(),
      scheduler: new InMemoryMessageScheduler(),
      tokens: testSigner(),
      clinic: clinicFixture(),
      clock,
      metrics,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const payload = payloadFor(seeded, reminderIdentity(seeded.sessions.at(-1)!), '2027-01-30T14:00:00.000Z');

    await handler(payload);
    await handler(payload);

    expect(metrics.outcomes).toEqual([
      ['reminder', 'sent', undefined],
      ['reminder', 'duplicate', undefined],
    ]);
    expect(metrics.late).toEqual([['reminder', 42_000]]);
  });
});

describe("the web function reporting a red-flag alert's delay", () => {
  const answers = { pain: 4, mobility: 6, stress: 5, sleep: 6, notes: '', wantsToRebook: false };

  it("reports the alert sent with the answers: as therapist-alert lateness, from the answers' time", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const practice = await seedPractice(store, { tag: 'rf' });
    const metrics = new RecordingMetrics();

    const result = await recordCheckIn(
      { store, ledger: store, mailer: new MemoryMailer(), clinic: testClinic(), metrics },
      { clientId: practice.client.id, sessionId: practice.past.id, answers: { ...answers, sleep: 1 }, now: NOW },
    );

    expect(result).toMatchObject({ status: 'recorded', alert: 'sent' });
    expect(metrics.late).toEqual([['therapist-alert', 0]]);
  });

  it("reports the whole delay of an alert that went only on the client's retry, and nothing for an alert not sent", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const practice = await seedPractice(store, { tag: 'rf2' });
    const mailer = new MemoryMailer();
    const metrics = new RecordingMetrics();
    const deps = { store, ledger: store, mailer, clinic: testClinic(), metrics };
    mailer.failNext(new RetryableError('SES is throttling'));

    await expect(
      recordCheckIn(deps, { clientId: practice.client.id, sessionId: practice.past.id, answers: { ...answers, sleep: 1 }, now: NOW }),
    ).rejects.toBeInstanceOf(RetryableError);
    expect(metrics.late).toEqual([]);
    await recordCheckIn(deps, {
      clientId: practice.client.id,
      sessionId: practice.past.id,
      answers: { ...answers, sleep: 1 },
      now: new Date(NOW.getTime() + 90_000),
    });

    expect(metrics.late).toEqual([['therapist-alert', 90_000]]);
  });
});

describe('the Powertools adapter', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const emf = () =>
    lines.map(
      (l) =>
        JSON.parse(l) as {
          _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
        } & Record<string, unknown>,
    );

  it('writes a failure as embedded metrics: by kind and reason, and in the across-kinds totals', () => {
    new PowertoolsDeliveryMetrics('keepwell-dispatch').outcome('check-in', 'failed', 'outcome-unknown');

    const out = emf();
    // Settled and failed twice each: across kinds, and by kind for the per-kind failure-ratio alarms.
    expect(out.map((o) => o._aws.CloudWatchMetrics[0]!.Metrics[0]!.Name)).toEqual([
      'MessagesFailed',
      'OutcomeUnknown',
      'DeliveriesSettled',
      'DeliveriesSettled',
      'DeliveryFailures',
      'DeliveryFailures',
    ]);
    expect(out[0]).toMatchObject({ Kind: 'check-in', Reason: 'outcome-unknown', service: 'keepwell-dispatch', MessagesFailed: 1 });
    expect(out[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Keepwell', Dimensions: [['service', 'Kind', 'Reason']] });
    expect(out.slice(1).map((o) => o._aws.CloudWatchMetrics[0]!.Dimensions)).toEqual([
      [['service']],
      [['service']],
      [['service', 'Kind']],
      [['service']],
      [['service', 'Kind']],
    ]);
    expect(out[3]).toMatchObject({ Kind: 'check-in', DeliveriesSettled: 1 });
    expect(out[5]).toMatchObject({ Kind: 'check-in', DeliveryFailures: 1 });
  });

  it('writes lateness in seconds by kind', () => {
    new PowertoolsDeliveryMetrics('keepwell-dispatch').lateness('reminder', 90_500);

    expect(emf()[0]).toMatchObject({ Kind: 'reminder', SendLateness: 90.5 });
    expect(emf()[0]!._aws.CloudWatchMetrics[0]!.Metrics[0]).toEqual({ Name: 'SendLateness', Unit: 'Seconds' });
  });
});
