/**
 * The client pages (and the therapist's plan-adjustment page) as one request → response function, free of API Gateway (functions/web
 * adapts the event; local/http-server.ts serves it on localhost through that same handler).
 *
 * Every page follows the same steps:
 * 1. Route by path; the only thing in a page's path is its link token.
 * 2. GET shows, never acts: mail security scanners open every link before the client does.
 * 3. POST acts: body within 32 KB, read as a form, carrying the same token as its URL (RFC 8058
 *    one-click unsubscribe is the one exception: a mail provider posts it with no token field);
 *    then the token is verified (signature, expiry, purpose), the session or client it names is
 *    read from that client's own records, and one use case runs.
 * 4. A single-use link (check-in, intake, confirm, reschedule, adjust-plan) is looked up in the token store first, by
 *    a consistent read, on GET and POST alike: once spent, it shows only that it was used — no
 *    session time, therapist or place — whatever the session's state since.
 * 5. Single-use links are consumed only after their action is stored. The action's own
 *    conditional write is what makes it happen once; consuming afterwards means a fault in
 *    between can leave a live link to a finished action (which then says "already done", before
 *    any validation of what was sent), but never a spent link whose action was lost.
 * Logs carry the route name, method and status — never the path, which holds the token.
 * Each page's handler is in routes-session.ts or routes-account.ts; the steps above are here.
 */
import type { Clinic } from '../domain/model.js';
import { NotFoundError, RetryableError } from '../domain/errors.js';
import { ValidationError } from '../domain/validation.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { TokenStore } from '../ports/store.js';
import { InvalidTokenError, isSingleUse, pagePaths, type LinkSigner, type TokenClaims, type TokenPurpose } from '../security/tokens.js';
import type { AlertDeps, AlertOutcome } from '../use-cases/delivery/therapist-alert.js';
import type { OpaqueLog } from '../ports/log.js';
import { ASSET_PATHS, siteStylesheet } from './assets.js';
import { assertOwnForm, isOneClick, readForm } from './forms.js';
import {
  BodyTooLargeError,
  contentSecurityPolicy,
  ForeignFormError,
  htmlResponse,
  MethodNotAllowedError,
  SECURITY_HEADERS,
  UnsupportedFormError,
  type WebRequest,
  type WebResponse,
} from './http.js';
import { addMs, instantOf, toInstant } from '../domain/time.js';
import * as pages from './pages.js';
import { adjustPage, resubscribePage, unsubscribePage } from './routes-account.js';
import { checkInPage, confirmPage, intakePage, reschedulePage } from './routes-session.js';

/** Where the pages log (Powertools Logger in Lambda): opaque attributes only, as dispatch logs. */
export type WebLog = OpaqueLog;

export interface WebDeps extends AlertDeps {
  readonly tokens: TokenStore;
  readonly signer: LinkSigner;
  readonly clock?: Clock;
  readonly log?: WebLog;
}

/** Page actions one client may take in an hour (web: takeActionSlot). */
export const ACTIONS_PER_CLIENT_PER_HOUR = 30;

export type PageName = 'check-in' | 'intake' | 'confirm' | 'reschedule' | 'unsubscribe' | 'resubscribe' | 'adjust-plan';
export type RouteName = PageName | 'asset' | 'not-found';

const PAGE_PREFIXES: ReadonlyArray<{ readonly page: PageName; readonly prefix: string; readonly purpose: TokenPurpose }> = [
  { page: 'check-in', prefix: pagePaths.checkIn(''), purpose: 'check-in' },
  { page: 'intake', prefix: pagePaths.intake(''), purpose: 'intake' },
  { page: 'confirm', prefix: pagePaths.confirm(''), purpose: 'confirm' },
  { page: 'reschedule', prefix: pagePaths.reschedule(''), purpose: 'reschedule' },
  { page: 'unsubscribe', prefix: pagePaths.unsubscribe(''), purpose: 'unsubscribe' },
  { page: 'resubscribe', prefix: pagePaths.resubscribe(''), purpose: 'resubscribe' },
  { page: 'adjust-plan', prefix: pagePaths.adjustPlan(''), purpose: 'adjust-plan' },
];

