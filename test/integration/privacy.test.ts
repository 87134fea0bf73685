/**
 * Health data stays out of logs: a full run of a scenario through every function, logging at
 * DEBUG, prints no client name, email address, answer note or therapist message.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseScenario } from '../../local/simulation/scenario.js';
import { runSimulation } from '../../local/simulation/run.js';

const NOTE = 'Sciatica flared after gardening, left leg numb';

describe('a full run of the twin', () => {
  let printed = '';
  const writes: Array<[NodeJS.WriteStream, NodeJS.WriteStream['write']]> = [];
  let report: Awaited<ReturnType<typeof runSimulation>>;

  beforeAll(async () => {
    const scenario = JSON.parse(readFileSync(new URL('../../examples/team-kit.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const events = scenario.events as Array<Record<string, unknown>>;
    // A red-flag answer with a private note, so a therapist alert goes out too.
    events.splice(0, 1, { at: '2027-02-02T18:00:00Z', type: 'check-in-response', sessionId: 's-sam-1', answers: { pain: 9, mobility: 2, stress: 8, sleep: 2, notes: NOTE, wantsToRebook: true } });
    const short = { ...scenario, events: events.filter((e) => String(e.at) < '2027-02-12'), simulate: { from: '2027-01-30T00:00:00Z', until: '2027-02-12T00:00:00Z' } };
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      writes.push([stream, stream.write]);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
        return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as NodeJS.WriteStream['write'];
    }
    report = await runSimulation(parseScenario(short), { dynamoEndpoint: inject('dynamoEndpoint'), sesEndpoint: inject('sesEndpoint'), logLevel: 'DEBUG' });
  }, 300_000);

  afterAll(() => {
    for (const [stream, write] of writes) stream.write = write;
  });

  it('sends reminders, check-ins and an alert, and logs while doing it', () => {
    const kinds = new Set(report.emails.map((e) => e.kind));
    expect(kinds).toContain('reminder');
    expect(kinds).toContain('check-in');
    expect(kinds).toContain('therapist-alert');
    expect(printed).toMatch(/"service":"keepwell-[a-z-]+"/);
  });

  it('prints no client name, email address, answer note or clinic contact', () => {
    for (const secret of ['Sam Patel', 'Kai Moreno', 'sam.patel@example.com', 'kai.moreno@example.net', 'amy@harbour-massage.example', 'Amy Chen', NOTE, 'Sciatica']) {
      expect(printed, secret).not.toContain(secret);
    }
  });
});
