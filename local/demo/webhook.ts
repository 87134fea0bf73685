/**
 * The demo's booking from the clinic's booking system: one Cal.com BOOKING_CREATED, in Cal.com's
 * own format (test/fixtures/intake), signed with the twin's secret for the `calcom` source and
 * posted to the twin's `/intake/calcom` like Cal.com would. Its client is new to Keepwell, so the
 * demo shows the client, plan and session created from a webhook, then its reminders.
 */
import { readFileSync } from 'node:fs';
import { hmacHex } from '../../shared/intake/signature.js';
import type { Twin } from '../twin.js';

export async function postDemoBooking(twin: Twin, daysAhead = 3): Promise<string> {
  const secret = twin.intake.secrets.calcom;
  if (!twin.webUrl || !secret) return 'Webhook booking  (skipped: no calcom intake source or no HTTP API)';
  const body = JSON.parse(readFileSync(new URL('../../test/fixtures/intake/cal-com-booking-created.json', import.meta.url), 'utf8')) as {
    createdAt: string;
    payload: { startTime: string; endTime: string };
  };
  const now = twin.clock.now();
  // 10:00 UTC (10 or 11 in London) on the day `daysAhead` days on: a time a clinic books.
  const start = new Date(`${new Date(now.getTime() + daysAhead * 86_400_000).toISOString().slice(0, 10)}T10:00:00.000Z`);
  body.createdAt = now.toISOString();
  body.payload.startTime = start.toISOString();
  body.payload.endTime = new Date(start.getTime() + 3_600_000).toISOString();
  const raw = JSON.stringify(body);
  const response = await fetch(`${twin.webUrl}/intake/calcom`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cal-signature-256': hmacHex(secret, raw) },
    body: raw,
  });
  const answer = (await response.json()) as { status?: string; sessionId?: string; reason?: string };
  return `Webhook booking  Cal.com BOOKING_CREATED for ${start.toISOString()} → ${response.status} ${answer.status ?? ''}${answer.sessionId ? ` (session ${answer.sessionId})` : answer.reason ? ` (${answer.reason})` : ''}; see \`npx keepwell intake list\``;
}
