/**
 * The pages and emails as a clinic ships them, in Chromium at 320, 390 and 1280 px: the 0–10
 * score buttons stay large enough to tap (on the check-in and the intake questionnaire), the thank-you page after a red flag says what to do if
 * it gets worse, the maintenance nudge's call to action works, and every email kind renders
 * accessibly at phone width. Pages are checked with axe at every impact level, emails at serious
 * and critical (contrast included); each is compared with its screenshot baseline
 * (test/support/baseline.ts says how to update them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHandler } from '../../functions/web/handler.js';
import { startWebServer, type WebServer } from '../../local/http-server.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import type { Clinic } from '../../shared/domain/model.js';
import { planSchema } from '../../shared/domain/model.js';
import type { RenderedEmail } from '../../shared/email/email.js';
import { renderCheckIn, renderIntakeQuestionnaire, renderMaintenanceNudge, renderReminder, renderTherapistAlert } from '../../shared/email/templates.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { axeViolations, launchChromium } from '../support/browser.js';
import { compareWithBaseline } from '../support/baseline.js';
import { createTestTable, sesClient, sesEmails, type TestTable } from '../support/local-aws.js';
import { linkPath, NOW, seedPractice, testClinic, TEST_TOKEN_KEY, type Practice } from './fixtures.js';

const WIDTHS = [320, 390, 1280] as const;
const ALL_IMPACTS = ['minor', 'moderate', 'serious', 'critical'] as const;
const BOOKING_URL = 'https://harbour.example/book';

type Box = { width: number; height: number };
type El = { getBoundingClientRect(): Box; scrollWidth: number; clientWidth: number };

describe('pages and emails at 320, 390 and 1280 px', () => {
  let t: TestTable;
  let server: WebServer;
  let browser: Browser;
  let clinic: Clinic;
  const signer = new TokenSigner(TEST_TOKEN_KEY);
  const contexts: BrowserContext[] = [];

  const pageAt = async (width: number): Promise<Page> => {
    const context = await browser.newContext({
      viewport: { width, height: 800 },
      deviceScaleFactor: 1,
      isMobile: width < 600,
      hasTouch: width < 600,
      bypassCSP: true,
      locale: 'en-GB',
    });
    contexts.push(context);
    return context.newPage();
  };

  const expectBaseline = async (page: Page, name: string) => {
    expect((await compareWithBaseline(browser, page, name)).mismatch).toBeUndefined();
  };

  beforeAll(async () => {
    t = await createTestTable();
    let handler: ReturnType<typeof createHandler> | undefined;
    server = await startWebServer({ handler: (event) => handler!(event) });
    clinic = { ...testClinic(server.url), bookingUrl: BOOKING_URL };
    handler = createHandler({
      store: t.store,
      ledger: t.store,
      tokens: t.store,
      mailer: new SesMailer({ client: sesClient() }),
      clinic,
      signer,
      clock: { now: () => NOW },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.close();
  });

  describe.each(WIDTHS)('at %i px', (width) => {
    let practice: Practice;
    let page: Page;

    beforeAll(async () => {
      practice = await seedPractice(t.store);
      page = await pageAt(width);
    });

    /** The page's 44 score buttons are at least 44 × 44 px with "10" inside its button, and nothing is wider than the screen. */
    const expectLargeScoreButtons = async () => {
      const boxes = await page.locator('.options label').evaluateAll((labels) =>
        (labels as unknown as El[]).map((l) => ({
          width: l.getBoundingClientRect().width,
          height: l.getBoundingClientRect().height,
          scroll: l.scrollWidth,
          client: l.clientWidth,
        })),
      );
      expect(boxes).toHaveLength(44);
      for (const box of boxes) {
        expect(box.width).toBeGreaterThanOrEqual(44);
        expect(box.height).toBeGreaterThanOrEqual(44);
        expect(box.scroll).toBeLessThanOrEqual(box.client);
      }
      const overflow = await page.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: El } }).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect(overflow).toBe(0);
    };

    it('shows every 0–10 score button at least 44 × 44 px, "10" inside its button, nothing wider than the screen', async () => {
      await page.goto(`${server.url}${linkPath(signer, 'check-in', practice.client.id, practice.past.id)}`);

      await expectLargeScoreButtons();
      expect(await axeViolations(page, ALL_IMPACTS)).toEqual([]);
      await expectBaseline(page, `check-in-form-${width}`);
    });

    it('shows the intake questionnaire with the same score buttons and "What brings you in?", then thanks the client, with nothing axe finds', async () => {
      await page.goto(`${server.url}${linkPath(signer, 'intake', practice.client.id, practice.planId)}`);

      await expectLargeScoreButtons();
      expect(await page.getByLabel('What brings you in? (optional)').count()).toBe(1);
      expect(await axeViolations(page, ALL_IMPACTS)).toEqual([]);
      await expectBaseline(page, `intake-form-${width}`);

      for (const [score, value] of [
        ['pain', 6],
        ['mobility', 4],
        ['stress', 7],
        ['sleep', 5],
      ] as const)
        await page.locator(`label[for="${score}-${value}"]`).click();
      await page.getByLabel('What brings you in? (optional)').fill('Stiff lower back since the winter.');
      await page.getByRole('button', { name: 'Send my answers' }).click();
      expect(await page.locator('h1').textContent()).toBe('Thank you');
      expect(await axeViolations(page, ALL_IMPACTS)).toEqual([]);
      expect((await t.store.findPlan(practice.planId))?.baseline).toMatchObject({ pain: 6, mobility: 4, stress: 7, sleep: 5 });
    });

    it('after a red flag, tells the client to call the clinic (tap to call) and the emergency number, and keeps it out of the email', async () => {
      await page.goto(`${server.url}${linkPath(signer, 'check-in', practice.client.id, practice.past.id)}`);
      for (const [score, value] of [
        ['pain', 9],
        ['mobility', 5],
        ['stress', 4],
        ['sleep', 6],
      ] as const)
        await page.click(`label[for="${score}-${value}"]`);
      await page.click('button[type="submit"]');
      await expect.poll(() => page.locator('h1').textContent()).toBe('Thank you');

      const safety = page.getByRole('region', { name: 'If it gets worse' });
      expect(await safety.getByRole('link', { name: '020 7946 0000' }).getAttribute('href')).toBe('tel:02079460000');
      expect(await safety.getByRole('link', { name: '999' }).getAttribute('href')).toBe('tel:999');
      const call = await safety.getByRole('link', { name: '999' }).evaluate((a) => (a as unknown as El).getBoundingClientRect());
      expect(call.height).toBeGreaterThanOrEqual(24);
      expect(await axeViolations(page, ALL_IMPACTS)).toEqual([]);
      await expectBaseline(page, `check-in-thanks-red-flag-${width}`);

      const alerts = await sesEmails(practice.therapist.email);
      expect(alerts).toHaveLength(1);
      expect(`${alerts[0]?.body.text}${alerts[0]?.body.html}`).not.toMatch(/emergency|If it gets worse/i);
    });

    it('gives the maintenance nudge a booking button and a tap-to-call number that fit the screen', async () => {
      const plan = planSchema.parse({
        id: practice.planId,
        clientId: practice.client.id,
        therapistId: practice.therapist.id,
        goal: 'back-pain',
        phases: [{ name: 'maintenance', everyDays: 28 }],
      });
      const email = renderMaintenanceNudge({
        clinic,
        client: practice.client,
        therapist: practice.therapist,
        plan,
        dueAt: '2027-03-08T10:00:00.000Z',
        links: { unsubscribe: `${server.url}/unsubscribe/x` },
      });
      await page.setContent(email.html);

      expect(
        await page
          .locator('h1, div')
          .filter({ hasText: /^Your next maintenance session is due this week$/ })
          .count(),
      ).toBeGreaterThan(0);
      const book = page.getByRole('link', { name: 'Book your session' });
      expect(await book.getAttribute('href')).toBe(BOOKING_URL);
      const box = await book.evaluate((a) => (a as unknown as El).getBoundingClientRect());
      expect(box.height).toBeGreaterThanOrEqual(44);
      expect(box.width).toBeLessThanOrEqual(width);
      expect(await page.getByRole('link', { name: '020 7946 0000' }).getAttribute('href')).toBe('tel:02079460000');
      expect(await axeViolations(page)).toEqual([]);
      await expectBaseline(page, `email-maintenance-nudge-${width}`);
    });
  });

  it('renders every email kind accessibly at phone width (serious and critical, contrast included)', async () => {
    const practice = await seedPractice(t.store);
    const page = await pageAt(390);
    const base = {
      clinic,
      client: practice.client,
      therapist: practice.therapist,
      plan: planSchema.parse({
        id: practice.planId,
        clientId: practice.client.id,
        therapistId: practice.therapist.id,
        goal: 'back-pain',
        phases: [{ name: 'initial', sessions: 6, everyDays: 7 }],
      }),
    };
    const unsubscribe = `${server.url}/unsubscribe/x`;
    const answers = { pain: 9, mobility: 3, stress: 7, sleep: 2, notes: 'Sharp pain down my leg', wantsToRebook: true };
    const emails: Record<string, RenderedEmail> = {
      reminder: renderReminder({
        ...base,
        session: practice.upcoming,
        now: NOW,
        links: { confirm: `${server.url}/confirm/x`, reschedule: `${server.url}/reschedule/x`, unsubscribe },
      }),
      'check-in': renderCheckIn({ ...base, session: practice.past, links: { checkIn: `${server.url}/check-in/x`, unsubscribe } }),
      'maintenance-nudge': renderMaintenanceNudge({ ...base, dueAt: '2027-03-08T10:00:00.000Z', links: { unsubscribe } }),
      'intake-questionnaire': renderIntakeQuestionnaire({ ...base, session: practice.upcoming, links: { intake: `${server.url}/intake-form/x`, unsubscribe } }),
      'therapist-alert-flag': renderTherapistAlert({
        clinic,
        therapist: practice.therapist,
        client: { ...practice.client, phone: '07700 900123' },
        session: practice.past,
        reason: 'red-flag',
        flags: ['Pain is 9/10', 'Stress is up 3 against baseline (4 → 7)', 'Sleep is 2/10'],
        answers,
        baseline: { pain: 5, mobility: 6, stress: 4, sleep: 6 },
      }),
      'therapist-alert-reschedule': renderTherapistAlert({
        clinic,
        therapist: practice.therapist,
        client: practice.client,
        session: practice.upcoming,
        reason: 'reschedule-request',
        message: 'Any evening next week, please.',
      }),
    };
    const found: Record<string, unknown[]> = {};
    const mismatches: string[] = [];
    for (const [kind, email] of Object.entries(emails)) {
      await page.setContent(email.html);
      found[kind] = await axeViolations(page);
      const { mismatch } = await compareWithBaseline(browser, page, `email-${kind}-phone`);
      if (mismatch) mismatches.push(mismatch);
    }

    expect(found).toEqual(Object.fromEntries(Object.keys(emails).map((kind) => [kind, []])));
    expect(mismatches).toEqual([]);
  });
});
