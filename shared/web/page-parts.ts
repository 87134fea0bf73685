/**
 * What every client page is built from: the layout (header, one h1, footer in the clinic's name),
 * the session details, the hidden token field, and the error summary and field errors of a form.
 */
import { ASSET_PATHS, siteStylesheet } from './assets.js';
import { FIELDS } from './forms.js';
import { html, type Html } from './html.js';
import type { Clinic } from '../domain/model.js';
import type { FieldIssue } from '../domain/validation.js';

/** What every page needs to know about the site. */
export interface Site {
  readonly clinic: Clinic;
  /** The path the site is served under (from clinic.baseUrl), '' at the root. */
  readonly basePath: string;
}

/** The session a page is about, already put in the client's words and zone. */
export interface SessionView {
  readonly when: string;
  readonly therapistName: string;
  readonly location: string;
}

export function layout(site: Site, page: { title: string; body: Html; hasErrors?: boolean }): string {
  const { clinic } = site;
  const title = `${page.hasErrors ? 'Error: ' : ''}${page.title} – ${clinic.name}`;
  const contact = clinic.phone ? html` · ${clinic.phone}` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<link rel="stylesheet" href="${site.basePath}${ASSET_PATHS.css}?v=${siteStylesheet(clinic.brand.colour).version}">
</head>
<body>
<header class="site-header">${clinic.brand.logoUrl ? html`<img src="${clinic.brand.logoUrl}" alt="" height="32">` : ''}<p>${clinic.name}</p></header>
<main>
<h1>${page.title}</h1>
${page.body}
</main>
<footer class="site-footer"><p>${clinic.name}${contact}</p></footer>
</body>
</html>
`.value;
}

export function details(view: SessionView): Html {
  return html`<dl class="details"><dt>When</dt><dd>${view.when}</dd><dt>With</dt><dd>${view.therapistName}</dd><dt>Where</dt><dd>${view.location}</dd></dl>`;
}

export function tokenField(token: string): Html {
  return html`<input type="hidden" name="${FIELDS.token}" value="${token}">`;
}

export function contactLine(site: Site): Html {
  return site.clinic.phone
    ? html`<p>If you need us, call ${site.clinic.name} on ${site.clinic.phone}.</p>`
    : html`<p>If you need us, reply to any email from ${site.clinic.name}.</p>`;
}

/** Issues by field, and the summary at the top of a form that links to each field. */
export function errorsOf(issues: readonly FieldIssue[]): Map<string, string> {
  const byField = new Map<string, string>();
  for (const issue of issues) {
    const field = issue.path.split('.')[0] || 'form';
    if (!byField.has(field)) byField.set(field, sentence(issue.reason));
  }
  return byField;
}

export function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function errorSummary(errors: Map<string, string>, anchorOf: (field: string) => string): Html {
  if (errors.size === 0) return html``;
  const items = [...errors].map(([field, reason]) => html`<li><a href="#${anchorOf(field)}">${reason}</a></li>`);
  // Focus lands on the summary when the page loads, with no script: autofocus on a tabindex=-1 box.
  return html`<div class="error-summary" role="alert" tabindex="-1" autofocus><h2>Please check your answers</h2><ul>${items}</ul></div>`;
}

export function fieldError(field: string, errors: Map<string, string>): Html {
  const reason = errors.get(field);
  return reason ? html`<p class="error" id="${field}-error">${reason}</p>` : html``;
}
