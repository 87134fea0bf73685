/**
 * `keepwell import` as an operator runs it (node bin/keepwell.mjs, a child process) against
 * DynamoDB Local: an import killed mid-write and run again ends exactly as one clean run does;
 * a row that used to crash half-way is refused before anything is written; and addresses that
 * differ only in case are one client, which a bounce suppresses in whatever case it names it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { createHandler as createSesEvents } from '../../functions/ses-events/handler.js';
import { EmailInUseError } from '../../shared/domain/errors.js';
import { clientSchema } from '../../shared/domain/model.js';
import type { DynamoStore } from '../../shared/adapters/dynamodb/store.js';
import { PROJECT_ROOT, writeTwinState } from '../../local/cli/state.js';
import { LOCAL_REGION } from '../../local/services.js';
import { snsDelivery } from '../../local/simulation/actions.js';
import { createTestTable } from '../support/local-aws.js';

const HEADER = 'type,id,name,email,timezone,clientId,therapistId,goal,phases,reminders,planId,start,durationMinutes,location';

/** A state folder whose twin.json points the CLI at a fresh table (this test process stands in for the twin). */
async function tableForCli(): Promise<{ store: DynamoStore; env: NodeJS.ProcessEnv }> {
  const table = await createTestTable();
  const dir = mkdtempSync(join(tmpdir(), 'kw-import-'));
  writeTwinState(
    {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      tableName: table.tableName,
      dynamoEndpoint: table.endpoint,
      sesEndpoint: inject('sesEndpoint'),
      schedulerEndpoint: 'http://127.0.0.1:9',
      scheduleGroup: 'keepwell',
      schedulerRoleArn: 'arn:aws:iam::000000000000:role/scheduler',
      dispatchArn: 'arn:aws:lambda:eu-west-2:000000000000:function:dispatch',
      deadLetterArn: 'arn:aws:sqs:eu-west-2:000000000000:dlq',
      region: LOCAL_REGION,
      clinic: {
        name: 'Harbour',
        senderEmail: 'care@harbour.example',
        timezone: 'Europe/London',
        baseUrl: 'http://localhost:3000',
        quietHours: { start: '21:00', end: '08:00' },
        maintenanceGraceDays: 14,
        suggestions: { worseningCheckIns: 2, improvingCheckIns: 3, unansweredCheckIns: 3 },
        adjustLinkHours: 48,
        brand: { colour: '#0b5d4b' },
        bookingEmails: { undoMinutes: 5, confirmation: true, change: true, cancellation: true },
      },
      clock: { mode: 'fixed', at: '2027-02-01T08:00:00.000Z' },
    },
    dir,
  );
  return { store: table.store, env: { ...process.env, KEEPWELL_STATE_DIR: dir } };
}

function startKeepwell(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/keepwell.mjs'), ...args], { env, cwd: tmpdir() });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
  return { child, done };
}

const keepwell = (env: NodeJS.ProcessEnv, ...args: string[]) => startKeepwell(env, ...args).done;

function writeCsv(lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kw-import-file-')), 'clinic.csv');
  writeFileSync(file, [HEADER, ...lines].join('\n'));
  return file;
}

const CLIENTS = 84;
const pad = (i: number) => String(i).padStart(3, '0');
/** A therapist, then per client: the client, a plan and two sessions. */
const CLINIC = [
  'therapist,t-amy,Amy Chen,amy@harbour.example,Europe/London,,,,,,,,,',
  ...Array.from({ length: CLIENTS }, (_, i) => `client,c-${pad(i)},Client ${pad(i)},client${pad(i)}@example.com,Europe/London,,,,,,,,,`),
  ...Array.from({ length: CLIENTS }, (_, i) => `plan,p-${pad(i)},,,,c-${pad(i)},t-amy,back-pain,initial:6x7d;maintenance:28d,P2D PT2H,,,,`),
  ...Array.from(
    { length: CLIENTS },
    (_, i) =>
      `session,s-${pad(i)}-1,,,,,,,,,p-${pad(i)},2027-03-${String(1 + (i % 28)).padStart(2, '0')}T${String(8 + Math.floor(i / 28)).padStart(2, '0')}:00:00Z,60,Room 1`,
  ),
  ...Array.from(
    { length: CLIENTS },
    (_, i) =>
      `session,s-${pad(i)}-2,,,,,,,,,p-${pad(i)},2027-04-${String(1 + (i % 28)).padStart(2, '0')}T${String(8 + Math.floor(i / 28)).padStart(2, '0')}:00:00Z,60,Room 1`,
  ),
];
const RECORDS = CLINIC.length;

