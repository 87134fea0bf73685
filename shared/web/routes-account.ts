/**
 * The subscription pages (unsubscribe, its undo) and the therapist's plan-adjustment page of
 * createWebApp (app.ts).
 */
import { NotFoundError } from '../domain/errors.js';
import { issuesFromZod, type FieldIssue } from '../domain/validation.js';
import type { StoredPlan } from '../ports/store.js';
import type { TokenClaims } from '../security/tokens.js';
import { isSubscribed, manageSubscription, subscriptionScopeSchema, type SubscriptionScope } from '../use-cases/manage-subscription.js';
import { FIELDS, planAdjustmentFrom } from './forms.js';
import { allowedActions, applyAdjustment, planAdjustmentSchema, planChangeWords, planStateOf } from '../domain/plan-change.js';
import { goalLabel } from '../email/texts.js';
import { adjustPlan } from '../use-cases/adjust-plan.js';
import type { WebResponse } from './http.js';
import * as pages from './pages.js';
import type { Ctx, PageKit, WebDeps } from './app.js';

export async function unsubscribePage(kit: PageKit, ctx: Ctx): Promise<WebResponse> {
  const { deps, site, page } = kit;
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

export async function resubscribePage(kit: PageKit, ctx: Ctx): Promise<WebResponse> {
  const { deps, site, page } = kit;
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
async function planView(deps: WebDeps, claims: TokenClaims): Promise<{ plan: StoredPlan; view: pages.PlanView }> {
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
export async function adjustPage(kit: PageKit, ctx: Ctx): Promise<WebResponse> {
  const { deps, site, page, spend } = kit;
  const { plan, view } = await planView(deps, ctx.claims);
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
