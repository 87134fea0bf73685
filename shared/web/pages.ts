/**
 * The client pages. Mobile first, one h1 each, labels on every control, fieldsets and legends
 * for the 0–10 scales, errors next to their field (aria-describedby) and summarised at the top,
 * no script at all. Every page is in the clinic's name; none shows the client's name or address.
 */
import type { FieldIssue } from '../domain/validation.js';
import type { ClosedReason } from '../domain/session-answers.js';
import { RESCHEDULE_MESSAGE_MAX } from '../use-cases/request-reschedule.js';
import type { SubscriptionScope } from '../use-cases/manage-subscription.js';
import { FIELDS } from './forms.js';
import { pagePaths } from '../security/tokens.js';
import { html, type Html } from './html.js';
import { NOTE_MAX, MAX_INTERVAL_DAYS, type PlanAction } from '../domain/plan-change.js';

import { contactLine, details, errorsOf, errorSummary, fieldError, layout, tokenField, type SessionView, type Site } from './page-parts.js';
import { checkInAlreadyAnsweredPage } from './check-in-page.js';
import { intakeAlreadyAnsweredPage } from './intake-page.js';

export type { SessionView, Site } from './page-parts.js';
export * from './check-in-page.js';
export * from './intake-page.js';

// ---------------------------------------------------------------- confirm

/** `rescheduleRequested`: the client asked for a new time earlier; confirming keeps this one instead. */
export function confirmPage(site: Site, input: { token: string; view: SessionView; rescheduleRequested?: boolean }): string {
  const lead = input.rescheduleRequested
    ? html`<p class="lead">You asked us for a new time for this session. If you would rather keep this time, confirm it here and we will let ${input.view.therapistName} know.</p>`
    : html`<p class="lead">Please confirm you will come to this session.</p>`;
  const body = html`${lead}
${details(input.view)}
<form method="post">${tokenField(input.token)}<button type="submit">Yes, I'll be there</button></form>`;
  return layout(site, { title: 'Confirm your session', body });
}

/** `afterRequest`: the confirmation replaced an earlier request for a new time, and the therapist was told. */
export function confirmedPage(site: Site, view: SessionView, afterRequest = false): string {
  const told = afterRequest
    ? html`<p>We have told ${view.therapistName} you will keep this time, so your earlier request for a new one will not be acted on.</p>`
    : html``;
  return layout(site, { title: 'Thank you for confirming', body: html`<p class="lead">See you on ${view.when}.</p>${told}${details(view)}` });
}

/** Without a view (a spent link), the page names no time, therapist or place. */
export function alreadyConfirmedPage(site: Site, view?: SessionView): string {
  return layout(site, {
    title: 'Already confirmed',
    body: html`<p class="lead">You have already confirmed this session. See you then.</p>${view ? details(view) : html``}`,
  });
}

const CLOSED_TEXT: Record<ClosedReason, string> = {
  cancelled: 'This session has been cancelled, so there is nothing to do here.',
  started: 'This session has already taken place, so there is nothing to do here.',
};

export function sessionClosedPage(site: Site, input: { view: SessionView; reason: ClosedReason }): string {
  return layout(site, {
    title: 'This session is no longer open',
    body: html`<p class="lead">${CLOSED_TEXT[input.reason]}</p>${details(input.view)}${contactLine(site)}`,
  });
}

// ---------------------------------------------------------------- reschedule

export function reschedulePage(site: Site, input: { token: string; view: SessionView; message?: string; issues?: readonly FieldIssue[] }): string {
  const errors = errorsOf(input.issues ?? []);
  const invalid = errors.has(FIELDS.message);
  const body = html`<p class="lead">Can't make it? Ask for a new time and the clinic will get back to you.</p>
${details(input.view)}
${errorSummary(errors, (field) => field)}
<form method="post" novalidate>
${tokenField(input.token)}
<div class="field${invalid ? ' invalid' : ''}">
<label for="${FIELDS.message}">Message for ${input.view.therapistName} (optional)</label>
<p class="hint" id="${FIELDS.message}-hint">For example, the days and times that suit you. Up to ${RESCHEDULE_MESSAGE_MAX.toLocaleString('en-GB')} characters.</p>
${fieldError(FIELDS.message, errors)}<textarea id="${FIELDS.message}" name="${FIELDS.message}" rows="4" maxlength="${RESCHEDULE_MESSAGE_MAX}" aria-describedby="${FIELDS.message}-hint${invalid ? ` ${FIELDS.message}-error` : ''}">${input.message ?? ''}</textarea>
</div>
<button type="submit">Ask for a new time</button>
</form>`;
  return layout(site, { title: 'Request a new time', body, hasErrors: errors.size > 0 });
}

