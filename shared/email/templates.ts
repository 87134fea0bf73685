/**
 * Every email Keepwell sends to a client or a therapist about one session or plan, exported here
 * (the booking emails live in booking-templates.ts, the shared pieces in template-parts.ts).
 * A template is a pure function of current data and ready-made links: it builds an EmailDocument
 * (plain text, escaped by the renderer) and returns a RenderedEmail. Times are shown in the
 * reader's zone; the clinic's name, signature, booking details and texts come from configuration.
 */
import type { CheckInAnswers, Client, Clinic, ScoreSet, Therapist } from '../domain/model.js';
import { SCORES } from '../domain/model.js';
import type { Instant } from '../domain/time.js';
import type { StoredSession } from '../ports/store.js';
import { sessionInvite } from './calendar.js';
import type { Block, EmailDocument } from './document.js';
import { unsubscribeHeaders, type RenderedEmail } from './email.js';
import { firstName, formatDate, formatDateTime, formatShortDateTime, shortName } from './format.js';
import { changeDirection, SCORE_LABEL } from '../domain/red-flags.js';
import { latestAnswer } from '../domain/session-answers.js';
import { type ClientEmailBase, clinicFooter, howToBook, rendered, sessionDetails } from './template-parts.js';
import { aftercareFor, DEFAULT_TEXTS } from './texts.js';

export { sessionPosition } from './template-parts.js';
export {
  renderBookingCancellation,
  renderBookingChange,
  renderBookingConfirmation,
  type BookingCancellationInput,
  type BookingChangeInput,
  type BookingConfirmationInput,
} from './booking-templates.js';

export interface ReminderInput extends ClientEmailBase {
  readonly session: StoredSession;
  readonly links: { readonly confirm: string; readonly reschedule: string; readonly unsubscribe: string };
  /** When the email is built: the invitation's DTSTAMP. */
  readonly now: Date;
}

export interface CheckInInput extends ClientEmailBase {
  readonly session: StoredSession;
  readonly links: { readonly checkIn: string; readonly unsubscribe: string };
}

export interface IntakeQuestionnaireInput extends ClientEmailBase {
  /** The plan's first session, when one is booked. */
  readonly session?: StoredSession;
  readonly links: { readonly intake: string; readonly unsubscribe: string };
}

export interface MaintenanceNudgeInput extends ClientEmailBase {
  /** When the next maintenance session fell due. */
  readonly dueAt: Instant;
  readonly links: { readonly unsubscribe: string };
}

export interface TherapistAlertInput {
  readonly clinic: Clinic;
  readonly therapist: Therapist;
  readonly client: Client;
  readonly session: StoredSession;
  readonly reason: 'red-flag' | 'reschedule-request' | 'confirmed-after-request';
  readonly flags?: string[];
  readonly answers?: CheckInAnswers;
  readonly baseline?: ScoreSet;
  readonly message?: string;
}

/**
 * What the reminder says of the client's own answer so far, by the later of confirmation and
 * reschedule request: a request stands until the clinic moves the session, so the reminder says
 * it was heard and offers to keep the time; a confirmation needs no second click.
 */
function answerBlocks(session: StoredSession, zone: string, clinic: Clinic, links: ReminderInput['links']): Block[] {
  switch (latestAnswer(session)) {
    case 'reschedule-requested':
      return [
        {
          type: 'notice',
          tone: 'info',
          text: `You asked for a new time on ${formatDate(session.rescheduleRequestedAt!, zone)}. ${clinic.name} will be in touch to arrange it; until then this booking stands.`,
        },
        { type: 'button', label: 'Keep this time after all', url: links.confirm },
      ];
    case 'confirmed':
      return [{ type: 'paragraph', text: 'You have confirmed you will be there. Thank you.' }];
    default:
      return [{ type: 'button', label: 'Confirm I will be there', url: links.confirm }];
  }
}

