import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from '../../local/cli/csv.js';
import { describeProblem } from '../../shared/use-cases/import/rows.js';
import { ImportFileError } from '../../shared/domain/errors.js';
import { parsePhases, rowsFromCsv, rowsFromJson, utf8Text } from '../../local/cli/import.js';
import { planImport } from '../../shared/use-cases/import/plan-import.js';
import type { ExistingIds } from '../../shared/use-cases/import/existing.js';

const HEADER = 'type,id,name,email,timezone,clientId,therapistId,goal,phases,reminders,planId,start,durationMinutes,location';
const GOOD = [
  'therapist,t-amy,Amy Chen,amy@clinic.example,Europe/London,,,,,,,,,',
  'client,c-sam,Sam Patel,sam@example.com,Europe/London,,,,,,,,,',
  'plan,p-sam,,,,c-sam,t-amy,back-pain,initial:6x7d;maintenance:28d,P2D PT2H,,,,',
  'session,s-sam-1,,,,,,,,,p-sam,2027-02-01T14:00:00Z,60,"Room 2, 14 Harbour Street"',
];
const nothingStored = (): ExistingIds => ({ therapists: new Set(), clients: new Set(), plans: new Set(), sessions: new Set() });

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, keeping each record’s first line', () => {
    const records = parseCsv('a,b\r\n"x, y","say ""hi"""\n\n"two\nlines",z\n');

    expect(records).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 4, fields: ['two\nlines', 'z'] },
    ]);
  });

  it('refuses a quote that is never closed, naming the line it opened on', () => {
    expect(() => parseCsv('a,b\n"open,c\nd,e')).toThrow(new CsvSyntaxError(2, 'a quoted field is never closed'));
  });
});

describe('parsePhases', () => {
  it('reads a count and cadence per phase, the last phase open-ended', () => {
    expect(parsePhases('initial:6x7d; maintenance:28d')).toEqual([
      { name: 'initial', sessions: 6, everyDays: 7 },
      { name: 'maintenance', everyDays: 28 },
    ]);
  });

  it('gives nothing back for text that does not follow the pattern', () => {
    expect(parsePhases('six weekly sessions')).toBeUndefined();
  });
});

describe('rowsFromCsv', () => {
  it('turns each row into the record its type describes, with typed cells', () => {
    const { rows, problems } = rowsFromCsv([HEADER, ...GOOD].join('\n'));

    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.where, r.type, r.id])).toEqual([
      ['line 2', 'therapist', 't-amy'],
      ['line 3', 'client', 'c-sam'],
      ['line 4', 'plan', 'p-sam'],
      ['line 5', 'session', 's-sam-1'],
    ]);
    expect(rows[2]!.record).toEqual({
      id: 'p-sam',
      clientId: 'c-sam',
      therapistId: 't-amy',
      goal: 'back-pain',
      phases: [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
      reminders: ['P2D', 'PT2H'],
    });
    expect(rows[3]!.record).toEqual({
      id: 's-sam-1',
      planId: 'p-sam',
      start: '2027-02-01T14:00:00Z',
      durationMinutes: 60,
      location: 'Room 2, 14 Harbour Street',
    });
  });

  it('reports rows of an unknown type, cells in columns their type does not use, and unreadable phases', () => {
    const { rows, problems } = rowsFromCsv(
      [
        HEADER,
        'patient,c-x,X,x@example.com,Europe/London,,,,,,,,,',
        'client,c-y,Y,y@example.com,Europe/London,,,,,,p-sam,,,',
        'plan,p-z,,,,c-sam,t-amy,back-pain,weekly forever,,,,,',
      ].join('\n'),
    );

    expect(rows).toEqual([]);
    expect(problems.map(describeProblem)).toEqual([
      'line 2: type must be one of therapist, client, plan, session, not "patient"',
      'line 3 (client c-y): column planId does not apply to a client row',
      'line 4 (plan p-z): phases: "weekly forever" should read like initial:6x7d;maintenance:28d',
    ]);
  });

  it('refuses a header without a type column or with columns it does not know', () => {
    expect(() => rowsFromCsv('id,name\nc-1,X')).toThrow(new ImportFileError('line 1: the header has no "type" column (see keepwell import --help)'));
    expect(() => rowsFromCsv('type,id,nickname\nclient,c-1,X')).toThrow(/line 1: unknown column "nickname"/);
  });
});

