/**
 * The client pages in a real browser (headless Chromium, phone-sized), end to end: dispatch sends
 * the reminder and the check-in to SES local exactly as in production; the test opens the links
 * from those emails, fills the forms with mouse and keyboard, and finds the results in DynamoDB
 * Local and the therapist's alerts in SES local. Every page is screenshotted
 * (test-results/screenshots/<page>.png) and checked with axe-core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHandler, type WebHandler } from '../../functions/web/handler.js';
import { startWebServer, type WebServer } from '../../local/http-server.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import type { MessageIdentity } from '../../shared/domain/message.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { sendMessage } from '../../shared/use-cases/send-message.js';
import { axeViolations, launchChromium, phoneContext, screenshot } from '../support/browser.js';
import { createTestTable, sesClient, sesEmails, type StoredEmail, type TestTable } from '../support/local-aws.js';
import { seedPractice, testClinic, TEST_TOKEN_KEY, type Practice } from './fixtures.js';

/** When the check-in falls due: 24 h after the session of 9 March ended (11:00 in New York). */
const CHECK_IN_DUE = new Date('2027-03-10T16:00:00.000Z');
/** When the 48-hour reminder for the session of 13 March falls due. */
const REMINDER_DUE = new Date('2027-03-11T14:30:00.000Z');
/** When the client opens the emails. */
const CLICKED = new Date('2027-03-11T15:00:00.000Z');

