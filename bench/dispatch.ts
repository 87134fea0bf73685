/**
 * What one sent email costs dispatch, and what dispatch costs Lambda.
 *
 * 1. DynamoDB per sent email, on DynamoDB Local with the store's CapacityMeter: requests and
 *    capacity units for a reminder and a check-in, for a client with 1 past session and for one
 *    with 100. Target: ≤ 4 requests and ≤ 4 units, the same at both history sizes (the floor is 3
 *    requests: one read, the claim, the record). Emails go to SES v2 local.
 *    `unitsByOperation` shows where the units go.
 * 2. The dispatch bundle as the CDK stack builds it (esbuild, minified, ESM, node22, nothing
 *    external), against a floor bundle of only the SDK clients it uses (SES v2, DynamoDB + lib,
 *    Scheduler): bytes, and cold init (a fresh `node` importing the bundle; dispatch and floor
 *    alternate so that load on the machine weighs on both alike; medians). Target: ≤ 1.3× the
 *    floor on both. `beyondFloor` names what dispatch bundles besides the floor, biggest first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { virtualClock } from '../local/clock.js';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal, startSesLocal } from '../local/services.js';
import { createDocumentClient, newMeter } from '../shared/adapters/dynamodb/client.js';
import { DynamoStore } from '../shared/adapters/dynamodb/store.js';
import { InMemoryMessageScheduler } from '../test/support/memory-scheduler.js';
import { createSesClient, SesMailer } from '../shared/adapters/ses/mailer.js';
import type { MessageIdentity } from '../shared/domain/message.js';
import { createHandler } from '../functions/dispatch/handler.js';
import { checkInIdentity, clinicFixture, payloadFor, reminderIdentity, seedClinic, testSigner, type SeededClinic } from '../test/support/memory-clinic.js';

const TARGET = { requests: 4, units: 4, sizeRatio: 1.3, initRatio: 1.3 } as const;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INIT_RUNS = 15;
const BEYOND_FLOOR_ROWS = 8;
const DAY_MS = 86_400_000;
const SESSION_START = Date.parse('2027-02-01T14:00:00.000Z');
const REMINDER_AT = '2027-01-30T14:00:00.000Z';
const CHECK_IN_AT = '2027-02-02T15:00:00.000Z';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** `past` completed weekly sessions before the one the emails are about. */
function starts(past: number): string[] {
  return Array.from({ length: past + 1 }, (_, i) => new Date(SESSION_START - (past - i) * 7 * DAY_MS).toISOString());
}

async function perEmail(): Promise<Record<string, unknown>> {
  const [dynamo, ses] = await Promise.all([startDynamoDbLocal(), startSesLocal()]);
  const sesClient = createSesClient({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const tableName = 'kw-bench-dispatch';
    await createTable(dynamo.endpoint, tableName);
    const clock = virtualClock(new Date(REMINDER_AT));
    const meter = newMeter();
    const documentClient = createDocumentClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    let unitsByOperation: Record<string, number> = {};
    documentClient.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }).ConsumedCapacity;
        const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        const operation = String(context.commandName).replace(/Command$/, '');
        unitsByOperation[operation] = (unitsByOperation[operation] ?? 0) + units;
        return result;
      },
      { step: 'initialize', name: 'benchUnitsByOperation' },
    );
    const store = new DynamoStore({ tableName, client: documentClient, meter, now: () => clock.now() });
    const handler = createHandler({
      store,
      ledger: store,
      mailer: new SesMailer({ client: sesClient, configurationSet: 'keepwell-bench' }),
      scheduler: new InMemoryMessageScheduler(),
      tokens: testSigner(),
      clinic: clinicFixture(),
      clock,
      log: silent,
    });

    const measure = async (seeded: SeededClinic, identity: MessageIdentity, at: string) => {
      clock.set(new Date(at));
      Object.assign(meter, newMeter());
      unitsByOperation = {};
      const result = await handler(payloadFor(seeded, identity, at));
      if (result.status !== 'sent') throw new Error(`bench email was not sent: ${result.status}`);
      return {
        requests: meter.requests,
        units: meter.readUnits + meter.writeUnits,
        readUnits: meter.readUnits,
        writeUnits: meter.writeUnits,
        byOperation: { ...meter.byOperation },
        unitsByOperation: { ...unitsByOperation },
      };
    };

    const results: Record<string, unknown> = {};
    for (const past of [1, 100]) {
      const seeded = await seedClinic(store, { starts: starts(past) });
      const session = seeded.sessions.at(-1)!;
      results[`reminder_${past}_past`] = await measure(seeded, reminderIdentity(session), REMINDER_AT);
      results[`checkIn_${past}_past`] = await measure(seeded, checkInIdentity(session), CHECK_IN_AT);
    }
    const all = Object.values(results) as Array<{ requests: number; units: number }>;
    const flat = (kind: string) => JSON.stringify(results[`${kind}_1_past`]) === JSON.stringify(results[`${kind}_100_past`]);
    return {
      ...results,
      maxRequests: Math.max(...all.map((r) => r.requests)),
      maxUnits: Math.max(...all.map((r) => r.units)),
      flatWithHistory: flat('reminder') && flat('checkIn'),
      meetsRequestTarget: all.every((r) => r.requests <= TARGET.requests),
      meetsUnitTarget: all.every((r) => r.units <= TARGET.units),
    };
  } finally {
    sesClient.destroy();
    await Promise.all([dynamo.stop(), ses.stop()]);
  }
}

