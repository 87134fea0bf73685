/** `keepwell preview <clientId>`'s lines: the preview use case's items in the client's own time zone. */
import { DateTime } from 'luxon';
import { MESSAGE_KINDS } from '../../shared/domain/message.js';
import type { Instant } from '../../shared/domain/time.js';
import type { PreviewItem } from '../../shared/use-cases/preview-messages.js';

export function localTime(at: Instant, zone: string): string {
  return DateTime.fromISO(at, { zone }).toFormat('ccc d LLL yyyy HH:mm ZZZZ');
}

/** The kind column fits the longest kind's name. */
const KIND_WIDTH = Math.max(...MESSAGE_KINDS.map((k) => k.length));

export function formatPreview(items: readonly PreviewItem[], clientLabel: string, zone: string, weeks: number): string[] {
  const lines = [
    `${clientLabel}: ${items.length} message${items.length === 1 ? '' : 's'} in the next ${weeks} week${weeks === 1 ? '' : 's'} (times in ${zone})`,
  ];
  for (const item of items) {
    const about = item.sessionStart ? `session ${item.sessionId} on ${localTime(item.sessionStart, zone)}` : `plan ${item.planId}`;
    lines.push(`  ${localTime(item.at, zone).padEnd(28)} ${item.kind.padEnd(KIND_WIDTH)} ${about}${item.held ? `  — held: ${item.held}` : ''}`);
  }
  return lines;
}
