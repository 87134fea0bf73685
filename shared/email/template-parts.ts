/**
 * The pieces every email template is built from: the input all client emails share, the session's
 * details block, the clinic footer, the how-to-book blocks and the final render with signature.
 */
import type { Clinic, Client, Plan, Therapist } from '../domain/model.js';
import type { StoredSession } from '../ports/store.js';
import type { Block, EmailDocument } from './document.js';
import type { EmailAttachment, RenderedEmail } from './email.js';
import { formatDateTime } from './format.js';
import { brandOf, renderDocument } from './render.js';
import type { EmailTexts } from './texts.js';

export interface ClientEmailBase {
  readonly clinic: Clinic;
  readonly client: Client;
  readonly therapist: Therapist;
  readonly plan: Plan;
  readonly texts?: EmailTexts;
}

/**
 * "Session 3 of 6 (initial)", "Maintenance session", or "Session 9" once an open-ended phase runs
 * past its count; undefined before the writers have numbered the session.
 */
export function sessionPosition(plan: Pick<Plan, 'phases'>, session: StoredSession): string | undefined {
  if (session.maintenance) return 'Maintenance session';
  if (session.number === undefined) return undefined;
  if (session.ofPhase === undefined || session.inPhase === undefined) return `Session ${session.number}`;
  const phaseName = plan.phases.length > 1 && session.phase ? ` (${session.phase})` : '';
  return `Session ${session.inPhase} of ${session.ofPhase}${phaseName}`;
}

export function clinicFooter(clinic: Clinic, why: string): string[] {
  return [why, ...(clinic.phone ? [`${clinic.name} · ${clinic.phone}`] : [clinic.name])];
}

export function rendered(
  subject: string,
  doc: EmailDocument,
  clinic: Clinic,
  extra: { headers?: Record<string, string>; attachments?: EmailAttachment[]; replyTo?: string; unsigned?: boolean } = {},
): RenderedEmail {
  // The clinic's signature is written to clients; an alert between colleagues goes without it.
  const signature = clinic.signature && !extra.unsigned ? { signature: clinic.signature } : {};
  const { html, text } = renderDocument(doc, { ...brandOf(clinic), ...signature });
  return {
    subject,
    html,
    text,
    headers: extra.headers ?? {},
    attachments: extra.attachments ?? [],
    ...(extra.replyTo ? { replyTo: extra.replyTo } : {}),
  };
}

export function sessionDetails(session: StoredSession, plan: Plan, therapist: Therapist, zone: string): Block {
  const position = sessionPosition(plan, session);
  return {
    type: 'details',
    rows: [
      ['When', formatDateTime(session.start, zone)],
      ['Length', `${session.durationMinutes} minutes`],
      ['Where', session.location],
      ['With', therapist.name],
      ...(position ? ([['Session', position]] as const) : []),
    ],
  };
}

/** How to book: the clinic's booking link, its phone, or a reply. */
export function howToBook(clinic: Clinic, texts: EmailTexts, label: string): Block[] {
  const blocks: Block[] = [];
  if (clinic.bookingUrl) blocks.push({ type: 'button', label, url: clinic.bookingUrl });
  if (clinic.phone) blocks.push({ type: 'paragraph', text: `${clinic.bookingUrl ? 'Or call' : 'Call'} us on ${clinic.phone}.`, phone: clinic.phone });
  blocks.push({ type: 'paragraph', text: clinic.bookingUrl || clinic.phone ? 'You can also simply reply to this email.' : texts.bookByReply });
  return blocks;
}
