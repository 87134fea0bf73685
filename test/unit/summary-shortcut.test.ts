import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Therapist } from '../../shared/domain/model.js';
import { summaryShortcut, summaryWrites } from '../../local/summary-shortcut.js';
import type { TableWrites } from '../../local/table-writes.js';

const therapist = {
  id: 't-1',
  name: 'T',
  email: 't@example.com',
  timezone: 'Europe/London',
  summary: { cadence: 'daily', hour: 7, whenEmpty: 'send' },
} as unknown as Therapist;

function setup() {
  let completed = 0;
  let inFlight = 0;
  const writes: TableWrites = { completed: () => completed, inFlight: () => inFlight, stop: () => undefined };
  const store = { listTherapists: async () => [therapist] };
  const shortcut = summaryShortcut({ store, writes });
  let sweeps = 0;
  const sweep = (outcome: string) => async () => {
    sweeps++;
    return { at: 'x', therapists: 1, counts: {}, results: [{ therapistId: 't-1', outcome }] };
  };
  return { shortcut, sweep, sweeps: () => sweeps, write: () => completed++, startWrite: () => inFlight++ };
}

describe('the summary sweep shortcut', () => {
  it('leaves out a sweep that would repeat a settled one: no write since, no new period due', async () => {
    const t = setup();
    await t.shortcut.run(new Date('2027-04-05T07:00:00Z'), t.sweep('sent'));
    const again = await t.shortcut.run(new Date('2027-04-05T07:15:00Z'), t.sweep('done'));
    await t.shortcut.run(new Date('2027-04-06T05:45:00Z'), t.sweep('done'));

    expect(t.sweeps()).toBe(1);
    expect(t.shortcut.skipped).toBe(2);
    expect(again).toMatchObject({ results: [{ outcome: 'sent' }] });
  });

  it('sweeps once the next summary instant has come', async () => {
    const t = setup();
    await t.shortcut.run(new Date('2027-04-05T07:00:00Z'), t.sweep('sent'));
    // 07:00 in London is 06:00 UTC in summer time.
    await t.shortcut.run(new Date('2027-04-06T06:00:00Z'), t.sweep('sent'));
    expect(t.sweeps()).toBe(2);
  });

  it('sweeps after any write to the table, and while one is under way', async () => {
    const t = setup();
    await t.shortcut.run(new Date('2027-04-05T07:00:00Z'), t.sweep('done'));
    t.write();
    await t.shortcut.run(new Date('2027-04-05T07:15:00Z'), t.sweep('done'));
    t.startWrite();
    await t.shortcut.run(new Date('2027-04-05T07:30:00Z'), t.sweep('done'));
    expect(t.sweeps()).toBe(3);
  });

  it('sweeps again after a sweep that left anything unsettled', async () => {
    for (const outcome of ['retry', 'in-progress', 'failed']) {
      const t = setup();
      await t.shortcut.run(new Date('2027-04-05T07:00:00Z'), t.sweep(outcome));
      await t.shortcut.run(new Date('2027-04-05T07:15:00Z'), t.sweep('done'));
      expect(t.sweeps()).toBe(2);
    }
  });
});

describe('the writes a summary sweep reads', () => {
  const record = (pk: string, type: string, eventName: 'INSERT' | 'REMOVE' = 'INSERT'): DynamoDBRecord => {
    const image = { pk: { S: pk }, sk: { S: type.toUpperCase() }, type: { S: type } };
    return {
      eventName,
      dynamodb: { Keys: { pk: { S: pk }, sk: { S: type.toUpperCase() } }, ...(eventName === 'REMOVE' ? { OldImage: image } : { NewImage: image }) },
    };
  };

  it('counts therapists and summary and clinic-report ledger entries, and nothing else', () => {
    let inFlight = 0;
    const relevant = summaryWrites({ completed: () => 99, inFlight: () => inFlight, stop: () => undefined });
    relevant.observe(record('MSG#rm.s-1.P2D.v1', 'message'));
    relevant.observe(record('CLIENT#c-1', 'session'));
    relevant.observe(record('MSG#ci.s-1.v1', 'message'));
    expect(relevant.completed()).toBe(0);

    relevant.observe(record('THERAPIST#t-1', 'therapist'));
    relevant.observe(record('MSG#su.t-1.2027-04-05.v1', 'message'));
    relevant.observe(record('MSG#cr.clinic.2027-04.v1', 'message', 'REMOVE'));
    expect(relevant.completed()).toBe(3);

    inFlight = 1;
    expect(relevant.inFlight()).toBe(1);
  });

  it("leaves out the sweep after a settled one's own writes, but not after a delivery event or another entry's write", async () => {
    const relevant = summaryWrites({ completed: () => 0, inFlight: () => 0, stop: () => undefined });
    const shortcut = summaryShortcut({ store: { listTherapists: async () => [therapist] }, writes: relevant });
    let sweeps = 0;
    const sweep = (outcome: string) => async () => {
      sweeps++;
      return { at: 'x', therapists: 1, counts: {}, results: [{ therapistId: 't-1', message: 'su.t-1.2027-04-05.v1', outcome }] };
    };
    await shortcut.run(new Date('2027-04-05T07:00:00Z'), sweep('sent'));
    // The sweep's claim and its settle, read from the stream after it returned.
    relevant.observe(record('MSG#su.t-1.2027-04-05.v1', 'message'));
    relevant.observe(record('MSG#su.t-1.2027-04-05.v1', 'message'));
    await shortcut.run(new Date('2027-04-05T07:15:00Z'), sweep('done'));
    expect(sweeps).toBe(1);

    const bounced = record('MSG#su.t-1.2027-04-05.v1', 'message');
    bounced.dynamodb!.NewImage!.delivery = { M: { event: { S: 'bounce' } } };
    relevant.observe(bounced);
    await shortcut.run(new Date('2027-04-05T07:30:00Z'), sweep('done'));
    expect(sweeps).toBe(2);

    // That sweep sent nothing: a write to the entry now is someone else's.
    relevant.observe(record('MSG#su.t-1.2027-04-05.v1', 'message'));
    await shortcut.run(new Date('2027-04-05T07:45:00Z'), sweep('done'));
    relevant.observe(record('MSG#su.t-1.2027-04-04.v1', 'message'));
    await shortcut.run(new Date('2027-04-05T08:00:00Z'), sweep('done'));
    expect(sweeps).toBe(4);
  });

  it('lets the sweep after a dispatch’s ledger write be left out', async () => {
    let completed = 0;
    const relevant = summaryWrites({ completed: () => completed, inFlight: () => 0, stop: () => undefined });
    const shortcut = summaryShortcut({ store: { listTherapists: async () => [therapist] }, writes: relevant });
    let sweeps = 0;
    const sweep = async () => {
      sweeps++;
      return { at: 'x', therapists: 1, counts: {}, results: [{ therapistId: 't-1', outcome: 'done' as const }] };
    };
    await shortcut.run(new Date('2027-04-05T07:00:00Z'), sweep);
    completed++;
    relevant.observe(record('MSG#rm.s-1.P2D.v1', 'message'));
    await shortcut.run(new Date('2027-04-05T07:15:00Z'), sweep);
    relevant.observe(record('MSG#su.t-1.2027-04-05.v1', 'message'));
    await shortcut.run(new Date('2027-04-05T07:30:00Z'), sweep);
    expect(sweeps).toBe(2);
  });
});
