/**
 * An iCalendar feed, read with ical.js, as intake events. Each VEVENT (each occurrence of a
 * recurring one, from RRULE / RDATE less EXDATE, with its RECURRENCE-ID overrides) within the
 * window becomes one booking change:
 * - the booking id is the UID, plus the occurrence's original start for a recurring event;
 * - STATUS:CANCELLED cancels, anything else books (or moves, when the time changed);
 * - the version is SEQUENCE first, then LAST-MODIFIED (or DTSTAMP): a newer SEQUENCE wins;
 * - the delivery id is a digest of what the event says, so an unchanged event in a changed feed
 *   is a duplicate (one read, no write);
 * - times with a TZID are read in that IANA zone with luxon (whether or not the feed carries a
 *   VTIMEZONE), UTC times as they are, floating times in the clinic's zone;
 * - the client is the first ATTENDEE with a mailto: address (its CN as the name);
 * - the event types a mapping can name are the CATEGORIES, then the SUMMARY, then `*`.
 */
import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import type { IntakeEvent } from './event.js';

/** How far ahead recurring events are expanded, and at most how many occurrences per event. */
export const FEED_WINDOW_DAYS = 90;
export const MAX_OCCURRENCES = 200;
/** A mapping with this event type takes every event of the feed. */
export const ANY_EVENT = '*';

export class FeedParseError extends Error {
  override readonly name = 'FeedParseError';
}

type Time = InstanceType<typeof ICAL.Time>;

/** The TZID parameter of a component's DTSTART / DTEND, if any. */
function tzidOf(component: InstanceType<typeof ICAL.Component>, property: 'dtstart' | 'dtend'): string | undefined {
  const value = component.getFirstProperty(property)?.getParameter('tzid');
  return typeof value === 'string' ? value : undefined;
}

function instant(time: Time, tzid: string | undefined, fallbackZone: string): string {
  if (time.zone?.tzid === 'UTC' || time.zone === ICAL.Timezone.utcTimezone) return time.toJSDate().toISOString();
  const zone = tzid && DateTime.local().setZone(tzid).isValid ? tzid : fallbackZone;
  const local = DateTime.fromObject({ year: time.year, month: time.month, day: time.day, hour: time.hour, minute: time.minute, second: time.second }, { zone });
  return local.toUTC().toISO()!;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export interface FeedReadOptions {
  readonly now: Date;
  /** The zone of floating times (the clinic's). */
  readonly zone: string;
}

export function readFeed(source: string, body: string, options: FeedReadOptions): IntakeEvent[] {
  let root: InstanceType<typeof ICAL.Component>;
  try {
    root = new ICAL.Component(ICAL.parse(body));
  } catch (error) {
    throw new FeedParseError(`the feed is not valid iCalendar: ${(error as Error).message.slice(0, 200)}`, { cause: error });
  }
  const vevents = root.getAllSubcomponents('vevent');
  const masters = new Map<string, InstanceType<typeof ICAL.Event>>();
  const exceptions: Array<InstanceType<typeof ICAL.Event>> = [];
  for (const component of vevents) {
    const event = new ICAL.Event(component);
    if (!event.uid) continue;
    if (event.isRecurrenceException()) exceptions.push(event);
    else masters.set(event.uid, event);
  }
  for (const exception of exceptions) masters.get(exception.uid)?.relateException(exception);

  const from = options.now.getTime() - 86_400_000;
  const until = options.now.getTime() + FEED_WINDOW_DAYS * 86_400_000;
  const out: IntakeEvent[] = [];
  for (const event of masters.values()) {
    const base = describe(event);
    if (!event.isRecurring()) {
      const start = instant(event.startDate, tzidOf(event.component, 'dtstart'), options.zone);
      if (Date.parse(start) < from || Date.parse(start) > until) continue;
      out.push(
        toIntake(
          source,
          event.uid,
          base,
          start,
          instant(event.endDate, tzidOf(event.component, 'dtend') ?? tzidOf(event.component, 'dtstart'), options.zone),
          event.component,
        ),
      );
      continue;
    }
    const iterator = event.iterator();
    for (let i = 0, next = iterator.next(); next && i < MAX_OCCURRENCES * 10; i++, next = iterator.next()) {
      const masterZone = tzidOf(event.component, 'dtstart');
      const original = instant(next, masterZone, options.zone);
      if (Date.parse(original) > until) break;
      const details = event.getOccurrenceDetails(next);
      const occurrence = details.item;
      const zone = tzidOf(occurrence.component, 'dtstart') ?? masterZone;
      const start = instant(details.startDate, zone, options.zone);
      if (Date.parse(start) < from) continue;
      out.push(
        toIntake(
          source,
          `${event.uid}#${original}`,
          { ...base, ...describe(occurrence) },
          start,
          instant(details.endDate, tzidOf(occurrence.component, 'dtend') ?? zone, options.zone),
          occurrence.component,
        ),
      );
      if (out.length >= MAX_OCCURRENCES * masters.size) break;
    }
  }
  return out;
}

interface Description {
  readonly sequence: number;
  readonly modified: number;
  readonly cancelled: boolean;
  readonly eventTypes: readonly string[];
  readonly location?: string;
  readonly client?: { email?: string; name?: string };
}

function describe(event: InstanceType<typeof ICAL.Event>): Description {
  const c = event.component;
  const stamp = (c.getFirstPropertyValue('last-modified') ?? c.getFirstPropertyValue('dtstamp')) as Time | null;
  const categories = c.getAllProperties('categories').flatMap((p) => p.getValues().map(String));
  const summary = text(event.summary);
  const attendee = c
    .getAllProperties('attendee')
    .map((p) => ({ value: String(p.getFirstValue() ?? ''), cn: p.getParameter('cn') }))
    .find((a) => /^mailto:/i.test(a.value));
  const email = attendee ? attendee.value.replace(/^mailto:/i, '').trim() : undefined;
  const name = attendee && typeof attendee.cn === 'string' ? attendee.cn : undefined;
  return {
    sequence: event.sequence ?? 0,
    modified: stamp ? stamp.toJSDate().getTime() : 0,
    cancelled: String(c.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED',
    eventTypes: [...categories, ...(summary ? [summary] : []), ANY_EVENT],
    ...(text(event.location) ? { location: text(event.location)! } : {}),
    ...(email ? { client: { email, ...(name ? { name } : {}) } } : {}),
  };
}

function toIntake(source: string, bookingId: string, d: Description, start: string, end: string, component: InstanceType<typeof ICAL.Component>): IntakeEvent {
  const minutes = Math.round((Date.parse(end) - Date.parse(start)) / 60_000);
  const digest = createHash('sha256')
    .update(JSON.stringify([source, bookingId, d.sequence, d.cancelled, start, end, d.client?.email, component.getFirstPropertyValue('status')]))
    .digest('hex')
    .slice(0, 32);
  return {
    deliveryId: `ics-${digest}`,
    action: d.cancelled ? 'cancel' : 'book',
    bookingId: bookingId.slice(0, 200),
    // SEQUENCE decides; within one SEQUENCE, the later modification.
    version: d.sequence * 1e13 + d.modified,
    eventTypes: d.eventTypes,
    start,
    ...(minutes > 0 ? { durationMinutes: minutes } : {}),
    ...(d.client ? { client: d.client } : {}),
  };
}
