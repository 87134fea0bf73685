/**
 * Fuzzing import rows, CSV and JSON (fast-check, fixed seed, bounded runs): no crash and no hang,
 * every refusal names its row and field with a reason, and nothing is half-written — a file with
 * any problem writes nothing, a clean one writes exactly what it holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImportFileError } from '../../shared/domain/errors.js';
import { planImport } from '../../shared/use-cases/import/plan-import.js';
import { rowsFromCsv, rowsFromJson } from '../../local/cli/import.js';
import { writeImport } from '../../shared/use-cases/import/write.js';
import type { ExistingIds } from '../../shared/use-cases/import/existing.js';
import type { ImportRow, RowProblem } from '../../shared/use-cases/import/rows.js';
import { MemoryStore } from '../support/memory-store.js';
import { fuzzRuns } from '../support/fuzz.js';

const RUNS = fuzzRuns(150);
const HEADER = [
  'type',
  'id',
  'name',
  'email',
  'timezone',
  'clientId',
  'therapistId',
  'goal',
  'phases',
  'reminders',
  'planId',
  'start',
  'durationMinutes',
  'location',
] as const;
type Column = (typeof HEADER)[number];
const nothingStored = (): ExistingIds => ({ therapists: new Set(), clients: new Set(), plans: new Set(), sessions: new Set() });

const GOOD: Array<Partial<Record<Column, string>>> = [
  { type: 'therapist', id: 't-amy', name: 'Amy Chen', email: 'amy@clinic.example', timezone: 'Europe/London' },
  { type: 'client', id: 'c-sam', name: 'Sam Patel', email: 'sam@example.com', timezone: 'Europe/London' },
  { type: 'plan', id: 'p-sam', clientId: 'c-sam', therapistId: 't-amy', goal: 'back-pain', phases: 'initial:6x7d;maintenance:28d', reminders: 'P2D PT2H' },
  { type: 'session', id: 's-1', planId: 'p-sam', start: '2027-02-01T14:00:00Z', durationMinutes: '60', location: 'Room 2' },
  { type: 'session', id: 's-2', planId: 'p-sam', start: '2027-02-08T09:00:00-05:00', durationMinutes: '45', location: 'Room 1' },
];

/** Values each column must refuse, with the field name the refusal must carry. */
const BAD: Partial<Record<Column, fc.Arbitrary<string>>> = {
  id: fc.constantFrom('-x', 'a b', 'x'.repeat(41), 'é'),
  email: fc.constantFrom('not-an-email', 'a@', '@b.example', 'a b@example.com'),
  timezone: fc.constantFrom('Mars/Olympus', 'GMT+25', 'europe/london!'),
  start: fc.oneof(
    fc.constantFrom(
      '2027-02-30T10:00:00Z',
      '2027-04-31T10:00:00Z',
      '9999-12-31T23:00:00-05:00',
      '0001-01-01T00:00:00Z',
      '2027-02-01T14:00:00',
      '2027-13-01T10:00:00Z',
      '2027-02-01T25:00:00Z',
      'next Tuesday',
    ),
    fc.string({ maxLength: 30 }).filter((s) => !/^\d{4}-/.test(s.trim())),
  ),
  durationMinutes: fc.constantFrom('0', '-5', '601', '1.5', 'an hour'),
  goal: fc.constantFrom('Back Pain', 'x', '-pain'),
  reminders: fc.constantFrom('P0D', 'two days', 'P2D P2D', 'PT'),
};

