/**
 * The `keepwell` CLI against a running local twin: the twin runs in this test process (virtual
 * clock, shared DynamoDB Local and SES local), the state file in a temporary folder points at it,
 * and the CLI runs both as a real child process (bin/keepwell.mjs) and in-process through runCli.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { scheduleInput } from '../../shared/adapters/scheduler/eventbridge.js';
import { runCli } from '../../local/cli/program.js';
import { appendDeadLetter, PROJECT_ROOT, twinStateOf, writeTwinState } from '../../local/cli/state.js';
import { answerCheckIn } from '../../local/simulation/actions.js';
import { LOCAL_REGION } from '../../local/services.js';
import { functionArn, LOCAL_SCHEDULE_GROUP, SCHEDULE_DLQ_ARN, SCHEDULER_ROLE_ARN, startTwin, type Twin } from '../../local/twin.js';

const T0 = '2027-02-01T08:00:00.000Z';
const stateDir = mkdtempSync(join(tmpdir(), 'kw-cli-twin-'));
const env = { ...process.env, KEEPWELL_STATE_DIR: stateDir };
let twin: Twin;

/** The state file a running `npm start` writes, with the twin's clock standing at its current time. */
function writeState(): void {
  writeTwinState(twinStateOf(twin, { mode: 'fixed', at: twin.clock.now().toISOString() }, T0), stateDir);
}

async function advanceTo(instant: string): Promise<void> {
  await twin.advanceTo(instant);
  writeState();
}