describe('planImport', () => {
  it("warns for each row whose id holds part of its client's name, whatever its case, and imports it", () => {
    const rows = rowsFromJson(
      JSON.stringify({
        therapists: [{ id: 't-1', name: 'Amy Chen', email: 'amy@clinic.example', timezone: 'Europe/London' }],
        clients: [
          { id: 'c-PATEL-2', name: 'Sam Patel', email: 'sam@example.com', timezone: 'Europe/London' },
          { id: 'c-0193', name: 'Kai Moreno', email: 'kai@example.com', timezone: 'Europe/London' },
        ],
        plans: [
          { id: 'p-sam', clientId: 'c-PATEL-2', therapistId: 't-1', goal: 'back-pain', phases: [{ name: 'maintenance', everyDays: 28 }] },
          { id: 'p-0193', clientId: 'c-0193', therapistId: 't-1', goal: 'back-pain', phases: [{ name: 'maintenance', everyDays: 28 }] },
        ],
        sessions: [{ id: 's-moreno-1', planId: 'p-0193', start: '2027-02-01T14:00:00Z', durationMinutes: 60, location: 'Room 2' }],
      }),
    ).rows;

    const plan = planImport(rows, nothingStored(), [], false);

    expect(plan.problems).toEqual([]);
    expect(plan.warnings.map((w) => `${w.type} ${w.id}`)).toEqual(['client c-PATEL-2', 'plan p-sam', 'session s-moreno-1']);
    expect(plan.warnings[0]?.reason).toBe(
      'id: holds part of the client\'s name; ids appear in schedule names, SES tags and logs, so use opaque ids (docs/ARCHITECTURE.md, "Imports and addresses")',
    );
    expect(plan.warnings.map(describeProblem).join('\n')).not.toMatch(/Sam|Patel|Moreno/);
    expect(plan.dataset.clients).toHaveLength(2);
  });

  it('passes a consistent file through whole', () => {
    const { rows } = rowsFromCsv([HEADER, ...GOOD].join('\n'));

    const plan = planImport(rows, nothingStored(), [], false);

    expect(plan.problems).toEqual([]);
    expect(plan.skipped).toBe(0);
    expect([plan.dataset.therapists.length, plan.dataset.clients.length, plan.dataset.plans.length, plan.dataset.sessions.length]).toEqual([1, 1, 1, 1]);
  });

  it('reports each bad row with its line and reason, and keeps nothing to write', () => {
    const { rows } = rowsFromCsv(
      [HEADER, ...GOOD, 'client,c-kai,Kai,not-an-email,Mars/Olympus,,,,,,,,,', 'session,s-kai-1,,,,,,,,,p-kai,2027-02-01T14:00:00,45,Room 1'].join('\n'),
    );

    const plan = planImport(rows, nothingStored(), [], false);

    expect(plan.problems.map(describeProblem)).toEqual([
      'line 6 (client c-kai): email: must be a valid email address',
      'line 6 (client c-kai): timezone: "Mars/Olympus" is not a known IANA time zone',
      'line 7 (session s-kai-1): start: must be an ISO-8601 instant with an offset or Z, e.g. 2027-02-01T14:00:00Z',
      'line 7 (session s-kai-1): planId: refers to a missing plan "p-kai"',
    ]);
    expect(plan.dataset).toEqual({ therapists: [], clients: [], plans: [], sessions: [] });
    expect(plan.skipped).toBe(6);
  });

  it('with skipInvalid drops bad rows and the rows that needed them, and keeps the rest', () => {
    const { rows } = rowsFromCsv(
      [
        HEADER,
        ...GOOD,
        'client,c-kai,Kai,not-an-email,Europe/London,,,,,,,,,',
        'plan,p-kai,,,,c-kai,t-amy,sports-injury,maintenance:21d,,,,,',
        'session,s-kai-1,,,,,,,,,p-kai,2027-02-03T12:00:00Z,45,Room 1',
      ].join('\n'),
    );

    const plan = planImport(rows, nothingStored(), [], true);

    expect(plan.problems.map((p) => p.where)).toEqual(['line 6', 'line 7', 'line 8']);
    expect(plan.dataset.clients.map((c) => c.id)).toEqual(['c-sam']);
    expect(plan.dataset.sessions.map((s) => s.id)).toEqual(['s-sam-1']);
    expect(plan.skipped).toBe(3);
  });

  it('lets rows refer to records already in the table, and refuses to overwrite one', () => {
    const { rows } = rowsFromCsv(
      [HEADER, 'plan,p-new,,,,c-old,t-old,back-pain,maintenance:28d,,,,,', 'session,s-old,,,,,,,,,p-new,2027-02-03T12:00:00Z,45,Room 1'].join('\n'),
    );
    const existing: ExistingIds = { therapists: new Set(['t-old']), clients: new Set(['c-old']), plans: new Set(), sessions: new Set(['s-old']) };

    const plan = planImport(rows, existing, [], false);

    expect(plan.problems.map(describeProblem)).toEqual([
      'line 3 (session s-old): session "s-old" already exists in the table (import creates records; use the session and plan commands to change them)',
    ]);
  });

  it('reads JSON records by collection, reporting them by path', () => {
    const { rows, problems } = rowsFromJson(
      JSON.stringify({ clients: [{ id: 'c-1', name: 'A', email: 'a@example.com', timezone: 'Europe/London' }, 'oops'], plans: {} }),
    );

    expect(rows.map((r) => r.where)).toEqual(['clients[0]']);
    expect(problems.map(describeProblem)).toEqual(['clients[1] (client): must be an object', 'plans: must be a list']);
  });
});

describe('the import file’s encoding', () => {
  it('reads UTF-8, with or without a byte-order mark', () => {
    expect(utf8Text(Buffer.from('type,id,name\nclient,c-1,Zoë\n', 'utf8'), 'clients.csv')).toBe('type,id,name\nclient,c-1,Zoë\n');
    expect(utf8Text(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('type\n')]), 'clients.csv')).toBe('type\n');
  });

  it('refuses a Latin-1 export, naming the line and byte where it stops being UTF-8', () => {
    const latin1 = Buffer.from('type,id,name\nclient,c-1,Zoë\n', 'latin1');
    expect(() => utf8Text(latin1, 'clients.csv')).toThrow(
      new ImportFileError('clients.csv: line 2 (byte 26) is not UTF-8 text; save the file as UTF-8 (in a spreadsheet: "CSV UTF-8")'),
    );
  });
});
