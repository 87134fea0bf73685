/**
 * The therapist's follow-up summary and the clinic's monthly report as their readers see them, in
 * Chromium at phone (390 px) and desktop (1280 px) width: built by the real sweep from DynamoDB
 * Local, their inline charts shown where the HTML places them, checked with axe (serious and
 * critical, contrast included) and compared with screenshot baselines kept in the repo
 * (test/support/baseline.ts says how to update them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkInAnswersSchema, clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import type { OutgoingEmail } from '../../shared/ports/mailer.js';
import { sendDueSummaries } from '../../shared/use-cases/send-summaries.js';
import { axeViolations, launchChromium } from '../support/browser.js';
import { compareWithBaseline } from '../support/baseline.js';
import { createTestTable, type TestTable } from '../support/local-aws.js';
import { MemoryMailer } from '../support/memory-mailer.js';

// Thu 1 April 2027, 07:00 in London (BST): Amy's daily summary and the March report fall due together.
const SWEEP_AT = '2027-04-01T06:00:00.000Z';
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'care@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
  monthlyReport: { to: 'owner@harbour.example', hour: 7 },
});
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const STARTS = ['2027-02-24T10:00:00Z', '2027-03-03T10:00:00Z', '2027-03-17T10:00:00Z', '2027-03-31T09:00:00Z'];

/** The HTML with each `cid:` picture replaced by its attachment, as a mail client shows it. */
function withInlineImages(email: OutgoingEmail): string {
  let html = email.html;
  for (const a of email.attachments ?? []) {
    if (!a.contentId || typeof a.content === 'string') continue;
    html = html.replaceAll(`cid:${a.contentId}`, `data:${a.contentType};base64,${Buffer.from(a.content).toString('base64')}`);
  }
  return html;
}

describe('the therapist’s emails in a browser', () => {
  let t: TestTable;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const emails = new Map<string, OutgoingEmail>();

  async function client(id: string, name: string, goal: string, answers: ReadonlyArray<[number, number, number, number]>): Promise<void> {
    await t.store.putClient(clientSchema.parse({ id, name, email: `${id}@example.com`, timezone: 'Europe/London' }));
    await t.store.putPlan(
      planSchema.parse({
        id: `p-${id}`,
        clientId: id,
        therapistId: 't-amy',
        goal,
        phases: [
          { name: 'initial', sessions: 2, everyDays: 7 },
          { name: 'maintenance', everyDays: 14 },
        ],
      }),
    );
    // The intake questionnaire (the baseline), answered the day before the first session as at the first check-in.
    const [pain0, mobility0, stress0, sleep0] = answers[0]!;
    const intakeAt = new Date(Date.parse(STARTS[0]!) - 86_400_000).toISOString();
    await t.store.recordBaseline({
      clientId: id,
      planId: `p-${id}`,
      answers: { pain: pain0, mobility: mobility0, stress: stress0, sleep: sleep0, reason: '' },
      at: intakeAt,
    });
    for (const [i, start] of STARTS.entries()) {
      const sessionId = `s-${id}-${i + 1}`;
      await t.store.saveSession(sessionSchema.parse({ id: sessionId, planId: `p-${id}`, start, durationMinutes: 60, location: 'Room 1', status: 'completed' }));
      const scores = answers[i];
      if (!scores) continue;
      const [pain, mobility, stress, sleep] = scores;
      await t.store.recordCheckIn({
        clientId: id,
        sessionId,
        answers: checkInAnswersSchema.parse({ pain, mobility, stress, sleep, notes: i === 3 ? 'Stiff after gardening' : '' }),
        at: new Date(Date.parse(start) + 8 * 3_600_000).toISOString(),
      });
    }
  }

  beforeAll(async () => {
    t = await createTestTable();
    await t.store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' }));
    await client('c-ann', 'Ann Lee', 'back-pain', [
      [6, 5, 5, 5],
      [4, 6, 4, 6],
      [4, 6, 5, 6],
      [8, 4, 7, 4],
    ]);
    await client('c-ben', 'Ben Ortiz', 'sports-injury', [
      [7, 4, 6, 5],
      [5, 5, 5, 6],
      [4, 6, 4, 6],
      [3, 7, 3, 7],
    ]);
    const mailer = new MemoryMailer();
    await sendDueSummaries({ store: t.store, ledger: t.store, mailer, clinic, logger: silent }, SWEEP_AT);
    for (const email of mailer.sent) emails.set(email.to === 'owner@harbour.example' ? 'clinic-report' : 'summary', email);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
  });

  const pageAt = async (width: number): Promise<Page> => {
    const context = await browser.newContext({
      viewport: { width, height: 800 },
      deviceScaleFactor: 1,
      isMobile: width < 600,
      hasTouch: width < 600,
      locale: 'en-GB',
    });
    contexts.push(context);
    return context.newPage();
  };

  it('has a summary for Amy and a report for the owner, each with its charts inline', () => {
    expect([...emails.keys()].sort()).toEqual(['clinic-report', 'summary']);
    expect(emails.get('summary')!.attachments?.filter((a) => a.contentId)).toHaveLength(2);
    expect(emails.get('clinic-report')!.attachments?.filter((a) => a.contentId)).toHaveLength(2);
  });

  describe.each([390, 1280] as const)('at %i px', (width) => {
    it.each(['summary', 'clinic-report'] as const)(
      'shows the %s accessibly, every chart drawn, nothing wider than the screen, as its baseline',
      async (kind) => {
        const page = await pageAt(width);
        await page.setContent(withInlineImages(emails.get(kind)!), { waitUntil: 'load' });

        const images = await page.evaluate(() => {
          const doc = (
            globalThis as unknown as {
              document: {
                querySelectorAll(s: string): ArrayLike<{ complete: boolean; naturalWidth: number; alt: string; getBoundingClientRect(): { right: number } }>;
              };
            }
          ).document;
          return Array.from(doc.querySelectorAll('img')).map((img) => ({
            drawn: img.complete && img.naturalWidth > 0,
            alt: img.alt,
            right: img.getBoundingClientRect().right,
          }));
        });
        expect(images).toHaveLength(2);
        for (const image of images) {
          expect(image.drawn).toBe(true);
          expect(image.alt).toMatch(/since baseline/);
          expect(image.right).toBeLessThanOrEqual(width);
        }
        const overflow = await page.evaluate(() => {
          const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
          return root.scrollWidth - root.clientWidth;
        });
        expect(overflow).toBeLessThanOrEqual(0);
        expect(await axeViolations(page)).toEqual([]);
        expect((await compareWithBaseline(browser, page, `email-${kind}-${width}`)).mismatch).toBeUndefined();
      },
    );
  });
});