async function keepwell(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The real command, as an operator runs it: node bin/keepwell.mjs … */
function spawnKeepwell(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return spawnKeepwellWith(env, ...args);
}

function spawnKeepwellWith(childEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/keepwell.mjs'), ...args], { env: childEnv, cwd: tmpdir() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const HEADER = 'type,id,name,email,timezone,clientId,therapistId,goal,phases,reminders,planId,start,durationMinutes,location';

beforeAll(async () => {
  twin = await startTwin({
    clinic: { name: 'Harbour Clinical Massage', senderEmail: 'care@harbour-massage.example', timezone: 'Europe/London', baseUrl: 'http://localhost:3000' },
    clock: { mode: 'virtual', start: new Date(T0) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    web: false,
    // Reconcile would heal the schedule the dead-letter test takes away; these tests drive schedules themselves.
    recurring: false,
    onDeadLetter: (letter) => appendDeadLetter(letter, stateDir),
  });
  writeState();
});

afterAll(async () => {
  await twin?.close();
});

describe('keepwell import', () => {
  it('imports a CSV file through the real command and the stream schedules its messages', async () => {
    const file = join(stateDir, 'clinic.csv');
    writeFileSync(
      file,
      [
        HEADER,
        'therapist,t-amy,Amy Chen,amy@cli-test.example,Europe/London,,,,,,,,,',
        'client,c-sam,Sam Patel,sam@cli-test.example,Europe/London,,,,,,,,,',
        'client,c-kai,Kai Moreno,kai@cli-test.example,America/Chicago,,,,,,,,,',
        'plan,p-sam,,,,c-sam,t-amy,back-pain,initial:6x7d;maintenance:28d,P1D PT2H,,,,',
        'plan,p-kai,,,,c-kai,t-amy,sports-injury,maintenance:21d,PT2H,,,,',
        'session,s-sam-1,,,,,,,,,p-sam,2027-02-03T10:00:00Z,60,"Room 2, 14 Harbour Street"',
      ].join('\n'),
    );

    const result = await spawnKeepwell('import', file);
    await twin.settle();

    // Ids like c-sam hold a client's name: imported, with a warning for each (ids must be opaque).
    const nameInId =
      'id: holds part of the client\'s name; ids appear in schedule names, SES tags and logs, so use opaque ids (docs/ARCHITECTURE.md, "Imports and addresses")';
    expect(result).toEqual({
      code: 0,
      out: `imported 1 therapist(s), 2 client(s), 2 plan(s), 1 session(s) into local twin (table ${twin.tableName})\n`,
      err: ['line 3 (client c-sam)', 'line 4 (client c-kai)', 'line 5 (plan p-sam)', 'line 6 (plan p-kai)', 'line 7 (session s-sam-1)']
        .map((row) => `warning: ${row}: ${nameInId}\n`)
        .join(''),
    });
    expect((await twin.store.getClientBundle('c-sam'))?.sessions.map((s) => s.id)).toEqual(['s-sam-1']);
    // An imported booking is news to the client too: its confirmation is scheduled with the rest.
    expect(
      twin.scheduler
        .list()
        .map((s) => s.name)
        .filter((n) => n.includes('s-sam-1'))
        .sort(),
    ).toEqual(['bc.s-sam-1.booked.v1', 'ci.s-sam-1.after.v1', 'rm.s-sam-1.P1D.v1', 'rm.s-sam-1.PT2H.v1']);
  });

  it('reports every bad row with its line, writes nothing and exits 1', async () => {
    const file = join(stateDir, 'bad.csv');
    writeFileSync(
      file,
      [
        HEADER,
        'client,c-new,New Client,new@cli-test.example,Europe/London,,,,,,,,,',
        'client,c-bad,Bad,not-an-email,Europe/London,,,,,,,,,',
        'session,s-sam-1,,,,,,,,,p-sam,2027-02-05T10:00:00Z,60,Room 1',
      ].join('\n'),
    );

    const result = await spawnKeepwell('import', file);

    expect(result.code).toBe(1);
    expect(result.err.trimEnd().split('\n')).toEqual([
      'line 4 (session s-sam-1): session "s-sam-1" already exists in the table with a different start, location (import creates records; use the session and plan commands to change them)',
      'line 3 (client c-bad): email: must be a valid email address',
      `keepwell: import refused: 2 bad rows in ${file}; nothing written (fix them, or pass --skip-invalid to import the good rows)`,
    ]);
    expect(await twin.store.getClient('c-new')).toBeUndefined();
  });

  it('with --skip-invalid writes the good rows and names the ones it left out', async () => {
    const file = join(stateDir, 'partly-bad.csv');
    writeFileSync(
      file,
      [HEADER, 'client,c-new,New Client,new@cli-test.example,Europe/London,,,,,,,,,', 'client,c-bad,Bad,not-an-email,Europe/London,,,,,,,,,'].join('\n'),
    );

    const result = await keepwell('import', file, '--skip-invalid');

    expect(result.code).toBe(0);
    // c-new holds the word "New" of the client's name "New Client": a warning, and the row is imported.
    expect(result.err).toBe(
      'line 3 (client c-bad): email: must be a valid email address\nwarning: line 2 (client c-new): id: holds part of the client\'s name; ids appear in schedule names, SES tags and logs, so use opaque ids (docs/ARCHITECTURE.md, "Imports and addresses")',
    );
    expect(result.out).toBe(`imported 0 therapist(s), 1 client(s), 0 plan(s), 0 session(s) into local twin (table ${twin.tableName}); 1 row(s) left out`);
    expect(await twin.store.getClient('c-new')).toMatchObject({ id: 'c-new', email: 'new@cli-test.example' });
  });
});

describe('keepwell session and plan', () => {
  it('books, moves and cancels a session, and the schedules follow', async () => {
    const booked = await keepwell(
      'session',
      'book',
      '--id',
      's-kai-1',
      '--plan',
      'p-kai',
      '--start',
      '2027-02-04T12:00:00-06:00',
      '--duration',
      '45',
      '--location',
      'Room 1',
    );
    await twin.settle();
    const moved = await keepwell('session', 'reschedule', 's-kai-1', '2027-02-05T12:00:00-06:00');
    await twin.settle();
    const kaiSchedules = () =>
      twin.scheduler
        .list()
        .map((s) => s.name)
        .filter((n) => n.includes('s-kai-1'))
        .sort();
    const afterMove = kaiSchedules();
    const cancelled = await keepwell('session', 'cancel', 's-kai-1');
    await twin.settle();

    expect(booked).toEqual({
      code: 0,
      out: `booked session s-kai-1 on plan p-kai at 2027-02-04T18:00:00.000Z (local twin (table ${twin.tableName}))`,
      err: '',
    });
    expect(moved.out).toBe(`rescheduled session s-kai-1 to 2027-02-05T18:00:00.000Z (version 2, local twin (table ${twin.tableName}))`);
    // Moved within the undo window: the pending confirmation now names version 2.
    expect(afterMove).toEqual(['bc.s-kai-1.booked.v2', 'ci.s-kai-1.after.v2', 'rm.s-kai-1.PT2H.v2']);
    expect(cancelled.out).toBe(`cancelled session s-kai-1 (local twin (table ${twin.tableName}))`);
    expect(kaiSchedules()).toEqual([]);
  });

  it('refuses a booking on a plan that does not exist, with the field and reason', async () => {
    const result = await keepwell(
      'session',
      'book',
      '--id',
      's-x',
      '--plan',
      'p-nope',
      '--start',
      '2027-02-04T12:00:00Z',
      '--duration',
      '45',
      '--location',
      'Room 1',
    );

    expect(result).toEqual({ code: 1, out: '', err: 'keepwell: session is invalid: planId: refers to a missing plan "p-nope"' });
  });

  it('pauses and resumes a plan', async () => {
    const paused = await keepwell('plan', 'pause', 'p-sam');
    const statusWhilePaused = (await twin.store.findPlan('p-sam'))?.status;
    const resumed = await keepwell('plan', 'resume', 'p-sam');

    expect(paused.out).toBe(`paused plan p-sam (status paused, local twin (table ${twin.tableName}))`);
    expect(statusWhilePaused).toBe('paused');
    expect(resumed.out).toBe(`resumed plan p-sam (status active, local twin (table ${twin.tableName}))`);
    expect((await twin.store.findPlan('p-sam'))?.status).toBe('active');
  });

  it("changes a plan's maintenance interval and lists its history, the note and who made each change", async () => {
    const changed = await keepwell('plan', 'interval', 'p-sam', '21', '--note', 'Flare-ups in week 3', '--by', 'Front desk');
    const same = await keepwell('plan', 'interval', 'p-sam', '21');
    const history = await keepwell('plan', 'history', 'p-sam');

    expect(changed.out).toBe(`changed the maintenance interval of plan p-sam to 21 days (status active, local twin (table ${twin.tableName}))`);
    expect(same.out).toBe(`plan p-sam unchanged: the maintenance interval is already 21 days (local twin (table ${twin.tableName}))`);
    expect((await twin.store.findPlan('p-sam'))?.phases.map((p) => p.everyDays)).toEqual([7, 21]);
    const stamp = twin.clock.now().toISOString().slice(0, 16).replace('T', ' ');
    // The pause and resume of the test before, then the interval.
    expect(history.out.split('\n')).toEqual([
      `history of plan p-sam (status active, local twin (table ${twin.tableName})): 3 changes`,
      `${stamp}Z  paused  — operator, from the CLI`,
      `${stamp}Z  resumed  — operator, from the CLI`,
      `${stamp}Z  maintenance interval 28 → 21 days  — Front desk, from the CLI  — “Flare-ups in week 3”`,
    ]);
  });

  it('refuses a change the plan cannot make, and an interval that is not a number of days', async () => {
    const completed = await keepwell('plan', 'complete', 'p-kai', '--note', 'Back to full training');
    const pauseCompleted = await keepwell('plan', 'pause', 'p-kai');
    const resumed = await keepwell('plan', 'resume', 'p-kai');
    const badDays = await keepwell('plan', 'interval', 'p-kai', 'soon');
    const tooLong = await keepwell('plan', 'interval', 'p-kai', '400');

    expect(completed.out).toBe(`completed plan p-kai (status completed, local twin (table ${twin.tableName}))`);
    expect(pauseCompleted).toEqual({ code: 1, out: '', err: 'keepwell: plan p-kai: a completed plan cannot be paused' });
    expect(resumed.out).toBe(`resumed plan p-kai (status active, local twin (table ${twin.tableName}))`);
    expect(badDays).toEqual({
      code: 1,
      out: '',
      err: "keepwell: command-argument value 'soon' is invalid for argument 'days'. must be a whole number above 0",
    });
    expect(tooLong).toEqual({ code: 1, out: '', err: 'keepwell: plan change is invalid: days: the interval must be at most 365 days' });
  });

  it('names a session that does not exist', async () => {
    expect(await keepwell('session', 'cancel', 's-ghost')).toEqual({ code: 1, out: '', err: 'keepwell: session "s-ghost" does not exist' });
  });
});

describe('keepwell preview and outbox', () => {
  it("previews a client's messages in the client's local time", async () => {
    await twin.settle();
    const result = await keepwell('preview', 'c-sam', '--weeks', '1');

    expect(result.code).toBe(0);
    expect(result.out.split('\n')).toEqual([
      // Sam's new plan owes its intake questionnaire, due now.
      'Sam Patel (c-sam, sam@cli-test.example): 4 messages in the next 1 week (times in Europe/London)',
      expect.stringMatching(/^ {2}Mon 1 Feb 2027 08:00 GMT +intake-questionnaire +plan p-sam$/),
      expect.stringMatching(/^ {2}Tue 2 Feb 2027 10:00 GMT +reminder +session s-sam-1 on Wed 3 Feb 2027 10:00 GMT$/),
      expect.stringMatching(/^ {2}Wed 3 Feb 2027 08:00 GMT +reminder +session s-sam-1 on Wed 3 Feb 2027 10:00 GMT$/),
      expect.stringMatching(/^ {2}Thu 4 Feb 2027 11:00 GMT +check-in +session s-sam-1 on Wed 3 Feb 2027 10:00 GMT$/),
    ]);
  });

  it('shows what was sent and skipped, with reasons, and never a check-in answer', async () => {
    await advanceTo('2027-02-04T12:00:00Z');
    await answerCheckIn(
      twin,
      mailerFromEnv(),
      { clientId: 'c-sam', sessionId: 's-sam-1', answers: { pain: 4, mobility: 6, stress: 3, sleep: 7, notes: 'private-note-7d1f' } },
      twin.clock.now(),
    );
    const preview = await keepwell('preview', 'c-sam', '--weeks', '1');

    const result = await keepwell('outbox', '--since', '7d');

    expect(result.code).toBe(0);
    const lines = result.out.split('\n');
    expect(lines[0]).toBe(
      `outbox of local twin (table ${twin.tableName}), 2027-01-28T12:00:00.000Z – 2027-02-04T12:00:00.000Z: 5 sent, 7 skipped, 0 failed, 0 pending`,
    );
    const rows = lines.slice(1).map((l) => l.replace(/\s+/g, ' '));
    expect(rows.filter((l) => l.includes(' sent '))).toEqual([
      // Sam's intake questionnaire at once, and his booking confirmation 5 minutes after the import.
      '2027-02-01 08:00Z sent intake-questionnaire iq.p-sam.intake.v1 client c-sam, session s-sam-1',
      '2027-02-01 08:05Z sent booking-confirmation bc.s-sam-1.booked.v1 client c-sam, session s-sam-1',
      '2027-02-02 10:00Z sent reminder rm.s-sam-1.P1D.v1 client c-sam, session s-sam-1',
      '2027-02-03 08:00Z sent reminder rm.s-sam-1.PT2H.v1 client c-sam, session s-sam-1',
      '2027-02-04 11:00Z sent check-in ci.s-sam-1.after.v1 client c-sam, session s-sam-1',
    ]);
    // Kai's session was moved (its first version's messages void) and then cancelled: each pending
    // message left the outbox as skipped, with its reason (his intake questionnaire too: its first session cancelled).
    const skipped = rows.filter((l) => l.includes(' skipped '));
    expect(skipped).toHaveLength(7);
    expect(skipped.filter((l) => l.includes('iq.p-kai.intake.v1') && l.includes('first session cancelled'))).toHaveLength(1);
    expect(skipped.every((l) => l.includes('session s-kai-1'))).toBe(true);
    expect(skipped.filter((l) => l.includes('.v1') && l.includes('version moved on'))).toHaveLength(2);
    expect(skipped.filter((l) => l.includes('.v2') && l.includes('session cancelled'))).toHaveLength(2);
    // Its confirmation, moved and then cancelled within the undo window: the client was never told.
    expect(skipped.filter((l) => l.includes('bc.s-kai-1.booked.v1') && l.includes('moved within the undo window'))).toHaveLength(1);
    expect(skipped.filter((l) => l.includes('bc.s-kai-1.booked.v2') && l.includes('cancelled within the undo window'))).toHaveLength(1);
    expect(result.out).not.toContain('private-note-7d1f');
    expect(preview.out.split('\n')).toEqual([
      'Sam Patel (c-sam, sam@cli-test.example): 1 message in the next 1 week (times in Europe/London)',
      expect.stringMatching(/^ {2}Wed 10 Feb 2027 10:00 GMT +maintenance-nudge +plan p-sam$/),
    ]);
  });

  it('filters by outcome and prints JSON on request', async () => {
    const result = await keepwell('outbox', '--since', '2027-02-03T00:00:00Z', '--status', 'sent', '--json');

    const parsed = JSON.parse(result.out) as { entries: Array<{ name: string; status: string }> };
    expect(parsed.entries.map((e) => [e.name, e.status])).toEqual([
      ['rm.s-sam-1.PT2H.v1', 'sent'],
      ['ci.s-sam-1.after.v1', 'sent'],
    ]);
  });
});

describe('keepwell outbox --stats', () => {
  it('counts each kind’s outcomes, skips and failures by reason, and how late the sent ones went', async () => {
    const result = await keepwell('outbox', '--since', '2027-01-28T12:00:00Z', '--until', '2027-02-04T12:00:00Z', '--stats');

    expect(result.code).toBe(0);
    expect(result.out.split('\n')).toEqual([
      `outbox statistics of local twin (table ${twin.tableName}), 2027-01-28T12:00:00.000Z – 2027-02-04T12:00:00.000Z`,
      'reminder: 2 sent, 2 skipped, 0 failed, 0 deferred, 0 pending',
      '  skipped: 1 session-cancelled, 1 version-moved-on',
      '  lateness (send − due) over 2: median 0 s, p95 0 s, max 0 s',
      'check-in: 1 sent, 2 skipped, 0 failed, 0 deferred, 0 pending',
      '  skipped: 1 session-cancelled, 1 version-moved-on',
      '  lateness (send − due) over 1: median 0 s, p95 0 s, max 0 s',
      // Kai's booking was moved and then cancelled within the undo window; Sam's was confirmed.
      'booking-confirmation: 1 sent, 2 skipped, 0 failed, 0 deferred, 0 pending',
      '  skipped: 1 cancelled-in-undo-window, 1 moved-in-undo-window',
      '  lateness (send − due) over 1: median 0 s, p95 0 s, max 0 s',
      // Sam's intake questionnaire went; Kai's was skipped with his first session cancelled.
      'intake-questionnaire: 1 sent, 1 skipped, 0 failed, 0 deferred, 0 pending',
      '  skipped: 1 first-session-cancelled',
      '  lateness (send − due) over 1: median 0 s, p95 0 s, max 0 s',
    ]);
  });

  it('prints the same figures as JSON', async () => {
    const result = await keepwell('outbox', '--since', '2027-01-28T12:00:00Z', '--until', '2027-02-04T12:00:00Z', '--stats', '--json');

    const { stats } = JSON.parse(result.out) as {
      stats: Record<string, { sent: number; skipped: Record<string, number>; lateness?: { count: number; maxMs: number } }>;
    };
    expect(Object.keys(stats)).toEqual(['reminder', 'check-in', 'booking-confirmation', 'intake-questionnaire']);
    expect(stats.reminder).toMatchObject({ sent: 2, skipped: { 'session-cancelled': 1, 'version-moved-on': 1 }, lateness: { count: 2, maxMs: 0 } });
  });
});

describe('keepwell dlq', () => {
  it('lists a dead-lettered reminder and redrives it, so dispatch sends it once', async () => {
    await keepwell('session', 'book', '--id', 's-dlq', '--plan', 'p-kai', '--start', '2027-02-06T12:00:00Z', '--duration', '45', '--location', 'Room 1');
    await twin.settle();
    // The reminder's schedule fails at its due time as if dispatch could not be reached.
    const name = 'rm.s-dlq.PT2H.v1';
    await twin.schedulerClient.send(new DeleteScheduleCommand({ Name: name, GroupName: LOCAL_SCHEDULE_GROUP }));
    await twin.schedulerClient.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: LOCAL_SCHEDULE_GROUP,
        ScheduleExpression: 'at(2027-02-06T10:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: functionArn('dispatch').replace('dispatch', 'unreachable'),
          RoleArn: SCHEDULER_ROLE_ARN,
          Input: scheduleInput({
            message: { kind: 'reminder', subjectId: 's-dlq', offset: 'PT2H', version: 1 },
            clientId: 'c-kai',
            planId: 'p-kai',
            sessionId: 's-dlq',
          }),
          RetryPolicy: { MaximumRetryAttempts: 0 },
          DeadLetterConfig: { Arn: SCHEDULE_DLQ_ARN },
        },
      }),
    );
    await advanceTo('2027-02-06T10:05:00Z');

    const listed = await keepwell('dlq', 'list');
    const redriven = await keepwell('dlq', 'redrive');
    await advanceTo('2027-02-06T10:07:00Z');
    const afterwards = await keepwell('dlq', 'list');

    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
      new RegExp(
        `^1 dead letter \\(local twin \\(table ${twin.tableName}\\)\\)\\n {2}\\S+ {2}schedule ${name.replaceAll('.', '\\.')} {2}${name.replaceAll('.', '\\.')} \\(client c-kai\\) {2}failed 2027-02-06T10:00:00.000Z after 1 attempt\\(s\\) — No local handler is registered for target`,
      ),
    );
    expect(redriven.out).toMatch(/redrove \S+: rm\.s-dlq\.PT2H\.v1 scheduled for 2027-02-06T10:06:00\.000Z\n1 of 1 dead letter\(s\) redriven/);
    expect(await twin.store.get(name)).toMatchObject({ status: 'sent' });
    expect(afterwards.out).toBe(`0 dead letters (local twin (table ${twin.tableName}))`);
  });

  it('refuses to redrive an id that is not in the queue', async () => {
    expect(await keepwell('dlq', 'redrive', 'nope')).toEqual({ code: 1, out: '', err: 'keepwell: dead letter "nope" does not exist' });
  });
});

