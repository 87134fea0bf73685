/**
 * The summary sweep driven by a virtual clock in 15-minute steps, as the recurring schedule runs
 * it, across both 2027 clock changes in London and in a half-hour zone: every summary arrives at
 * the therapist's local hour, exactly once per period. Ledger entries carry the virtual send time.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/summary/handler.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { clinicSchema, therapistSchema } from '../../shared/domain/model.js';
import { virtualClock } from '../../local/clock.js';
import { createTestTable, sesClient, sesEmails, type TestTable } from '../support/local-aws.js';

const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'care@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
});
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const STEP_MS = 15 * 60_000;

/** Runs the sweep at every quarter hour from `from` to `to` inclusive, as the cron(0/15 …) schedule does. */
async function sweepEveryQuarterHour(t: TestTable, from: string, to: string): Promise<void> {
  const clock = virtualClock(new Date(from));
  const handler = createHandler({ store: t.store, ledger: t.store, mailer: new SesMailer({ client: sesClient() }), clinic, clock, logger: silent });
  for (let at = Date.parse(from); at <= Date.parse(to); at += STEP_MS) {
    clock.advanceTo(new Date(at));
    await handler({});
  }
}

/** When each of a therapist's summaries was sent, by period key. */
async function sentTimes(t: TestTable, therapistId: string, from: string, to: string): Promise<Array<[string, string]>> {
  const entries = await t.store.listSince(from, to);
  return entries
    .filter((e) => e.kind === 'summary' && e.therapistId === therapistId)
    .map((e): [string, string] => [e.name, e.status === 'sent' ? e.updatedAt : e.status])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

const days = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);
const dd = (n: number) => String(n).padStart(2, '0');

describe('summaries across clock changes', () => {
  it('arrive at 07:00 London every day and every Sunday around the spring change (06:00Z from 28 March)', async () => {
    const run = randomUUID().slice(0, 8);
    const t = await createTestTable();
    await t.store.putTherapist(therapistSchema.parse({ id: 't-day', name: 'Dee Day', email: `day-${run}@harbour.example`, timezone: 'Europe/London' }));
    await t.store.putTherapist(
      therapistSchema.parse({
        id: 't-week',
        name: 'Wes Week',
        email: `week-${run}@harbour.example`,
        timezone: 'Europe/London',
        summary: { cadence: 'weekly', weekday: 7 },
      }),
    );

    // Sunday 21 March 07:00 GMT is the first summary instant of both; the last sweep is 4 April 23:45Z.
    await sweepEveryQuarterHour(t, '2027-03-21T07:00:00.000Z', '2027-04-04T23:45:00.000Z');

    // Each daily period starts on the day before the summary; GMT until 27 March, BST from 28 March.
    const daily = days(21, 31)
      .map((d) => `2027-03-${dd(d)}`)
      .concat(days(1, 4).map((d) => `2027-04-${dd(d)}`));
    const expectedDaily = daily.map((date): [string, string] => {
      const previous = new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
      return [`su.t-day.${previous}.v1`, `${date}T${date >= '2027-03-28' ? '06' : '07'}:00:00.000Z`];
    });
    expect(await sentTimes(t, 't-day', '2027-03-20T00:00:00.000Z', '2027-04-05T00:00:00.000Z')).toEqual(expectedDaily);
    expect(await sentTimes(t, 't-week', '2027-03-20T00:00:00.000Z', '2027-04-05T00:00:00.000Z')).toEqual([
      ['su.t-week.20270314.v1', '2027-03-21T07:00:00.000Z'],
      ['su.t-week.20270321.v1', '2027-03-28T06:00:00.000Z'],
      ['su.t-week.20270328.v1', '2027-04-04T06:00:00.000Z'],
    ]);
    expect(await sesEmails(`day-${run}@harbour.example`)).toHaveLength(15);
    expect(await sesEmails(`week-${run}@harbour.example`)).toHaveLength(3);
  }, 300_000);

  it('arrive at 07:00 London every day and every Sunday around the autumn change (07:00Z from 31 October)', async () => {
    const run = randomUUID().slice(0, 8);
    const t = await createTestTable();
    await t.store.putTherapist(therapistSchema.parse({ id: 't-day', name: 'Dee Day', email: `day-${run}@harbour.example`, timezone: 'Europe/London' }));
    await t.store.putTherapist(
      therapistSchema.parse({
        id: 't-week',
        name: 'Wes Week',
        email: `week-${run}@harbour.example`,
        timezone: 'Europe/London',
        summary: { cadence: 'weekly', weekday: 7 },
      }),
    );

    // Sunday 24 October 07:00 BST (06:00Z) is the first summary instant of both.
    await sweepEveryQuarterHour(t, '2027-10-24T06:00:00.000Z', '2027-11-07T23:45:00.000Z');

    const daily = days(24, 31)
      .map((d) => `2027-10-${dd(d)}`)
      .concat(days(1, 7).map((d) => `2027-11-${dd(d)}`));
    const expectedDaily = daily.map((date): [string, string] => {
      const previous = new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
      return [`su.t-day.${previous}.v1`, `${date}T${date >= '2027-10-31' ? '07' : '06'}:00:00.000Z`];
    });
    expect(await sentTimes(t, 't-day', '2027-10-23T00:00:00.000Z', '2027-11-08T00:00:00.000Z')).toEqual(expectedDaily);
    expect(await sentTimes(t, 't-week', '2027-10-23T00:00:00.000Z', '2027-11-08T00:00:00.000Z')).toEqual([
      ['su.t-week.20271017.v1', '2027-10-24T06:00:00.000Z'],
      ['su.t-week.20271024.v1', '2027-10-31T07:00:00.000Z'],
      ['su.t-week.20271031.v1', '2027-11-07T07:00:00.000Z'],
    ]);
    expect(await sesEmails(`day-${run}@harbour.example`)).toHaveLength(15);
    expect(await sesEmails(`week-${run}@harbour.example`)).toHaveLength(3);
  }, 300_000);

  it('arrive at 07:00 in Kolkata (+05:30), which is 01:30Z, once a day', async () => {
    const run = randomUUID().slice(0, 8);
    const t = await createTestTable();
    await t.store.putTherapist(therapistSchema.parse({ id: 't-kol', name: 'Kavya Rao', email: `kol-${run}@harbour.example`, timezone: 'Asia/Kolkata' }));

    await sweepEveryQuarterHour(t, '2027-03-21T01:30:00.000Z', '2027-03-24T01:15:00.000Z');

    expect(await sentTimes(t, 't-kol', '2027-03-20T00:00:00.000Z', '2027-03-25T00:00:00.000Z')).toEqual([
      ['su.t-kol.20270320.v1', '2027-03-21T01:30:00.000Z'],
      ['su.t-kol.20270321.v1', '2027-03-22T01:30:00.000Z'],
      ['su.t-kol.20270322.v1', '2027-03-23T01:30:00.000Z'],
    ]);
    expect(await sesEmails(`kol-${run}@harbour.example`)).toHaveLength(3);
  }, 120_000);
});
