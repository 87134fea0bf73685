/**
 * The session pages (check-in, intake questionnaire, confirm, reschedule) of createWebApp (app.ts):
 * each reads what its link names from the client's own records and runs one use case.
 */
import { SCORES } from '../domain/model.js';
import { NotFoundError } from '../domain/errors.js';
import { closedReason, linkedSession } from '../domain/session-answers.js';
import { formatDateTime } from '../email/format.js';
import type { StoredPlan, StoredSession } from '../ports/store.js';
import type { TokenClaims } from '../security/tokens.js';
import { recordCheckIn } from '../use-cases/record-check-in.js';
import { confirmSession } from '../use-cases/confirm-session.js';
import { requestReschedule } from '../use-cases/request-reschedule.js';
import { checkInAnswersFrom, FIELDS, intakeAnswersFrom } from './forms.js';
import { firstSessionOf } from '../domain/intake-questionnaire.js';
import { recordIntake } from '../use-cases/record-intake.js';
import type { WebResponse } from './http.js';
import { instantOf } from '../domain/time.js';
import * as pages from './pages.js';
import type { Ctx, PageKit, WebDeps } from './app.js';

/** The session a token names, read from its client's own records, put in the client's words. */
async function sessionView(deps: WebDeps, claims: TokenClaims): Promise<{ session: StoredSession; view: pages.SessionView }> {
  const context = await deps.store.getMessageContext({ clientId: claims.clientId, sessionId: claims.subject });
  const { client, session } = linkedSession(context, claims.subject);
  const therapist = await deps.store.getTherapist(session.therapistId);
  return {
    session,
    view: {
      when: formatDateTime(session.start, client.timezone),
      therapistName: therapist?.name ?? 'your therapist',
      location: session.location,
    },
  };
}

/** The plan an intake link names, from its client's own records, with its first session in the client's zone. */
async function intakeView(deps: WebDeps, claims: TokenClaims): Promise<{ plan: StoredPlan; view: pages.IntakeView }> {
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

export async function checkInPage(kit: PageKit, ctx: Ctx): Promise<WebResponse> {
  const { deps, site, page, spend, noteAlert } = kit;
  const { session, view } = await sessionView(deps, ctx.claims);
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

export async function intakePage(kit: PageKit, ctx: Ctx): Promise<WebResponse> {
  const { deps, site, page, spend } = kit;
  const { plan, view } = await intakeView(deps, ctx.claims);
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

export async function confirmPage(kit: PageKit, ctx: Ctx): Promise<WebResponse> {
  const { deps, site, page, spend, noteAlert } = kit;
  const { session, view } = await sessionView(deps, ctx.claims);
  if (ctx.method === 'GET') {
    if (session.confirmedAt) return page(200, pages.alreadyConfirmedPage(site, view));
    const closed = closedReason(session, instantOf(ctx.now));
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

export async function reschedulePage(kit: PageKit, ctx: Ctx): Promise<WebResponse> {
  const { deps, site, page, spend, noteAlert } = kit;
  const { session, view } = await sessionView(deps, ctx.claims);
  if (ctx.method === 'GET') {
    if (session.rescheduleRequestedAt) return page(200, pages.alreadyRequestedPage(site, view));
    const closed = closedReason(session, instantOf(ctx.now));
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
