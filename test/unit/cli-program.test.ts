import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSince, runCli } from '../../local/cli/program.js';
import { readTwinState, twinNow, NoTwinError } from '../../local/cli/state.js';

async function cli(args: string[], env: NodeJS.ProcessEnv = { KEEPWELL_STATE_DIR: mkdtempSync(join(tmpdir(), 'kw-cli-')) }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('keepwell', () => {
  it.each([
    [['--help'], 'Usage: keepwell'],
    [['import', '--help'], 'phases     "name:COUNTxDAYSd"'],
    [['session', 'book', '--help'], '--duration <minutes>'],
    [['session', 'cancel', '--help'], 'cancel a session'],
    [['session', 'reschedule', '--help'], 'the new start'],
    [['plan', 'pause', '--help'], 'pause a plan'],
    [['plan', 'resume', '--help'], 'resume a paused plan'],
    [['plan', 'complete', '--help'], 'complete a plan'],
    [['plan', 'interval', '--help'], '<days>'],
    [['plan', 'history', '--help'], 'every change to a plan'],
    [['preview', '--help'], '--weeks <n>'],
    [['outbox', '--help'], '--since <when>'],
    [['dlq', '--help'], 'Redrive re-creates'],
    [['dlq', 'list', '--help'], 'list dead letters'],
    [['dlq', 'redrive', '--help'], '[ids...]'],
  ])('explains %j and exits 0', async (args, text) => {
    const result = await cli(args);

    expect(result.code).toBe(0);
    expect(result.out).toContain(text);
  });

  it('fails with one line saying how to start a twin when none is running', async () => {
    const result = await cli(['outbox']);

    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^keepwell: no local twin is running \(no .*twin\.json\): start one with `npm start`, or pass --stage NAME to work on a deployed stage$/,
    );
  });

  it('refuses an unknown command and a bad option value with one line', async () => {
    const unknown = await cli(['launch']);
    const badWeeks = await cli(['preview', 'c-1', '--weeks', 'soon']);

    expect([unknown.code, unknown.err]).toEqual([1, "keepwell: unknown command 'launch'"]);
    expect([badWeeks.code, badWeeks.err]).toEqual([1, "keepwell: option '--weeks <n>' argument 'soon' is invalid. must be a whole number above 0"]);
  });
});

describe('parseSince', () => {
  const now = new Date('2027-02-10T12:00:00Z');

  it('reads durations back from now and instants with an offset', () => {
    expect(parseSince('24h', now)).toBe('2027-02-09T12:00:00.000Z');
    expect(parseSince('7d', now)).toBe('2027-02-03T12:00:00.000Z');
    expect(parseSince('90m', now)).toBe('2027-02-10T10:30:00.000Z');
    expect(parseSince('2027-02-01T09:00:00+01:00', now)).toBe('2027-02-01T08:00:00.000Z');
  });

  it('says what it accepts when given something else', () => {
    expect(() => parseSince('yesterday', now)).toThrow('"yesterday" is neither a duration like 24h, 7d, 90m or 2w nor an instant like 2027-02-01T00:00:00Z');
  });
});

describe('the twin state file', () => {
  it("follows an accelerated twin's clock from the wall clock", () => {
    const clock = { mode: 'accelerated' as const, virtualStartMs: Date.parse('2027-02-01T06:00:00Z'), realStartMs: 1_000_000, factor: 3600 };

    expect(twinNow(clock, 1_000_000 + 2_000).toISOString()).toBe('2027-02-01T08:00:00.000Z');
  });

  it('is not taken for a running twin when the process that wrote it is gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-state-'));
    const state = {
      pid: 2 ** 22 + 12345,
      startedAt: '2027-02-01T00:00:00Z',
      tableName: 't',
      dynamoEndpoint: 'http://127.0.0.1:1',
      sesEndpoint: 'http://127.0.0.1:2',
      schedulerEndpoint: 'http://127.0.0.1:3',
      scheduleGroup: 'g',
      schedulerRoleArn: 'r',
      dispatchArn: 'd',
      deadLetterArn: 'q',
      region: 'eu-west-2',
      clinic: { name: 'C', senderEmail: 'c@example.com', timezone: 'Europe/London', baseUrl: 'http://localhost:3000' },
      clock: { mode: 'real' },
    };
    writeFileSync(join(dir, 'twin.json'), JSON.stringify(state));

    expect(() => readTwinState(dir)).toThrow(NoTwinError);
    expect(() => readTwinState(dir)).toThrow(/is no longer running/);
  });
});