const FLOOR_ENTRY = `
export { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
export { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export { DynamoDBDocumentClient, BatchGetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
export { SchedulerClient, CreateScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
`;

/** The CDK stack's bundling settings (infra/constructs/keepwell-function.ts). */
async function bundle(entry: { file: string } | { contents: string }, outfile: string): Promise<{ bytes: number; metafile: Metafile }> {
  const { metafile } = await build({
    ...('file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: 'ts' } }),
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    external: [],
    banner: { js: "import{createRequire as __kwCreateRequire}from'node:module';const require=__kwCreateRequire(import.meta.url);" },
    logLevel: 'silent',
    metafile: true,
  });
  return { bytes: (await stat(outfile)).size, metafile };
}

/** Milliseconds for a fresh node process to import the bundle (module evaluation only). */
function importTime(file: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(`file://${file}`)});process.stdout.write(String(performance.now()-t));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (run.status !== 0) throw new Error(`importing ${file} failed: ${run.stderr.slice(0, 500)}`);
  return Number(run.stdout);
}

/** Median import time of each file, the files taking turns run after run. */
function coldInit(files: readonly string[]): number[] {
  const times = files.map(() => [] as number[]);
  for (let i = 0; i < INIT_RUNS; i++) {
    for (const [f, file] of files.entries()) times[f]!.push(importTime(file));
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return Math.round(t[Math.floor(t.length / 2)]! * 10) / 10;
  });
}

const OWN_CODE = 'keepwell (own code)';

/** Output bytes per package; this project's own files (and the floor's stdin entry) as one row. */
function bytesBySource(metafile: Metafile): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const parts = path.split('/');
      const at = parts.lastIndexOf('node_modules');
      const source = at < 0 ? OWN_CODE : parts.slice(at + 1, parts[at + 1]?.startsWith('@') ? at + 3 : at + 2).join('/');
      bytes.set(source, (bytes.get(source) ?? 0) + input.bytesInOutput);
    }
  }
  return bytes;
}

/** What dispatch bundles beyond the floor, in bytes, biggest first. */
function beyondFloor(dispatch: Metafile, floor: Metafile): Record<string, number> {
  const inFloor = bytesBySource(floor);
  const extra = [...bytesBySource(dispatch)].map(([source, bytes]) => [source, bytes - (inFloor.get(source) ?? 0)] as const);
  return Object.fromEntries(
    extra
      .filter(([, bytes]) => bytes > 0)
      .sort((x, y) => y[1] - x[1])
      .slice(0, BEYOND_FLOOR_ROWS),
  );
}

async function bundleCost(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'kw-bench-dispatch-'));
  try {
    const dispatchFile = join(dir, 'dispatch.mjs');
    const floorFile = join(dir, 'floor.mjs');
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    const dispatch = await bundle({ file: join(ROOT, 'functions/dispatch/handler.ts') }, dispatchFile);
    const floor = await bundle({ contents: FLOOR_ENTRY }, floorFile);
    const [dispatchInitMs, floorInitMs] = coldInit([dispatchFile, floorFile]) as [number, number];
    const sizeRatio = Math.round((dispatch.bytes / floor.bytes) * 100) / 100;
    const initRatio = Math.round((dispatchInitMs / floorInitMs) * 100) / 100;
    return {
      dispatchBytes: dispatch.bytes,
      floorBytes: floor.bytes,
      sizeRatio,
      dispatchInitMs,
      floorInitMs,
      initRatio,
      meetsSizeTarget: sizeRatio <= TARGET.sizeRatio,
      meetsInitTarget: initRatio <= TARGET.initRatio,
      beyondFloor: beyondFloor(dispatch.metafile, floor.metafile),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const dynamodb = await perEmail();
  const lambda = await bundleCost();
  return { target: TARGET, dynamodb, lambda };
}
