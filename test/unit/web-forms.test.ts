/** Reading POSTed forms: both encodings, the size limit, and answers as the schema will see them. */
import { describe, expect, it } from 'vitest';
import { checkInAnswersFrom, isOneClick, readForm } from '../../shared/web/forms.js';
import { BodyTooLargeError, MAX_BODY_BYTES, UnsupportedFormError, type WebRequest } from '../../shared/web/http.js';

const post = (contentType: string | undefined, body: string): WebRequest => ({
  method: 'POST',
  path: '/x',
  headers: contentType ? { 'content-type': contentType } : {},
  body: Buffer.from(body),
});

describe('reading a form', () => {
  it('reads a urlencoded body, with a charset parameter', () => {
    expect(readForm(post('application/x-www-form-urlencoded; charset=UTF-8', 'a=1&b=caf%C3%A9+au+lait')).get('b')).toBe('café au lait');
  });

  it('reads UTF-8 sent raw or percent-encoded, and refuses anything else rather than store U+FFFD', () => {
    const raw: WebRequest = {
      method: 'POST',
      path: '/x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('notes=Zo\u00eb', 'utf8'),
    };
    expect(readForm(raw).get('notes')).toBe('Zoë');
    // The same "ë" as one Latin-1 byte, a form declared in Latin-1, and percent-escapes that are not UTF-8.
    const latin1: WebRequest = { ...raw, body: Buffer.from('notes=Zo\u00eb', 'latin1') };
    expect(() => readForm(latin1)).toThrow(UnsupportedFormError);
    expect(() => readForm(post('application/x-www-form-urlencoded; charset=iso-8859-1', 'notes=Zo%EB'))).toThrow(/must be UTF-8 text/);
    expect(() => readForm(post('application/x-www-form-urlencoded', 'notes=%FF%FE'))).toThrow(UnsupportedFormError);
    expect(() =>
      readForm({
        ...latin1,
        headers: { 'content-type': 'multipart/form-data; boundary=q' },
        body: Buffer.from('--q\r\nContent-Disposition: form-data; name="notes"\r\n\r\nZo\u00eb\r\n--q--\r\n', 'latin1'),
      }),
    ).toThrow(UnsupportedFormError);
  });

  it('reads multipart text fields, with a quoted boundary, keeping line breaks inside a value', () => {
    const body =
      '--"q"\r\nx\r\n--q\r\nContent-Disposition: form-data; name="notes"\r\n\r\nline 1\r\nline 2\r\n--q\r\nContent-Disposition: form-data; name="pain"\r\n\r\n7\r\n--q--\r\n';
    const form = readForm(post('multipart/form-data; boundary="q"', body));
    expect(form.get('notes')).toBe('line 1\r\nline 2');
    expect(form.get('pain')).toBe('7');
  });

  it('refuses a multipart file upload', () => {
    const body = '--q\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhello\r\n--q--\r\n';
    expect(() => readForm(post('multipart/form-data; boundary=q', body))).toThrow(UnsupportedFormError);
  });

  it('refuses JSON, and a body with no type', () => {
    expect(() => readForm(post('application/json', '{}'))).toThrow(UnsupportedFormError);
    expect(() => readForm(post(undefined, 'a=1'))).toThrow(UnsupportedFormError);
  });

  it('takes an empty body with no type as an empty form', () => {
    expect([...readForm(post(undefined, '')).keys()]).toEqual([]);
  });

  it('accepts exactly 32 KB and refuses one byte more', () => {
    const field = 'n=';
    expect(readForm(post('application/x-www-form-urlencoded', field + 'x'.repeat(MAX_BODY_BYTES - field.length))).get('n')).toHaveLength(MAX_BODY_BYTES - 2);
    expect(() => readForm(post('application/x-www-form-urlencoded', field + 'x'.repeat(MAX_BODY_BYTES - 1)))).toThrow(BodyTooLargeError);
  });

  it('recognises the RFC 8058 one-click body and nothing like it', () => {
    expect(isOneClick(new URLSearchParams('List-Unsubscribe=One-Click'))).toBe(true);
    expect(isOneClick(new URLSearchParams('List-Unsubscribe=one-click'))).toBe(false);
    expect(isOneClick(new URLSearchParams('token=x'))).toBe(false);
  });
});

describe('check-in answers from a form', () => {
  it('turns whole numbers into numbers, leaves anything else as sent, and leaves out what is missing', () => {
    const answers = checkInAnswersFrom(new URLSearchParams('pain=7&mobility=abc&stress=&notes=a%0D%0Ab&wantsToRebook=yes'));
    expect(answers).toEqual({ pain: 7, mobility: 'abc', notes: 'a\nb', wantsToRebook: true });
  });

  it('passes a field sent twice on as a list, for the schema to refuse', () => {
    expect(checkInAnswersFrom(new URLSearchParams('pain=1&pain=2')).pain).toEqual(['1', '2']);
  });

  it('reads an unticked "book my next session" box as no', () => {
    expect(checkInAnswersFrom(new URLSearchParams('pain=1')).wantsToRebook).toBe(false);
  });
});