/** Everything the table holds about the clinic, without write timestamps. */
async function snapshot(store: DynamoStore) {
  const bundles = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => store.getClientBundle(`c-${pad(i)}`)));
  return { therapist: await store.getTherapist('t-amy'), bundles };
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('an import interrupted mid-write', () => {
  it('killed outright, then run again with the same file, ends exactly as one clean run', async () => {
    const file = writeCsv(CLINIC);
    const clean = await tableForCli();
    const resumed = await tableForCli();
    const cleanRun = await keepwell(clean.env, 'import', file);
    expect(cleanRun.err).toBe('');
    expect(cleanRun.code).toBe(0);

    const { child, done } = startKeepwell(resumed.env, 'import', file);
    // Killed once some plans are written, well before the sessions are.
    await waitFor(async () => (await resumed.store.findPlan('p-005')) !== undefined, 'the first plans');
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(await resumed.store.findSession(`s-${pad(CLIENTS - 1)}-2`)).toBeUndefined();

    const rerun = await keepwell(resumed.env, 'import', file);

    expect(rerun.code).toBe(0);
    expect(rerun.err).toBe('');
    const counts =
      /^imported (\d+) therapist\(s\), (\d+) client\(s\), (\d+) plan\(s\), (\d+) session\(s\) \((\d+) record\(s\) already in the table as the file has them\) into local twin/.exec(
        rerun.out,
      );
    expect(counts).not.toBeNull();
    // What the killed run wrote is recognised; the rerun writes the rest, and the two add up to the file.
    expect(
      counts!
        .slice(1)
        .map(Number)
        .reduce((a, b) => a + b, 0),
    ).toBe(RECORDS);
    expect(Number(counts![5])).toBeGreaterThan(CLIENTS);
    expect(await snapshot(resumed.store)).toEqual(await snapshot(clean.store));
  });

  it('stopped with Ctrl-C, says how far it got, and the rerun finishes it', async () => {
    const file = writeCsv(CLINIC);
    const target = await tableForCli();

    const { child, done } = startKeepwell(target.env, 'import', file);
    await waitFor(async () => (await target.store.getClient('c-010')) !== undefined, 'the first clients');
    child.kill('SIGINT');
    const stopped = await done;

    expect(stopped.code).toBe(1);
    expect(stopped.err).toMatch(new RegExp(`^keepwell: import interrupted: \\d+ of ${RECORDS} record\\(s\\) written; run the same import again to finish`));
    const written = Number(/interrupted: (\d+)/.exec(stopped.err)![1]);
    const rerun = await keepwell(target.env, 'import', file);
    expect(rerun.code).toBe(0);
    expect(rerun.out).toContain(`(${written} record(s) already in the table as the file has them)`);
    expect((await target.store.getClientBundle(`c-${pad(CLIENTS - 1)}`))?.sessions.map((s) => s.id)).toEqual([
      `s-${pad(CLIENTS - 1)}-1`,
      `s-${pad(CLIENTS - 1)}-2`,
    ]);
  });
});

