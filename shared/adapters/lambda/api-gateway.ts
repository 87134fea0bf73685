/**
 * API Gateway HTTP API events (payload v2) as the pages' WebRequest: the part of the event the
 * pages read, validated with zod, header names lowercased, the body as the bytes it was sent as.
 */
import * as z from 'zod';
import { parseOrThrow } from '../../domain/validation.js';
import type { WebRequest } from '../../web/http.js';

/** The part of a payload v2 event the pages read. */
const eventSchema = z.object({
  rawPath: z.string().max(4096),
  headers: z.record(z.string(), z.string().optional()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({ http: z.object({ method: z.string().min(1).max(16) }) }),
});

/** The request an event carries; a ValidationError naming the field when it is not a payload v2 event. */
export function toWebRequest(event: unknown): WebRequest {
  const parsed = parseOrThrow(eventSchema, event, 'API Gateway event');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.headers)) if (value !== undefined) headers[name.toLowerCase()] = value;
  return {
    method: parsed.requestContext.http.method.toUpperCase(),
    path: parsed.rawPath,
    headers,
    ...(parsed.body !== undefined ? { body: Buffer.from(parsed.body, parsed.isBase64Encoded ? 'base64' : 'utf8') } : {}),
  };
}
