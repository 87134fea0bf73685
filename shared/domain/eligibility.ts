/**
 * Who gets which message, from the state alone: a client's refusals (a suppressed address, an
 * unsubscribe), why a message can no longer go (skipReasonFor, asked by dispatch before a send and
 * by sync-schedules when it deletes a pending message's schedule), and what a session should have
 * for its client now (the time rules, less what the client does not receive).
 */
import { categoryOf, isBookingKind, type MessageIdentity, type MessageKind } from './message.js';
import type { Clinic, Client, Plan, Session } from './model.js';
import { planSessionMessages, type MessageDecision, type PlannedMessage } from './schedule-rules.js';
import type { Instant } from './time.js';

function kindOf(decision: MessageDecision): MessageKind {
  return decision.action === 'schedule' ? decision.message.identity.kind : decision.identity.kind;
}

/** Why the client does not get this kind of message at all (suppressed, unsubscribed), if so. */
function refusal(client: Client, kind: MessageKind): string | undefined {
  if (client.suppressed) return `address suppressed (${client.suppressed.reason})`;
  const category = categoryOf(kind);
  return category && client.preferences[category] === false ? `unsubscribed from ${category}` : undefined;
}

/** Whether the client gets this kind of message at all: not suppressed and not unsubscribed from its category. */
export function receives(client: Client, kind: MessageKind): boolean {
  return refusal(client, kind) === undefined;
}

/** The state a message is judged by: each part absent when it no longer exists. */
export interface MessageState {
  readonly client?: Client;
  readonly plan?: Plan;
  readonly session?: Session;
}

/**
 * Why a message can no longer go, from the state alone (time rules aside): the client gone or not
 * receiving it, the plan gone or not active, the session gone, moved to another plan, cancelled,
 * a no-show, or rescheduled (its version moved on). Undefined when the state still allows it.
 * Dispatch asks it before sending; sync-schedules when it deletes a pending message's schedule.
 */
export function skipReasonFor(state: MessageState, identity: MessageIdentity): string | undefined {
  const { client, plan, session } = state;
  if (!client) return 'client not found';
  const refused = refusal(client, identity.kind);
  if (refused) return refused;
  if (!plan) return 'plan not found';
  if (plan.status !== 'active') return `plan ${plan.status}`;
  // A plan's messages: the nudge's due period and the intake's first session are judged by their own rules.
  if (identity.kind === 'maintenance-nudge' || identity.kind === 'intake-questionnaire') return undefined;
  if (!session) return 'session not found';
  if (session.planId !== plan.id) return 'session moved to another plan';
  // A booking email's session state (a cancellation notice needs a cancelled session) is judged by bookingSkipReason.
  if (isBookingKind(identity.kind)) return undefined;
  if (session.status === 'cancelled') return 'session cancelled';
  if (session.status === 'no-show') return 'session marked no-show';
  if (identity.version !== session.version) return 'version moved on';
  return undefined;
}

/** Why a message whose schedule was deleted will not go, when the state does not say. */
export const NO_LONGER_PLANNED = 'no longer planned for this session';

/** What a session should have for this client now: the time rules, less what the client does not receive. */
export function clientMessages(session: Session, plan: Plan, client: Client, clinic: Pick<Clinic, 'quietHours'>, now: Instant): MessageDecision[] {
  return planSessionMessages({ session, plan, client, clinic, now }).filter((decision) => receives(client, kindOf(decision)));
}

/** The messages among `decisions` that are to be scheduled. */
export function scheduled(decisions: readonly MessageDecision[]): PlannedMessage[] {
  return decisions.flatMap((d) => (d.action === 'schedule' ? [d.message] : []));
}
