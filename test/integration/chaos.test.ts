/**
 * `npm run simulate -- <scenario> --chaos <profile>` for every fault profile and `all`, on the demo
 * clinic's four days, each in its own process (a twin per process). Each run has an SES local of
 * its own behind the fault proxy, so the delivery check judges every email SES holds; all but the
 * restart profile share the test run's DynamoDB Local. Every run must end with the delivery
 * promise kept — nothing lost, nothing duplicated, every skip and failure with a reason — and show
 * that its fault was met on the real path.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/cli/state.js';
import { CHAOS_PROFILES, type ChaosProfile } from '../../local/chaos/profiles.js';
import type { SimulationReport } from '../../local/simulation/run.js';

const outDir = mkdtempSync(join(tmpdir(), 'kw-chaos-'));
const tsx = import.meta.resolve('tsx');
const DEMO = join(PROJECT_ROOT, 'examples/demo-clinic.json');

function simulate(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, join(PROJECT_ROOT, 'local/simulate.ts'), ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/**
 * A scenario file that turns throttling on itself (its `chaos` field): every SendEmail refused
 * from 06:30 to 09:30 on 3 March (Leo's 2-hour reminder, for his 09:00 session, and a summary) and
 * from 15:00 on 3 March to 03:00 on 4 March (Kai's check-in, due 15:45, through the evening into
 * the clinic's quiet hours, 21:00–08:00).
 */
const OVERNIGHT = 'overnight-throttling';
function overnightScenario(): string {
  const scenario = JSON.parse(readFileSync(DEMO, 'utf8')) as Record<string, unknown>;
  scenario.chaos = {
    seed: 3,
    faults: [
      { fault: 'ses-throttle', rate: 1, from: '2027-03-03T06:30:00Z', until: '2027-03-03T09:30:00Z' },
      { fault: 'ses-throttle', rate: 1, from: '2027-03-03T15:00:00Z', until: '2027-03-04T03:00:00Z' },
    ],
  };
  const file = join(outDir, `${OVERNIGHT}.json`);
  writeFileSync(file, JSON.stringify(scenario));
  return file;
}

type Run = ChaosProfile | typeof OVERNIGHT;
const reports = new Map<Run, SimulationReport>();
const runs = new Map<Run, { code: number | null; stderr: string }>();

beforeAll(async () => {
  const jobs: Array<[Run, string[]]> = [
    ...CHAOS_PROFILES.map((profile): [Run, string[]] => [
      profile,
      [DEMO, '--chaos', profile, ...(profile === 'dynamodb-restart' || profile === 'all' ? [] : ['--dynamo-endpoint', inject('dynamoEndpoint')])],
    ]),
    [OVERNIGHT, [overnightScenario(), '--dynamo-endpoint', inject('dynamoEndpoint')]],
  ];
  // Two at a time: each run is a twin of its own, and the machine is shared.
  await Promise.all(
    [0, 1].map(async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const [name, args] = job;
        const report = join(outDir, `${name}.report.json`);
        const run = await simulate([...args, '--report', report]);
        runs.set(name, run);
        if (run.code === 0) reports.set(name, JSON.parse(readFileSync(report, 'utf8')) as SimulationReport);
      }
    }),
  );
}, 2_400_000);

function reportOf(name: Run): SimulationReport & { chaos: NonNullable<SimulationReport['chaos']> } {
  const report = reports.get(name);
  if (!report?.chaos) throw new Error(`simulate --chaos ${name} exited ${runs.get(name)?.code}: ${runs.get(name)?.stderr.slice(-2000)}`);
  return report as SimulationReport & { chaos: NonNullable<SimulationReport['chaos']> };
}

const failedWith = (report: SimulationReport, pattern: RegExp) => report.failed.filter((f) => pattern.test(f.reason));

describe.each(CHAOS_PROFILES)('the demo clinic under --chaos %s', (profile) => {
  it('keeps the delivery promise: every planned message sent, skipped or failed once, with its reason', () => {
    const report = reportOf(profile);

    expect(report.invariants.planned).toBeGreaterThan(0);
    expect(report.invariants).toMatchObject({ lost: [], duplicated: [], unsettled: [], unexplained: [] });
    expect(report.invariants.sent + report.invariants.skipped + report.invariants.failed + report.invariants.pending).toBe(report.invariants.planned);
    // An invocation Lambda gave up on (a copy that found its message in flight each time, or a
    // crash on every attempt) may reach the failed-invocations queue only if its message settled.
    const settled = new Set([...report.emails, ...report.skipped, ...report.failed].map((e) => e.name));
    for (const failed of report.chaos.failedInvocations) {
      expect(failed.functionName).toBe('dispatch');
      expect(settled.has(failed.message!), failed.message).toBe(true);
    }
    expect(report.chaos.streamFailures).toBe(0);
    expect(new Set(report.emails.map((e) => e.name)).size).toBe(report.emails.length);
    for (const entry of [...report.skipped, ...report.failed]) expect(entry.reason.trim()).not.toBe('');
  });

  it('met its fault', () => {
    const { chaos } = reportOf(profile);
    const faults =
      profile === 'all'
        ? (['duplicate-sequential', 'duplicate-concurrent', 'ses-throttle', 'ses-5xx', 'dynamodb-restart', 'malformed-item'] as const)
        : ([profile] as const);
    for (const fault of faults) expect(chaos.injected[fault], fault).toBeGreaterThan(0);
  });
});

