/**
 * The web pages' view of HTTP, independent of API Gateway: a request, a response, the security
 * headers every response carries, and the named errors a request can be refused with.
 */

export interface WebRequest {
  readonly method: string;
  /** The raw path, without query string. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface WebResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The largest honest form: 2,000 characters of notes in a 4-byte script, percent-encoded (24 KB),
 * plus the scores and token. API Gateway would accept 10 MB.
 */
export const MAX_BODY_BYTES = 32 * 1024;

export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The policy of a clinic's pages: CONTENT_SECURITY_POLICY, with the logo's https origin (only
 * that origin) added to img-src when the clinic has one.
 */
export function contentSecurityPolicy(logoUrl?: string): string {
  if (!logoUrl) return CONTENT_SECURITY_POLICY;
  return CONTENT_SECURITY_POLICY.replace("img-src 'self'", `img-src 'self' ${new URL(logoUrl).origin}`);
}

/** Headers on every response, page or asset. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  // For browsers that predate CSP frame-ancestors.
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000',
};

/** An HTML page. Every page is personal or about a personal link, so none is ever cached. */
export function htmlResponse(status: number, body: string, extra: Readonly<Record<string, string>> = {}): WebResponse {
  return {
    status,
    headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...extra },
    body,
  };
}

/** The body exceeds MAX_BODY_BYTES. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly bytes: number) {
    super(`request body of ${bytes} bytes exceeds the ${MAX_BODY_BYTES}-byte limit`);
  }
}

/** A POST whose body is not a form. */
export class UnsupportedFormError extends Error {
  override readonly name = 'UnsupportedFormError';
  constructor(readonly contentType: string) {
    super(`a form must be UTF-8 text sent as application/x-www-form-urlencoded or multipart/form-data, not "${contentType.slice(0, 80)}"`);
  }
}

/** A POST that did not come from our own page: no token in the body, a different one, or a cross-site form. */
export class ForeignFormError extends Error {
  override readonly name = 'ForeignFormError';
  constructor(readonly why: 'missing-token' | 'token-mismatch' | 'cross-site') {
    super(`form refused: ${why}`);
  }
}

/** A method a route does not answer. */
export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
  constructor(readonly allow: readonly string[]) {
    super(`method not allowed; allowed: ${allow.join(', ')}`);
  }
}
