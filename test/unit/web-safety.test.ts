/**
 * What a client reads after a check-in that raised a red flag: what to do if it gets worse, on
 * the thank-you page only, with tap-to-call links; and the clinic settings it comes from.
 */
import { describe, expect, it } from 'vitest';
import { clinicSchema } from '../../shared/domain/model.js';
import { checkInThanksPage, type Site } from '../../shared/web/pages.js';

const view = { when: 'Tuesday 9 March 2027 at 10:00 am (GMT-5)', therapistName: 'Amy Chen', location: 'Room 2' };
const clinic = (extra: Record<string, unknown> = {}) =>
  clinicSchema.parse({
    name: 'Harbour Massage Clinic',
    senderEmail: 'care@harbour.example',
    timezone: 'Europe/London',
    baseUrl: 'https://care.harbour.example',
    ...extra,
  });
const site = (extra: Record<string, unknown> = {}): Site => ({ clinic: clinic(extra), basePath: '' });

describe('the thank-you page after a check-in', () => {
  it('tells a client whose answers raised a flag to call the clinic, tap to call, and the emergency number', () => {
    const page = checkInThanksPage(site({ phone: '020 7946 0000', emergencyNumber: '999' }), { view, wantsToRebook: false, flagged: true });

    expect(page).toContain('<h2 id="safety-heading">If it gets worse</h2>');
    expect(page).toContain('call us on <a href="tel:02079460000">020 7946 0000</a>');
    expect(page).toContain('In an emergency, call <a href="tel:999">999</a>.');
  });

  it('falls back to replying and "your local emergency number" when the clinic has neither', () => {
    const page = checkInThanksPage(site(), { view, wantsToRebook: false, flagged: true });

    expect(page).toContain('reply to any email from us');
    expect(page).toContain('In an emergency, call your local emergency number.');
    expect(page).not.toContain('href="tel:');
  });

  it('says nothing of it when nothing was flagged', () => {
    const page = checkInThanksPage(site({ phone: '020 7946 0000', emergencyNumber: '999' }), { view, wantsToRebook: false, flagged: false });

    expect(page).not.toContain('If it gets worse');
    expect(page).not.toContain('emergency');
  });
});

describe('the clinic settings behind it', () => {
  it('accepts 2–6 digit emergency numbers and refuses anything else, naming the field', () => {
    expect(clinic({ emergencyNumber: '112' }).emergencyNumber).toBe('112');
    for (const bad of ['9', '999 ', 'nine', '+44999', '1234567']) {
      const result = clinicSchema.safeParse({ ...clinic(), emergencyNumber: bad });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['emergencyNumber']);
    }
  });

  it('accepts a phone number as people write it and refuses one a tap-to-call link could not dial', () => {
    for (const good of ['020 7946 0000', '+44 (0)20 7946 0000', '555-0100', '03.20.00.00.00']) expect(clinic({ phone: good }).phone).toBe(good);
    for (const bad of ['call us', 'javascript:alert(1)', '12']) expect(clinicSchema.safeParse({ ...clinic(), phone: bad }).success).toBe(false);
  });
});
