/**
 * Turns an EmailDocument into the two parts every email carries: HTML built from the MJML layout
 * (compiled at build time into layout.generated.ts) and a plain-text part with the same content.
 * Every value is plain text escaped here, and only http(s) URLs reach an href, so no template,
 * client name or answer can inject markup.
 */
import type { Block, Brand, EmailDocument, Tone } from './document.js';
import { escapeHtml, safeUrl, telUrl } from './escape.js';
import { FRAGMENTS, SHELL, type FragmentName } from './layout.generated.js';
import { DEFAULT_BRAND_COLOUR, type Clinic } from '../domain/model.js';

export interface RenderedParts {
  readonly html: string;
  readonly text: string;
}

const SLOT = /%%([A-Z]+)%%/g;

/**
 * Fills a fragment's %%NAME%% slots in one pass, so a value that itself contains "%%X%%" is
 * never filled again. Values are already-safe HTML: callers pass escaped text or fragments.
 */
function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(SLOT, (slot, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`email layout slot ${slot} has no value`);
    return value;
  });
}

/** Fills one fragment; `BRAND` (the clinic's colour, a validated hex) is offered to every fragment. */
type Fragment = (name: FragmentName, values: Readonly<Record<string, string>>) => string;

function fragmentsIn(colour: string): Fragment {
  const brand = escapeHtml(colour);
  return (name, values) => fill(FRAGMENTS[name], { ...values, BRAND: brand });
}

const text = (value: string) => escapeHtml(value);
const href = (url: string) => escapeHtml(safeUrl(url));

const NOTICE: Record<Tone, FragmentName> = {
  info: 'notice-info',
  success: 'notice-success',
  warning: 'notice-warning',
  alert: 'notice-alert',
};

/** Row highlight for table rows; 'info' rows stay plain so flags stand out. */
const ROW_BACKGROUND: Record<Tone, string | undefined> = {
  info: undefined,
  success: '#edf7f1',
  warning: '#fdf6e7',
  alert: '#fdeeee',
};

const CELL = 'padding:6px 8px 6px 0;vertical-align:top;';

function detailRow([label, value]: readonly [string, string]): string {
  return `<tr><td style="padding:4px 12px 4px 0;color:#52606d;vertical-align:top;white-space:nowrap;">${text(label)}</td><td style="padding:4px 0;font-weight:600;vertical-align:top;">${text(value)}</td></tr>`;
}

function tableHtml(block: Extract<Block, { type: 'table' }>, fragment: Fragment): string {
  const caption = block.caption ? `<caption style="text-align:left;font-weight:700;padding:4px 0;">${text(block.caption)}</caption>` : '';
  const linked = block.rows.some((row) => row.link);
  const columns = linked ? [...block.columns, block.linkColumn ?? 'Link'] : block.columns;
  const head = columns.map((c) => `<th style="text-align:left;${CELL}color:#52606d;font-size:13px;">${text(c)}</th>`).join('');
  const rows = block.rows
    .map((row) => {
      const background = row.tone ? ROW_BACKGROUND[row.tone] : undefined;
      const style = background ? ` style="background:${background};"` : '';
      const weight = row.tone === 'alert' ? 'font-weight:600;' : '';
      const link = row.link ? `<a href="${href(row.link.url)}" style="font-weight:600;white-space:nowrap;">${text(row.link.label)}</a>` : '';
      return `<tr${style}>${row.cells.map((c) => `<td style="${CELL}${weight}">${text(c)}</td>`).join('')}${linked ? `<td style="${CELL}">${link}</td>` : ''}</tr>`;
    })
    .join('');
  return fragment('table', { CAPTION: caption, HEAD: head, ROWS: rows });
}

function blockHtml(block: Block, fragment: Fragment): string {
  switch (block.type) {
    case 'heading':
      return fragment('heading', { TEXT: text(block.text) });
    case 'paragraph': {
      const escaped = text(block.text);
      if (!block.phone) return fragment('paragraph', { TEXT: escaped });
      const number = text(block.phone);
      return fragment('paragraph', { TEXT: escaped.replace(number, `<a href="${href(telUrl(block.phone))}" style="font-weight:600;">${number}</a>`) });
    }
    case 'button':
      return fragment('button', { URL: href(block.url), LABEL: text(block.label) });
    case 'links':
      return block.links.map((l) => fragment('link', { URL: href(l.url), LABEL: text(l.label) })).join('');
    case 'details':
      return fragment('details', { ROWS: block.rows.map(detailRow).join('') });
    case 'notice': {
      const items = block.items?.length
        ? `<ul style="margin:6px 0 0;padding-left:20px;">${block.items.map((i) => `<li style="margin:0 0 4px;">${text(i)}</li>`).join('')}</ul>`
        : '';
      return fragment(NOTICE[block.tone], { TEXT: text(block.text) + items });
    }
    case 'table':
      return tableHtml(block, fragment);
    case 'list':
      return fragment('list', { ITEMS: block.items.map((i) => `<li style="margin:0 0 4px;">${text(i)}</li>`).join('') });
    case 'image':
      return fragment('image', { CID: escapeHtml(safeContentId(block.cid)), ALT: text(block.alt) });
    case 'divider':
      return fragment('divider', {});
  }
}