export function renderReminder(input: ReminderInput): RenderedEmail {
  const { clinic, client, therapist, plan, session, links } = input;
  const texts = input.texts ?? DEFAULT_TEXTS;
  const zone = client.timezone;
  const when = formatDateTime(session.start, zone);
  const doc: EmailDocument = {
    preheader: `${when} with ${therapist.name}`,
    blocks: [
      { type: 'heading', text: 'Your session is coming up' },
      { type: 'paragraph', text: `Hello ${firstName(client.name)}, this is a reminder of your next session with ${therapist.name}.` },
      sessionDetails(session, plan, therapist, zone),
      ...answerBlocks(session, zone, clinic, links),
      { type: 'paragraph', text: 'Before your session:' },
      { type: 'list', items: texts.beforeSession },
      ...(latestAnswer(session) === 'reschedule-requested'
        ? []
        : [{ type: 'links', links: [{ label: 'Need to reschedule? Let us know', url: links.reschedule }] } as const]),
      { type: 'paragraph', text: 'The attached invitation adds this session to your calendar, and updates it if the time changes.' },
    ],
    footer: clinicFooter(clinic, `You get session reminders because you have a care plan with ${clinic.name}.`),
    unsubscribeUrl: links.unsubscribe,
  };
  return rendered(`Reminder: your session on ${formatShortDateTime(session.start, zone)}`, doc, clinic, {
    headers: unsubscribeHeaders(links.unsubscribe),
    attachments: [sessionInvite({ clinic, client, therapist, session, now: input.now })],
  });
}

export function renderCheckIn(input: CheckInInput): RenderedEmail {
  const { clinic, client, therapist, plan, session, links } = input;
  const texts = input.texts ?? DEFAULT_TEXTS;
  const day = formatDate(session.start, client.timezone);
  const doc: EmailDocument = {
    preheader: `Four quick questions about your session on ${day}`,
    blocks: [
      { type: 'heading', text: 'How are you feeling?' },
      { type: 'paragraph', text: `Hello ${firstName(client.name)}, how are you feeling after your session with ${therapist.name} on ${day}?` },
      {
        type: 'paragraph',
        text: `Four quick questions (pain, mobility, stress and sleep) take under a minute, and help ${therapist.name} plan your next session.`,
      },
      { type: 'button', label: 'Tell us how you feel', url: links.checkIn },
      { type: 'notice', tone: 'info', text: aftercareFor(plan.goal, texts) },
      ...(clinic.phone ? [{ type: 'paragraph', text: `If anything feels wrong, call us on ${clinic.phone}.`, phone: clinic.phone } as const] : []),
    ],
    footer: clinicFooter(clinic, `You get check-ins after your sessions because you have a care plan with ${clinic.name}.`),
    unsubscribeUrl: links.unsubscribe,
  };
  return rendered('How are you feeling after your session?', doc, clinic, { headers: unsubscribeHeaders(links.unsubscribe) });
}

/**
 * Sent when a plan starts, before its first session: the check-in's four questions asked before
 * treatment, so later check-ins have the client's own starting point to be compared with.
 */
export function renderIntakeQuestionnaire(input: IntakeQuestionnaireInput): RenderedEmail {
  const { clinic, client, therapist, plan, session, links } = input;
  const zone = client.timezone;
  const before = session ? `before your first session on ${formatDate(session.start, zone)}` : 'before your first session';
  const doc: EmailDocument = {
    preheader: `Five quick questions ${before}`,
    blocks: [
      { type: 'heading', text: 'Before your first session' },
      {
        type: 'paragraph',
        text: `Hello ${firstName(client.name)}, welcome to ${clinic.name}. ${therapist.name} would like to know how you are ${before}.`,
      },
      {
        type: 'paragraph',
        text: `Four scores (pain, mobility, stress and sleep) and a line on what brings you in take a minute or two. Your later check-ins are compared with them, so ${therapist.name} can see how your care is working.`,
      },
      { type: 'button', label: 'Answer the questions', url: links.intake },
      ...(session ? [sessionDetails(session, plan, therapist, zone)] : []),
      ...(clinic.phone ? [{ type: 'paragraph', text: `Questions before your session? Call us on ${clinic.phone}.`, phone: clinic.phone } as const] : []),
    ],
    footer: clinicFooter(clinic, `You get this questionnaire because you have started a care plan with ${clinic.name}.`),
    unsubscribeUrl: links.unsubscribe,
  };
  return rendered(`Before your first session with ${therapist.name}`, doc, clinic, { headers: unsubscribeHeaders(links.unsubscribe) });
}

export function renderMaintenanceNudge(input: MaintenanceNudgeInput): RenderedEmail {
  const { clinic, client, therapist, links } = input;
  const texts = input.texts ?? DEFAULT_TEXTS;
  const due = formatDate(input.dueAt, client.timezone);
  const doc: EmailDocument = {
    preheader: `Your next maintenance session with ${therapist.name} was due on ${due}`,
    blocks: [
      { type: 'heading', text: 'Your next maintenance session is due this week' },
      {
        type: 'paragraph',
        text: `Hello ${firstName(client.name)}, your next maintenance session with ${therapist.name} is due (from ${due}). Regular sessions keep the benefits you have built up.`,
      },
      ...howToBook(clinic, texts, 'Book your session'),
    ],
    footer: clinicFooter(clinic, `You get maintenance reminders because you have a care plan with ${clinic.name}.`),
    unsubscribeUrl: links.unsubscribe,
  };
  return rendered('Time to book your next maintenance session', doc, clinic, { headers: unsubscribeHeaders(links.unsubscribe) });
}

