/**
 * The one way a function's Lambda entry point is made (every functions/<name>/handler.ts uses it):
 * 1. on the first invocation, check the environment against the function's manifest entry
 *    (shared/config/manifest.ts), naming every missing variable at once;
 * 2. hand `build` only the variables that entry lists (plus the twin's local ones), so a
 *    function reads nothing the stack does not set for it, and one logger for the function;
 * 3. keep what `build` returns for the container's life; a start that failed (a missing
 *    variable, SSM unreachable) is not kept, so the next invocation starts again.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { LOCAL_ONLY_NAMES, OPTIONAL_AT_START, readEnv } from '../../config/env.js';
import { functionSpec, type FunctionName, type FunctionSpec } from '../../config/manifest.js';

/** What a function's start is given: its manifest entry, its environment, its logger. */
export interface EntryDeps {
  readonly spec: FunctionSpec;
  /** The manifest's variables for this function that are set, and the twin's local ones. */
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
}

export type Entry<E, R> = (event: E, context?: Context) => Promise<R>;

/** The function's environment: its manifest entry's variables, checked, and the twin's local ones. */
export function functionEnv(spec: FunctionSpec, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  readEnv(
    spec.environment.filter((name) => !OPTIONAL_AT_START.has(name)),
    env,
  );
  const names: readonly string[] = [...spec.environment, ...LOCAL_ONLY_NAMES];
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

/** The Lambda entry point of the function `name`, started by `build` once per container. */
export function lambdaEntry<E, R>(name: FunctionName, build: (deps: EntryDeps) => Entry<E, R> | Promise<Entry<E, R>>): Entry<E, R> {
  const spec = functionSpec(name);
  let started: Promise<Entry<E, R>> | undefined;
  const start = async () => build({ spec, env: functionEnv(spec), log: new Logger({ serviceName: `keepwell-${name}` }) });
  return async (event, context) => {
    started ??= start().catch((error: unknown) => {
      started = undefined;
      throw error;
    });
    return (await started)(event, context);
  };
}
