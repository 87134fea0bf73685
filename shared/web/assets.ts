/**
 * The one stylesheet, served by the function itself (CSP `style-src 'self'`: no inline styles).
 * Its URL carries a content hash, so it can be cached for a year and still change on deploy.
 *
 * Colours meet WCAG AA on white: text #1f2328 (15.8:1), muted #4d5561 (7.4:1), error #a4161a
 * (7.6:1); the accent is the clinic's brand colour (clinic.brand.colour, default #0b5d4b at 7.6:1),
 * which the config refuses below 4.5:1 under white text — and so below 4.5:1 as text on white;
 * focus is a 3px outline, never removed.
 * The 0–10 scale buttons are at least 44 × 44 px: 0–5 and 6–10 on two rows on a phone (down to
 * 320 px wide), one row of eleven from 36rem up.
 */
import { createHash } from 'node:crypto';

const CSS_TEMPLATE = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1.0625rem;line-height:1.5;color:#1f2328;background:#f4f6f5}
.site-header{background:#0b5d4b;color:#fff;padding:.75rem 1rem}
.site-header p{margin:0;font-weight:600;max-width:40rem;margin-inline:auto}
.site-header img{display:block;height:2rem;width:auto;max-width:12rem;margin:0 0 .25rem}
main{max-width:40rem;margin:0 auto;padding:1rem;background:#fff;min-height:60vh}
@media (min-width:42rem){main{margin-top:1.5rem;border-radius:8px;padding:1.5rem 2rem}}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}
h2{font-size:1.125rem;margin:0 0 .5rem}
p{margin:0 0 1rem}
.lead{font-size:1.125rem}
.muted,.hint{color:#4d5561}
.hint{margin:0 0 .5rem;font-size:.9375rem}
.details{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0 0 1.25rem;padding:.75rem 1rem;background:#eef3f1;border-radius:6px}
.details dt{font-weight:600}
.details dd{margin:0}
fieldset{border:0;margin:0 0 1.5rem;padding:0;min-width:0}
legend{font-weight:600;font-size:1.0625rem;padding:0;margin-bottom:.25rem}
.options{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:4px;position:relative}
@media (min-width:36rem){.options{grid-template-columns:repeat(11,minmax(0,1fr))}}
.options input{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.options label{display:flex;align-items:center;justify-content:center;min-height:2.75rem;min-width:2.75rem;border:2px solid #4d5561;border-radius:6px;background:#fff;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap;cursor:pointer;user-select:none}
.options input:checked+label{background:#0b5d4b;border-color:#0b5d4b;color:#fff}
.options input:focus-visible+label{outline:3px solid #1a4fd6;outline-offset:2px}
.anchors{display:flex;justify-content:space-between;gap:1rem;margin-top:.25rem;font-size:.875rem;color:#4d5561}
.anchors span:last-child{text-align:right}
.field{margin:0 0 1.5rem}
.field label{display:block;font-weight:600;margin-bottom:.25rem}
textarea{display:block;width:100%;min-height:6rem;padding:.5rem;font:inherit;color:inherit;border:2px solid #4d5561;border-radius:6px}
.check{display:flex;gap:.75rem;align-items:flex-start;margin:0 0 1.5rem}
.check input{width:1.5rem;height:1.5rem;margin:.125rem 0 0;flex:none;accent-color:#0b5d4b}
.check label{font-weight:600}
.choice{display:grid;grid-template-columns:auto 1fr;gap:0 .75rem;align-items:center;margin:0 0 .75rem}
.choice input{width:1.5rem;height:1.5rem;margin:0;accent-color:#0b5d4b}
.choice label{font-weight:600;min-height:2.75rem;display:flex;align-items:center;cursor:pointer}
.choice .hint{grid-column:2;margin:0}
.field input[type=text]{display:block;width:100%;min-height:2.75rem;padding:.5rem;font:inherit;color:inherit;border:2px solid #4d5561;border-radius:6px}
.field input[inputmode=numeric]{width:7rem}
.invalid input[type=text],.invalid.field input{border-color:#a4161a}
button{display:inline-block;font:inherit;font-weight:600;padding:.75rem 1.25rem;min-height:2.75rem;border-radius:6px;border:2px solid #0b5d4b;background:#0b5d4b;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5d4b}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:0 0 1rem}
.actions form{margin:0}
a{color:#0b5d4b}
:focus-visible{outline:3px solid #1a4fd6;outline-offset:2px}
.error{color:#a4161a;font-weight:600;margin:0 0 .5rem}
.invalid textarea,.invalid .options label{border-color:#a4161a}
.error-summary{border:3px solid #a4161a;border-radius:6px;padding:.75rem 1rem;margin:0 0 1.5rem}
.error-summary ul{margin:0;padding-left:1.25rem}
.error-summary a{color:#a4161a;font-weight:600}
.notice{padding:.75rem 1rem;border-left:4px solid #0b5d4b;background:#eef3f1;margin:0 0 1rem}
.safety{border:3px solid #a4161a;border-radius:6px;padding:.75rem 1rem;margin:0 0 1.5rem}
.safety a{color:#a4161a;font-weight:700;display:inline-block;min-height:1.5rem}
.site-footer{max-width:40rem;margin:0 auto;padding:1rem;font-size:.875rem;color:#4d5561}
.site-footer p{margin:0}
@media (prefers-reduced-motion:reduce){*{transition:none!important}}
`.trim();

/** The colour the stylesheet is written in; a clinic's brand colour takes its place. */
const TEMPLATE_ACCENT = '#0b5d4b';

export interface Stylesheet {
  readonly css: string;
  /** A content hash, for the cache-busting `?v=` of its URL. */
  readonly version: string;
}

const stylesheets = new Map<string, Stylesheet>();

/** The stylesheet in a clinic's brand colour (a validated `#rrggbb`), built once per colour. */
export function siteStylesheet(brandColour: string = TEMPLATE_ACCENT): Stylesheet {
  let sheet = stylesheets.get(brandColour);
  if (!sheet) {
    const css = CSS_TEMPLATE.replaceAll(TEMPLATE_ACCENT, brandColour);
    sheet = { css, version: createHash('sha256').update(css).digest('hex').slice(0, 12) };
    stylesheets.set(brandColour, sheet);
  }
  return sheet;
}

/** Where pages link to the stylesheet, under the site's base path. */
export const ASSET_PATHS = { css: '/assets/site.css' } as const;