function answersTable(answers: CheckInAnswers, baseline: ScoreSet | undefined): Block {
  // The sign says which way the score moved; the word says whether that is good for this score.
  const change = (score: (typeof SCORES)[number], now: number, then: number) =>
    now === then ? '0' : `${now > then ? `+${now - then}` : `${now - then}`} (${changeDirection(score, then, now)})`;
  return {
    type: 'table',
    caption: 'Check-in answers (0–10)',
    columns: baseline ? ['', 'Now', 'Baseline', 'Change'] : ['', 'Now'],
    rows: SCORES.map((score) => ({
      cells: baseline
        ? [SCORE_LABEL[score], String(answers[score]), String(baseline[score]), change(score, answers[score], baseline[score])]
        : [SCORE_LABEL[score], String(answers[score])],
    })),
  };
}

/**
 * An email to the therapist that cannot wait for the summary: red flags in a check-in, or a
 * client asking to move a session. Replies go straight to the client.
 */
const ALERT_HEADING: Record<TherapistAlertInput['reason'], string> = {
  'red-flag': 'A check-in needs your attention',
  'reschedule-request': 'A client asked to reschedule',
  'confirmed-after-request': 'A client now confirms the session they asked to move',
};

const ALERT_SUBJECT: Record<TherapistAlertInput['reason'], string> = {
  'red-flag': 'Check-in needs attention',
  'reschedule-request': 'Reschedule request',
  'confirmed-after-request': 'Confirmed after a reschedule request',
};

export function renderTherapistAlert(input: TherapistAlertInput): RenderedEmail {
  const { clinic, therapist, client, session } = input;
  const zone = therapist.timezone;
  const short = formatShortDateTime(session.start, zone);
  const isFlag = input.reason === 'red-flag';
  const blocks: Block[] = [
    { type: 'heading', text: ALERT_HEADING[input.reason] },
    {
      type: 'details',
      rows: [
        ['Client', client.name],
        ['Email', client.email],
        ...(client.phone ? ([['Phone', client.phone]] as const) : []),
        ['Session', formatDateTime(session.start, zone)],
        ['Where', session.location],
      ],
    },
  ];
  if (isFlag) {
    const flags = input.flags ?? [];
    if (flags.length > 0) blocks.push({ type: 'notice', tone: 'alert', text: 'Red flags:', items: flags });
    if (input.answers) {
      blocks.push(answersTable(input.answers, input.baseline));
      if (input.answers.notes.trim()) blocks.push({ type: 'paragraph', text: `Notes from ${client.name}: “${input.answers.notes.trim()}”` });
      if (input.answers.wantsToRebook) blocks.push({ type: 'paragraph', text: `${client.name} would like to book another session.` });
    }
  } else if (input.reason === 'reschedule-request') {
    if (input.message?.trim()) blocks.push({ type: 'paragraph', text: `Message from ${client.name}: “${input.message.trim()}”` });
    // The alert is built at send time, so a confirmation given before the request is known here.
    if (session.confirmedAt) {
      blocks.push({
        type: 'paragraph',
        text: `${firstName(client.name)} had confirmed this session on ${formatDateTime(session.confirmedAt, zone)}; this request comes after that confirmation. The session stays booked until you move it.`,
      });
    }
  } else {
    const asked = session.rescheduleRequestedAt ? ` on ${formatDateTime(session.rescheduleRequestedAt, zone)}` : '';
    blocks.push({
      type: 'paragraph',
      text: `${firstName(client.name)} asked for a new time${asked}, and has now confirmed they will come at the booked time. If you have not moved the session yet, it can stay as it is.`,
    });
  }
  blocks.push({ type: 'paragraph', text: `Reply to this email to answer ${client.name} directly.` });
  const doc: EmailDocument = {
    preheader: isFlag ? `Check-in after the session on ${short}` : `About the session on ${short}`,
    blocks,
    footer: [`Sent by Keepwell for ${clinic.name}, to ${therapist.name}.`],
  };
  // An inbox preview may be seen by anyone nearby: the subject names the client by first name and initial only.
  const subject = `${ALERT_SUBJECT[input.reason]}: ${shortName(client.name)}, session on ${short}`;
  return rendered(subject, doc, clinic, { replyTo: client.email, unsigned: true });
}
