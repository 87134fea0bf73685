/** What an import refuses before writing, and how a rerun of the same file resumes. */
import { describe, expect, it } from 'vitest';
import { EmailInUseError } from '../../shared/domain/errors.js';
import { clientSchema } from '../../shared/domain/model.js';
import { describeProblem } from '../../shared/use-cases/import/rows.js';
import { ImportFileError, ImportInterruptedError } from '../../shared/domain/errors.js';
import { lookUpExisting, type ExistingIds } from '../../shared/use-cases/import/existing.js';
import { planImport } from '../../shared/use-cases/import/plan-import.js';
import { rowsFromCsv, rowsFromJson } from '../../local/cli/import.js';
import { writeImport } from '../../shared/use-cases/import/write.js';
import { MemoryStore } from '../support/memory-store.js';

const HEADER = 'type,id,name,email,timezone,clientId,therapistId,goal,phases,reminders,planId,start,durationMinutes,location';
const THERAPIST = 'therapist,t-amy,Amy Chen,amy@clinic.example,Europe/London,,,,,,,,,';
const SAM = 'client,c-sam,Sam Patel,sam@example.com,Europe/London,,,,,,,,,';
const PLAN = 'plan,p-sam,,,,c-sam,t-amy,back-pain,initial:6x7d;maintenance:28d,P2D PT2H,,,,';
const session = (id: string, start: string, plan = 'p-sam') => `session,${id},,,,,,,,,${plan},${start},60,Room 2`;
const nothingStored = (): ExistingIds => ({ therapists: new Set(), clients: new Set(), plans: new Set(), sessions: new Set() });
const csv = (...lines: string[]) => rowsFromCsv([HEADER, ...lines].join('\n'));
const problemsOf = (...lines: string[]) => planImport(csv(...lines).rows, nothingStored(), [], false).problems.map(describeProblem);

describe('import refuses what would crash or mislead, before anything is written', () => {
  it('names an impossible date and the month’s real length, instead of taking another day', () => {
    expect(problemsOf(THERAPIST, SAM, PLAN, session('s-1', '2027-02-30T10:00:00Z'), session('s-2', '2027-04-31T10:00:00Z'))).toEqual([
      'line 5 (session s-1): start: 2027-02-30 is not a date: February 2027 has 28 days',
      'line 6 (session s-2): start: 2027-04-31 is not a date: April 2027 has 30 days',
    ]);
  });

  it('keeps years to 2000–2100, in the written offset and in UTC, so a 9999 start is a field error', () => {
    expect(
      problemsOf(
        THERAPIST,
        SAM,
        PLAN,
        session('s-1', '9999-12-31T23:00:00-05:00'),
        session('s-2', '0001-01-01T10:00:00Z'),
        session('s-3', '2100-12-31T23:00:00-05:00'),
      ),
    ).toEqual([
      'line 5 (session s-1): start: year 9999 is outside 2000–2100',
      'line 6 (session s-2): start: year 0001 is outside 2000–2100',
      'line 7 (session s-3): start: falls in 2101 in UTC, outside 2000–2100',
    ]);
  });

  it('refuses a JSON file with a misspelt top-level key instead of importing nothing and succeeding', () => {
    expect(() => rowsFromJson(JSON.stringify({ client: [{ id: 'c-1' }] }), 'clinic.json')).toThrow(
      new ImportFileError(
        'clinic.json: unknown top-level key "client" (did you mean "clients"?); an import file holds only therapists, clients, plans, sessions',
      ),
    );
  });

  it('refuses a second client with the same address in another case, naming the line that holds the first', () => {
    expect(problemsOf(SAM, 'client,c-sam-2,Sam P,SAM@Example.COM,Europe/London,,,,,,,,,')).toEqual([
      'line 3 (client c-sam-2): email: is the address of line 2 (client c-sam) already: one address is one client, whatever its case',
    ]);
  });

  it('refuses an address a client in the table already has, in any case', () => {
    const existing: ExistingIds = { ...nothingStored(), emails: new Map([['sam@example.com', 'c-old']]) };

    const plan = planImport(csv('client,c-new,Sam,Sam@Example.com,Europe/London,,,,,,,,,').rows, existing, [], false);

    expect(plan.problems.map(describeProblem)).toEqual([
      'line 2 (client c-new): email: is the address of client c-old in the table already: one address is one client, whatever its case',
    ]);
  });

  it('refuses two sessions of one plan at the same time: the client cannot be in both', () => {
    expect(
      problemsOf(THERAPIST, SAM, PLAN, session('s-1', '2027-03-01T10:00:00Z'), session('s-2', '2027-03-01T10:30:00Z'), session('s-3', '2027-03-01T11:00:00Z')),
    ).toEqual([
      'line 6 (session s-2): start: overlaps line 5 (session s-1) of the same plan: one client cannot be in two sessions at once',
      'line 7 (session s-3): start: overlaps line 6 (session s-2) of the same plan: one client cannot be in two sessions at once',
    ]);
  });

  it('imports a therapist booked for two clients at once, with a warning naming both lines', () => {
    const { rows } = csv(
      THERAPIST,
      SAM,
      PLAN,
      'client,c-kai,Kai,kai@example.com,Europe/London,,,,,,,,,',
      'plan,p-kai,,,,c-kai,t-amy,back-pain,maintenance:28d,,,,,',
      session('s-1', '2027-03-01T10:00:00Z'),
      session('s-2', '2027-03-01T10:30:00Z', 'p-kai'),
    );

    const plan = planImport(rows, nothingStored(), [], false);

    expect(plan.problems).toEqual([]);
    // Ids such as c-sam and p-kai hold their client's name: each is warned about too.
    const nameInId =
      'id: holds part of the client\'s name; ids appear in schedule names, SES tags and logs, so use opaque ids (docs/ARCHITECTURE.md, "Imports and addresses")';
    expect(plan.warnings.map(describeProblem)).toEqual([
      'line 8 (session s-2): therapist t-amy is also booked then with line 7 (session s-1): imported, but check the calendar',
      ...['line 3 (client c-sam)', 'line 4 (plan p-sam)', 'line 5 (client c-kai)', 'line 6 (plan p-kai)'].map((row) => `${row}: ${nameInId}`),
    ]);
    expect(plan.dataset.sessions.map((s) => s.id)).toEqual(['s-1', 's-2']);
  });
});

