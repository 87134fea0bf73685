/**
 * The twin the intake tests run webhooks against: Harbour's clinic on the shared DynamoDB Local
 * and SES local, a virtual clock at `start`, no recurring sweeps, and Amy, the therapist the
 * intake mapping books with.
 */
import { inject } from 'vitest';
import { startTwin, type Twin } from '../../local/twin.js';

export async function startHarbourTwin(start: string): Promise<Twin> {
  const twin = await startTwin({
    clinic: { name: 'Harbour Clinical Massage', senderEmail: 'care@harbour-massage.example', timezone: 'Europe/London', baseUrl: 'http://localhost:3000' },
    clock: { mode: 'virtual', start: new Date(start) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    recurring: false,
  });
  await twin.store.putTherapist({
    id: 't-amy',
    name: 'Amy Chen',
    email: 'amy@harbour-massage.example',
    timezone: 'Europe/London',
    summary: { cadence: 'daily', hour: 7, weekday: 1, whenEmpty: 'one-line' },
  });
  return twin;
}