export function rescheduleRequestedPage(site: Site, view: SessionView): string {
  return layout(site, {
    title: 'Request sent',
    body: html`<p class="lead">We've let ${view.therapistName} know. The clinic will be in touch to find a new time.</p>${contactLine(site)}`,
  });
}

/** Without a view (a spent link), the page names no time, therapist or place. */
export function alreadyRequestedPage(site: Site, view?: SessionView): string {
  const about = view ? html`for your session on ${view.when}` : html`for this session`;
  return layout(site, {
    title: 'Already requested',
    body: html`<p class="lead">You have already asked for a new time ${about}. The clinic will be in touch.</p>${contactLine(site)}`,
  });
}

// ---------------------------------------------------------------- unsubscribe

const SCOPE_TEXT: Record<SubscriptionScope, string> = {
  reminders: 'session reminders',
  'check-ins': 'check-in questions after your sessions',
  maintenance: 'reminders when your next maintenance session is due',
  all: 'all emails',
};

/** The unsubscribe choices. `scope` is the link's own category; "everything" is always offered. */
export function unsubscribePage(site: Site, input: { token: string; category: SubscriptionScope }): string {
  const everything =
    input.category === 'all'
      ? html``
      : html`<form method="post">${tokenField(input.token)}<input type="hidden" name="${FIELDS.scope}" value="all"><button type="submit" class="secondary">Unsubscribe from all emails</button></form>`;
  const body = html`<p class="lead">Stop getting ${SCOPE_TEXT[input.category]} from ${site.clinic.name}?</p>
<div class="actions">
<form method="post">${tokenField(input.token)}<input type="hidden" name="${FIELDS.scope}" value="${input.category}"><button type="submit">Unsubscribe</button></form>
${everything}
</div>
<p class="muted">Your sessions stay booked: this changes only which emails you get.</p>`;
  return layout(site, { title: 'Unsubscribe', body });
}

/** `undoToken`: a fresh resubscribe token, given only when this very request unsubscribed. */
export function unsubscribedPage(site: Site, input: { undoToken?: string; scope: SubscriptionScope }): string {
  const undo = input.undoToken
    ? html`<form method="post" action="${site.basePath}${pagePaths.resubscribe(input.undoToken)}">${tokenField(input.undoToken)}<button type="submit" class="secondary">Undo: keep getting ${SCOPE_TEXT[input.scope]}</button></form>`
    : html``;
  const body = html`<p class="lead">You won't get ${SCOPE_TEXT[input.scope]} from ${site.clinic.name} any more.</p>
${undo}`;
  return layout(site, { title: 'You are unsubscribed', body });
}

export function resubscribedPage(site: Site, scope: SubscriptionScope): string {
  return layout(site, { title: 'You are subscribed again', body: html`<p class="lead">You will get ${SCOPE_TEXT[scope]} from ${site.clinic.name} again.</p>` });
}

// ---------------------------------------------------------------- the therapist's plan adjustment

/** The plan a therapist's link is about, in words. */
export interface PlanView {
  readonly clientName: string;
  readonly goal: string;
  readonly status: 'active' | 'paused' | 'completed';
  readonly maintenanceEveryDays: number;
}

/** What the therapist chose, kept so a form shown again loses none of it. */
export interface AdjustValues {
  readonly action?: string;
  readonly days?: string;
  readonly note?: string;
}

const STATUS_TEXT: Record<PlanView['status'], string> = { active: 'Active', paused: 'Paused', completed: 'Completed' };

const ACTION_TEXT: Record<PlanAction, { readonly label: string; readonly hint: string }> = {
  interval: { label: 'Change the maintenance interval', hint: 'Enter the new number of days below.' },
  pause: { label: 'Pause the plan', hint: 'No reminders, check-ins or nudges until it is resumed.' },
  resume: { label: 'Resume the plan', hint: 'Reminders, check-ins and nudges start again.' },
  complete: { label: 'Complete the plan', hint: 'The plan ends: nothing more is sent for it.' },
};

