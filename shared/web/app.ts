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
 */
import type { Clinic } from '../domain/model.js';
import { SCORES } from '../domain/model.js';
import { NotFoundError, RetryableError } from '../domain/errors.js';
import { issuesFromZod, ValidationError, type FieldIssue } from '../domain/validation.js';
import { formatDateTime } from '../email/format.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { StoredPlan, StoredSession, TokenStore } from '../ports/store.js';
import { InvalidTokenError, isSingleUse, pagePaths, type LinkSigner, type TokenClaims, type TokenPurpose } from '../security/tokens.js';
import { recordCheckIn } from '../use-cases/record-check-in.js';
import type { AlertDeps, AlertOutcome } from '../use-cases/delivery/therapist-alert.js';
import { confirmSession, closedReason } from '../use-cases/confirm-session.js';
import { requestReschedule } from '../use-cases/request-reschedule.js';
import type { OpaqueLog } from '../ports/log.js';
import { isSubscribed, manageSubscription, subscriptionScopeSchema, type SubscriptionScope } from '../use-cases/manage-subscription.js';
import { ASSET_PATHS, siteStylesheet } from './assets.js';
import { assertOwnForm, checkInAnswersFrom, FIELDS, intakeAnswersFrom, isOneClick, planAdjustmentFrom, readForm } from './forms.js';
import { firstSessionOf } from '../domain/intake-questionnaire.js';
import { recordIntake } from '../use-cases/record-intake.js';
import { allowedActions, applyAdjustment, planAdjustmentSchema, planChangeWords, planStateOf } from '../domain/plan-change.js';
import { goalLabel } from '../email/texts.js';
import { adjustPlan } from '../use-cases/adjust-plan.js';
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
import * as pages from './pages.js';

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

interface Ctx {
  readonly method: 'GET' | 'POST';
  readonly token: string;
  readonly claims: TokenClaims;
  readonly now: Date;
  /** A POST's form, already checked to come from our own page (or to be a one-click unsubscribe). */
  readonly form: URLSearchParams;
  readonly oneClick: boolean;
}