type Route = { readonly name: 'asset' } | { readonly name: PageName; readonly token: string; readonly purpose: TokenPurpose } | { readonly name: 'not-found' };

/** The path the site lives under, from the clinic's base URL ('' at the root). */
export function basePathOf(clinic: Clinic): string {
  return new URL(clinic.baseUrl).pathname.replace(/\/+$/, '');
}

export function routeOf(path: string, basePath: string): Route {
  const local = basePath && path.startsWith(`${basePath}/`) ? path.slice(basePath.length) : path;
  if (local === ASSET_PATHS.css) return { name: 'asset' };
  for (const { page, prefix, purpose } of PAGE_PREFIXES) {
    if (local.startsWith(prefix)) {
      const token = local.slice(prefix.length);
      return token !== '' && !token.includes('/') ? { name: page, token, purpose } : { name: 'not-found' };
    }
  }
  return { name: 'not-found' };
}

export interface Ctx {
  readonly method: 'GET' | 'POST';
  readonly token: string;
  readonly claims: TokenClaims;
  readonly now: Date;
  /** A POST's form, already checked to come from our own page (or to be a one-click unsubscribe). */
  readonly form: URLSearchParams;
  readonly oneClick: boolean;
}

/** What every page handler is given besides its request: the deps, the site, and the shared steps. */
export interface PageKit {
  readonly deps: WebDeps;
  readonly site: pages.Site;
  /** An HTML response under the site's content security policy. */
  readonly page: (status: number, body: string) => WebResponse;
  /** Consumes a single-use link once its action is stored. */
  readonly spend: (claims: TokenClaims) => Promise<void>;
  /** Logs an alert to the therapist that could not be sent. */
  readonly noteAlert: (route: PageName, alert: AlertOutcome) => void;
}