function planDetails(view: PlanView): Html {
  return html`<dl class="details"><dt>Client</dt><dd>${view.clientName}</dd><dt>Plan</dt><dd>${view.goal}</dd><dt>Status</dt><dd>${STATUS_TEXT[view.status]}</dd><dt>Maintenance</dt><dd>every ${view.maintenanceEveryDays} days</dd></dl>`;
}

/** The adjustment form: what to change, the new interval, a one-line note. Nothing changes until the next page. */
export function adjustPlanPage(
  site: Site,
  input: { token: string; view: PlanView; actions: readonly PlanAction[]; values?: AdjustValues; issues?: readonly FieldIssue[] },
): string {
  const errors = errorsOf(input.issues ?? []);
  const values = input.values ?? {};
  const first = input.actions[0] ?? 'interval';
  const choices = input.actions.map((action) => {
    const id = `${FIELDS.action}-${action}`;
    return html`<div class="choice"><input type="radio" name="${FIELDS.action}" id="${id}" value="${action}" aria-describedby="${id}-hint"${values.action === action ? html` checked` : ''}><label for="${id}">${ACTION_TEXT[action].label}</label><p class="hint" id="${id}-hint">${ACTION_TEXT[action].hint}</p></div>`;
  });
  const actionInvalid = errors.has(FIELDS.action);
  const daysInvalid = errors.has(FIELDS.days);
  const noteInvalid = errors.has(FIELDS.note);
  const interval = input.actions.includes('interval')
    ? html`<div class="field${daysInvalid ? ' invalid' : ''}">
<label for="${FIELDS.days}">New maintenance interval, in days</label>
<p class="hint" id="${FIELDS.days}-hint">Now every ${input.view.maintenanceEveryDays} days. Used only when you change the interval (1 to ${MAX_INTERVAL_DAYS}).</p>
${fieldError(FIELDS.days, errors)}<input type="text" inputmode="numeric" id="${FIELDS.days}" name="${FIELDS.days}" value="${values.days ?? ''}" size="5" maxlength="6" autocomplete="off" aria-describedby="${FIELDS.days}-hint${daysInvalid ? ` ${FIELDS.days}-error` : ''}">
</div>`
    : html``;
  const body = html`<p class="lead">Change this plan. Nothing changes until you confirm on the next page.</p>
${planDetails(input.view)}
${errorSummary(errors, (field) => (field === FIELDS.action ? `${FIELDS.action}-${first}` : field))}
<form method="post" novalidate>
${tokenField(input.token)}
<fieldset id="${FIELDS.action}"${actionInvalid ? html` class="invalid" aria-describedby="${FIELDS.action}-error"` : ''}>
<legend>What would you like to do?</legend>
${fieldError(FIELDS.action, errors)}${choices}
</fieldset>
${interval}
<div class="field${noteInvalid ? ' invalid' : ''}">
<label for="${FIELDS.note}">Note for the plan's history (optional)</label>
<p class="hint" id="${FIELDS.note}-hint">One line, up to ${NOTE_MAX} characters: why you are making the change.</p>
${fieldError(FIELDS.note, errors)}<input type="text" id="${FIELDS.note}" name="${FIELDS.note}" value="${values.note ?? ''}" maxlength="${NOTE_MAX}" autocomplete="off" aria-describedby="${FIELDS.note}-hint${noteInvalid ? ` ${FIELDS.note}-error` : ''}">
</div>
<button type="submit">Review the change</button>
</form>`;
  return layout(site, { title: `Adjust ${input.view.clientName}'s plan`, body, hasErrors: errors.size > 0 });
}

