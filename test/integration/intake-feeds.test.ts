/**
 * iCalendar feed polling on the twin: a feed served by a local HTTP server (http on loopback, which
 * only the twin allows; AWS polls https only), polled by the intake-feeds function with
 * conditional GET, parsed with ical.js, applied through the intake pipeline.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { intakeIds } from '../../shared/use-cases/intake.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { startTwin, type Twin } from '../../local/twin.js';

const T0 = '2027-02-01T08:00:00.000Z';
const FEED = readFileSync(new URL('../fixtures/intake/front-desk-feed.ics', import.meta.url), 'utf8');
let twin: Twin;
let server: Server;
let feed = FEED;
let etag = '"v1"';
const requests: Array<{ ifNoneMatch?: string }> = [];

const SAM_UID = '20270203T100000-sam@front-desk.harbour-massage.example';

async function tableItems(): Promise<unknown[]> {
  const client = createDocumentClient({ endpoint: twin.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  return ((await client.send(new ScanCommand({ TableName: twin.tableName, ConsistentRead: true }))).Items ?? []).sort((a, b) =>
    `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`),
  );
}

async function sessionsOf(email: string) {
  const clientId = await twin.store.findClientIdByEmail(email);
  return clientId ? ((await twin.store.getClientBundle(clientId))?.sessions ?? []).sort((a, b) => a.start.localeCompare(b.start)) : [];
}

async function poll(): Promise<void> {
  await twin.invoke('intake-feeds', { scheduledTime: twin.clock.now().toISOString() });
  await twin.settle();
}

/** Sam's event as the clinic's calendar writes it after a change. */
function samChanged(sequence: number, start: string, status = 'CONFIRMED'): void {
  feed = FEED.replace(
    /SEQUENCE:0\r\nDTSTART;TZID=Europe\/London:20270203T100000\r\nDTEND;TZID=Europe\/London:20270203T110000/,
    `SEQUENCE:${sequence}\r\nDTSTART;TZID=Europe/London:${start}\r\nDTEND;TZID=Europe/London:${start.replace(/T(\d\d)/, (_, h: string) => `T${String(Number(h) + 1).padStart(2, '0')}`)}`,
  )
    .replace('LAST-MODIFIED:20270201T080000Z', `LAST-MODIFIED:2027020${sequence + 1}T080000Z`)
    .replace('STATUS:CONFIRMED', `STATUS:${status}`);
  etag = `"v${sequence + 1}-${status}"`;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push({ ...(request.headers['if-none-match'] ? { ifNoneMatch: request.headers['if-none-match'] } : {}) });
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', etag }).end(feed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/front-desk.ics`;
  twin = await startTwin({
    clinic: { name: 'Harbour Clinical Massage', senderEmail: 'care@harbour-massage.example', timezone: 'Europe/London', baseUrl: 'http://localhost:3000' },
    clock: { mode: 'virtual', start: new Date(T0) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    recurring: false,
    web: false,
    intake: {
      sources: {
        'desk-feed': {
          format: 'ical',
          url,
          services: [
            {
              eventType: 'wellness-60',
              therapistId: 't-amy',
              location: 'Treatment room 2',
              plan: { goal: 'general-wellness', phases: [{ name: 'maintenance', everyDays: 28 }] },
            },
          ],
        },
      },
    },
  });
  await twin.store.putTherapist({
    id: 't-amy',
    name: 'Amy Chen',
    email: 'amy@harbour-massage.example',
    timezone: 'Europe/London',
    summary: { cadence: 'daily', hour: 7, weekday: 1, whenEmpty: 'one-line' },
  });
});

afterAll(async () => {
  await twin?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe('an iCalendar feed', () => {
  it('books each event by attendee email: TZID times, RRULE occurrences less EXDATE, a RECURRENCE-ID override, no session for STATUS:CANCELLED', async () => {
    await poll();

    expect(requests).toEqual([{}]);
    expect(await sessionsOf('sam.feed@example.com')).toEqual([
      expect.objectContaining({ start: '2027-02-03T10:00:00.000Z', durationMinutes: 60, status: 'booked', location: 'Treatment room 2' }),
    ]);
    expect((await sessionsOf('kai.feed@example.com')).map((s) => s.start)).toEqual([
      '2027-02-04T14:00:00.000Z',
      '2027-02-18T19:00:00.000Z',
      '2027-02-25T14:00:00.000Z',
    ]);
    expect(await sessionsOf('leo.feed@example.com')).toEqual([]);
    expect(twin.scheduler.list().map((s) => s.name)).toContain(`rm.${intakeIds.session('desk-feed', SAM_UID)}.P2D.v1`);
  });

  it('unchanged, costs one conditional GET (answered 304) and writes nothing', async () => {
    const before = await tableItems();
    requests.length = 0;

    await poll();

    expect(requests).toEqual([{ ifNoneMatch: '"v1"' }]);
    expect(await tableItems()).toEqual(before);
  });

  it('moves a session when its SEQUENCE rises, and cancels it on STATUS:CANCELLED, leaving the other events as they were', async () => {
    const sessionId = intakeIds.session('desk-feed', SAM_UID);
    samChanged(1, '20270203T150000');
    await poll();

    expect(await sessionsOf('sam.feed@example.com')).toEqual([
      expect.objectContaining({ id: sessionId, start: '2027-02-03T15:00:00.000Z', version: 2, status: 'booked' }),
    ]);
    expect(
      twin.scheduler
        .list()
        .map((s) => s.name)
        .filter((n) => n.includes(sessionId))
        .every((n) => n.endsWith('.v2')),
    ).toBe(true);

    samChanged(2, '20270203T150000', 'CANCELLED');
    await poll();

    expect(await sessionsOf('sam.feed@example.com')).toEqual([expect.objectContaining({ id: sessionId, status: 'cancelled' })]);
    expect(
      twin.scheduler
        .list()
        .map((s) => s.name)
        .filter((n) => n.includes(sessionId)),
    ).toEqual([]);
    expect(await sessionsOf('kai.feed@example.com')).toHaveLength(3);
  });
});