describe('keepwell --stage', () => {
  /**
   * A stand-in for CloudFormation's DescribeStacks (query protocol): stage "test" is deployed with
   * this twin's table as its TableName; any other stage does not exist.
   */
  let cloudFormation: Server;
  let stageEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    cloudFormation = createServer((request, response) => {
      let body = '';
      request.on('data', (d: Buffer) => (body += d.toString()));
      request.on('end', () => {
        const stackName = new URLSearchParams(body).get('StackName');
        if (stackName !== 'keepwell-test-app') {
          response
            .writeHead(400, { 'content-type': 'text/xml' })
            .end(
              `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${stackName} does not exist</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
            );
          return;
        }
        const outputs = {
          TableName: twin.tableName,
          ScheduleGroupName: 'keepwell-test',
          ScheduleDlqUrl: 'https://sqs.eu-west-2.amazonaws.com/123456789012/keepwell-test-schedule-dlq',
          FailedInvocationsQueueUrl: 'https://sqs.eu-west-2.amazonaws.com/123456789012/keepwell-test-failed',
          DispatchFunctionArn: 'arn:aws:lambda:eu-west-2:123456789012:function:keepwell-test-dispatch',
          SchedulerRoleArn: 'arn:aws:iam::123456789012:role/keepwell-test-scheduler',
          ConfigurationSetName: 'keepwell-test',
        };
        const members = Object.entries(outputs)
          .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
          .join('');
        response
          .writeHead(200, { 'content-type': 'text/xml' })
          .end(
            `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${stackName}</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2027-01-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
          );
      });
    });
    await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
    const { port } = cloudFormation.address() as AddressInfo;
    stageEnv = {
      ...env,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${port}`,
      AWS_ENDPOINT_URL_DYNAMODB: twin.dynamoEndpoint,
    };
  });

  afterAll(async () => {
    await new Promise((resolve) => cloudFormation.close(resolve));
  });

  it("reads a stage's table from its stack outputs", async () => {
    const result = await spawnKeepwellWith(
      stageEnv,
      '--stage',
      'test',
      'outbox',
      '--since',
      '2027-02-01T00:00:00Z',
      '--until',
      '2027-02-05T00:00:00Z',
      '--status',
      'sent',
    );

    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    // Sam's reminders and check-in, the confirmations of s-sam-1 and s-dlq, and the intake
    // questionnaires of Sam's plan and of Kai's (s-dlq became its first session).
    expect(result.out.split('\n')[0]).toBe('outbox of stage test, 2027-02-01T00:00:00.000Z – 2027-02-05T00:00:00.000Z: 7 sent, 0 skipped, 0 failed, 0 pending');
  });

  it('says so in one line when the stage is not deployed', async () => {
    const result = await spawnKeepwellWith(stageEnv, '--stage', 'nope', 'outbox');

    expect(result).toEqual({
      code: 1,
      out: '',
      err: 'keepwell: stack keepwell-nope-app for stage "nope" does not exist (deploy it with `npx cdk deploy -c stage=nope`)\n',
    });
  });
});