describe('a rerun of the same file resumes', () => {
  const FILE = [THERAPIST, SAM, PLAN, session('s-1', '2027-03-01T10:00:00Z'), session('s-2', '2027-03-08T10:00:00Z')];

  async function storedAfter(write: (store: MemoryStore) => Promise<unknown>): Promise<{ store: MemoryStore; existing: ExistingIds }> {
    const store = new MemoryStore();
    await write(store);
    return { store, existing: await lookUpExisting(store, csv(...FILE).rows) };
  }

  it('leaves the records an interrupted run wrote as they are, and writes the rest', async () => {
    const first = planImport(csv(...FILE).rows, nothingStored(), [], false);
    const controller = new AbortController();
    const { store, existing } = await storedAfter((s) =>
      writeImport(s, first.dataset, (done) => done === 3 && controller.abort(), controller.signal).catch((error: unknown) => {
        expect(error).toBeInstanceOf(ImportInterruptedError);
        expect((error as Error).message).toBe(
          'import interrupted: 3 of 5 record(s) written; run the same import again to finish (records already written are recognised and left as they are)',
        );
      }),
    );

    const rerun = planImport(csv(...FILE).rows, existing, [], false);
    await writeImport(store, rerun.dataset);

    expect(rerun.problems).toEqual([]);
    expect(rerun.unchanged).toBe(3);
    expect(rerun.dataset.sessions.map((s) => s.id)).toEqual(['s-1', 's-2']);
    expect((await store.getClientBundle('c-sam'))?.sessions.map((s) => [s.id, s.number])).toEqual([
      ['s-1', 1],
      ['s-2', 2],
    ]);
  });

  it('still refuses a record the table holds differently, naming the fields that differ', async () => {
    const { existing } = await storedAfter((s) => writeImport(s, planImport(csv(...FILE).rows, nothingStored(), [], false).dataset));

    const plan = planImport(csv(THERAPIST, 'client,c-sam,Sam R. Patel,sam@example.com,America/New_York,,,,,,,,,').rows, existing, [], false);

    expect(plan.problems.map(describeProblem)).toEqual([
      'line 3 (client c-sam): client "c-sam" already exists in the table with a different name, timezone (import creates records; use the session and plan commands to change them)',
    ]);
  });
});

describe('the store keeps one client per address', () => {
  it('refuses a second client whose address differs only in case, and lets the first change its case', async () => {
    const store = new MemoryStore();
    await store.putClient(clientSchema.parse({ id: 'c-sam', name: 'Sam', email: 'sam@example.com', timezone: 'Europe/London' }));

    await expect(store.putClient(clientSchema.parse({ id: 'c-twin', name: 'Sam', email: 'SAM@example.com', timezone: 'Europe/London' }))).rejects.toThrow(
      EmailInUseError,
    );
    await store.putClient(clientSchema.parse({ id: 'c-sam', name: 'Sam', email: 'Sam@Example.com', timezone: 'Europe/London' }));

    expect(await store.findClientIdByEmail('SAM@EXAMPLE.COM')).toBe('c-sam');
  });
});
