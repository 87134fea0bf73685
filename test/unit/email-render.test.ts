import { describe, expect, it } from 'vitest';
import type { EmailDocument } from '../../shared/email/document.js';
import { renderDocument } from '../../shared/email/render.js';

const brand = { clinicName: 'Calm & Co', signature: 'Warm regards, Jo' };

function doc(blocks: EmailDocument['blocks'], extra: Partial<EmailDocument> = {}): EmailDocument {
  return { preheader: 'Preview text', blocks, ...extra };
}

describe('renderDocument', () => {
  it('escapes every value in the HTML part, so text can never become markup', () => {
    const hostile = '<script>alert(1)</script>';

    const { html } = renderDocument(
      doc(
        [
          { type: 'heading', text: hostile },
          { type: 'paragraph', text: `Hello ${hostile}` },
          { type: 'details', rows: [['Client', hostile]] },
          { type: 'notice', tone: 'alert', text: hostile },
          { type: 'table', caption: hostile, columns: [hostile], rows: [{ cells: [hostile], tone: 'alert' }] },
          { type: 'list', items: [hostile] },
          { type: 'button', label: hostile, url: 'https://x.test/a' },
        ],
        { preheader: hostile, footer: [hostile] },
      ),
      { clinicName: hostile, signature: hostile },
    );

    expect(html).not.toContain('<script>');
    expect(html.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1).toBeGreaterThanOrEqual(11);
  });

  it('keeps a quote in a URL from breaking out of the href, and turns non-http links inert', () => {
    const { html } = renderDocument(
      doc([
        { type: 'button', label: 'Go', url: 'https://x.test/a" onclick="evil()' },
        { type: 'links', links: [{ label: 'Bad', url: 'javascript:alert(1)' }] },
      ]),
      brand,
    );

    expect(html).toContain('href="https://x.test/a&quot; onclick=&quot;evil()"');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('href="#"');
  });

  it('fills each slot once: a value that looks like a slot stays literal text', () => {
    const { html, text } = renderDocument(doc([{ type: 'paragraph', text: 'Price: %%BLOCKS%% and %%TEXT%%' }]), brand);

    expect(html).toContain('Price: %%BLOCKS%% and %%TEXT%%');
    expect(text).toContain('Price: %%BLOCKS%% and %%TEXT%%');
    expect(html.replace('%%BLOCKS%% and %%TEXT%%', '')).not.toMatch(/%%[A-Z]+%%/);
  });

  it('writes a plain-text part with the same content, links in full and the unsubscribe link last', () => {
    const { text } = renderDocument(
      doc(
        [
          { type: 'heading', text: 'Your session is coming up' },
          {
            type: 'details',
            rows: [
              ['When', 'Monday 1 February 2027 at 2:00 pm (GMT)'],
              ['Where', 'Room 2'],
            ],
          },
          { type: 'button', label: 'Confirm', url: 'https://x.test/confirm/abc' },
          { type: 'links', links: [{ label: 'Reschedule', url: 'https://x.test/reschedule/def' }] },
          { type: 'notice', tone: 'alert', text: 'Pain is 9/10' },
          { type: 'table', columns: ['Score', 'Now'], rows: [{ cells: ['Pain', '9'], tone: 'alert' }, { cells: ['Sleep', '6'] }] },
          { type: 'list', items: ['Bring water'] },
        ],
        { footer: ['Why you get this'], unsubscribeUrl: 'https://x.test/unsubscribe/ghi' },
      ),
      brand,
    );

    expect(text).toContain('Your session is coming up\n=========================');
    expect(text).toContain('When:  Monday 1 February 2027 at 2:00 pm (GMT)');
    expect(text).toContain('Confirm:\nhttps://x.test/confirm/abc');
    expect(text).toContain('Reschedule:\nhttps://x.test/reschedule/def');
    expect(text).toContain('!! Pain is 9/10');
    expect(text).toContain('!! Pain | 9');
    expect(text).toContain('- Sleep | 6');
    expect(text).toContain('- Bring water');
    expect(text).toContain('Warm regards, Jo');
    expect(text.trimEnd().endsWith('Unsubscribe: https://x.test/unsubscribe/ghi')).toBe(true);
    expect(text).not.toMatch(/<[a-z]/i);
  });

  it('builds a phone-friendly HTML document around the blocks, with the preheader and the unsubscribe link', () => {
    const { html } = renderDocument(
      doc([{ type: 'paragraph', text: 'Hello' }], { preheader: 'Soon: your session', unsubscribeUrl: 'https://x.test/unsubscribe/t' }),
      brand,
    );

    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('Soon: your session');
    expect(html).toContain('<a href="https://x.test/unsubscribe/t"');
    expect(html).toContain('Calm &amp; Co');
    expect(html).toContain('Warm regards, Jo');
  });

  it('leaves out the signature and the footer links when there are none', () => {
    const { html, text } = renderDocument(doc([{ type: 'paragraph', text: 'Hello' }]), { clinicName: 'Calm' });

    expect(html).not.toContain('Unsubscribe');
    expect(text).toBe('Calm\n\nHello\n');
  });
});
