/**
 * `keepwell intake list` and `keepwell intake replay` against a running twin (virtual clock,
 * shared DynamoDB Local), in-process through runCli with the twin's state file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../local/cli/program.js';
import { twinStateOf, writeTwinState } from '../../local/cli/state.js';
import type { Twin } from '../../local/twin.js';
import { startHarbourTwin } from '../support/harbour-twin.js';
import { hmacHex } from '../../shared/intake/signature.js';
import { intakeIds } from '../../shared/use-cases/intake.js';

const T0 = '2027-02-01T08:00:00.000Z';
const stateDir = mkdtempSync(join(tmpdir(), 'kw-intake-cli-'));
const env = { ...process.env, KEEPWELL_STATE_DIR: stateDir };
let twin: Twin;

async function keepwell(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The Cal.com creation fixture for one booking, created now. */
function calBody(uid: string, email: string, type = 'sports-massage-60'): string {
  const body = JSON.parse(readFileSync(new URL('../fixtures/intake/cal-com-booking-created.json', import.meta.url), 'utf8')) as {
    createdAt: string;
    payload: { uid: string; type: string; attendees: Array<{ email: string }> };
  };
  body.createdAt = twin.clock.now().toISOString();
  body.payload.uid = uid;
  body.payload.type = type;
  body.payload.attendees[0]!.email = email;
  return JSON.stringify(body);
}

async function postCal(body: string): Promise<number> {
  const response = await fetch(`${twin.webUrl}/intake/calcom`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cal-signature-256': hmacHex(twin.intake.secrets.calcom!, body) },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  twin = await startHarbourTwin(T0);
  writeTwinState(twinStateOf(twin, { mode: 'fixed', at: T0 }, T0), stateDir);
});

afterAll(async () => {
  await twin?.close();
});

describe('keepwell intake list', () => {
  it('shows accepted, ignored and refused deliveries with their reasons', async () => {
    expect(await postCal(calBody('uid-list-1', 'list@example.com'))).toBe(200);
    expect(await postCal(calBody('uid-list-2', 'list@example.com', 'hot-stone-90'))).toBe(202);
    expect(await postCal('not json')).toBe(400);

    const { code, out } = await keepwell('intake', 'list', '--since', '1h');

    expect(code).toBe(0);
    expect(out).toContain('1 accepted, 1 ignored, 1 refused');
    expect(out).toMatch(/accepted\s+calcom .*book, booking uid-list-1, session bk-/);
    expect(out).toMatch(/ignored\s+calcom .*— the event type is not mapped in the stage config/);
    expect(out).toMatch(/refused\s+calcom .*— body is not valid JSON/);
    const json = JSON.parse((await keepwell('intake', 'list', '--status', 'ignored', '--json')).out) as { deliveries: unknown[] };
    expect(json.deliveries).toHaveLength(1);
  });
});

describe('keepwell intake replay', () => {
  it('applies a saved webhook body once: the second replay is a duplicate', async () => {
    const file = join(stateDir, 'saved-delivery.json');
    writeFileSync(file, calBody('uid-replay-1', 'replay@example.com'));

    const first = await keepwell('intake', 'replay', file, '--source', 'calcom');
    const second = await keepwell('intake', 'replay', file, '--source', 'calcom');

    const sessionId = intakeIds.session('calcom', 'uid-replay-1');
    expect(first).toMatchObject({ code: 0, out: expect.stringContaining(`accepted: session ${sessionId}`) });
    expect(second).toMatchObject({ code: 0, out: expect.stringContaining('duplicate (already applied)') });
    expect(await twin.store.findSession(sessionId)).toMatchObject({ status: 'booked', version: 1 });
  });

  it('names an unknown source and a file that is not JSON, and writes nothing', async () => {
    const file = join(stateDir, 'bad.json');
    writeFileSync(file, '{ nope');
    const before = (await keepwell('intake', 'list', '--json')).out;

    expect(await keepwell('intake', 'replay', file, '--source', 'calendly')).toMatchObject({
      code: 1,
      err: expect.stringContaining('no intake source "calendly"'),
    });
    expect(await keepwell('intake', 'replay', file, '--source', 'calcom')).toMatchObject({ code: 1, err: expect.stringContaining('is not valid JSON') });
    expect((await keepwell('intake', 'list', '--json')).out).toBe(before);
  });
});