export function createWebApp(deps: WebDeps): (request: WebRequest) => Promise<WebResponse> {
  const site: pages.Site = { clinic: deps.clinic, basePath: basePathOf(deps.clinic) };
  const clock = deps.clock ?? systemClock;
  const log: WebLog = deps.log ?? { info: () => {}, warn: () => {}, error: () => {} };
  // The logo's origin, if any, is the only image source beside the site itself.
  const policy = { 'content-security-policy': contentSecurityPolicy(deps.clinic.brand.logoUrl) };
  const page = (status: number, body: string) => htmlResponse(status, body, policy);
  const stylesheet = siteStylesheet(deps.clinic.brand.colour);

  /** The session a token names, read from its client's own records, put in the client's words. */
  async function sessionView(claims: TokenClaims): Promise<{ session: StoredSession; view: pages.SessionView }> {
    const context = await deps.store.getMessageContext({ clientId: claims.clientId, sessionId: claims.subject });
    if (!context.client || !context.session) throw new NotFoundError('session', claims.subject);
    const therapist = await deps.store.getTherapist(context.session.therapistId);
    return {
      session: context.session,
      view: {
        when: formatDateTime(context.session.start, context.client.timezone),
        therapistName: therapist?.name ?? 'your therapist',
        location: context.session.location,
      },
    };
  }

  async function spend(claims: TokenClaims): Promise<void> {
    // Only false if this same link already acted, which the action's own check has ruled out.
    await deps.tokens.consume(claims.tokenId, claims.expiresAt.toISOString(), claims.clientId);
  }

  function noteAlert(route: PageName, alert: AlertOutcome): void {
    if (alert === 'failed') log.warn('therapist alert not sent', { route, alert });
  }

  async function checkIn(ctx: Ctx): Promise<WebResponse> {
    const { session, view } = await sessionView(ctx.claims);
    if (ctx.method === 'GET') {
      return page(200, session.checkInAnsweredAt ? pages.checkInAlreadyAnsweredPage(site, view) : pages.checkInFormPage(site, { token: ctx.token, view }));
    }
    const fields = checkInAnswersFrom(ctx.form);
    const result = await recordCheckIn(deps, { clientId: ctx.claims.clientId, sessionId: session.id, answers: fields, now: ctx.now });
    switch (result.status) {
      case 'invalid':
        return page(400, pages.checkInFormPage(site, { token: ctx.token, view, values: keptValues(fields), issues: result.issues }));
      case 'already-answered':
        noteAlert('check-in', result.alert);
        return page(409, pages.checkInAlreadyAnsweredPage(site, view));
      case 'recorded':
        noteAlert('check-in', result.alert);
        await spend(ctx.claims);
        return page(200, pages.checkInThanksPage(site, { view, wantsToRebook: result.checkIn.wantsToRebook, flagged: result.flags.length > 0 }));
    }
  }

  /** The plan an intake link names, from its client's own records, with its first session in the client's zone. */
  async function intakeView(claims: TokenClaims): Promise<{ plan: StoredPlan; view: pages.IntakeView }> {
    const bundle = await deps.store.getClientBundle(claims.clientId);
    const plan = bundle?.plans.find((p) => p.id === claims.subject);
    if (!bundle || !plan) throw new NotFoundError('plan', claims.subject);
    const therapist = await deps.store.getTherapist(plan.therapistId);
    const first = firstSessionOf(plan.id, bundle.sessions);
    return {
      plan,
      view: { therapistName: therapist?.name ?? 'your therapist', ...(first ? { firstSession: formatDateTime(first.start, bundle.client.timezone) } : {}) },
    };
  }

  async function intake(ctx: Ctx): Promise<WebResponse> {
    const { plan, view } = await intakeView(ctx.claims);
    if (ctx.method === 'GET') return page(200, plan.baseline ? pages.intakeAlreadyAnsweredPage(site) : pages.intakeFormPage(site, { token: ctx.token, view }));
    const fields = intakeAnswersFrom(ctx.form);
    const result = await recordIntake(deps, { clientId: ctx.claims.clientId, planId: plan.id, answers: fields, now: ctx.now });
    switch (result.status) {
      case 'invalid':
        return page(400, pages.intakeFormPage(site, { token: ctx.token, view, values: keptIntakeValues(fields), issues: result.issues }));
      case 'already-answered':
        return page(409, pages.intakeAlreadyAnsweredPage(site));
      case 'recorded':
        await spend(ctx.claims);
        return page(200, pages.intakeThanksPage(site, view));
    }
  }

  async function confirm(ctx: Ctx): Promise<WebResponse> {
    const { session, view } = await sessionView(ctx.claims);
    if (ctx.method === 'GET') {
      if (session.confirmedAt) return page(200, pages.alreadyConfirmedPage(site, view));
      const closed = closedReason(session, ctx.now.toISOString());
      return page(
        200,
        closed
          ? pages.sessionClosedPage(site, { view, reason: closed })
          : pages.confirmPage(site, { token: ctx.token, view, rescheduleRequested: !!session.rescheduleRequestedAt }),
      );
    }
    const result = await confirmSession(deps, { clientId: ctx.claims.clientId, sessionId: session.id, now: ctx.now });
    switch (result.status) {
      case 'confirmed':
        noteAlert('confirm', result.alert);
        await spend(ctx.claims);
        return page(200, pages.confirmedPage(site, view, !!session.rescheduleRequestedAt));
      case 'already-confirmed':
        return page(409, pages.alreadyConfirmedPage(site, view));
      case 'closed':
        return page(409, pages.sessionClosedPage(site, { view, reason: result.reason }));
    }
  }

  async function reschedule(ctx: Ctx): Promise<WebResponse> {
    const { session, view } = await sessionView(ctx.claims);
    if (ctx.method === 'GET') {
      if (session.rescheduleRequestedAt) return page(200, pages.alreadyRequestedPage(site, view));
      const closed = closedReason(session, ctx.now.toISOString());
      return page(200, closed ? pages.sessionClosedPage(site, { view, reason: closed }) : pages.reschedulePage(site, { token: ctx.token, view }));
    }
    const messages = ctx.form.getAll(FIELDS.message);
    const message = messages.length > 1 ? messages : messages[0];
    const result = await requestReschedule(deps, { clientId: ctx.claims.clientId, sessionId: session.id, message, now: ctx.now });
    switch (result.status) {
      case 'invalid':
        return page(400, pages.reschedulePage(site, { token: ctx.token, view, message: messages[0] ?? '', issues: result.issues }));
      case 'requested':
        noteAlert('reschedule', result.alert);
        await spend(ctx.claims);
        return page(200, pages.rescheduleRequestedPage(site, view));
      case 'already-requested':
        noteAlert('reschedule', result.alert);
        return page(409, pages.alreadyRequestedPage(site, view));
      case 'closed':
        return page(409, pages.sessionClosedPage(site, { view, reason: result.reason }));
    }
  }

  async function unsubscribe(ctx: Ctx): Promise<WebResponse> {
    const category = subscriptionScopeSchema.safeParse(ctx.claims.subject);
    if (!category.success) throw new NotFoundError('subscription category', 'from a link');
    const client = await deps.store.getClient(ctx.claims.clientId);
    if (!client) throw new NotFoundError('client', ctx.claims.clientId);
    if (ctx.method === 'GET') return page(200, pages.unsubscribePage(site, { token: ctx.token, category: category.data }));

    // One-click unsubscribes from the link's own category, nothing more and nothing less. This link
    // only ever unsubscribes: whatever else a form carries, it cannot resubscribe.
    const scope: SubscriptionScope = !ctx.oneClick && ctx.form.get(FIELDS.scope) === 'all' ? 'all' : category.data;
    const wasSubscribed = isSubscribed(client, scope);
    await manageSubscription(deps, { clientId: client.id, scope, action: 'unsubscribe' });
    // An undo is offered only for a change this request made, with a fresh short-lived token: a
    // forwarded email's link can repeat an opt-out but never take one back.
    const undo = wasSubscribed ? deps.signer.issue({ purpose: 'resubscribe', clientId: client.id, subject: scope, now: ctx.now }) : undefined;
    return page(200, pages.unsubscribedPage(site, { ...(undo ? { undoToken: undo } : {}), scope }));
  }

  async function resubscribe(ctx: Ctx): Promise<WebResponse> {
    const scope = subscriptionScopeSchema.safeParse(ctx.claims.subject);
    if (!scope.success) throw new NotFoundError('subscription category', 'from a link');
    if (ctx.method === 'GET') return page(200, pages.unsubscribedPage(site, { undoToken: ctx.token, scope: scope.data }));
    await manageSubscription(deps, { clientId: ctx.claims.clientId, scope: scope.data, action: 'resubscribe' });
    return page(200, pages.resubscribedPage(site, scope.data));
  }

  /**
   * The therapist's plan a summary link names. The token's client claim holds the therapist: a
   * plan that is not (or no longer) theirs is "not found", the same expired-link page as any other.
   */
  async function planView(claims: TokenClaims): Promise<{ plan: StoredPlan; view: pages.PlanView }> {
    const therapistId = claims.clientId;
    const plan = await deps.store.findPlan(claims.subject);
    if (!plan || plan.therapistId !== therapistId) throw new NotFoundError('plan', claims.subject);
    const client = await deps.store.getClient(plan.clientId);
    if (!client) throw new NotFoundError('client', plan.clientId);
    const state = planStateOf(plan);
    return { plan, view: { clientName: client.name, goal: goalLabel(plan.goal), status: state.status, maintenanceEveryDays: state.maintenanceEveryDays } };
  }

  /**
   * GET shows the plan and the choices; a POST is checked and, without `confirm=yes`, answered with
   * the confirmation step; with it, the change goes through the same use case as the CLI, keyed by
   * the token id, so the link acts once even when the confirmation is sent twice at once.
   */
  async function adjust(ctx: Ctx): Promise<WebResponse> {
    const { plan, view } = await planView(ctx.claims);
    const actions = allowedActions(planStateOf(plan));
    const form = (status: number, values: pages.AdjustValues, issues: readonly FieldIssue[] = []) =>
      page(status, pages.adjustPlanPage(site, { token: ctx.token, view, actions, values, issues }));
    if (ctx.method === 'GET') return form(200, {});
    const values: pages.AdjustValues = {
      ...(ctx.form.get(FIELDS.action) ? { action: ctx.form.get(FIELDS.action)! } : {}),
      ...(ctx.form.get(FIELDS.days) ? { days: ctx.form.get(FIELDS.days)! } : {}),
      ...(ctx.form.get(FIELDS.note) ? { note: ctx.form.get(FIELDS.note)! } : {}),
    };
    const adjustment = planAdjustmentFrom(ctx.form);
    const parsed = planAdjustmentSchema.safeParse(adjustment);
    if (!parsed.success) return form(400, values, issuesFromZod(parsed.error));
    const decided = applyAdjustment(planStateOf(plan), parsed.data);
    if ('refused' in decided) return form(409, values, [{ path: FIELDS.action, reason: decided.refused }]);
    const change = planChangeWords({ action: parsed.data.action, before: planStateOf(plan), after: decided.after });
    if (ctx.form.get(FIELDS.confirm) !== 'yes') return page(200, pages.adjustConfirmPage(site, { token: ctx.token, view, change, values }));

    const therapistId = ctx.claims.clientId;
    const result = await adjustPlan(deps.store, {
      planId: plan.id,
      adjustment,
      by: therapistId,
      via: 'email-link',
      now: ctx.now,
      therapistId,
      changeId: ctx.claims.tokenId,
    });
    switch (result.status) {
      case 'adjusted': {
        await spend(ctx.claims);
        const after = planStateOf(result.plan);
        return page(
          200,
          pages.planAdjustedPage(site, {
            view: { ...view, status: after.status, maintenanceEveryDays: after.maintenanceEveryDays },
            change: planChangeWords(result.change),
          }),
        );
      }
      case 'already-done':
        return page(409, pages.linkUsedPage(site, 'adjust-plan'));
      case 'unchanged':
      case 'refused':
        return form(409, values, [{ path: FIELDS.action, reason: result.reason }]);
      case 'invalid':
        return form(400, values, result.issues);
    }
  }

  const handlers: Record<PageName, (ctx: Ctx) => Promise<WebResponse>> = {
    'check-in': checkIn,
    intake,
    confirm,
    reschedule,
    unsubscribe,
    resubscribe,
    'adjust-plan': adjust,
  };

  /** The one place errors become pages; token and lookup failures all look the same. */
  function errorResponse(route: RouteName, method: string, error: unknown): WebResponse {
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
  function takeActionSlot(clientId: string, now: Date): Promise<boolean> {
    const hour = now.toISOString().slice(0, 13);
    const expiresAt = new Date(Date.parse(`${hour}:00:00.000Z`) + 2 * 3_600_000).toISOString();
    return deps.tokens.takeActionSlot(clientId, hour, ACTIONS_PER_CLIENT_PER_HOUR, expiresAt);
  }

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
    if (method === 'POST' && !(await takeActionSlot(claims.clientId, now))) {
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
      response = errorResponse(route.name, request.method, error);
    }
    log.info('request', { route: route.name, method: request.method, status: response.status, ms: Date.now() - started });
    return request.method === 'HEAD' ? { ...response, body: '' } : response;
  };
}

/** The answers worth showing again: a score only when it is one of the choices on the scale. */
function keptValues(fields: Record<string, unknown>): pages.CheckInValues {
  return { scores: keptScores(fields), notes: typeof fields.notes === 'string' ? fields.notes : '', wantsToRebook: fields.wantsToRebook === true };
}

function keptIntakeValues(fields: Record<string, unknown>): pages.IntakeValues {
  return { scores: keptScores(fields), reason: typeof fields.reason === 'string' ? fields.reason : '' };
}

function keptScores(fields: Record<string, unknown>): pages.CheckInValues['scores'] {
  const scores: Partial<Record<(typeof SCORES)[number], number>> = {};
  for (const score of SCORES) {
    const value = fields[score];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 10) scores[score] = value;
  }
  return scores;
}
