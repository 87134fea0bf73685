import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { reconcileShortcut } from '../../local/reconcile-shortcut.js';

const quiet = { healed: 0, nudged: 0, lapsed: 0, checked: 12, failed: 0 };
const payload = { scheduledTime: '2027-04-05T10:00:00Z', lookAheadHours: 72 };

function planRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', planId: string, maintenanceActionAt?: string): DynamoDBRecord {
  const image = {
    pk: { S: 'CLIENT#c-1' },
    sk: { S: `PLAN#${planId}` },
    type: { S: 'plan' },
    ...(maintenanceActionAt ? { maintenanceActionAt: { S: maintenanceActionAt } } : {}),
  };
  return { eventName, dynamodb: eventName === 'REMOVE' ? { OldImage: image } : { NewImage: image } };
}

function setup(report: Record<string, number> = quiet) {
  let faults = 0;
  const shortcut = reconcileShortcut({ faults: () => faults });
  const inputs: unknown[] = [];
  const pass = async (input: unknown) => {
    inputs.push(input);
    return report;
  };
  const at = (iso: string) => shortcut.run(new Date(iso), payload, pass);
  return { shortcut, inputs, at, fault: () => faults++ };
}

describe('the reconcile shortcut', () => {
  it('leaves out the passes after a full pass that healed nothing, while nothing is due', async () => {
    const t = setup();
    await t.at('2027-04-05T10:00:00Z');
    const again = await t.at('2027-04-05T11:00:00Z');
    await t.at('2027-04-05T12:00:00Z');

    expect(t.inputs).toEqual([payload]);
    expect(t.shortcut.skipped).toBe(2);
    expect(again).toEqual(quiet);
  });

  it('runs a pass on an empty window once a plan’s maintenance action time has come', async () => {
    const t = setup();
    await t.at('2027-04-05T10:00:00Z');
    t.shortcut.observe(planRecord('MODIFY', 'p-1', '2027-04-05T11:30:00.000Z'));
    await t.at('2027-04-05T11:00:00Z');
    await t.at('2027-04-05T12:00:00Z');

    expect(t.inputs).toEqual([payload, { ...payload, lookAheadHours: 0, lookBackHours: 0 }]);
    expect(t.shortcut.maintenanceOnly).toBe(1);
  });

  it('forgets an action time the plan no longer has, or a plan that is gone', async () => {
    const t = setup();
    await t.at('2027-04-05T10:00:00Z');
    t.shortcut.observe(planRecord('INSERT', 'p-1', '2027-04-05T10:30:00.000Z'));
    t.shortcut.observe(planRecord('MODIFY', 'p-1'));
    t.shortcut.observe(planRecord('INSERT', 'p-2', '2027-04-05T10:30:00.000Z'));
    t.shortcut.observe(planRecord('REMOVE', 'p-2', '2027-04-05T10:30:00.000Z'));
    await t.at('2027-04-05T11:00:00Z');

    expect(t.inputs).toHaveLength(1);
  });

  it('runs the full pass again after any fault since the last full pass began', async () => {
    const t = setup();
    await t.at('2027-04-05T10:00:00Z');
    t.fault();
    await t.at('2027-04-05T11:00:00Z');
    await t.at('2027-04-05T12:00:00Z');

    expect(t.inputs).toEqual([payload, payload]);
  });

  it('keeps running full passes while they heal or fail something', async () => {
    for (const report of [
      { ...quiet, healed: 1 },
      { ...quiet, failed: 1 },
    ]) {
      const t = setup(report);
      await t.at('2027-04-05T10:00:00Z');
      await t.at('2027-04-05T11:00:00Z');
      expect(t.inputs).toEqual([payload, payload]);
    }
  });

  it('runs the full pass after one that failed outright (no counts)', async () => {
    const shortcut = reconcileShortcut({ faults: () => 0 });
    const inputs: unknown[] = [];
    await shortcut.run(new Date('2027-04-05T10:00:00Z'), payload, async (input) => {
      inputs.push(input);
      return undefined;
    });
    await shortcut.run(new Date('2027-04-05T11:00:00Z'), payload, async (input) => {
      inputs.push(input);
      return quiet;
    });
    expect(inputs).toEqual([payload, payload]);
  });
});
