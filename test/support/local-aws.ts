/** Per-file access to the local services started by global-setup.ts. */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { createSesClient } from '../../shared/adapters/ses/mailer.js';
import { createDocumentClient, newMeter, type CapacityMeter } from '../../shared/adapters/dynamodb/client.js';
import { DynamoStore } from '../../shared/adapters/dynamodb/store.js';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';

export interface TestTable {
  readonly tableName: string;
  readonly endpoint: string;
  readonly store: DynamoStore;
  readonly meter: CapacityMeter;
  readonly documentClient: ReturnType<typeof createDocumentClient>;
}

/** A fresh table on DynamoDB Local, with a store whose requests and capacity are metered. */
export async function createTestTable(options: { now?: () => Date } = {}): Promise<TestTable> {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `kw-test-${randomUUID().slice(0, 8)}`;
  await createTable(endpoint, tableName);
  const documentClient = createDocumentClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const meter = newMeter();
  const store = new DynamoStore({ tableName, client: documentClient, meter, ...(options.now ? { now: options.now } : {}) });
  return { tableName, endpoint, store, meter, documentClient };
}

export function resetMeter(meter: CapacityMeter): void {
  Object.assign(meter, newMeter());
}

export function sesClient(): SESv2Client {
  return createSesClient({ endpoint: inject('sesEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  attachments: Array<{ content: string; contentType: string; filename?: string; size: number }>;
  headers?: Array<{ name: string; value: string }>;
  at: number;
}

/** Every email SES v2 local accepted, optionally only those to one address. */
export async function sesEmails(to?: string): Promise<StoredEmail[]> {
  const response = await fetch(`${inject('sesEndpoint')}/store`);
  const { emails } = (await response.json()) as { emails: StoredEmail[] };
  return to ? emails.filter((e) => e.destination.to.some((t) => t.toLowerCase().includes(to.toLowerCase()))) : emails;
}
