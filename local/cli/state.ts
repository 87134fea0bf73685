/**
 * The running twin's state file, `.keepwell/twin.json`: how the `keepwell` CLI in another terminal
 * finds the twin `npm start` runs (endpoints, table, clock), and where the twin records the
 * Scheduler's dead letters (`dead-letters.jsonl`, appended by the twin only) and the CLI records
 * which of them it redrove (`redriven.jsonl`, appended by the CLI only): one writer per file.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { clinicSchema } from '../../shared/domain/model.js';
import type { DeadLetter } from '../scheduler/server.js';
import { functionArn, LOCAL_SCHEDULE_GROUP, SCHEDULE_DLQ_ARN, SCHEDULER_ROLE_ARN, type Twin } from '../twin.js';
import { LOCAL_REGION } from '../services.js';

/** The project root, from this file's own place in it (local/cli/state.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `.keepwell/` in the project root, or KEEPWELL_STATE_DIR (tests point it at a temporary folder). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KEEPWELL_STATE_DIR ? resolve(env.KEEPWELL_STATE_DIR) : join(PROJECT_ROOT, '.keepwell');
}

/**
 * The twin's clock as another process can follow it: a real clock, an accelerated one (virtual
 * time = virtualStartMs + (wall time − realStartMs) × factor), or a time that stands still.
 */
export const clockStateSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('real') }),
  z.object({ mode: z.literal('accelerated'), virtualStartMs: z.number(), realStartMs: z.number(), factor: z.number().positive() }),
  z.object({ mode: z.literal('fixed'), at: z.string() }),
]);
export type ClockState = z.output<typeof clockStateSchema>;

export const twinStateSchema = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  tableName: z.string().min(1),
  dynamoEndpoint: z.url(),
  sesEndpoint: z.url(),
  schedulerEndpoint: z.url(),
  scheduleGroup: z.string().min(1),
  schedulerRoleArn: z.string().min(1),
  dispatchArn: z.string().min(1),
  deadLetterArn: z.string().min(1),
  webUrl: z.url().optional(),
  region: z.string().min(1),
  clinic: clinicSchema,
  clock: clockStateSchema,
});
export type TwinState = z.output<typeof twinStateSchema>;

export class NoTwinError extends Error {
  override readonly name = 'NoTwinError';
}

const STATE_FILE = 'twin.json';
const DEAD_LETTERS_FILE = 'dead-letters.jsonl';
const REDRIVEN_FILE = 'redriven.jsonl';

/** Writes the state file; a twin other than the one that wrote it last starts with no dead letters. */
/** What the CLI needs to reach a running twin: its endpoints, names and clock. */
export function twinStateOf(twin: Twin, clock: TwinState['clock'], startedAt = new Date().toISOString()): TwinState {
  return {
    pid: process.pid,
    startedAt,
    tableName: twin.tableName,
    dynamoEndpoint: twin.dynamoEndpoint,
    sesEndpoint: twin.sesEndpoint,
    schedulerEndpoint: twin.scheduler.endpoint,
    scheduleGroup: LOCAL_SCHEDULE_GROUP,
    schedulerRoleArn: SCHEDULER_ROLE_ARN,
    dispatchArn: functionArn('dispatch'),
    deadLetterArn: SCHEDULE_DLQ_ARN,
    ...(twin.webUrl ? { webUrl: twin.webUrl } : {}),
    region: LOCAL_REGION,
    clinic: twin.clinic,
    clock,
  };
}

export function writeTwinState(state: TwinState, dir = stateDir()): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, STATE_FILE);
  const previous = existsSync(path) ? (readJson(path) as { pid?: unknown } | undefined) : undefined;
  writeFileSync(path, `${JSON.stringify(twinStateSchema.parse(state), null, 2)}\n`);
  if (previous?.pid !== state.pid) {
    writeFileSync(join(dir, DEAD_LETTERS_FILE), '');
    writeFileSync(join(dir, REDRIVEN_FILE), '');
  }
  return path;
}

/** Removes the state file, so the CLI no longer finds a twin that has stopped. */
export function clearTwinState(dir = stateDir(), pid = process.pid): void {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return;
  // Another twin may have started since (and written its own state): leave that one alone.
  const current = readJson(path);
  if ((current as { pid?: unknown } | undefined)?.pid === pid) rmSync(path, { force: true });
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const HOW_TO_START = 'start one with `npm start`, or pass --stage NAME to work on a deployed stage';

/** The running twin's state, or a NoTwinError saying why there is none and what to do. */
export function readTwinState(dir = stateDir()): TwinState {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) throw new NoTwinError(`no local twin is running (no ${path}): ${HOW_TO_START}`);
  const parsed = twinStateSchema.safeParse(readJson(path));
  if (!parsed.success) throw new NoTwinError(`the twin state file ${path} is unreadable or from another version: ${HOW_TO_START}`);
  if (!isAlive(parsed.data.pid)) throw new NoTwinError(`the local twin that wrote ${path} (pid ${parsed.data.pid}) is no longer running: ${HOW_TO_START}`);
  return parsed.data;
}

/** The twin's current time by its clock state. */
export function twinNow(clock: ClockState, wallMs = Date.now()): Date {
  switch (clock.mode) {
    case 'real':
      return new Date(wallMs);
    case 'accelerated':
      return new Date(clock.virtualStartMs + (wallMs - clock.realStartMs) * clock.factor);
    case 'fixed':
      return new Date(clock.at);
  }
}

/** A dead letter as the twin records it: the local Scheduler's DeadLetter with dates as strings. */
export const recordedDeadLetterSchema = z.object({
  executionId: z.string(),
  scheduleName: z.string(),
  scheduledTime: z.string(),
  failedAt: z.string(),
  attempts: z.number(),
  error: z.string(),
  payload: z.unknown(),
});
export type RecordedDeadLetter = z.output<typeof recordedDeadLetterSchema>;

/** Records one of the local Scheduler's dead letters for the CLI (called from the twin's onDeadLetter). */
export function appendDeadLetter(letter: DeadLetter, dir = stateDir()): void {
  const recorded: RecordedDeadLetter = {
    executionId: letter.executionId,
    scheduleName: letter.scheduleName,
    scheduledTime: letter.scheduledTime.toISOString(),
    failedAt: letter.failedAt.toISOString(),
    attempts: letter.attempts,
    error: letter.error,
    payload: letter.payload,
  };
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, DEAD_LETTERS_FILE), `${JSON.stringify(recorded)}\n`);
}

function readLines(path: string): unknown[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return undefined;
      }
    });
}

/** Dead letters the twin recorded and the CLI has not redriven, oldest first. */
export function pendingDeadLetters(dir = stateDir()): RecordedDeadLetter[] {
  const redriven = new Set(readLines(join(dir, REDRIVEN_FILE)).map((l) => (l as { executionId?: unknown } | undefined)?.executionId));
  return readLines(join(dir, DEAD_LETTERS_FILE)).flatMap((line) => {
    const parsed = recordedDeadLetterSchema.safeParse(line);
    return parsed.success && !redriven.has(parsed.data.executionId) ? [parsed.data] : [];
  });
}

export function markRedriven(executionId: string, at: string, dir = stateDir()): void {
  appendFileSync(join(dir, REDRIVEN_FILE), `${JSON.stringify({ executionId, at })}\n`);
}
