/**
 * The demo's calendar feed: a one-event iCalendar feed the front desk's calendar would publish,
 * served on loopback for the twin's intake-feeds poll (http on loopback is allowed in the twin
 * only). Its one booking is for a client new to Keepwell, matched by attendee email; the poll
 * books it with the `*` mapping below (every event of the feed, with Amy, on a wellness plan).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Twin } from '../twin.js';

export interface DemoFeed {
  readonly url: string;
  /** The dev stage's intake config from cdk.json, plus this feed as source `demo-feed`. */
  readonly intake: unknown;
  close(): Promise<void>;
}

const icsTime = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

export async function startDemoFeed(now: Date, daysAhead = 4): Promise<DemoFeed> {
  const start = new Date(`${new Date(now.getTime() + daysAhead * 86_400_000).toISOString().slice(0, 10)}T14:00:00.000Z`);
  const end = new Date(start.getTime() + 3_600_000);
  const body = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Harbour Clinical Massage//Front desk calendar//EN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    'UID:demo-feed-1@front-desk.harbour-massage.example',
    `DTSTAMP:${icsTime(now)}`,
    'SEQUENCE:0',
    `DTSTART:${icsTime(start)}`,
    `DTEND:${icsTime(end)}`,
    'SUMMARY:Massage (60 min)',
    'STATUS:CONFIRMED',
    'ATTENDEE;CN=Noor Haddad:mailto:noor.haddad@example.com',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
  const etag = `"demo-${icsTime(now)}"`;
  const server = createServer((request, response) => {
    if (request.headers['if-none-match'] === etag) response.writeHead(304, { etag }).end();
    else response.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', etag }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/front-desk.ics`;
  const dev = (
    JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
      context?: { stages?: { dev?: { intake?: { sources?: Record<string, unknown> } } } };
    }
  ).context?.stages?.dev?.intake;
  const intake = {
    sources: {
      ...(dev?.sources ?? {}),
      'demo-feed': {
        format: 'ical',
        url,
        services: [
          {
            eventType: '*',
            therapistId: 't-amy',
            location: 'Treatment room 2, 12 Quay Street',
            plan: { goal: 'general-wellness', phases: [{ name: 'maintenance', everyDays: 28 }] },
          },
        ],
      },
    },
  };
  return { url, intake, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Polls the feeds once now (the recurring schedule polls every 15 minutes after; a poll it made already makes this one a 304), for the demo's line. */
export async function pollDemoFeed(twin: Twin): Promise<string> {
  await twin.invoke('intake-feeds', { scheduledTime: twin.clock.now().toISOString() });
  await twin.settle();
  const clientId = await twin.store.findClientIdByEmail('noor.haddad@example.com');
  const session = clientId ? (await twin.store.getClientBundle(clientId))?.sessions[0] : undefined;
  return `Feed booking     iCalendar feed ${session ? `booked ${session.start} (session ${session.id})` : 'polled: no booking made (see the log)'}; see \`npx keepwell intake list\``;
}
