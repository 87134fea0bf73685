/** Key builders for the single-table layout documented in table-definition.ts. */
import { createHash } from 'node:crypto';
import { normalizeEmail } from '../../domain/email-address.js';

/** An erased client's address, as its tombstone keeps it: a SHA-256 digest, never the address. */
export const erasedAddressDigest = (address: string) => createHash('sha256').update(normalizeEmail(address)).digest('hex');

export const keys = {
  client: (clientId: string) => ({ pk: `CLIENT#${clientId}`, sk: 'CLIENT' }),
  plan: (clientId: string, planId: string) => ({ pk: `CLIENT#${clientId}`, sk: `PLAN#${planId}` }),
  session: (clientId: string, sessionId: string) => ({ pk: `CLIENT#${clientId}`, sk: `SESSION#${sessionId}` }),
  checkIn: (clientId: string, sessionId: string) => ({ pk: `CLIENT#${clientId}`, sk: `CHECKIN#${sessionId}` }),
  request: (clientId: string, sessionId: string) => ({ pk: `CLIENT#${clientId}`, sk: `REQUEST#${sessionId}` }),
  planChange: (clientId: string, planId: string, changeId: string) => ({ pk: `CLIENT#${clientId}`, sk: `PLANLOG#${planId}#${changeId}` }),
  dayCap: (clientId: string, localDate: string) => ({ pk: `CLIENT#${clientId}`, sk: `DAYCAP#${localDate}` }),
  email: (address: string) => ({ pk: `EMAIL#${normalizeEmail(address)}`, sk: 'EMAIL' }),
  therapist: (therapistId: string) => ({ pk: `THERAPIST#${therapistId}`, sk: 'THERAPIST' }),
  message: (name: string) => ({ pk: `MSG#${name}`, sk: 'MSG' }),
  token: (tokenId: string) => ({ pk: `TOKEN#${tokenId}`, sk: 'TOKEN' }),
  /** A client's page actions in one window (the web's per-client limit); carries `clientId` so an erasure finds it. */
  actions: (clientId: string, window: string) => ({ pk: `ACTIONS#${clientId}`, sk: window }),
  /** The tombstone of an erased client (keepwell client erase), by id and by address digest. */
  erased: (clientId: string) => ({ pk: `ERASED#CLIENT#${clientId}`, sk: 'ERASED' }),
  erasedEmail: (address: string) => ({ pk: `ERASED#EMAIL#${erasedAddressDigest(address)}`, sk: 'ERASED' }),
  sessionRef: (sessionId: string) => ({ pk: `REF#SESSION#${sessionId}`, sk: 'REF' }),
  planRef: (planId: string) => ({ pk: `REF#PLAN#${planId}`, sk: 'REF' }),
  clientPartition: (clientId: string) => `CLIENT#${clientId}`,
  sessionsDay: (utcDate: string) => `SESSIONS#${utcDate}`,
  outboxDay: (utcDate: string) => `OUTBOX#${utcDate}`,
  therapistIndex: (therapistId: string) => `THERAPIST#${therapistId}`,
  therapistsList: 'THERAPISTS',
  maintenanceMonth: (yyyyMm: string) => `MAINT#${yyyyMm}`,
} as const;

/** Item attributes that are keys or bookkeeping, never part of a domain object. */
export const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'type', 'expiresAt', 'updatedAt'] as const;
