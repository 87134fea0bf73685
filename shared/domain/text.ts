/**
 * Text hygiene: what a free-text field may hold, one rule per kind of field
 * (docs/ARCHITECTURE.md, "Text hygiene").
 *
 * - Control characters (C0, DEL, C1, the line and paragraph separators) never belong in a name,
 *   a location or a subject line: they break headers, CSV and terminals (an escape sequence in a
 *   name would rewrite `keepwell outbox` output). Multi-line fields (check-in notes, a reschedule
 *   message) keep line feeds; nothing else.
 * - Bidirectional embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069) make
 *   text display in another order than it is stored ("Trojan Source"): a name or note could show
 *   the therapist something other than what it says. The marks LRM, RLM and ALM (U+200E, U+200F,
 *   U+061C) stay allowed: right-to-left names need them and they reorder nothing around them.
 *
 * Typed input (import rows, the CLI, scenario files, stage config, the client pages) is refused
 * with the field and the reason; text from a booking system, which the clinic cannot correct
 * before the booking must land, has the characters removed and the delivery record says so.
 * HTML is valid data everywhere: it is escaped on output.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_BUT_LINE_FEED = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;

export interface TextRule {
  /** Keep line feeds (a textarea's text, normalised to LF). @default false */
  readonly multiline?: boolean;
}

/** Why `text` may not be stored, or undefined when it may. */
export function textProblem(text: string, rule: TextRule = {}): string | undefined {
  if ((rule.multiline ? CONTROL_BUT_LINE_FEED : CONTROL).test(text)) {
    return rule.multiline
      ? 'must not contain control characters (tabs, NUL, escape …); line breaks are fine'
      : 'must not contain control characters (line breaks, tabs, NUL …)';
  }
  if (BIDI_CONTROL.test(text)) return 'must not contain text-direction override characters (U+202A–U+202E, U+2066–U+2069)';
  return undefined;
}

/**
 * `text` with control and text-direction override characters removed (a control character that
 * separated words becomes a space), and whether anything was removed.
 */
export function cleanText(text: string, rule: TextRule = {}): { readonly text: string; readonly removed: boolean } {
  const control = rule.multiline ? CONTROL_BUT_LINE_FEED : CONTROL;
  if (textProblem(text, rule) === undefined) return { text, removed: false };
  const cleaned = text.replace(new RegExp(BIDI_CONTROL.source, 'g'), '').replace(new RegExp(control.source, 'g'), ' ').replace(/ {2,}/g, ' ').trim();
  return { text: cleaned, removed: true };
}

/** A URL Keepwell puts in an email or a page, or fetches: https only. */
export function httpsProblem(url: string): string | undefined {
  return /^https:\/\//i.test(url) ? undefined : 'must start with https://';
}

/** The pages' own origin: https, or http on a loopback address (the local twin). */
export function pageOriginProblem(url: string): string | undefined {
  if (/^https:\/\//i.test(url)) return undefined;
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    return 'must be an absolute https URL';
  }
  return /^http:\/\//i.test(url) && ['localhost', '127.0.0.1', '[::1]'].includes(host)
    ? undefined
    : 'must start with https:// (http only on localhost, for the local twin)';
}
