/**
 * A client changes which emails they get from an unsubscribe link: one category, or everything;
 * and can take an unsubscribe back from the page that confirms it. Idempotent: unsubscribing twice
 * leaves the same preferences, so the link is not single-use (RFC 8058 one-click relies on that).
 *
 * 1. Validate the client id and the category (reminders, check-ins, maintenance, or all).
 * 2. Write the preference (`unsubscribe` is shared with the simulation and the tests' writers).
 * A bounce or complaint suppression is not lifted by resubscribing: that address stays quiet.
 */
import * as z from 'zod';
import { CATEGORIES, idSchema, type Category, type Client } from '../domain/model.js';
import { parseOrThrow } from '../domain/validation.js';
import type { ClinicStore } from '../ports/store.js';

export const subscriptionScopeSchema = z.enum([...CATEGORIES, 'all'], { error: `must be one of ${[...CATEGORIES, 'all'].join(', ')}` });
export type SubscriptionScope = Category | 'all';

/** Unsubscribes a client from one category, or from everything. */
export async function unsubscribe(store: ClinicStore, clientId: string, category: string): Promise<Client> {
  parseOrThrow(idSchema, clientId, 'client id');
  const parsed = parseOrThrow(subscriptionScopeSchema, category, 'category') as SubscriptionScope;
  return store.setPreference(clientId, parsed, false);
}

/** A hard bounce or complaint: the address gets nothing more, in any category. */
export async function suppressAddress(
  store: ClinicStore,
  email: string,
  reason: 'bounce' | 'complaint',
  at: string,
  detail?: string,
): Promise<Client | undefined> {
  return store.suppressByEmail(email, reason, at, detail);
}

export interface SubscriptionChange {
  readonly clientId: string;
  readonly scope: SubscriptionScope;
  readonly action: 'unsubscribe' | 'resubscribe';
}

export async function manageSubscription(
  deps: { readonly store: ClinicStore },
  change: SubscriptionChange,
): Promise<{ readonly status: 'updated'; readonly client: Client }> {
  const clientId = parseOrThrow(idSchema, change.clientId, 'client id');
  const scope = parseOrThrow(subscriptionScopeSchema, change.scope, 'category');
  const client = change.action === 'unsubscribe' ? await unsubscribe(deps.store, clientId, scope) : await deps.store.setPreference(clientId, scope, true);
  return { status: 'updated', client };
}

/** Whether the client gets emails of `scope` (for `all`: every category). */
export function isSubscribed(client: Client, scope: SubscriptionScope): boolean {
  return scope === 'all' ? CATEGORIES.every((c) => client.preferences[c]) : client.preferences[scope];
}
