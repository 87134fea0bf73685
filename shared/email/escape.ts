/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Only http(s) links and tel: links of digits, spaces and + - ( ) reach an href; anything else
 * (javascript:, data:) becomes inert.
 */
export function safeUrl(url: string): string {
  return /^https?:\/\//i.test(url) || /^tel:\+?[0-9 ()-]{3,30}$/.test(url) ? url : '#';
}

/** A tap-to-call link for a phone number as a person writes it: "020 7946 0000" → "tel:02079460000". */
export function telUrl(phone: string): string {
  return `tel:${phone.replace(/[^0-9+]/g, '')}`;
}

/** A header value: CR, LF and other control characters can never reach a header. */
export function headerSafe(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}
