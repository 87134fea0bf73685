/**
 * The summary's "Adjust plan" links and its "Plan changes" section, on the in-memory store: one
 * link per plan, on every row that names it, signed for the therapist and the plan for the clinic's
 * adjustLinkHours; a period's plan changes listed in words, and a period with only a change is
 * not empty.
 */
import { describe, expect, it } from 'vitest';
import { clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import { latestDuePeriod } from '../../shared/domain/summary-period.js';
import { composeSummary } from '../../shared/email/summary.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { buildSummary } from '../../shared/use-cases/send-summaries/build-summary.js';
import { adjustPlan } from '../../shared/use-cases/manage-plans.js';
import { adjustLinksFor } from '../../shared/use-cases/send-summaries.js';
import { MemoryStore } from '../support/memory-store.js';
import { TEST_TOKEN_KEY } from '../e2e/fixtures.js';
import { instant } from '../support/instant.js';

const amy = therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' });
// Daily at 07:00 London; on 10 Feb 2027 (GMT) the period is 9 Feb 07:00Z – 10 Feb 07:00Z.
const NOW = instant('2027-02-10T07:00:00.000Z');
const period = latestDuePeriod(amy.summary, amy.timezone, NOW);
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'care@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://care.harbour.example/pages',
});

async function practice(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.putTherapist(amy);
  for (const [id, name] of [
    ['c-ann', 'Ann Lee'],
    ['c-bob', 'Bob Ng'],
  ] as const) {
    await store.putClient(clientSchema.parse({ id, name, email: `${id}@example.com`, timezone: 'Europe/London' }));
    await store.putPlan(
      planSchema.parse({
        id: `p-${id}`,
        clientId: id,
        therapistId: amy.id,
        goal: 'back-pain',
        phases: [
          { name: 'initial', sessions: 6, everyDays: 7 },
          { name: 'maintenance', everyDays: 28 },
        ],
      }),
    );
  }
  // Ann answers twice (a check-in row and a trend), the second a red flag; Bob does not answer.
  for (const [i, [start, pain, at]] of [
    ['2027-02-01T10:00:00Z', 3, '2027-02-02T09:00:00Z'],
    ['2027-02-08T10:00:00Z', 9, '2027-02-09T09:00:00Z'],
  ].entries()) {
    await store.saveSession(sessionSchema.parse({ id: `s-ann-${i}`, planId: 'p-c-ann', start, durationMinutes: 60, location: 'Room 1', status: 'completed' }));
    await store.recordCheckIn({
      clientId: 'c-ann',
      sessionId: `s-ann-${i}`,
      answers: { pain: pain as number, mobility: 6, stress: 4, sleep: 6, notes: '', wantsToRebook: false },
      at: instant(at as string),
    });
  }
  await store.saveSession(
    sessionSchema.parse({ id: 's-bob-1', planId: 'p-c-bob', start: '2027-02-08T09:00:00Z', durationMinutes: 60, location: 'Room 1', status: 'completed' }),
  );
  return store;
}

describe('the summary’s Adjust plan links', () => {
  it('give every row that names a plan the same signed link to it, in both parts, and expire after the clinic’s hours', async () => {
    const store = await practice();
    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const signer = new TokenSigner(TEST_TOKEN_KEY);

    const links = adjustLinksFor(data, signer, { ...clinic, adjustLinkHours: 24 }, NOW);
    const email = composeSummary(data, { clinicName: clinic.name }, { adjustLinks: links });

    expect([...links.keys()].sort()).toEqual(['p-c-ann', 'p-c-bob']);
    for (const [planId, url] of links) {
      // `<key id>.<sealed claims>.<signature>`
      expect(url).toMatch(/^https:\/\/care\.harbour\.example\/pages\/adjust\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      const claims = signer.verify(url.slice(url.lastIndexOf('/') + 1), 'adjust-plan', new Date(NOW));
      expect(claims).toMatchObject({ clientId: 't-amy', subject: planId, expiresAt: new Date('2027-02-11T07:00:00.000Z') });
      expect(() => signer.verify(url.slice(url.lastIndexOf('/') + 1), 'adjust-plan', new Date('2027-02-11T07:00:00.000Z'))).toThrow(/expired/);
    }
    const ann = links.get('p-c-ann')!.replaceAll('&', '&amp;');
    // Ann: her flag card (no chart was drawn, so no trend card); Bob: his unanswered check-in's row.
    expect(email.html.split(`href="${ann}"`).length - 1).toBe(1);
    expect(email.html).toContain(`href="${links.get('p-c-bob')}"`);
    expect(email.html).toMatch(/<th[^>]*>Plan<\/th>/);
    expect(email.text).toContain(`Adjust plan:\n${links.get('p-c-ann')}`);
    expect(email.text).toContain(`   Adjust plan: ${links.get('p-c-bob')}`);
  });

  it('leaves them out without a signer, and the summary reads as before', async () => {
    const store = await practice();
    const data = await buildSummary({ store, therapist: amy, period, clinic });

    const email = composeSummary(data, { clinicName: clinic.name });

    expect(email.html).not.toContain('/adjust/');
    expect(email.text).not.toContain('Adjust plan');
  });
});

describe('the summary’s plan changes', () => {
  it('lists the period’s changes in words with who, when and the note, and makes a quiet period not empty', async () => {
    const store = new MemoryStore();
    await store.putTherapist(amy);
    await store.putClient(clientSchema.parse({ id: 'c-cy', name: 'Cy Moss', email: 'cy@example.com', timezone: 'Europe/London' }));
    await store.putPlan(
      planSchema.parse({ id: 'p-cy', clientId: 'c-cy', therapistId: amy.id, goal: 'general-wellness', phases: [{ name: 'maintenance', everyDays: 28 }] }),
    );
    await adjustPlan(store, {
      planId: 'p-cy',
      adjustment: { action: 'interval', days: 42, note: 'Doing well' },
      by: 't-amy',
      via: 'email-link',
      now: instant('2027-02-09T12:30:00.000Z'),
    });
    await adjustPlan(store, { planId: 'p-cy', adjustment: { action: 'pause' }, by: 'Front desk', via: 'cli', now: instant('2027-02-09T16:00:00.000Z') });
    // Before the period: not in this summary.
    await adjustPlan(store, { planId: 'p-cy', adjustment: { action: 'resume' }, by: 'Front desk', via: 'cli', now: instant('2027-02-10T08:00:00.000Z') });

    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const email = composeSummary(data, { clinicName: clinic.name });

    expect(data.isEmpty).toBe(false);
    expect(email.text).toContain(
      [
        'Plan changes',
        '============',
        '',
        '- Cy Moss · General wellness: maintenance interval 28 → 42 days — by you, from a summary link, Tue 9 Feb 12:30 — “Doing well”',
        "- Cy Moss · General wellness: paused — by Front desk, from the clinic's CLI, Tue 9 Feb 16:00",
      ].join('\n'),
    );
    expect(email.text).not.toContain('resumed');
  });
});
