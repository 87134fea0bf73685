/**
 * A clinic's own brand colour in Chromium: at the lightest shade the config accepts (#767676,
 * 4.54:1 under white), axe's colour-contrast check passes on the pages (every impact level) and on
 * an email (serious and critical), and the colour is what the browser actually paints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { createHandler } from '../../functions/web/handler.js';
import { startWebServer, type WebServer } from '../../local/http-server.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { clinicSchema, planSchema, type Clinic } from '../../shared/domain/model.js';
import { renderMaintenanceNudge } from '../../shared/email/templates.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { axeViolations, launchChromium } from '../support/browser.js';
import { createTestTable, sesClient, type TestTable } from '../support/local-aws.js';
import { linkPath, NOW, seedPractice, testClinic, TEST_TOKEN_KEY } from './fixtures.js';
import { instant } from '../support/instant.js';

const GREY = '#767676';
const ALL_IMPACTS = ['minor', 'moderate', 'serious', 'critical'] as const;
type Styled = { getComputedStyle: (e: unknown) => { backgroundColor: string; color: string } };

describe('a clinic brand colour in Chromium', () => {
  let t: TestTable;
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let clinic: Clinic;
  const signer = new TokenSigner(TEST_TOKEN_KEY);

  beforeAll(async () => {
    t = await createTestTable();
    let handler: ReturnType<typeof createHandler> | undefined;
    server = await startWebServer({ handler: (event) => handler!(event) });
    clinic = clinicSchema.parse({ ...testClinic(server.url), bookingUrl: 'https://harbour.example/book', brand: { colour: GREY } });
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
    context = await browser.newContext({ viewport: { width: 390, height: 800 }, bypassCSP: true, locale: 'en-GB' });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  it('paints the pages’ header and buttons in it, with nothing axe finds', async () => {
    const practice = await seedPractice(t.store);
    const page = await context.newPage();

    for (const path of [
      linkPath(signer, 'confirm', practice.client.id, practice.upcoming.id),
      linkPath(signer, 'adjust-plan', practice.therapist.id, practice.planId),
    ]) {
      await page.goto(`${server.url}${path}`);
      const header = await page.locator('.site-header').evaluate((el) => (globalThis as unknown as Styled).getComputedStyle(el).backgroundColor);
      const button = await page
        .locator('button')
        .first()
        .evaluate((el) => (globalThis as unknown as Styled).getComputedStyle(el).backgroundColor);
      expect([header, button]).toEqual(['rgb(118, 118, 118)', 'rgb(118, 118, 118)']);
      expect(await axeViolations(page, ALL_IMPACTS)).toEqual([]);
    }
  });

  it('paints an email’s button in it, with no serious or critical finding', async () => {
    const practice = await seedPractice(t.store);
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
      dueAt: instant('2027-03-08T10:00:00.000Z'),
      links: { unsubscribe: `${server.url}/unsubscribe/x` },
    });
    const page = await context.newPage();
    await page.setContent(email.html);

    const book = page.getByRole('link', { name: 'Book your session' });
    const background = await book.evaluate((el) => (globalThis as unknown as Styled).getComputedStyle(el).backgroundColor);

    expect(background).toBe('rgb(118, 118, 118)');
    expect(await axeViolations(page)).toEqual([]);
  });
});
