/**
 * Reading a POSTed form: size limit first, then the body as fields. Both encodings a browser or a
 * mail provider may use are read (RFC 8058 one-click POSTs are usually multipart/form-data).
 * Files are never accepted. Form fields become plain values here; the use cases validate them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SCORES } from '../domain/model.js';
import { BodyTooLargeError, ForeignFormError, MAX_BODY_BYTES, UnsupportedFormError, type WebRequest } from './http.js';

/** Field names shared by the pages that render forms and the code that reads them. */
export const FIELDS = {
  token: 'token',
  notes: 'notes',
  reason: 'reason',
  wantsToRebook: 'wantsToRebook',
  message: 'message',
  scope: 'scope',
  action: 'action',
  days: 'days',
  note: 'note',
  confirm: 'confirm',
} as const;

export const ONE_CLICK = { field: 'List-Unsubscribe', value: 'One-Click' } as const;

export function readForm(request: WebRequest): URLSearchParams {
  const body = request.body ?? Buffer.alloc(0);
  if (body.length > MAX_BODY_BYTES) throw new BodyTooLargeError(body.length);
  const contentType = request.headers['content-type'] ?? '';
  const [mediaType = ''] = contentType.split(';');
  switch (mediaType.trim().toLowerCase()) {
    case 'application/x-www-form-urlencoded':
      return urlEncodedForm(utf8Text(body, contentType), contentType);
    case 'multipart/form-data':
      return parseMultipart(body, contentType);
    case '':
      // Some one-click senders post an empty body with no type; there is nothing to read.
      if (body.length === 0) return new URLSearchParams();
      throw new UnsupportedFormError(contentType);
    default:
      throw new UnsupportedFormError(contentType);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, only if it is UTF-8 (what our pages send, `accept-charset` or not): a form in
 * another charset, or bytes that are not UTF-8, is refused rather than stored with U+FFFD in it.
 */
function utf8Text(body: Buffer, contentType: string): string {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) throw new UnsupportedFormError(contentType);
  try {
    return UTF8.decode(body);
  } catch {
    throw new UnsupportedFormError(contentType);
  }
}

/** URLSearchParams turns a percent-escape that is not UTF-8 (`%FF%FE`) into U+FFFD without a word: refused here. */
function urlEncodedForm(text: string, contentType: string): URLSearchParams {
  for (const part of text.split(/[&=]/)) {
    try {
      decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      throw new UnsupportedFormError(contentType);
    }
  }
  return new URLSearchParams(text);
}

/** Text fields of a multipart/form-data body; a file part refuses the whole form. */
function parseMultipart(body: Buffer, contentType: string): URLSearchParams {
  const boundary = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const delimiter = boundary?.[1] ?? boundary?.[2];
  if (!delimiter) throw new UnsupportedFormError(contentType);
  const fields = new URLSearchParams();
  const parts = utf8Text(body, contentType).split(`--${delimiter}`);
  // parts[0] is the preamble; the part after the closing delimiter starts with "--".
  for (const part of parts.slice(1)) {
    if (part.startsWith('--')) break;
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) throw new UnsupportedFormError(contentType);
    const headers = part.slice(0, headerEnd);
    const disposition = /content-disposition:\s*form-data\s*;([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    if (/\bfilename\*?=/i.test(disposition)) throw new UnsupportedFormError('multipart/form-data with a file');
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw new UnsupportedFormError(contentType);
    fields.append(name, part.slice(headerEnd + 4).replace(/\r\n$/, ''));
  }
  return fields;
}

/** Whether this is an RFC 8058 one-click unsubscribe POST. */
export function isOneClick(form: URLSearchParams): boolean {
  return form.get(ONE_CLICK.field) === ONE_CLICK.value;
}

/**
 * A POST must carry the page's token in its body as well as in its URL, and the two must match:
 * a form forged elsewhere knows neither. A browser's own word that the form is cross-site
 * (Sec-Fetch-Site) refuses it too.
 */
export function assertOwnForm(request: WebRequest, form: URLSearchParams, pathToken: string): void {
  if (request.headers['sec-fetch-site'] === 'cross-site') throw new ForeignFormError('cross-site');
  const bodyToken = form.get(FIELDS.token);
  if (!bodyToken) throw new ForeignFormError('missing-token');
  if (!sameText(bodyToken, pathToken)) throw new ForeignFormError('token-mismatch');
}

/** Equal in constant time, whatever the lengths (digests have one length). */
function sameText(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The check-in answers as the schema reads them: a score is a number when it is written as one,
 * absent when not given, and left as sent otherwise (so "abc" is refused as "not a number", not
 * as "missing"). A field sent twice is passed on as a list, which the schema refuses.
 */
export function checkInAnswersFrom(form: URLSearchParams): Record<string, unknown> {
  const answers = scoresFrom(form);
  const notes = textFrom(form, FIELDS.notes);
  if (notes !== undefined) answers.notes = notes;
  answers.wantsToRebook = form.has(FIELDS.wantsToRebook);
  return answers;
}

/** The intake questionnaire's answers, read as the check-in's: the four scores and "What brings you in?". */
export function intakeAnswersFrom(form: URLSearchParams): Record<string, unknown> {
  const answers = scoresFrom(form);
  const reason = textFrom(form, FIELDS.reason);
  if (reason !== undefined) answers.reason = reason;
  return answers;
}

function scoresFrom(form: URLSearchParams): Record<string, unknown> {
  const answers: Record<string, unknown> = {};
  for (const score of SCORES) {
    const values = form.getAll(score);
    if (values.length > 1) answers[score] = values;
    else if (values[0] !== undefined && values[0] !== '') answers[score] = /^-?\d{1,3}$/.test(values[0]) ? Number(values[0]) : values[0];
  }
  return answers;
}

/** A free-text field with its line breaks as line feeds; a list when sent twice; undefined when absent. */
function textFrom(form: URLSearchParams, field: string): unknown {
  const values = form.getAll(field);
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0]!.replace(/\r\n?/g, '\n') : values;
}

/**
 * A plan adjustment as the schema reads it (shared/domain/plan-change.ts): the days only with the
 * interval action (a number typed before choosing "pause" is not an error), a number when written
 * as one and left as sent otherwise, so "abc" is refused as not a number. A field sent twice is
 * passed on as a list, which the schema refuses.
 */
export function planAdjustmentFrom(form: URLSearchParams): Record<string, unknown> {
  const one = (name: string): unknown => {
    const values = form.getAll(name);
    return values.length > 1 ? values : values[0];
  };
  const adjustment: Record<string, unknown> = {};
  const action = one(FIELDS.action);
  if (action !== undefined) adjustment.action = action;
  const days = one(FIELDS.days);
  if (action === 'interval' && days !== undefined && days !== '')
    adjustment.days = typeof days === 'string' && /^\s*\d{1,6}\s*$/.test(days) ? Number(days) : days;
  const note = one(FIELDS.note);
  if (note !== undefined) adjustment.note = note;
  return adjustment;
}