describe('what each fault does on the real path', () => {
  it('delivers firings twice into dispatch, which sends each message once', () => {
    for (const profile of ['duplicate-sequential', 'duplicate-concurrent'] as const) {
      const report = reportOf(profile);
      expect(report.chaos.fired.duplicateCopies).toBeGreaterThan(report.emails.length);
      expect(report.invariants.sent).toBeGreaterThan(0);
    }
  });

  it('retries throttled and 5xx sends through dispatch’s own schedules on the local Scheduler, and sends them once', () => {
    for (const profile of ['ses-throttle', 'ses-5xx'] as const) {
      const report = reportOf(profile);
      expect(report.chaos.fired.retries).toBeGreaterThan(0);
      expect(report.failed).toEqual([]);
    }
  });

  it('records a send SES kept without answering as failed "outcome unknown", and never sends it again', () => {
    const report = reportOf('ses-no-answer');
    expect(failedWith(report, /^outcome unknown/).length).toBe(report.chaos.injected['ses-no-answer']);
  });

  it('records a send whose dispatch died after SES kept the email as failed "outcome unknown" on Lambda’s retry', () => {
    const report = reportOf('dispatch-crash');
    expect(report.chaos.retriedInvocations['dispatch: InvocationDiedError']).toBe(report.chaos.injected['dispatch-crash']);
    expect(failedWith(report, /^outcome unknown/).length).toBe(report.chaos.injected['dispatch-crash']);
  });

  it('rides out DynamoDB Local stopped and started again under a running dispatch', () => {
    const report = reportOf('dynamodb-restart');
    expect(report.chaos.injected['dynamodb-restart']).toBe(2);
    expect(Object.keys(report.chaos.retriedInvocations).some((k) => k.startsWith('dispatch: '))).toBe(true);
    expect(report.failed).toEqual([]);
  });

  it('skips malformed items in the stream without holding up the records after them', () => {
    const report = reportOf('malformed-item');
    expect(report.chaos.injected['malformed-item']).toBe(4);
    expect(report.invariants.sent).toBe(report.invariants.planned);
  });

  it('sends a reminder in flight during its session’s reschedule once, and the new time’s reminders after it', () => {
    const report = reportOf('reschedule-in-flight');
    const moved = report.emails.filter((e) => e.kind === 'reminder' && /\.v2$/.test(e.name));
    expect(report.chaos.injected['reschedule-in-flight']).toBeGreaterThan(0);
    expect(moved.length).toBeGreaterThan(0);
    for (const email of moved) {
      const sessionId = email.sessionId!;
      const old = report.emails.filter((e) => e.sessionId === sessionId && e.kind === 'reminder' && /\.v1$/.test(e.name));
      expect(old.length, sessionId).toBeGreaterThan(0);
      expect(
        old.every((e) => e.sentAt < email.sentAt),
        sessionId,
      ).toBe(true);
    }
  });
});

describe('a scenario file that throttles SES for hours, into the night', () => {
  it('gives up a reminder once it would arrive under an hour before the session, with the reason', () => {
    const report = reportOf(OVERNIGHT);
    expect(report.failed.map((f) => [f.name, f.at, f.reason.replace(/\d+ retries/, 'N retries')])).toEqual([
      ['rm.s-leo-3.PT2H.v1', expect.stringMatching(/^2027-03-03T07:/), 'gave up after N retries: SES is throttling or over quota (TooManyRequestsException)'],
    ]);
  });

  it('keeps retrying a check-in past six hours, holds it through quiet hours, and sends it the next morning', () => {
    const report = reportOf(OVERNIGHT);
    const deferral = report.skipped.find((s) => s.name === 'ci.s-kai-1.after.v1');
    const sent = report.emails.filter((e) => e.sessionId === 's-kai-1' && e.kind === 'check-in');

    expect(deferral?.reason).toBe('deferred to 2027-03-04T08:00:00.000Z: quiet hours');
    expect(deferral!.at >= '2027-03-03T21:00:00.000Z').toBe(true);
    expect(sent.map((e) => [e.name, e.sentAt])).toEqual([['ci.s-kai-1.after-d1.v1', '2027-03-04T08:00:00.000Z']]);
    expect(report.chaos.fired.retries).toBeGreaterThan(10);
  });

  it('sends the summary the throttling held back once SES answers again', () => {
    const report = reportOf(OVERNIGHT);
    const summary = report.emails.find((e) => e.name === 'su.t-amy.20270302.v1');
    expect(summary!.sentAt > '2027-03-03T09:30:00.000Z').toBe(true);
    expect(report.invariants).toMatchObject({ lost: [], duplicated: [], unsettled: [], unexplained: [] });
  });
});
