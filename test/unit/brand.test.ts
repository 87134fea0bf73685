/**
 * The clinic's brand: one colour (validated: a hex colour that keeps WCAG AA 4.5:1 under white
 * button text) and an optional https logo, read from the clinic config and shared by every email
 * and page.
 */
import { describe, expect, it } from 'vitest';
import { contrastRatio, normalizeHex } from '../../shared/domain/colour.js';
import { clinicSchema, DEFAULT_BRAND_COLOUR, planSchema } from '../../shared/domain/model.js';
import { issuesFromZod } from '../../shared/domain/validation.js';
import { renderMaintenanceNudge } from '../../shared/email/templates.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { createWebApp } from '../../shared/web/app.js';
import { CONTENT_SECURITY_POLICY } from '../../shared/web/http.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import { linkPath, NOW, seedPractice, TEST_TOKEN_KEY } from '../e2e/fixtures.js';
import { instant } from '../support/instant.js';

const base = { name: 'Harbour Clinic', senderEmail: 'care@harbour.example', timezone: 'Europe/London', baseUrl: 'https://care.harbour.example' };
const LOGO = 'https://cdn.harbour.example/brand/logo.png';
const PLUM = '#7a1f5c';

/** The issues clinicSchema finds in a brand, as "path: reason". */
function brandIssues(brand: unknown): string[] {
  const parsed = clinicSchema.safeParse({ ...base, brand });
  return parsed.success ? [] : issuesFromZod(parsed.error).map((i) => `${i.path}: ${i.reason}`);
}

describe('the contrast check', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBe(1);
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
    expect(contrastRatio(DEFAULT_BRAND_COLOUR, '#ffffff')).toBeCloseTo(7.83, 2);
  });

  it('reads #rgb and #rrggbb in any case, and nothing else', () => {
    expect(normalizeHex('#0B5D4B')).toBe('#0b5d4b');
    expect(normalizeHex('#036')).toBe('#003366');
    expect(normalizeHex('green')).toBeUndefined();
    expect(normalizeHex('#12345')).toBeUndefined();
  });
});

describe('the brand in the clinic config', () => {
  it('defaults to the house colour and no logo', () => {
    expect(clinicSchema.parse(base).brand).toEqual({ colour: DEFAULT_BRAND_COLOUR });
  });

  it('takes a dark enough colour, normalised, and an https logo', () => {
    expect(clinicSchema.parse({ ...base, brand: { colour: '#7A1F5C', logoUrl: LOGO } }).brand).toEqual({ colour: PLUM, logoUrl: LOGO });
    // 4.54:1, just above the bar.
    expect(brandIssues({ colour: '#767676' })).toEqual([]);
  });

  it('refuses a colour white button text would not stand out on, saying the ratio and what to do', () => {
    expect(brandIssues({ colour: '#777777' })).toEqual([
      'brand.colour: #777777 has a contrast of 4.48:1 with white button text; WCAG AA needs at least 4.5:1, so choose a darker shade',
    ]);
    expect(brandIssues({ colour: '#4caf50' })).toEqual([
      'brand.colour: #4caf50 has a contrast of 2.78:1 with white button text; WCAG AA needs at least 4.5:1, so choose a darker shade',
    ]);
  });

  it('refuses what is not a hex colour, a logo that is not https, and unknown fields', () => {
    expect(brandIssues({ colour: 'teal' })).toEqual(['brand.colour: "teal" is not a hex colour such as #0b5d4b']);
    expect(brandIssues({ logoUrl: 'http://cdn.harbour.example/logo.png' })).toEqual([
      'brand.logoUrl: must start with https:// (an http:// image is blocked by mail clients and the pages)',
    ]);
    expect(brandIssues({ logoUrl: 'logo.png' })).toEqual(['brand.logoUrl: must be an absolute https:// URL of an image']);
    expect(brandIssues({ color: '#000000' })).toEqual(['brand: Unrecognized key: "color"']);
  });
});

describe('the brand in emails and pages', () => {
  const clinic = clinicSchema.parse({ ...base, phone: '020 7946 0000', bookingUrl: 'https://harbour.example/book', brand: { colour: PLUM, logoUrl: LOGO } });

  it('draws an email’s button and links in the brand colour, with the logo above the clinic’s name', async () => {
    const store = new MemoryStore();
    const practice = await seedPractice(store, { tag: 'brand' });
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
      links: { unsubscribe: 'https://care.harbour.example/unsubscribe/x' },
    });
    const plain = renderMaintenanceNudge({
      clinic: clinicSchema.parse({ ...base, bookingUrl: 'https://harbour.example/book' }),
      client: practice.client,
      therapist: practice.therapist,
      plan,
      dueAt: instant('2027-03-08T10:00:00.000Z'),
      links: { unsubscribe: 'https://care.harbour.example/unsubscribe/x' },
    });

    expect(email.html).toContain(`bgcolor="${PLUM}"`);
    expect(email.html).toContain(`background:${PLUM};`);
    expect(email.html).toContain(`a { color: ${PLUM}; }`);
    expect(email.html).not.toContain(DEFAULT_BRAND_COLOUR);
    expect(email.html).toContain(`<img src="${LOGO}" alt="" height="40"`);
    expect(plain.html).toContain(`bgcolor="${DEFAULT_BRAND_COLOUR}"`);
    expect(plain.html).not.toContain('<img src="https');
  });

  it('serves pages with the logo, a stylesheet in the brand colour, and the logo’s origin alone added to img-src', async () => {
    const store = new MemoryStore({ now: () => NOW });
    const practice = await seedPractice(store, { tag: 'brand-page' });
    const signer = new TokenSigner(TEST_TOKEN_KEY);
    const app = createWebApp({ store, ledger: store, tokens: store, mailer: new MemoryMailer(), clinic, signer, clock: { now: () => NOW } });
    const plainApp = createWebApp({
      store,
      ledger: store,
      tokens: store,
      mailer: new MemoryMailer(),
      clinic: clinicSchema.parse(base),
      signer,
      clock: { now: () => NOW },
    });
    const get = (which: typeof app, path: string) => which({ method: 'GET', path, headers: {} });
    const path = linkPath(signer, 'confirm', practice.client.id, practice.upcoming.id);

    const page = await get(app, path);
    const cssPath = /<link rel="stylesheet" href="([^"?]+)\?v=([0-9a-f]+)">/.exec(page.body);
    const css = await get(app, cssPath![1]!);
    const plainPage = await get(plainApp, path);
    const plainVersion = /\?v=([0-9a-f]+)"/.exec(plainPage.body)?.[1];

    expect(page.body).toContain(`<header class="site-header"><img src="${LOGO}" alt="" height="32"><p>Harbour Clinic</p></header>`);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY.replace("img-src 'self'", "img-src 'self' https://cdn.harbour.example"));
    expect(css.body).toContain(`.site-header{background:${PLUM};`);
    expect(css.body).toContain(`a{color:${PLUM}}`);
    expect(css.body).not.toContain(DEFAULT_BRAND_COLOUR);
    expect(cssPath![2]).not.toBe(plainVersion);
    expect(plainPage.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(plainPage.body).toContain('<header class="site-header"><p>Harbour Clinic</p></header>');
  });
});