/** A Content-ID is an addr-spec-like token: only what SES and every mail client accept in `cid:`. */
function safeContentId(cid: string): string {
  if (!/^[A-Za-z0-9.@_-]{1,100}$/.test(cid)) throw new Error(`image content id "${cid}" is not a safe token`);
  return cid;
}

/** The plain-text part: the same blocks, read top to bottom, links written out in full. */
function blockText(block: Block): string {
  switch (block.type) {
    case 'heading':
      return `${block.text}\n${'='.repeat(Math.min(block.text.length, 60))}`;
    case 'paragraph':
      return block.text;
    case 'button':
      return `${block.label}:\n${safeUrl(block.url)}`;
    case 'links':
      return block.links.map((l) => `${l.label}:\n${safeUrl(l.url)}`).join('\n\n');
    case 'details': {
      const width = Math.max(...block.rows.map(([label]) => label.length));
      return block.rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join('\n');
    }
    case 'notice': {
      const line = block.tone === 'alert' || block.tone === 'warning' ? `!! ${block.text}` : `> ${block.text}`;
      return [line, ...(block.items ?? []).map((i) => `- ${i}`)].join('\n');
    }
    case 'table': {
      const lines = block.rows.map(
        (row) =>
          `${row.tone === 'alert' || row.tone === 'warning' ? '!! ' : '- '}${row.cells.join(' | ')}${row.link ? `\n   ${row.link.label}: ${safeUrl(row.link.url)}` : ''}`,
      );
      return [...(block.caption ? [block.caption] : []), `   ${block.columns.join(' | ')}`, ...lines].join('\n');
    }
    case 'list':
      return block.items.map((i) => `- ${i}`).join('\n');
    case 'image':
      return `[Chart] ${block.alt}`;
    case 'divider':
      return '----------------------------------------';
  }
}

function title(doc: EmailDocument, brand: Brand): string {
  const heading = doc.blocks.find((b): b is Extract<Block, { type: 'heading' }> => b.type === 'heading');
  return heading ? `${heading.text} · ${brand.clinicName}` : brand.clinicName;
}

/** The brand of a clinic's emails: its name, colour and logo (the signature is added by client emails). */
export function brandOf(clinic: Pick<Clinic, 'name' | 'brand'>): Brand {
  return { clinicName: clinic.name, colour: clinic.brand.colour, ...(clinic.brand.logoUrl ? { logoUrl: clinic.brand.logoUrl } : {}) };
}

/** The logo before the clinic's name: decorative (the name follows), so an empty alt. */
function logoHtml(logoUrl: string | undefined): string {
  return logoUrl ? `<img src="${href(logoUrl)}" alt="" height="40" style="display:block;height:40px;width:auto;max-width:240px;border:0;margin:0 0 8px;">` : '';
}

export function renderDocument(doc: EmailDocument, brand: Brand): RenderedParts {
  const fragment = fragmentsIn(brand.colour ?? DEFAULT_BRAND_COLOUR);
  const signature = brand.signature ? fragment('signature', { TEXT: text(brand.signature) }) : '';
  const footerLines = (doc.footer ?? []).map((line) => fragment('footer-line', { TEXT: text(line) }));
  if (doc.unsubscribeUrl) footerLines.push(fragment('footer-unsubscribe', { URL: href(doc.unsubscribeUrl), LABEL: text('Unsubscribe') }));
  const html = fill(SHELL, {
    TITLE: text(title(doc, brand)),
    PREHEADER: text(doc.preheader),
    CLINIC: text(brand.clinicName),
    LOGO: logoHtml(brand.logoUrl),
    BRAND: escapeHtml(brand.colour ?? DEFAULT_BRAND_COLOUR),
    BLOCKS: doc.blocks.map((block) => blockHtml(block, fragment)).join('') + signature,
    FOOTER: footerLines.join(''),
  });

  const sections = doc.blocks.map(blockText);
  if (brand.signature) sections.push(brand.signature);
  const footer = [...(doc.footer ?? []), ...(doc.unsubscribeUrl ? [`Unsubscribe: ${safeUrl(doc.unsubscribeUrl)}`] : [])];
  const textPart = [brand.clinicName, ...sections, ...(footer.length ? ['--', footer.join('\n')] : [])].join('\n\n');
  return { html, text: `${textPart}\n` };
}
