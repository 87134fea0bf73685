/**
 * The intake questionnaire's pages: the form (the check-in's four 0–10 scales and "What brings
 * you in?"), the thank-you, and "Already answered". The answers are the plan's baseline, so the
 * page asks about now, before the first session.
 */
import { INTAKE_REASON_MAX, SCORES } from '../domain/model.js';
import type { FieldIssue } from '../domain/validation.js';
import { scale, type CheckInValues } from './check-in-page.js';
import { FIELDS } from './forms.js';
import { html } from './html.js';
import { contactLine, errorsOf, errorSummary, fieldError, layout, tokenField, type Site } from './page-parts.js';

/** The plan a questionnaire link is about, in the client's words. */
export interface IntakeView {
  readonly therapistName: string;
  /** The first session's time in the client's zone, when one is booked. */
  readonly firstSession?: string;
}

/** What the client sent, kept so a form shown again with errors loses none of it. */
export interface IntakeValues {
  readonly scores: CheckInValues['scores'];
  readonly reason: string;
}

export function intakeFormPage(site: Site, input: { token: string; view: IntakeView; values?: IntakeValues; issues?: readonly FieldIssue[] }): string {
  const errors = errorsOf(input.issues ?? []);
  const values = input.values ?? { scores: {}, reason: '' };
  const reasonInvalid = errors.has(FIELDS.reason);
  const when = input.view.firstSession ? html` on ${input.view.firstSession}` : html``;
  const body = html`<p class="lead">Before your first session with ${input.view.therapistName}${when}, how are you today? Your answers are your starting point: your check-ins after each session are compared with them.</p>
${errorSummary(errors, (field) => ((SCORES as readonly string[]).includes(field) ? `${field}-0` : field))}
<form method="post" novalidate>
${tokenField(input.token)}
${SCORES.map((score) => scale(score, values.scores[score], errors))}
<div class="field${reasonInvalid ? ' invalid' : ''}">
<label for="${FIELDS.reason}">What brings you in? (optional)</label>
<p class="hint" id="${FIELDS.reason}-hint">What you would like help with, and anything ${input.view.therapistName} should know before your session. Up to ${INTAKE_REASON_MAX.toLocaleString('en-GB')} characters. For anything urgent, please call the clinic.</p>
${fieldError(FIELDS.reason, errors)}<textarea id="${FIELDS.reason}" name="${FIELDS.reason}" rows="4" maxlength="${INTAKE_REASON_MAX}" aria-describedby="${FIELDS.reason}-hint${reasonInvalid ? ` ${FIELDS.reason}-error` : ''}">${values.reason}</textarea>
</div>
<button type="submit">Send my answers</button>
</form>`;
  return layout(site, { title: 'Before your first session', body, hasErrors: errors.size > 0 });
}

export function intakeThanksPage(site: Site, view: IntakeView): string {
  const see = view.firstSession ? html`<p>See you on ${view.firstSession}.</p>` : html``;
  return layout(site, { title: 'Thank you', body: html`<p class="lead">Your answers are with ${view.therapistName}.</p>${see}${contactLine(site)}` });
}

export function intakeAlreadyAnsweredPage(site: Site): string {
  return layout(site, {
    title: 'Already answered',
    body: html`<p class="lead">We already have your answers to these questions. Thank you.</p>${contactLine(site)}`,
  });
}
