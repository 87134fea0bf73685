/** The summary's words for times, names and free text: the therapist's zone, one line per note. */
import { DateTime } from 'luxon';
import type { SummaryClient } from '../domain/summary.js';

export function local(at: string, zone: string, format: string): string {
  return DateTime.fromISO(at, { zone: 'utc' }).setZone(zone).setLocale('en-GB').toFormat(format);
}
export const when = (at: string, zone: string) => local(at, zone, 'ccc d LLL HH:mm');
export const day = (at: string, zone: string) => local(at, zone, 'ccc d LLL');

export function clientLabel(client: SummaryClient): string {
  return client.name ?? `Client ${client.id} (no longer on record)`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Free text on one line: line breaks would break a details row or a table cell in the text part. */
export function flatten(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function shorten(text: string, max: number): string {
  const flat = flatten(text);
  if (flat.length <= max) return flat;
  return max < 2 ? '' : `${flat.slice(0, max - 1).trimEnd()}…`;
}
