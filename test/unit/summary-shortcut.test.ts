import { describe, expect, it } from 'vitest';
import type { Therapist } from '../../shared/domain/model.js';
import { summaryShortcut } from '../../local/summary-shortcut.js';
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