/** The confirmation step: the change in words, and the one button that makes it. */
export function adjustConfirmPage(site: Site, input: { token: string; view: PlanView; change: string; values: AdjustValues }): string {
  const hidden = (name: string, value: string | undefined) => (value ? html`<input type="hidden" name="${name}" value="${value}">` : html``);
  const note = input.values.note ? html`<dl class="details"><dt>Note</dt><dd>${input.values.note}</dd></dl>` : html``;
  const body = html`<p class="lead">${input.view.clientName}'s plan (${input.view.goal}): ${input.change}.</p>
${note}
<p>The client's reminders, check-ins and nudges follow the plan as soon as you confirm. The change appears in your next summary.</p>
<div class="actions">
<form method="post">${tokenField(input.token)}${hidden(FIELDS.action, input.values.action)}${hidden(FIELDS.days, input.values.days)}${hidden(FIELDS.note, input.values.note)}<input type="hidden" name="${FIELDS.confirm}" value="yes"><button type="submit">Confirm the change</button></form>
<p><a href="${site.basePath}${pagePaths.adjustPlan(input.token)}">Go back and change something</a></p>
</div>`;
  return layout(site, { title: 'Confirm the change', body });
}

export function planAdjustedPage(site: Site, input: { view: PlanView; change: string }): string {
  const body = html`<p class="lead">${input.view.clientName}'s plan (${input.view.goal}): ${input.change}.</p>
${planDetails(input.view)}
<p>The change and your note are in the plan's history and your next summary.</p>`;
  return layout(site, { title: 'Plan updated', body });
}

// ---------------------------------------------------------------- spent links

/**
 * What a single-use link that has acted shows, whatever became of its session since: that it was
 * used, and nothing about the session (a forwarded or shared email reveals no time, therapist or
 * place once the client has acted on it).
 */
export function linkUsedPage(site: Site, purpose: 'check-in' | 'intake' | 'confirm' | 'reschedule' | 'adjust-plan'): string {
  switch (purpose) {
    case 'adjust-plan':
      return layout(site, { title: 'This link has been used', body: html`<p class="lead">Each "Adjust plan" link works once.</p>` });
    case 'check-in':
      return checkInAlreadyAnsweredPage(site);
    case 'intake':
      return intakeAlreadyAnsweredPage(site);
    case 'confirm':
      return alreadyConfirmedPage(site);
    case 'reschedule':
      return alreadyRequestedPage(site);
  }
}

// ---------------------------------------------------------------- generic pages

/**
 * One page for every link that cannot be used — expired, altered, spent, or not this client's —
 * so the page tells nobody which it was.
 */
export function expiredLinkPage(site: Site): string {
  return layout(site, {
    title: 'This link has expired',
    body: html`<p class="lead">Links in our emails work for a limited time, and some work only once.</p>${contactLine(site)}`,
  });
}

export function notFoundPage(site: Site): string {
  return layout(site, { title: 'Page not found', body: html`<p class="lead">There is no page at this address.</p>${contactLine(site)}` });
}

export function forbiddenPage(site: Site): string {
  return layout(site, {
    title: 'This form could not be sent',
    body: html`<p class="lead">Please open the link from your email again and send the form from that page.</p>`,
  });
}

export function tooLargePage(site: Site): string {
  return layout(site, {
    title: 'That was too long',
    body: html`<p class="lead">What you sent was too long for us to accept. Please go back, shorten your note and send it again.</p>`,
  });
}

export function unsupportedFormPage(site: Site): string {
  return layout(site, {
    title: 'This form could not be read',
    body: html`<p class="lead">Please open the link from your email again and send the form from that page.</p>`,
  });
}

export function methodNotAllowedPage(site: Site): string {
  return layout(site, { title: 'This page cannot do that', body: html`<p class="lead">Please open the link from your email again.</p>` });
}

export function unavailablePage(site: Site): string {
  return layout(site, {
    title: 'Please try again in a minute',
    body: html`<p class="lead">We could not finish that just now. If you were sending a form, please go back and send it again in a minute: it will only be counted once.</p>${contactLine(site)}`,
  });
}

/** A client (or therapist) who sent more forms in an hour than anyone filling them in would. */
export function tooManyActionsPage(site: Site): string {
  return layout(site, {
    title: 'Too many attempts',
    body: html`<p class="lead">This has been tried too many times in the last hour, so we have paused it. Please try again later.</p>${contactLine(site)}`,
  });
}

export function serverErrorPage(site: Site): string {
  return layout(site, { title: 'Something went wrong', body: html`<p class="lead">Sorry, something went wrong on our side.</p>${contactLine(site)}` });
}