function toCsv(rows: Array<Partial<Record<Column, string>>>): string {
  const cell = (v: string | undefined) => (v === undefined ? '' : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [HEADER.join(','), ...rows.map((r) => HEADER.map((c) => cell(r[c])).join(','))].join('\n');
}

/** Reads and plans a file the way the CLI does; a whole-file problem is an ImportFileError, never anything else. */
function plan(read: () => { rows: ImportRow[]; problems: RowProblem[] }) {
  try {
    const { rows, problems } = read();
    return { rows, result: planImport(rows, nothingStored(), problems, false) };
  } catch (error) {
    if (error instanceof ImportFileError) return undefined;
    throw error;
  }
}

async function writtenIds(dataset: Parameters<typeof writeImport>[1]): Promise<string[]> {
  const store = new MemoryStore();
  await writeImport(store, dataset);
  const found = await Promise.all([
    ...dataset.therapists.map((t) => store.getTherapist(t.id)),
    ...dataset.clients.map((c) => store.getClient(c.id)),
    ...dataset.plans.map((p) => store.findPlan(p.id)),
    ...dataset.sessions.map((s) => store.findSession(s.id)),
  ]);
  return found.map((record) => (record as { id: string }).id);
}

describe('fuzzed CSV import rows', () => {
  it('a bad value in any column is refused on its line, naming the field, and nothing is written', () => {
    const corruption = fc
      .constantFrom(
        ...GOOD.flatMap((row, index) =>
          Object.keys(BAD)
            .filter((c) => row[c as Column] !== undefined)
            .map((column) => ({ index, column: column as Column })),
        ),
      )
      .chain(({ index, column }) => BAD[column]!.map((value) => ({ index, column, value })));
    fc.assert(
      fc.property(corruption, ({ index, column, value }) => {
        const rows = GOOD.map((r, i) => (i === index ? { ...r, [column]: value } : r));
        const planned = plan(() => rowsFromCsv(toCsv(rows)));
        if (!planned) return;
        expect(planned.result.problems.some((p) => p.where === `line ${index + 2}` && p.reason.startsWith(`${column}`))).toBe(true);
        expect(planned.result.dataset).toEqual({ therapists: [], clients: [], plans: [], sessions: [] });
      }),
      RUNS,
    );
  });

  it('any cells at all: no crash, every problem has a place and a reason, and a clean file writes exactly its records', async () => {
    const cellOf = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('', 't-amy', 'c-sam', 'p-sam', '2027-02-01T14:00:00Z', '2027-02-30T14:00:00Z', '60', 'Europe/London', 'maintenance:28d', 'P2D'),
    );
    const row = fc.record({
      type: fc.constantFrom('therapist', 'client', 'plan', 'session', 'patient'),
      ...Object.fromEntries(HEADER.slice(1).map((c) => [c, fc.option(cellOf, { nil: undefined })])),
    }) as fc.Arbitrary<Partial<Record<Column, string>>>;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(row, fc.constantFrom(...GOOD)), { maxLength: 8 }), async (rows) => {
        const planned = plan(() => rowsFromCsv(toCsv(rows)));
        if (!planned) return;
        for (const problem of planned.result.problems) {
          expect(problem.where).toMatch(/^line \d+$/);
          expect(problem.reason.length).toBeGreaterThan(3);
        }
        const { dataset } = planned.result;
        if (planned.result.problems.length > 0) expect(dataset).toEqual({ therapists: [], clients: [], plans: [], sessions: [] });
        else
          expect(await writtenIds(dataset)).toHaveLength(dataset.therapists.length + dataset.clients.length + dataset.plans.length + dataset.sessions.length);
      }),
      RUNS,
    );
  });
});

describe('fuzzed JSON import files', () => {
  it('any JSON at all: no crash, problems by path, nothing written when any record is bad', async () => {
    const record = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record(
        {
          id: fc.constantFrom('c-1', 'p-1', 's-1', 't-1', ''),
          name: fc.string(),
          email: fc.constantFrom('a@example.com', 'A@EXAMPLE.com', 'x'),
          timezone: fc.constantFrom('Europe/London', 'Nowhere'),
          start: fc.constantFrom('2027-02-30T10:00:00Z', '2027-03-01T10:00:00Z', '9999-12-31T23:00:00-05:00'),
          planId: fc.constant('p-1'),
          clientId: fc.constant('c-1'),
          therapistId: fc.constant('t-1'),
          durationMinutes: fc.integer({ min: -1, max: 700 }),
          location: fc.string(),
        },
        { requiredKeys: [] },
      ),
    );
    const file = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          therapists: fc.array(record, { maxLength: 3 }),
          clients: fc.array(record, { maxLength: 3 }),
          plans: fc.array(record, { maxLength: 3 }),
          sessions: fc.array(record, { maxLength: 3 }),
          client: fc.array(record, { maxLength: 1 }),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(file, async (data) => {
        const planned = plan(() => rowsFromJson(JSON.stringify(data), 'fuzz.json'));
        if (!planned) return;
        for (const problem of planned.result.problems) expect(problem.where).toMatch(/^(therapists|clients|plans|sessions)(\[\d+\])?$/);
        const { dataset } = planned.result;
        if (planned.result.problems.length > 0) expect(dataset).toEqual({ therapists: [], clients: [], plans: [], sessions: [] });
        else
          expect(await writtenIds(dataset)).toHaveLength(dataset.therapists.length + dataset.clients.length + dataset.plans.length + dataset.sessions.length);
      }),
      RUNS,
    );
  });
});
