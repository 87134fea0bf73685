/**
 * `npm run simulate` on every example scenario, each in its own process (a twin per process, as the
 * handlers read their environment once), sharing the test run's DynamoDB Local and SES local.
 * The reports are read back and checked against what each example is there to show.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/cli/state.js';
import type { SimulationReport } from '../../local/simulation/run.js';

const outDir = mkdtempSync(join(tmpdir(), 'kw-simulate-'));
const tsx = import.meta.resolve('tsx');

function simulate(scenario: string, report?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = [
      '--import',
      tsx,
      join(PROJECT_ROOT, 'local/simulate.ts'),
      scenario,
      ...(report ? ['--report', report] : []),
      '--dynamo-endpoint',
      inject('dynamoEndpoint'),
    ];
    // Each run has an SES local of its own, so the delivery check can judge every email it holds.
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const EXAMPLES = [
  'team-kit',
  'demo-clinic',
  'cancellations-and-reschedules',
  'unsubscribe-and-bounce',
  'dst-london-spring',
  'dst-london-autumn',
  'dst-new-york-spring',
  'dst-new-york-autumn',
] as const;
type Example = (typeof EXAMPLES)[number];
const reports = new Map<Example, SimulationReport>();
const runs = new Map<Example, { code: number | null; stderr: string }>();

beforeAll(async () => {
  // Two at a time: each run is a twin of its own, and the machine is shared.
  const queue = [...EXAMPLES];
  await Promise.all(
    [0, 1].map(async () => {
      for (let example = queue.shift(); example; example = queue.shift()) {
        const report = join(outDir, `${example}.json`);
        const run = await simulate(join(PROJECT_ROOT, 'examples', `${example}.json`), report);
        runs.set(example, run);
        if (run.code === 0) reports.set(example, JSON.parse(readFileSync(report, 'utf8')) as SimulationReport);
      }
    }),
  );
}, 1_800_000);

function reportOf(example: Example): SimulationReport {
  const report = reports.get(example);
  if (!report) throw new Error(`simulate ${example} exited ${runs.get(example)?.code}: ${runs.get(example)?.stderr}`);
  return report;
}

const local = (instant: string, zone: string) => DateTime.fromISO(instant, { zone }).toFormat('ccc d LLL HH:mm');
const emailsTo = (report: SimulationReport, address: string) => report.emails.filter((e) => e.to === address);
const about = (report: SimulationReport, sessionId: string) => report.emails.filter((e) => e.sessionId === sessionId).map((e) => [e.kind, e.name, e.sentAt]);

describe('every example', () => {
  it.each(EXAMPLES)('%s runs to the end with every email accounted for', (example) => {
    const report = reportOf(example);

    expect(runs.get(example)?.stderr).toMatch(/^simulated [\d.]+ days in [\d.]+ s: \d+ emails/m);
    expect(report.failed).toEqual([]);
    expect(report.stats).toMatchObject({ emails: report.emails.length, failed: 0, deadLetters: 0, unmatched: 0 });
    // Every planned message settled once: nothing lost, nothing sent twice, every skip explained.
    expect(report.invariants).toMatchObject({ lost: [], duplicated: [], unsettled: [], unexplained: [] });
    expect(report.invariants.planned).toBeGreaterThan(0);
    // Booking confirmations, change and cancellation notices are counted after the time-rule messages.
    expect(runs.get(example)?.stderr).toMatch(
      /^delivery: planned \d+: \d+ sent, \d+ skipped, 0 failed, \d+ pending; 0 lost, 0 duplicated; booking emails: \d+ sent, \d+ skipped, 0 failed$/m,
    );
    expect(report.invariants.bookingEmails.planned).toBeGreaterThan(0);
    expect(report.emails.map((e) => e.sentAt)).toEqual(report.emails.map((e) => e.sentAt).sort());
    for (const email of report.emails) {
      expect(email.sentAt >= report.simulate.from && email.sentAt <= report.simulate.until).toBe(true);
      expect(email.subject.length).toBeGreaterThan(0);
      expect(email.text.length).toBeGreaterThan(0);
      expect(email.html).toContain('<html');
    }
  });
});

describe('the team-kit scenario', () => {
  it('reminds Sam and Kai at their plans’ offsets, and the moved session only at its new time', () => {
    const report = reportOf('team-kit');

    expect(report.emails.filter((e) => e.kind === 'reminder').map((e) => [e.sessionId, e.offset, e.name, e.sentAt])).toEqual([
      ['s-sam-1', 'P2D', 'rm.s-sam-1.P2D.v1', '2027-01-30T14:00:00.000Z'],
      ['s-sam-1', 'PT2H', 'rm.s-sam-1.PT2H.v1', '2027-02-01T12:00:00.000Z'],
      ['s-kai-1', 'PT24H', 'rm.s-kai-1.PT24H.v1', '2027-02-02T18:00:00.000Z'],
      ['s-sam-2', 'P2D', 'rm.s-sam-2.P2D.v2', '2027-02-07T16:30:00.000Z'],
      ['s-sam-2', 'PT2H', 'rm.s-sam-2.PT2H.v2', '2027-02-09T14:30:00.000Z'],
    ]);
  });

  it('asks for a check-in a day after each session, in the client’s own time zone', () => {
    const report = reportOf('team-kit');

    expect(
      report.emails
        .filter((e) => e.kind === 'check-in')
        .map((e) => [e.sessionId, e.to, local(e.sentAt, e.to.startsWith('kai') ? 'America/Chicago' : 'Europe/London')]),
    ).toEqual([
      ['s-sam-1', 'sam.patel@example.com', 'Tue 2 Feb 15:00'],
      ['s-kai-1', 'kai.moreno@example.net', 'Thu 4 Feb 12:45'],
      ['s-sam-2', 'sam.patel@example.com', 'Wed 10 Feb 17:30'],
    ]);
  });

  it('sends Kai nothing once the address bounced', () => {
    const report = reportOf('team-kit');

    expect(emailsTo(report, 'kai.moreno@example.net').filter((e) => e.sentAt >= '2027-02-22T08:00:00.000Z')).toEqual([]);
  });

  it('gives Amy a summary each morning at 07:00 her time', () => {
    const summaries = reportOf('team-kit').emails.filter((e) => e.kind === 'summary' && e.sentAt > '2027-01-30T06:00:00.000Z');

    expect(summaries.length).toBeGreaterThanOrEqual(43);
    expect(new Set(summaries.map((e) => DateTime.fromISO(e.sentAt, { zone: 'Europe/London' }).toFormat('HH:mm')))).toEqual(new Set(['07:00']));
  });

  it('nudges Sam once when his next session falls due with nothing booked', () => {
    const nudges = reportOf('team-kit').emails.filter((e) => e.kind === 'maintenance-nudge');

    expect(nudges.map((e) => [e.planId, e.to, local(e.sentAt, 'Europe/London')])).toEqual([['p-sam', 'sam.patel@example.com', 'Tue 16 Feb 10:00']]);
  });
});

describe('the demo clinic', () => {
  it('shows every kind of email within four days', () => {
    const { byKind } = reportOf('demo-clinic').stats;

    expect(byKind).toMatchObject({ reminder: 5, 'check-in': 4, 'maintenance-nudge': 1, 'therapist-alert': 1 });
    expect(byKind.summary).toBeGreaterThanOrEqual(4);
  });

  it("nudges Priya on her due morning and alerts Amy to Leo's pain", () => {
    const report = reportOf('demo-clinic');

    expect(report.emails.filter((e) => e.kind === 'maintenance-nudge').map((e) => [e.to, local(e.sentAt, 'Europe/London')])).toEqual([
      ['priya.shah@example.org', 'Mon 1 Mar 10:00'],
    ]);
    expect(report.emails.filter((e) => e.kind === 'therapist-alert').map((e) => [e.to, e.sessionId])).toEqual([['amy@harbour-massage.example', 's-leo-3']]);
  });
});

describe('cancellations and reschedules', () => {
  it('sends no reminder about a session cancelled before any fell due, only its booking emails, and records each message as skipped', () => {
    const report = reportOf('cancellations-and-reschedules');

    // The confirmation went out once the data was in; the cancellation two days later is told.
    expect(about(report, 's-ana-1')).toEqual([
      ['booking-confirmation', 'bc.s-ana-1.booked.v1', '2027-02-01T08:00:00.000Z'],
      // The new plan's intake questionnaire, at the end of the night's quiet hours like the confirmation.
      ['intake-questionnaire', 'iq.p-ana.intake.v1', '2027-02-01T08:00:00.000Z'],
      ['booking-cancellation', 'bx.s-ana-1.cancelled.v1', '2027-02-03T09:00:00.000Z'],
    ]);
    expect(
      report.skipped
        .filter((s) => s.sessionId === 's-ana-1')
        .map((s) => [s.name, s.reason])
        .sort(),
    ).toEqual([
      ['ci.s-ana-1.after.v1', 'session cancelled'],
      ['rm.s-ana-1.P2D.v1', 'session cancelled'],
      ['rm.s-ana-1.PT2H.v1', 'session cancelled'],
    ]);
  });

  it('stops a cancelled session’s remaining reminder and its check-in', () => {
    // Between its confirmation and its cancellation notice.
    expect(about(reportOf('cancellations-and-reschedules'), 's-ana-2')).toEqual([
      ['booking-confirmation', 'bc.s-ana-2.booked.v1', '2027-02-01T08:00:00.000Z'],
      ['reminder', 'rm.s-ana-2.P2D.v1', '2027-02-08T10:00:00.000Z'],
      ['booking-cancellation', 'bx.s-ana-2.cancelled.v1', '2027-02-09T12:00:00.000Z'],
    ]);
  });

  it('reminds about a moved session only at its new time, and says the new time', () => {
    const report = reportOf('cancellations-and-reschedules');

    expect(about(report, 's-ben-1')).toEqual([
      // Confirmed when the data came in, then told of the move when it happened.
      ['booking-confirmation', 'bc.s-ben-1.booked.v1', '2027-02-01T08:00:00.000Z'],
      // The new plan's intake questionnaire, at the end of the night's quiet hours like the confirmation.
      ['intake-questionnaire', 'iq.p-ben.intake.v1', '2027-02-01T08:00:00.000Z'],
      ['booking-change', 'bm.s-ben-1.moved.v2', '2027-02-08T09:00:00.000Z'],
      ['reminder', 'rm.s-ben-1.P1D.v2', '2027-02-10T16:00:00.000Z'],
      ['reminder', 'rm.s-ben-1.PT2H.v2', '2027-02-11T14:00:00.000Z'],
      ['check-in', 'ci.s-ben-1.after.v2', '2027-02-12T17:00:00.000Z'],
    ]);
    expect(report.emails.filter((e) => e.sessionId === 's-ben-1' && e.kind === 'reminder').map((e) => e.subject)).toEqual([
      'Reminder: your session on Thu 11 Feb, 4:00 pm',
      'Reminder: your session on Thu 11 Feb, 4:00 pm',
    ]);
  });

  it('skips, with the reason, reminders a short-notice booking or move came too late for', () => {
    const report = reportOf('cancellations-and-reschedules');

    const tooLate = report.skipped.filter((s) => s.kind === 'reminder' && !['session cancelled', 'version moved on'].includes(s.reason));
    expect(tooLate.map((s) => [s.name, s.reason])).toEqual([
      ['rm.s-ana-3.P2D.v1', 'superseded by a later reminder'],
      ['rm.s-ben-2.P1D.v2', 'too late: the session starts in under 60 minutes'],
      ['rm.s-ben-2.PT2H.v2', 'too late: the session starts in under 60 minutes'],
    ]);
    // Moved and cancelled sessions leave their pending reminders in the outbox as skipped too.
    expect(
      report.skipped
        .filter((s) => s.kind === 'reminder' && s.reason === 'version moved on')
        .map((s) => s.name)
        .sort(),
    ).toEqual(['rm.s-ben-1.P1D.v1', 'rm.s-ben-1.PT2H.v1']);
    expect(about(report, 's-ana-3')).toEqual([
      // Booked at short notice: the confirmation after the 5-minute undo window.
      ['booking-confirmation', 'bc.s-ana-3.booked.v1', '2027-02-11T09:05:00.000Z'],
      ['reminder', 'rm.s-ana-3.PT2H.v1', '2027-02-12T13:00:00.000Z'],
      ['check-in', 'ci.s-ana-3.after.v1', '2027-02-13T16:00:00.000Z'],
    ]);
  });
});

describe('an unsubscribe and a bounce', () => {
  it('stops check-ins after the unsubscribe while reminders go on', () => {
    const uma = emailsTo(reportOf('unsubscribe-and-bounce'), 'uma.reyes@example.com');

    expect(uma.filter((e) => e.kind === 'check-in').map((e) => e.sessionId)).toEqual(['s-uma-1']);
    expect(uma.filter((e) => e.kind === 'reminder').map((e) => e.sessionId)).toEqual(['s-uma-1', 's-uma-2', 's-uma-3', 's-uma-4']);
  });

  it('sends nothing at all to a bounced address after the bounce', () => {
    const bo = emailsTo(reportOf('unsubscribe-and-bounce'), 'bo.lindqvist@example.net');

    expect(bo.map((e) => [e.kind, e.sessionId])).toEqual([
      // The confirmations of the four imported sessions, held to the end of the night's quiet hours.
      ['booking-confirmation', 's-bo-1'],
      ['booking-confirmation', 's-bo-2'],
      ['booking-confirmation', 's-bo-3'],
      ['booking-confirmation', 's-bo-4'],
      // The new plan's intake questionnaire, named by its first session.
      ['intake-questionnaire', 's-bo-1'],
      ['reminder', 's-bo-1'],
      ['check-in', 's-bo-1'],
      ['reminder', 's-bo-2'],
      ['check-in', 's-bo-2'],
    ]);
    expect(bo.every((e) => e.sentAt < '2027-02-10T12:00:00.000Z')).toBe(true);
  });
});

describe('a week around each clock change', () => {
  it.each([
    ['dst-london-spring', 'Europe/London', 'Sat 27 Mar 09:00', 'Sat 27 Mar 08:00'],
    ['dst-london-autumn', 'Europe/London', 'Sat 30 Oct 09:00', 'Sat 30 Oct 10:00'],
    ['dst-new-york-spring', 'America/New_York', 'Sat 13 Mar 09:00', 'Sat 13 Mar 08:00'],
    ['dst-new-york-autumn', 'America/New_York', 'Sat 6 Nov 09:00', 'Sat 6 Nov 10:00'],
  ] as const)('%s: a P2D reminder keeps 09:00 local across the change, a PT48H one moves by the hour', (example, zone, p2d, pt48h) => {
    const report = reportOf(example);
    const reminder = (sessionId: string, offset: string) =>
      report.emails.filter((e) => e.sessionId === sessionId && e.offset === offset).map((e) => local(e.sentAt, zone));

    expect(reminder('s-days-after', 'P2D')).toEqual([p2d]);
    expect(reminder('s-hours-after', 'PT48H')).toEqual([pt48h]);
    // Before the change both land on the same local hour, and 2-hour reminders keep theirs throughout.
    expect([...reminder('s-days-before', 'P2D'), ...reminder('s-hours-before', 'PT48H')].map((t) => t.slice(-5))).toEqual(['09:00', '09:00']);
    expect(report.emails.filter((e) => e.offset === 'PT2H').map((e) => local(e.sentAt, zone).slice(-5))).toEqual(['07:00', '07:00', '07:00', '07:00']);
    expect(report.stats.byKind).toMatchObject({ reminder: 8, 'check-in': 4 });
  });
});

describe('an invalid scenario', () => {
  it('exits 1 with one line naming every bad field by path', async () => {
    const scenario = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples/team-kit.json'), 'utf8')) as {
      events: Array<Record<string, unknown>>;
      simulate: Record<string, unknown>;
    };
    scenario.events[3] = { at: '2027-02-12T08:00:00Z', type: 'cancel-session', sessionId: 's-x' };
    scenario.simulate.until = 'next spring';
    const file = join(outDir, 'invalid.json');
    writeFileSync(file, JSON.stringify(scenario));

    const run = await simulate(file);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `simulate: scenario ${file} is invalid: simulate.until: must be an ISO-8601 instant with an offset or Z, e.g. 2027-02-01T14:00:00Z; events[3].sessionId: refers to a missing session "s-x"\n`,
    );
  });
});
