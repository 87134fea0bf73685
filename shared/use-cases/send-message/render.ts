/**
 * Dispatch's rendering: one case per kind, each with the links its email carries. Links carry
 * signed tokens only (bound to the client, the subject and the purpose), never an id in clear.
 */
import { categoryOf } from '../../domain/message.js';
import { intakeLinkExpiry } from '../../domain/intake-questionnaire.js';
import type { Clinic } from '../../domain/model.js';
import type { RenderedEmail } from '../../email/email.js';
import {
  renderBookingCancellation,
  renderBookingChange,
  renderBookingConfirmation,
  renderCheckIn,
  renderIntakeQuestionnaire,
  renderMaintenanceNudge,
  renderReminder,
} from '../../email/templates.js';
import type { EmailTexts } from '../../email/texts.js';
import { pagePaths, type LinkSigner, type TokenPurpose } from '../../security/tokens.js';
import type { SendDecision } from './decide.js';
import type { DispatchKind } from './request.js';

export interface RenderDeps {
  readonly clinic: Clinic;
  readonly tokens: Pick<LinkSigner, 'issue'>;
  readonly texts?: EmailTexts;
}

export function render(deps: RenderDeps, decision: SendDecision, kind: DispatchKind, at: Date): RenderedEmail {
  const { clinic, tokens } = deps;
  const { client, plan, therapist, session } = decision;
  const link = (purpose: Exclude<TokenPurpose, 'adjust-plan'>, subject: string, lifetimeDays?: number) => {
    const token = tokens.issue({ purpose, clientId: client.id, subject, now: at, ...(lifetimeDays ? { lifetimeDays } : {}) });
    const path = purpose === 'check-in' ? pagePaths.checkIn(token) : pagePaths[purpose](token);
    return `${clinic.baseUrl}${path}`;
  };
  const unsubscribe = () => link('unsubscribe', categoryOf(kind)!);
  const base = { clinic, client, therapist, plan, ...(deps.texts ? { texts: deps.texts } : {}) };
  switch (kind) {
    case 'booking-confirmation':
      return renderBookingConfirmation({ ...base, session: session!, now: at, links: { reschedule: link('reschedule', session!.id) } });
    case 'booking-change':
      return renderBookingChange({
        ...base,
        session: session!,
        now: at,
        ...(decision.told ? { movedFrom: decision.told } : {}),
        links: { reschedule: link('reschedule', session!.id) },
      });
    case 'booking-cancellation':
      return renderBookingCancellation({
        ...base,
        session: decision.told
          ? { ...session!, start: decision.told.start, durationMinutes: decision.told.durationMinutes, location: decision.told.location }
          : session!,
        now: at,
      });
    case 'reminder':
      return renderReminder({
        ...base,
        session: session!,
        now: at,
        links: { confirm: link('confirm', session!.id), reschedule: link('reschedule', session!.id), unsubscribe: unsubscribe() },
      });
    case 'check-in':
      return renderCheckIn({ ...base, session: session!, links: { checkIn: link('check-in', session!.id), unsubscribe: unsubscribe() } });
    case 'maintenance-nudge':
      return renderMaintenanceNudge({ ...base, dueAt: decision.dueAt, links: { unsubscribe: unsubscribe() } });
    case 'intake-questionnaire': {
      const lifetimeDays = (intakeLinkExpiry(session?.start, at).getTime() - at.getTime()) / 86_400_000;
      return renderIntakeQuestionnaire({
        ...base,
        ...(session ? { session } : {}),
        links: { intake: link('intake', plan.id, lifetimeDays), unsubscribe: unsubscribe() },
      });
    }
  }
}
