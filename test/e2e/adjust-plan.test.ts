/**
 * The therapist's "Adjust plan" page in Chromium at 320, 390 and 1280 px, used with the keyboard
 * only: the form, a refused submit (focus on the error summary), the confirmation step, the
 * result, and the spent link. axe finds nothing at any impact level in any of those states; the
 * page stays within the screen; and under the enforced CSP it is styled from its own stylesheet
 * with no inline script. Screenshots land in test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHandler } from '../../functions/web/handler.js';
import { startWebServer, type WebServer } from '../../local/http-server.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { axeViolations, launchChromium, phoneContext, screenshot } from '../support/browser.js';
import { createTestTable, sesClient, type TestTable } from '../support/local-aws.js';
import { linkPath, NOW, seedPractice, testClinic, TEST_TOKEN_KEY, type Practice } from './fixtures.js';

const WIDTHS = [320, 390, 1280] as const;
const ALL_IMPACTS = ['minor', 'moderate', 'serious', 'critical'] as const;

type Box = { width: number; height: number };
type El = { getBoundingClientRect(): Box; scrollWidth: number; clientWidth: number; id: string; className: string; tagName: string };
type Doc = { document: { activeElement: El; documentElement: El } };

describe('the Adjust plan page in Chromium', () => {
  let t: TestTable;
  let server: WebServer;
  let browser: Browser;
  const signer = new TokenSigner(TEST_TOKEN_KEY);
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    t = await createTestTable();
    let handler: ReturnType<typeof createHandler> | undefined;
    server = await startWebServer({ handler: (event) => handler!(event) });
    handler = createHandler({
      store: t.store,
      ledger: t.store,
      tokens: t.store,
      mailer: new SesMailer({ client: sesClient() }),
      clinic: testClinic(server.url),
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

  const adjustLink = (practice: Practice) => `${server.url}${linkPath(signer, 'adjust-plan', practice.therapist.id, practice.planId)}`;
  const focused = (page: Page) =>
    page.evaluate(() => {
      const active = (globalThis as unknown as Doc).document.activeElement;
      return active.id || active.className || active.tagName.toLowerCase();
    });

  /** axe at every impact level, one h1, nothing wider than the screen, and a screenshot. */
  const inspect = async (page: Page, name: string) => {
    expect(await axeViolations(page, ALL_IMPACTS)).toEqual([]);
    expect(await page.locator('h1').count()).toBe(1);
    const overflow = await page.evaluate(() => {
      const root = (globalThis as unknown as Doc).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBe(0);
    await screenshot(page, name);
  };

  describe.each(WIDTHS)('at %i px', (width) => {
    let practice: Practice;
    let page: Page;

    beforeAll(async () => {
      practice = await seedPractice(t.store);
      const context = await browser.newContext({
        viewport: { width, height: 800 },
        deviceScaleFactor: 1,
        isMobile: width < 600,
        hasTouch: width < 600,
        bypassCSP: true,
        locale: 'en-GB',
      });
      contexts.push(context);
      page = await context.newPage();
    });

    it('is used with the keyboard alone: a refused submit, then a new interval, confirmed, changes the plan once', async () => {
      const link = adjustLink(practice);
      await page.goto(link);
      expect(await page.locator('h1').textContent()).toBe("Adjust Sam Rivera's plan");
      await inspect(page, `adjust-plan-form-${width}`);
      const targets = await page.locator('.choice label, button').evaluateAll((els) => (els as unknown as El[]).map((e) => e.getBoundingClientRect().height));
      for (const height of targets) expect(height).toBeGreaterThanOrEqual(44);

      // Nothing chosen: Tab through the choices, the interval and the note to the button, and send.
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('action-interval');
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('days');
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('note');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.title()).toMatch(/^Error: /);
      await expect.poll(() => focused(page)).toBe('error-summary');
      expect(await page.locator('#action-error').textContent()).toBe('Choose what to change: the interval, pause, resume or complete');
      await inspect(page, `adjust-plan-error-${width}`);

      // The summary's link leads to the choice; Space picks the interval, then the days and a note.
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      expect(await focused(page)).toBe('action-interval');
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      await page.keyboard.type('21');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Flare-ups in week 3');
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('button');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('h1').textContent()).toBe('Confirm the change');
      expect(await page.locator('.lead').textContent()).toBe("Sam Rivera's plan (Back pain): maintenance interval 28 → 21 days.");
      expect((await t.store.findPlan(practice.planId))?.phases[1]?.everyDays).toBe(28);
      await inspect(page, `adjust-plan-confirm-${width}`);

      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('button');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('h1').textContent()).toBe('Plan updated');
      await inspect(page, `adjust-plan-done-${width}`);
      expect((await t.store.findPlan(practice.planId))?.phases[1]?.everyDays).toBe(21);
      expect(await t.store.planHistory(practice.client.id, practice.planId)).toEqual([
        expect.objectContaining({ action: 'interval', note: 'Flare-ups in week 3', by: practice.therapist.id, via: 'email-link' }),
      ]);

      // Back to the link: it has acted, and says only that.
      await page.goto(link);
      expect(await page.locator('h1').textContent()).toBe('This link has been used');
      expect(await page.locator('main').textContent()).not.toMatch(/Sam|Back pain|days/);
      await inspect(page, `adjust-plan-used-${width}`);
    });
  });

  it('is styled from its own stylesheet under the enforced CSP, and runs no inline script', async () => {
    const practice = await seedPractice(t.store);
    const strict = await phoneContext(browser);
    contexts.push(strict);
    const tab = await strict.newPage();
    const violations: string[] = [];
    tab.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
    });

    const response = await tab.goto(adjustLink(practice));
    const background = await tab
      .locator('.site-header')
      .evaluate(
        (header) => (globalThis as unknown as { getComputedStyle: (e: unknown) => { backgroundColor: string } }).getComputedStyle(header).backgroundColor,
      );

    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(background).toBe('rgb(11, 93, 75)');
    expect(violations).toEqual([]);
    await tab.addScriptTag({ content: 'globalThis.injected = true;' }).catch(() => undefined);
    expect(await tab.evaluate(() => (globalThis as unknown as { injected?: boolean }).injected)).toBeUndefined();
    expect(violations.length).toBeGreaterThan(0);
  });
});
