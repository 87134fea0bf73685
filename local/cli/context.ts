/**
 * What every command module is given: where to print, how to reach the target (the local twin or
 * a stage, opened per command and closed after it), a progress bar, and the few option parsers
 * several commands share.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { toInstant } from '../../shared/domain/time.js';
import { progressBar, type Progress } from './progress.js';
import type { Target } from './target.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env?: NodeJS.ProcessEnv;
  /** Show progress bars even when stderr is not a terminal. */
  readonly stderr?: NodeJS.WriteStream;
}

export type WithTarget = <T>(command: Command, run: (target: Target) => Promise<T>) => Promise<T>;

export interface CliContext {
  readonly io: CliIo;
  readonly withTarget: WithTarget;
  /** A progress bar on stderr, shown on a terminal or when `force` is set. */
  bar(label: string, force: boolean): Progress;
}

/** The use cases' log, silent: the CLI prints its own lines. */
export const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

export function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, '; ');
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

const DURATION = /^(\d+)\s*(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `24h`, `7d`, `90m`, `2w` before `now`, or an instant with its offset. */
export function parseSince(value: string, now: Date): string {
  const match = DURATION.exec(value.trim());
  if (match) return toInstant(now.getTime() - Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  try {
    return toInstant(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is neither a duration like 24h, 7d, 90m or 2w nor an instant like 2027-02-01T00:00:00Z`);
  }
}

/** Opens the target the global options name for one command, and closes it after. */
export function targetOpener(
  env: NodeJS.ProcessEnv,
  resolve: (options: { stage?: string; region?: string; env: NodeJS.ProcessEnv }) => Promise<Target>,
): WithTarget {
  return async (command, run) => {
    const globals = command.optsWithGlobals<{ stage?: string; region?: string }>();
    const target = await resolve({ ...(globals.stage ? { stage: globals.stage } : {}), ...(globals.region ? { region: globals.region } : {}), env });
    try {
      return await run(target);
    } finally {
      target.close();
    }
  };
}

export function contextFor(io: CliIo, withTarget: WithTarget): CliContext {
  return { io, withTarget, bar: (label, force) => progressBar(label, { force, ...(io.stderr ? { stream: io.stderr } : {}) }) };
}
