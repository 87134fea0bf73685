/**
 * Health data and names stay out of logs and identifiers: a full run of a scenario through every
 * function, logging at DEBUG, with ids as a clinic must supply them (opaque), a red-flag check-in
 * (so a therapist alert goes out) and a booking webhook that creates a client. Every log line, every
 * message name, every SES tag (read off the wire, through a recording proxy in front of SES local)
 * and every schedule name the local Scheduler fired or the ledger settled is checked: no client
 * name, email address, answer note or clinic contact, and never the word "flag".
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseScenario } from '../../local/simulation/scenario.js';
import { runSimulation } from '../../local/simulation/run.js';

const NOTE = 'Sciatica flared after gardening, left leg numb';
const CLIENT_NAMES = ['Sam', 'Patel', 'Kai', 'Moreno', 'Robin', 'Quayle'];
const WEBHOOK_EMAIL = 'robin.quayle@example.org';

/** Ids as the docs ask a clinic to supply them: nothing of the client in them. */
function withOpaqueIds(text: string): string {
  return text
    .replaceAll('"c-sam"', '"c-4f2a"')
    .replaceAll('"c-kai"', '"c-9b1e"')
    .replaceAll('"p-sam"', '"p-4f2a"')
    .replaceAll('"p-kai"', '"p-9b1e"')
    .replaceAll('"s-sam-', '"s-4f2a-')
    .replaceAll('"s-kai-', '"s-9b1e-');
}

/** Forwards everything to SES local and keeps each SendEmail request's EmailTags. */
async function recordingSesProxy(target: string): Promise<{ endpoint: string; tags: Array<Record<string, string>>; server: Server }> {
  const tags: Array<Record<string, string>> = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url?.startsWith('/v2/email/outbound-emails')) {
        const sent = JSON.parse(body.toString('utf8')) as { EmailTags?: Array<{ Name: string; Value: string }> };
        tags.push(Object.fromEntries((sent.EmailTags ?? []).map((t) => [t.Name, t.Value])));
      }
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.writeHead(502).end());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tags, server };
}

describe('a full run of the twin', () => {
  let printed = '';
  const writes: Array<[NodeJS.WriteStream, NodeJS.WriteStream['write']]> = [];
  const fired: string[] = [];
  let ses: Awaited<ReturnType<typeof recordingSesProxy>>;
  let report: Awaited<ReturnType<typeof runSimulation>>;

  beforeAll(async () => {
    const scenario = JSON.parse(withOpaqueIds(readFileSync(new URL('../../examples/team-kit.json', import.meta.url), 'utf8'))) as Record<string, unknown>;
    const events = scenario.events as Array<Record<string, unknown>>;
    // A red-flag answer with a private note, so a therapist alert goes out too.
    events.splice(0, 1, {
      at: '2027-02-02T18:00:00Z',
      type: 'check-in-response',
      sessionId: 's-4f2a-1',
      answers: { pain: 9, mobility: 2, stress: 8, sleep: 2, notes: NOTE, wantsToRebook: true },
    });
    // A booking from the front desk's system for someone new: intake creates the client and their id.
    events.push({
      at: '2027-02-03T09:00:00Z',
      type: 'webhook',
      source: 'front-desk',
      body: {
        id: 'evt-privacy-1',
        type: 'booking.created',
        occurredAt: '2027-02-03T09:00:00Z',
        booking: {
          id: 'FD-PRIV-1',
          service: 'wellness-60',
          start: '2027-02-08T10:00:00Z',
          durationMinutes: 60,
          client: { email: WEBHOOK_EMAIL, name: 'Robin Quayle', timezone: 'Europe/London' },
        },
      },
    });
    const short = {
      ...scenario,
      events: events.filter((e) => String(e.at) < '2027-02-12').sort((a, b) => String(a.at).localeCompare(String(b.at))),
      simulate: { from: '2027-01-30T00:00:00Z', until: '2027-02-12T00:00:00Z' },
    };
    ses = await recordingSesProxy(inject('sesEndpoint'));
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      writes.push([stream, stream.write]);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
        return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as NodeJS.WriteStream['write'];
    }
    report = await runSimulation(parseScenario(short), {
      dynamoEndpoint: inject('dynamoEndpoint'),
      sesEndpoint: ses.endpoint,
      logLevel: 'DEBUG',
      onFire: (info) => fired.push(info.scheduleName),
    });
  }, 300_000);

  afterAll(async () => {
    for (const [stream, write] of writes) stream.write = write;
    await new Promise<void>((resolve) => ses?.server.close(() => resolve()));
  });

  it("sends reminders, check-ins, an alert and the webhook client's reminder, and logs while doing it", () => {
    const kinds = new Set(report.emails.map((e) => e.kind));
    expect(kinds).toContain('reminder');
    expect(kinds).toContain('check-in');
    expect(kinds).toContain('therapist-alert');
    expect(report.emails.some((e) => e.to === WEBHOOK_EMAIL)).toBe(true);
    expect(printed).toMatch(/"service":"keepwell-[a-z-]+"/);
    expect(ses.tags.length).toBe(report.emails.length);
    expect(fired.length).toBeGreaterThan(report.emails.length);
  });

  it('prints no client name, email address, answer note or clinic contact', () => {
    for (const secret of [
      'Sam Patel',
      'Kai Moreno',
      'Robin Quayle',
      'sam.patel@example.com',
      'kai.moreno@example.net',
      WEBHOOK_EMAIL,
      'amy@harbour-massage.example',
      'Amy Chen',
      NOTE,
      'Sciatica',
    ]) {
      expect(printed, secret).not.toContain(secret);
    }
  });

  it('names no client and says no "flag" in any message name, SES tag, schedule name or log line', () => {
    const names = [...report.emails, ...report.skipped, ...report.failed].map((e) => e.name);
    const tagValues = ses.tags.flatMap((t) => [...Object.keys(t), ...Object.values(t)]);
    const seen: Record<string, readonly string[]> = {
      'message names': names,
      'SES tags': tagValues,
      'schedule names': fired,
      'log lines': printed.split('\n'),
    };
    expect(names.some((n) => n.startsWith('ta.'))).toBe(true);
    for (const [where, texts] of Object.entries(seen)) {
      expect(texts.length, where).toBeGreaterThan(0);
      for (const text of texts) {
        for (const name of CLIENT_NAMES) expect(text, `${where}: ${name}`).not.toMatch(new RegExp(`(^|[^a-z])${name}([^a-z]|$)`, 'i'));
        expect(text, `${where}: flag`).not.toMatch(/flag/i);
      }
    }
  });
});