describe('the client pages in Chromium', () => {
  let t: TestTable;
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let practice: Practice;
  let checkInEmail: StoredEmail;
  let reminderEmail: StoredEmail;

  /** The page link an email carries, found by its path prefix. */
  const linkIn = (email: StoredEmail, prefix: string): string => {
    const match = new RegExp(`href="(${server.url}${prefix}[A-Za-z0-9_.-]+)"`).exec(email.body.html ?? '');
    if (!match?.[1]) throw new Error(`no ${prefix} link in "${email.subject}"`);
    return match[1];
  };

  /** Screenshot and accessibility check of the page as it stands. */
  const inspect = async (name: string) => {
    await screenshot(page, name);
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.locator('h1').count()).toBe(1);
  };

  beforeAll(async () => {
    t = await createTestTable();
    const signer = new TokenSigner(TEST_TOKEN_KEY);
    const mailer = new SesMailer({ client: sesClient() });
    let handler: WebHandler | undefined;
    server = await startWebServer({ handler: (event) => handler!(event) });
    const clinic = testClinic(server.url);
    handler = createHandler({ store: t.store, ledger: t.store, tokens: t.store, mailer, clinic, signer, clock: { now: () => CLICKED } });
    practice = await seedPractice(t.store);

    // Dispatch, as the Scheduler would invoke it at each message's due time.
    const dispatch = (message: MessageIdentity, at: Date) =>
      sendMessage(
        { store: t.store, ledger: t.store, mailer, scheduler: new InMemoryMessageScheduler(), tokens: signer, clinic, clock: { now: () => at } },
        { message, clientId: practice.client.id, planId: practice.planId, sessionId: message.subjectId, scheduledTime: at.toISOString() },
      );
    expect(await dispatch({ kind: 'check-in', subjectId: practice.past.id, offset: 'after', version: 1 }, CHECK_IN_DUE)).toMatchObject({ status: 'sent' });
    expect(await dispatch({ kind: 'reminder', subjectId: practice.upcoming.id, offset: 'P2D', version: 1 }, REMINDER_DUE)).toMatchObject({ status: 'sent' });
    const emails = await sesEmails(practice.client.email);
    checkInEmail = emails.find((e) => e.subject.startsWith('How are you feeling'))!;
    reminderEmail = emails.find((e) => e !== checkInEmail)!;
    expect([checkInEmail, reminderEmail].every(Boolean)).toBe(true);

    browser = await launchChromium();
    context = await phoneContext(browser, { bypassCSP: true });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('takes a check-in from the email link: errors beside the field, answers kept, then recorded and the therapist alerted', async () => {
    const link = linkIn(checkInEmail, '/check-in/');
    // The same form open in a second tab, sent empty after the answers are in: a back-and-resend.
    const stale = await context.newPage();
    await stale.goto(link);
    await page.goto(link);
    await expect.poll(() => page.locator('.details dd').first().textContent()).toBe('Tuesday 9 March 2027 at 10:00 am (GMT-5)');
    await inspect('check-in-form');

    // Pain with the mouse; mobility and stress with the keyboard; sleep left out on purpose.
    await page.click('label[for="pain-9"]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe('mobility-0');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    const focusRing = await page
      .locator('label[for="mobility-5"]')
      .evaluate((label) => (globalThis as unknown as { getComputedStyle: (e: unknown) => { outlineStyle: string } }).getComputedStyle(label).outlineStyle);
    expect(focusRing).toBe('solid');
    await page.keyboard.press('Tab');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await page.focus('#notes');
    await page.keyboard.type('Lower back <b>sore</b> after lifting');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.click('button[type="submit"]');

    await expect.poll(() => page.title()).toMatch(/^Error: /);
    const focused = () =>
      page.evaluate(() => (globalThis as unknown as { document: { activeElement: { className: string } } }).document.activeElement.className);
    await expect.poll(focused).toBe('error-summary');
    expect(await page.locator('#sleep-error').textContent()).toBe('Sleep is required');
    expect(await page.locator('#sleep').getAttribute('aria-describedby')).toBe('sleep-hint sleep-error');
    expect(await page.locator('#pain-9').isChecked()).toBe(true);
    expect(await page.locator('#mobility-5').isChecked()).toBe(true);
    expect(await page.locator('#stress-3').isChecked()).toBe(true);
    expect(await page.locator('#notes').inputValue()).toBe('Lower back <b>sore</b> after lifting');
    expect(await page.locator('#wantsToRebook').isChecked()).toBe(true);
    expect((await t.store.getClientBundle(practice.client.id))?.checkIns).toEqual([]);
    await inspect('check-in-errors');

    await page.click('label[for="sleep-2"]');
    await page.click('button[type="submit"]');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Thank you');
    await inspect('check-in-thanks');

    const bundle = await t.store.getClientBundle(practice.client.id);
    expect(bundle?.checkIns).toMatchObject([
      { sessionId: practice.past.id, pain: 9, mobility: 5, stress: 3, sleep: 2, notes: 'Lower back <b>sore</b> after lifting', wantsToRebook: true },
    ]);
    const alerts = await sesEmails(practice.therapist.email);
    expect(alerts.map((e) => e.subject)).toEqual(['Check-in needs attention: Sam R., session on Tue 9 Mar, 3:00 pm']);
    expect(alerts[0]?.body.text).toContain('Pain is 9/10');
    expect(alerts[0]?.body.text).toContain('Sleep is 2/10');

    await page.goto(link);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Already answered');
    await inspect('check-in-already-answered');

    await stale.click('button[type="submit"]');
    await expect.poll(() => stale.locator('h1').textContent()).toBe('Already answered');
    expect(await stale.content()).not.toMatch(/is required|Please check your answers|March 2027/);
    await stale.close();
  });

  it("confirms the session from the reminder's link", async () => {
    await page.goto(linkIn(reminderEmail, '/confirm/'));
    await inspect('confirm');
    await page.getByRole('button', { name: "Yes, I'll be there" }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Thank you for confirming');
    await inspect('confirmed');
    expect((await t.store.findSession(practice.upcoming.id))?.confirmedAt).toBe(CLICKED.toISOString());
  });

  it("asks for a new time from the reminder's link, alerting the therapist", async () => {
    await page.goto(linkIn(reminderEmail, '/reschedule/'));
    await inspect('reschedule');
    await page.getByLabel('Message for Amy Chen (optional)').fill('Any evening next week, please.');
    await page.getByRole('button', { name: 'Ask for a new time' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Request sent');
    await inspect('reschedule-requested');
    expect((await t.store.getClientBundle(practice.client.id))?.requests).toMatchObject([{ message: 'Any evening next week, please.' }]);
    const alert = (await sesEmails(practice.therapist.email)).find((e) => e.subject.startsWith('Reschedule request'));
    expect(alert?.body.text).toContain('Any evening next week, please.');
  });

  it("unsubscribes from everything from the check-in email's unsubscribe link", async () => {
    await page.goto(linkIn(checkInEmail, '/unsubscribe/'));
    await inspect('unsubscribe');
    await page.getByRole('button', { name: 'Unsubscribe from all emails' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('You are unsubscribed');
    await inspect('unsubscribed');
    expect((await t.store.getClient(practice.client.id))?.preferences).toEqual({ reminders: false, 'check-ins': false, maintenance: false });
  });

  it('shows the same expired-link page for a link that was altered', async () => {
    const link = linkIn(reminderEmail, '/confirm/');
    const response = await page.goto(`${link.slice(0, -2)}xx`);
    expect(response?.status()).toBe(404);
    await inspect('expired');
  });

  it('styles every page from its own stylesheet under the enforced CSP, and runs no inline script', async () => {
    const strict = await phoneContext(browser);
    try {
      const tab = await strict.newPage();
      const violations: string[] = [];
      tab.on('console', (message) => {
        if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
      });
      await tab.goto(linkIn(reminderEmail, '/confirm/'));
      const background = await tab
        .locator('.site-header')
        .evaluate(
          (header) => (globalThis as unknown as { getComputedStyle: (e: unknown) => { backgroundColor: string } }).getComputedStyle(header).backgroundColor,
        );
      expect(background).toBe('rgb(11, 93, 75)');
      expect(violations).toEqual([]);
      await tab.addScriptTag({ content: 'globalThis.injected = true;' }).catch(() => undefined);
      expect(await tab.evaluate(() => (globalThis as unknown as { injected?: boolean }).injected)).toBeUndefined();
      expect(violations.length).toBeGreaterThan(0);
    } finally {
      await strict.close();
    }
  });
});
