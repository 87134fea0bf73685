import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/validation.js';
import { parseScenario } from '../../local/simulation/scenario.js';

const teamKit = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../examples/team-kit.json', import.meta.url), 'utf8')) as Record<string, unknown>;

function issuesOf(input: unknown): string[] {
  try {
    parseScenario(input);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => `${i.path}: ${i.reason}`);
    throw error;
  }
  throw new Error('the scenario was accepted');
}

describe('parseScenario', () => {
  it('accepts the team-kit scenario and orders its events in time', () => {
    const input = teamKit();
    (input.events as unknown[]).reverse();

    const scenario = parseScenario(input);

    expect(scenario.clinic.name).toBe('Harbour Clinical Massage');
    expect(scenario.dataset.sessions.map((s) => s.id)).toEqual(['s-sam-1', 's-kai-1']);
    expect(scenario.events.map((e) => e.type)).toEqual([
      'check-in-response',
      'book-session',
      'reschedule-session',
      'pause-plan',
      'resume-plan',
      'unsubscribe',
      'bounce',
    ]);
    expect(scenario.simulate).toEqual({ from: '2027-01-30T00:00:00.000Z', until: '2027-03-15T00:00:00.000Z' });
  });

  it('keeps the file order of events at the same instant', () => {
    const input = teamKit();
    input.events = [
      { at: '2027-02-12T08:00:00Z', type: 'pause-plan', planId: 'p-kai' },
      { at: '2027-02-12T08:00:00Z', type: 'resume-plan', planId: 'p-kai' },
    ];

    expect(parseScenario(input).events.map((e) => e.type)).toEqual(['pause-plan', 'resume-plan']);
  });

  it('names an event that refers to a missing session by its path', () => {
    const input = teamKit();
    (input.events as Array<Record<string, unknown>>)[3] = { at: '2027-02-12T08:00:00Z', type: 'cancel-session', sessionId: 's-x' };

    expect(issuesOf(input)).toEqual(['events[3].sessionId: refers to a missing session "s-x"']);
  });

  it('refuses to cancel a session before the event that books it', () => {
    const input = teamKit();
    (input.events as unknown[]).push({ at: '2027-02-01T00:00:00Z', type: 'cancel-session', sessionId: 's-sam-2' });

    expect(issuesOf(input)).toEqual(['events[7].sessionId: refers to a missing session "s-sam-2"']);
  });

  it('reports every bad field at once: dataset, events, references and the window', () => {
    const input = teamKit();
    (input.clients as Array<Record<string, unknown>>)[1]!.email = 'not-an-address';
    input.events = [
      {
        at: '2027-02-03T09:00:00Z',
        type: 'book-session',
        session: { id: 's-new', planId: 'p-nope', start: '2027-02-08T14:00:00Z', durationMinutes: 60, location: 'Room 2' },
      },
      { at: '2027-02-04T09:00:00Z', type: 'teleport', sessionId: 's-sam-1' },
      { at: '2027-02-05T09:00:00Z', type: 'unsubscribe', clientId: 'c-sam', category: 'newsletters' },
      { at: '2027-05-01T09:00:00Z', type: 'pause-plan', planId: 'p-sam' },
      { at: '2027-02-06T09:00:00Z', type: 'bounce', email: 'stranger@example.com' },
      { at: '2027-02-07T09:00:00Z', type: 'check-in-response', sessionId: 's-sam-1', answers: { pain: 11, mobility: 4, stress: 5, sleep: 5 } },
    ];

    expect(issuesOf(input)).toEqual([
      'clients[1].email: must be a valid email address',
      'plans[1].clientId: refers to a missing client "c-kai"',
      // The intake questionnaire's answers are a scenario event too.
      'events[1].type: must be one of book-session, cancel-session, reschedule-session, check-in-response, intake-response, unsubscribe, bounce, pause-plan, resume-plan, webhook',
      'events[2].category: must be one of reminders, check-ins, maintenance, all',
      'events[5].answers.pain: pain must be a whole number from 0 to 10',
      'events[3].at: 2027-05-01T09:00:00.000Z is outside the simulated window 2027-01-30T00:00:00.000Z – 2027-03-15T00:00:00.000Z',
      'events[0].session.planId: refers to a missing plan "p-nope"',
      'events[4].email: "stranger@example.com" is not the address of any client in the scenario',
    ]);
  });

  it('requires a clinic and a window that ends after it starts', () => {
    const input = teamKit();
    delete input.clinic;
    input.simulate = { from: '2027-03-15T00:00:00Z', until: '2027-01-30T00:00:00Z' };
    input.events = [];

    expect(issuesOf(input)).toEqual([
      'clinic: is required: the clinic the scenario plays in',
      'simulate.until: must be after simulate.from (2027-03-15T00:00:00.000Z)',
    ]);
  });

  it('refuses something that is not a scenario object at all', () => {
    expect(issuesOf([1, 2, 3])).toEqual([': must be a JSON object with clinic, therapists, clients, plans, sessions, events and simulate']);
  });

  it('names a field the event type requires but the event lacks', () => {
    const input = teamKit();
    input.events = [{ at: '2027-02-12T08:00:00Z', type: 'reschedule-session', sessionId: 's-sam-1' }];

    expect(issuesOf(input)).toEqual(['events[0].start: is required']);
  });
});

describe('a scenario’s chaos field', () => {
  it('takes a profile and faults of its own, the profile’s first, with the default seed', () => {
    const input = {
      ...teamKit(),
      chaos: { profile: 'ses-no-answer', faults: [{ fault: 'ses-throttle', rate: 1, from: '2027-02-01T06:00:00Z', until: '2027-02-01T09:00:00Z' }] },
    };

    expect(parseScenario(input).chaos).toEqual({
      seed: 12,
      faults: [
        { fault: 'ses-no-answer', rate: 0.1 },
        { fault: 'ses-throttle', rate: 1, from: '2027-02-01T06:00:00.000Z', until: '2027-02-01T09:00:00.000Z' },
      ],
    });
  });

  it('names every bad field of it by path, with the reason', () => {
    const input = {
      ...teamKit(),
      chaos: {
        profile: 'gremlins',
        seed: 1.5,
        faults: [
          { fault: 'ses-throttle', rate: 2 },
          { fault: 'dynamodb-restart', rate: 0.5 },
          { fault: 'malformed-item', count: 2, from: '2027-02-02T00:00:00Z', until: '2027-02-01T00:00:00Z' },
          { fault: 'ses-5xx', rate: 0.1, extra: true },
        ],
      },
    };

    expect(issuesOf(input)).toEqual([
      expect.stringMatching(/^chaos\.profile: must be one of duplicate-sequential, .*, all$/),
      'chaos.seed: must be a whole number',
      'chaos.faults.0.rate: must be from 0 to 1',
      'chaos.faults.1.rate: is not used by dynamodb-restart; give count',
      'chaos.faults.2.until: must be after from (2027-02-02T00:00:00.000Z)',
      expect.stringMatching(/^chaos\.faults\.3: /),
    ]);
  });
});
