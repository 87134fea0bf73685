/**
 * The check-in pages: the form (four 0–10 scales, notes, "book my next session"), the thank-you
 * (with what to do if it gets worse after a red flag) and "Already answered". The scales are
 * shared with the intake questionnaire's page (intake-page.ts).
 */
import type { Score } from '../domain/model.js';
import { SCORES } from '../domain/model.js';
import type { FieldIssue } from '../domain/validation.js';
import { telUrl } from '../email/escape.js';
import { FIELDS } from './forms.js';
import { html, type Html } from './html.js';
import { contactLine, details, errorsOf, errorSummary, fieldError, layout, tokenField, type SessionView, type Site } from './page-parts.js';

// ---------------------------------------------------------------- check-in

interface ScaleText {
  readonly label: string;
  readonly question: string;
  readonly low: string;
  readonly high: string;
}

export const SCALES: Record<Score, ScaleText> = {
  pain: { label: 'Pain', question: 'How much pain do you have today?', low: 'No pain', high: 'Worst pain imaginable' },
  mobility: { label: 'Mobility', question: 'How freely can you move?', low: "Can't move freely at all", high: 'Moving completely freely' },
  stress: { label: 'Stress', question: 'How stressed do you feel?', low: 'Completely relaxed', high: 'Extremely stressed' },
  sleep: { label: 'Sleep', question: 'How well have you been sleeping?', low: 'Very badly', high: 'Very well' },
};

/** What the client sent, kept so a form shown again with errors loses none of it. */
export interface CheckInValues {
  readonly scores: Partial<Record<Score, number>>;
  readonly notes: string;
  readonly wantsToRebook: boolean;
}

export function scale(score: Score, value: number | undefined, errors: Map<string, string>): Html {
  const text = SCALES[score];
  const invalid = errors.has(score);
  const describedBy = `${score}-hint${invalid ? ` ${score}-error` : ''}`;
  const options = Array.from({ length: 11 }, (_, n) => {
    const id = `${score}-${n}`;
    return html`<input type="radio" name="${score}" id="${id}" value="${n}"${value === n ? html` checked` : ''}><label for="${id}">${n}</label>`;
  });
  return html`<fieldset id="${score}"${invalid ? html` class="invalid"` : ''} aria-describedby="${describedBy}">
<legend>${text.label}: ${text.question}</legend>
<p class="hint" id="${score}-hint">0 = ${text.low.toLowerCase()}, 10 = ${text.high.toLowerCase()}</p>
${fieldError(score, errors)}<div class="options">${options}</div>
<div class="anchors" aria-hidden="true"><span>${text.low}</span><span>${text.high}</span></div>
</fieldset>
`;
}

export function checkInFormPage(site: Site, input: { token: string; view: SessionView; values?: CheckInValues; issues?: readonly FieldIssue[] }): string {
  const errors = errorsOf(input.issues ?? []);
  const values = input.values ?? { scores: {}, notes: '', wantsToRebook: false };
  const notesInvalid = errors.has(FIELDS.notes);
  const body = html`<p class="lead">How have you been since your session? Your answers go to ${input.view.therapistName} and help plan your care.</p>
${details(input.view)}
${errorSummary(errors, (field) => ((SCORES as readonly string[]).includes(field) ? `${field}-0` : field))}
<form method="post" novalidate>
${tokenField(input.token)}
${SCORES.map((score) => scale(score, values.scores[score], errors))}
<div class="field${notesInvalid ? ' invalid' : ''}">
<label for="${FIELDS.notes}">Anything else ${input.view.therapistName} should know? (optional)</label>
<p class="hint" id="${FIELDS.notes}-hint">Up to 2,000 characters. For anything urgent, please call the clinic.</p>
${fieldError(FIELDS.notes, errors)}<textarea id="${FIELDS.notes}" name="${FIELDS.notes}" rows="4" maxlength="2000" aria-describedby="${FIELDS.notes}-hint${notesInvalid ? ` ${FIELDS.notes}-error` : ''}">${values.notes}</textarea>
</div>
<div class="check"><input type="checkbox" id="${FIELDS.wantsToRebook}" name="${FIELDS.wantsToRebook}" value="yes"${values.wantsToRebook ? html` checked` : ''}><label for="${FIELDS.wantsToRebook}">I'd like to book my next session</label></div>
<button type="submit">Send my answers</button>
</form>`;
  return layout(site, { title: 'How are you feeling?', body, hasErrors: errors.size > 0 });
}

export function checkInThanksPage(site: Site, input: { view: SessionView; wantsToRebook: boolean; flagged?: boolean }): string {
  const rebook = input.wantsToRebook ? html`<p>You asked to book your next session: the clinic will be in touch to arrange a time.</p>` : html``;
  const body = html`<p class="lead">Your answers are with ${input.view.therapistName}.</p>${input.flagged ? safetyAdvice(site) : html``}${rebook}${bookingLink(site)}`;
  return layout(site, { title: 'Thank you', body });
}

export function checkInAlreadyAnsweredPage(site: Site, view?: SessionView): string {
  const about = view
    ? html`<p class="lead">We already have your answers about your session on ${view.when}. Thank you.</p>`
    : html`<p class="lead">We already have your answers. Thank you.</p>`;
  return layout(site, { title: 'Already answered', body: html`${about}${contactLine(site)}` });
}

/**
 * What to do if it gets worse, for a client whose answers raised a red flag: call the clinic
 * (tap to call), and in an emergency the local emergency number. Only on the page, never in an
 * email: advice for right now belongs where the client is reading right now.
 */
function safetyAdvice(site: Site): Html {
  const { clinic } = site;
  const callClinic = clinic.phone
    ? html`<p>${clinic.name} will look at your answers. If you feel worse before then, call us on <a href="${telUrl(clinic.phone)}">${clinic.phone}</a>.</p>`
    : html`<p>${clinic.name} will look at your answers. If you feel worse before then, reply to any email from us.</p>`;
  const emergency = clinic.emergencyNumber
    ? html`<p>In an emergency, call <a href="${telUrl(clinic.emergencyNumber)}">${clinic.emergencyNumber}</a>.</p>`
    : html`<p>In an emergency, call your local emergency number.</p>`;
  return html`<section class="safety" aria-labelledby="safety-heading"><h2 id="safety-heading">If it gets worse</h2>${callClinic}${emergency}</section>`;
}

export function bookingLink(site: Site): Html {
  return site.clinic.bookingUrl ? html`<p><a href="${site.clinic.bookingUrl}">Book online</a></p>` : html``;
}
