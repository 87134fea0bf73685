/**
 * The summary's size guard. A raw message must stay under 1 MB: the guard drops rows from the end
 * of the email (the least urgent first, flags last) until the estimate fits and says so in the
 * email, while the CSV keeps every check-in. Only if the flags and the whole CSV cannot fit
 * together are the CSV's notes shortened, as little as will do, and the email says that too.
 */
import type { SummaryData } from '../domain/summary.js';
import type { RenderedChart } from './chart.js';
import type { Brand, EmailDocument } from './document.js';
import type { EmailAttachment, InlineImage } from './email.js';
import { renderDocument } from './render.js';
import { checkInsCsv, CSV_FILENAME, CSV_TYPE } from './summary-csv.js';
import { summaryDocument, summarySubject } from './summary-document.js';
import { totalRows, type ChartRef } from './summary-sections.js';

/** SES accepts larger messages, but many receiving servers and phones struggle past 1 MB. */
export const MAX_RAW_MESSAGE_BYTES = 1_000_000;
/** Room for the MIME headers, boundaries and part headers around the encoded parts. */
const ENVELOPE_ALLOWANCE_BYTES = 8_192;

/**
 * A safe upper estimate of a part's size once encoded in a MIME message: the larger of base64
 * (4/3, with a CRLF every 76 characters) and quoted-printable (each non-ASCII byte ×3), so the
 * guard holds whichever encoding the mailer picks.
 */
export function encodedSize(content: string): number {
  const bytes = Buffer.byteLength(content, 'utf8');
  const base64 = Math.ceil(bytes / 3) * 4 * (78 / 76);
  // Printable ASCII but "=", and line feeds, stay one character each; every other byte takes three.
  const plain = content.length - (content.match(/[^\x20-\x3c\x3e-\x7e\n]/g)?.length ?? 0);
  const quotedPrintable = (plain + (bytes - plain) * 3) * (76 / 75);
  return Math.ceil(Math.max(base64, quotedPrintable));
}

export interface ComposedSummary {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachments: readonly EmailAttachment[];
  /** The trend charts the email shows, attached inline. */
  readonly inlineImages: readonly InlineImage[];
  /** Set when the guard shortened the email: how many table rows it kept, of how many. */
  readonly truncated?: { readonly shownRows: number; readonly totalRows: number; readonly notesShortenedTo?: number };
  readonly estimatedBytes: number;
}

/** Base64 with line breaks, as MIME carries a binary attachment. */
const base64Size = (bytes: number) => Math.ceil(bytes / 3) * 4 * (78 / 76);

function estimate(subject: string, parts: { html: string; text: string }, csv: string | undefined, images: readonly InlineImage[]): number {
  const pictures = images.reduce((n, image) => n + base64Size(image.content.length) + 200, 0);
  return (
    ENVELOPE_ALLOWANCE_BYTES + Buffer.byteLength(subject) * 3 + encodedSize(parts.html) + encodedSize(parts.text) + (csv ? encodedSize(csv) : 0) + pictures
  );
}

/** The largest n in 0..max with fits(n), for a `fits` that holds up to some n and fails above it. */
function largestThatFits(max: number, fits: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Content ids for the charts: a counter, never a plan or client id, so nothing in the MIME
 * structure names anyone.
 */
function chartRefs(charts: ReadonlyMap<string, RenderedChart> | undefined): { refs: Map<string, ChartRef>; images: Map<string, InlineImage> } {
  const refs = new Map<string, ChartRef>();
  const images = new Map<string, InlineImage>();
  let n = 0;
  for (const [planId, chart] of charts ?? []) {
    n += 1;
    const cid = `trend-${n}@keepwell`;
    refs.set(planId, { cid, alt: chart.alt });
    images.set(cid, { filename: `trend-${n}.png`, contentType: 'image/png', content: chart.png, contentId: cid });
  }
  return { refs, images };
}

/** The inline images a document shows: those its image blocks name. */
function shownImages(doc: EmailDocument, images: ReadonlyMap<string, InlineImage>): InlineImage[] {
  return doc.blocks.flatMap((b) => (b.type === 'image' && images.has(b.cid) ? [images.get(b.cid)!] : []));
}

/**
 * Subject, HTML, text, CSV and inline trend charts of one summary, kept under `maxBytes` by the
 * guard. `charts` holds each charted plan's picture by plan id; the guard cuts chart cards like
 * any other rows, least urgent first. `adjustLinks` holds each plan's "Adjust plan" link.
 */
export function composeSummary(
  data: SummaryData,
  brand: Brand,
  options: { maxBytes?: number; charts?: ReadonlyMap<string, RenderedChart>; adjustLinks?: ReadonlyMap<string, string> } = {},
): ComposedSummary {
  const maxBytes = options.maxBytes ?? MAX_RAW_MESSAGE_BYTES;
  const subject = summarySubject(data);
  const { refs, images } = chartRefs(options.charts);
  const charts = refs.size > 0 ? refs : undefined;
  const attach = (csv: string) => (data.isEmpty ? [] : [{ filename: CSV_FILENAME, contentType: CSV_TYPE, content: csv }]);
  const build = (rowBudget: number | undefined, csv: string, csvNoteChars?: number) => {
    const doc = summaryDocument(data, {
      ...(charts ? { charts } : {}),
      ...(options.adjustLinks ? { adjustLinks: options.adjustLinks } : {}),
      ...(rowBudget !== undefined ? { rowBudget } : {}),
      ...(csvNoteChars !== undefined ? { csvNoteChars } : {}),
    });
    const parts = renderDocument(doc, brand);
    const inlineImages = shownImages(doc, images);
    return { parts, inlineImages, bytes: estimate(subject, parts, data.isEmpty ? undefined : csv, inlineImages) };
  };

  const csv = checkInsCsv(data);
  const full = build(undefined, csv);
  if (full.bytes <= maxBytes) return { subject, ...full.parts, attachments: attach(csv), inlineImages: full.inlineImages, estimatedBytes: full.bytes };

  // Keep as many rows as fit: the largest budget whose email is under the limit.
  const total = totalRows(data, charts, options.adjustLinks);
  let keptCsv = csv;
  let notesShortenedTo: number | undefined;
  // The red flags are the last thing to give up: if they and the whole CSV do not fit together,
  // the CSV's notes are shortened (as little as will do) before a flag leaves the email.
  const flaggedRows = data.checkIns.filter((c) => c.flags.length > 0).length;
  if (build(flaggedRows, csv).bytes > maxBytes) {
    const longest = Math.max(0, ...data.checkIns.map((c) => c.notes.length));
    notesShortenedTo = largestThatFits(longest, (chars) => build(flaggedRows, checkInsCsv(data, { maxNoteChars: chars }), chars).bytes <= maxBytes);
    keptCsv = checkInsCsv(data, { maxNoteChars: notesShortenedTo });
  }
  const rows = largestThatFits(total, (budget) => build(budget, keptCsv, notesShortenedTo).bytes <= maxBytes);
  const kept = build(rows, keptCsv, notesShortenedTo);
  return {
    subject,
    ...kept.parts,
    attachments: attach(keptCsv),
    inlineImages: kept.inlineImages,
    truncated: { shownRows: rows, totalRows: total, ...(notesShortenedTo !== undefined ? { notesShortenedTo } : {}) },
    estimatedBytes: kept.bytes,
  };
}