export function createWebApp(deps: WebDeps): (request: WebRequest) => Promise<WebResponse> {
  const site: pages.Site = { clinic: deps.clinic, basePath: basePathOf(deps.clinic) };
  const clock = deps.clock ?? systemClock;
  const log: WebLog = deps.log ?? { info: () => {}, warn: () => {}, error: () => {} };
  // The logo's origin, if any, is the only image source beside the site itself.
  const policy = { 'content-security-policy': contentSecurityPolicy(deps.clinic.brand.logoUrl) };
  const page = (status: number, body: string) => htmlResponse(status, body, policy);
  const stylesheet = siteStylesheet(deps.clinic.brand.colour);

  async function spend(claims: TokenClaims): Promise<void> {
    // Only false if this same link already acted, which the action's own check has ruled out.
    await deps.tokens.consume(claims.tokenId, instantOf(claims.expiresAt), claims.clientId);
  }

  function noteAlert(route: PageName, alert: AlertOutcome): void {
    if (alert === 'failed') log.warn('therapist alert not sent', { route, alert });
  }

  const kit: PageKit = { deps, site, page, spend, noteAlert };
  const handlers: Record<PageName, (ctx: Ctx) => Promise<WebResponse>> = {
    'check-in': (ctx) => checkInPage(kit, ctx),
    intake: (ctx) => intakePage(kit, ctx),
    confirm: (ctx) => confirmPage(kit, ctx),
    reschedule: (ctx) => reschedulePage(kit, ctx),
    unsubscribe: (ctx) => unsubscribePage(kit, ctx),
    resubscribe: (ctx) => resubscribePage(kit, ctx),
    'adjust-plan': (ctx) => adjustPage(kit, ctx),
  };

  async function respond(request: WebRequest, route: Route): Promise<WebResponse> {
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    if (route.name === 'not-found') return page(404, pages.notFoundPage(site));
    if (route.name === 'asset') {
      if (method !== 'GET') throw new MethodNotAllowedError(['GET', 'HEAD']);
      return {
        status: 200,
        headers: { ...SECURITY_HEADERS, 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' },
        body: stylesheet.css,
      };
    }
    if (method !== 'GET' && method !== 'POST') throw new MethodNotAllowedError(['GET', 'HEAD', 'POST']);
    // A POST's body is checked (size, type, our own token) before the token is even verified.
    const form = method === 'POST' ? readForm(request) : new URLSearchParams();
    // RFC 8058: a mail provider posts only "List-Unsubscribe=One-Click" — no cookie, no token field.
    const oneClick = method === 'POST' && route.name === 'unsubscribe' && isOneClick(form);
    if (method === 'POST' && !oneClick) assertOwnForm(request, form, route.token);
    const now = clock.now();
    const claims = await deps.signer.verify(route.token, route.purpose, now);
    if (isSingleUse(claims.purpose) && (await deps.tokens.isConsumed(claims.tokenId))) {
      return page(method === 'GET' ? 200 : 409, pages.linkUsedPage(site, claims.purpose));
    }
    if (method === 'POST' && !(await takeActionSlot(deps, claims.clientId, now))) {
      log.warn('action limit reached', { route: route.name });
      return htmlResponse(429, pages.tooManyActionsPage(site), { ...policy, 'retry-after': '3600' });
    }
    return handlers[route.name]({ method, token: route.token, claims, now, form, oneClick });
  }

  return async (request) => {
    const started = Date.now();
    const route = routeOf(request.path, site.basePath);
    let response: WebResponse;
    try {
      response = await respond(request, route);
    } catch (error) {
      response = errorResponse({ site, page, policy, log }, route.name, request.method, error);
    }
    log.info('request', { route: route.name, method: request.method, status: response.status, ms: Date.now() - started });
    return request.method === 'HEAD' ? { ...response, body: '' } : response;
  };
}

/** The one place errors become pages; token and lookup failures all look the same. */
function errorResponse(
  { site, page, policy, log }: { site: pages.Site; page: PageKit['page']; policy: Record<string, string>; log: WebLog },
  route: RouteName,
  method: string,
  error: unknown,
): WebResponse {
  if (error instanceof InvalidTokenError || error instanceof NotFoundError || error instanceof ValidationError) return page(404, pages.expiredLinkPage(site));
  if (error instanceof ForeignFormError) return page(403, pages.forbiddenPage(site));
  if (error instanceof BodyTooLargeError) return page(413, pages.tooLargePage(site));
  if (error instanceof UnsupportedFormError) return page(415, pages.unsupportedFormPage(site));
  if (error instanceof MethodNotAllowedError) return htmlResponse(405, pages.methodNotAllowedPage(site), { ...policy, allow: error.allow.join(', ') });
  if (error instanceof RetryableError) {
    log.warn('request deferred', { route, method, error: error.name });
    return htmlResponse(503, pages.unavailablePage(site), { ...policy, 'retry-after': '60' });
  }
  // The class name only: messages from SDKs can quote addresses or item contents.
  log.error('request failed', { route, method, error: error instanceof Error ? error.name : typeof error });
  return page(500, pages.serverErrorPage(site));
}

/**
 * Every action (a POST with a valid link) counts against its client's hourly allowance, whatever
 * the link: a client cannot be made to submit, confirm or ask hundreds of times, even with many
 * links. Far above what a person filling in forms sends; GETs (mail scanners) are not counted.
 */
function takeActionSlot(deps: WebDeps, clientId: string, now: Date): Promise<boolean> {
  const hour = now.toISOString().slice(0, 13);
  const expiresAt = addMs(toInstant(`${hour}:00:00.000Z`), 2 * 3_600_000);
  return deps.tokens.takeActionSlot(clientId, hour, ACTIONS_PER_CLIENT_PER_HOUR, expiresAt);
}