describe('a row that used to crash the import half-way', () => {
  it('is refused with its line and field before anything is written, and the corrected file imports whole', async () => {
    const target = await tableForCli();
    const rows = [
      'therapist,t-amy,Amy Chen,amy@harbour.example,Europe/London,,,,,,,,,',
      'client,c-sam,Sam Patel,sam@example.com,Europe/London,,,,,,,,,',
      'plan,p-sam,,,,c-sam,t-amy,back-pain,maintenance:28d,,,,,',
    ];

    const refused = await keepwell(target.env, 'import', writeCsv([...rows, 'session,s-1,,,,,,,,,p-sam,9999-12-31T23:00:00-05:00,60,Room 1']));

    expect(refused.code).toBe(1);
    expect(refused.err.split('\n')[0]).toBe('line 5 (session s-1): start: year 9999 is outside 2000–2100');
    expect(await target.store.getTherapist('t-amy')).toBeUndefined();
    expect(await target.store.getClient('c-sam')).toBeUndefined();

    const fixed = await keepwell(target.env, 'import', writeCsv([...rows, 'session,s-1,,,,,,,,,p-sam,2027-12-31T23:00:00-05:00,60,Room 1']));
    expect(fixed.code).toBe(0);
    expect(fixed.out).toMatch(/^imported 1 therapist\(s\), 1 client\(s\), 1 plan\(s\), 1 session\(s\) into/);
    expect((await target.store.findSession('s-1'))?.start).toBe('2028-01-01T04:00:00.000Z');
  });
});

describe('one address is one client, whatever its case', () => {
  it('refuses case-variant addresses in a file and against the table, and a bounce suppresses every spelling', async () => {
    const target = await tableForCli();
    const inFile = await keepwell(
      target.env,
      'import',
      writeCsv(['client,c-sam,Sam Patel,Sam@Example.com,Europe/London,,,,,,,,,', 'client,c-sam-2,Sam P,sam@example.COM,Europe/London,,,,,,,,,']),
    );
    expect(inFile.code).toBe(1);
    expect(inFile.err.split('\n')[0]).toBe(
      'line 3 (client c-sam-2): email: is the address of line 2 (client c-sam) already: one address is one client, whatever its case',
    );
    expect(await target.store.getClient('c-sam')).toBeUndefined();

    expect((await keepwell(target.env, 'import', writeCsv(['client,c-sam,Sam Patel,Sam@Example.com,Europe/London,,,,,,,,,']))).code).toBe(0);
    const later = await keepwell(target.env, 'import', writeCsv(['client,c-sam-2,Sam P,SAM@EXAMPLE.COM,Europe/London,,,,,,,,,']));
    expect(later.err.split('\n')[0]).toBe(
      'line 2 (client c-sam-2): email: is the address of client c-sam in the table already: one address is one client, whatever its case',
    );
    // The store holds the line too, for every writer (the web pages, an intake), not just the import.
    await expect(
      target.store.putClient(clientSchema.parse({ id: 'c-sam-3', name: 'Sam', email: 'sAm@example.com', timezone: 'Europe/London' })),
    ).rejects.toThrow(EmailInUseError);
    expect(await target.store.getClient('c-sam-3')).toBeUndefined();

    const sesEvents = createSesEvents({
      store: target.store,
      ledger: target.store,
      clock: { now: () => new Date('2027-02-01T09:00:00Z') },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const outcome = await sesEvents(
      snsDelivery(
        {
          eventType: 'Bounce',
          mail: { messageId: 'm-1', tags: {} },
          bounce: {
            bounceType: 'Permanent',
            bounceSubType: 'General',
            bouncedRecipients: [{ emailAddress: 'SAM@example.com' }, { emailAddress: 'sam@EXAMPLE.com' }],
          },
        },
        '2027-02-01T09:00:00.000Z',
      ),
    );

    expect(outcome).toMatchObject({ status: 'suppressed', clients: 1 });
    expect((await target.store.getClient('c-sam'))?.suppressed).toMatchObject({ reason: 'bounce' });
    expect(await target.store.findClientIdByEmail('sam@example.com')).toBe('c-sam');
  });
});
