/**
 * `npm run simulate -- <scenario.json> [--report <report.json>] [--chaos <profile>]`: plays a
 * scenario headless on a virtual clock, with the faults of a chaos profile (and the scenario's own
 * `chaos` field) injected, and writes the report (every email, skip and failure). Exits 0 when the run
 * completes with every planned message settled once, 1 with one line naming every bad field when
 * the scenario is invalid, 2 when the run itself fails, 3 when a message was lost or duplicated.
 */
import { silenceSdkNodeVersionWarning } from './cli/sdk-warning.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ValidationError } from '../shared/domain/validation.js';
import { simulationProgress } from './simulation/progress.js';
import { parseScenario, type Scenario } from './simulation/scenario.js';
import { runSimulation } from './simulation/run.js';
import { invariantLine, invariantsHold } from './simulation/invariants.js';
import { CHAOS_PROFILES, DEFAULT_CHAOS_SEED, profileFaults, type ChaosProfile, type ChaosSettings } from './chaos/profiles.js';

silenceSdkNodeVersionWarning();

const program = new Command('npm run simulate --')
  .description('Play a scenario on the local twin with a virtual clock and report every email.')
  .argument('<scenario>', 'scenario JSON file (format: examples/*.json)')
  .option('--report <file>', 'write the JSON report here (default: print it to stdout)')
  .option('--progress', 'show a progress bar even when stderr is not a terminal (otherwise a line every few seconds)')
  .option('--dynamo-endpoint <url>', 'use a running DynamoDB Local instead of starting one')
  .option('--ses-endpoint <url>', 'use a running SES v2 local instead of starting one')
  .addOption(new Option('--chaos <profile>', 'inject a fault while the scenario plays (all: every fault at once)').choices(CHAOS_PROFILES))
  .option('--chaos-seed <n>', "seed of the fault draws (default: the scenario's, else 12)", (v) => {
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number');
    return Number(v);
  })
  .parse(process.argv);

const file = program.args[0] as string;
const options = program.opts<{
  report?: string;
  progress?: boolean;
  dynamoEndpoint?: string;
  sesEndpoint?: string;
  chaos?: ChaosProfile;
  chaosSeed?: number;
}>();

function fail(code: number, message: string): never {
  process.stderr.write(`simulate: ${message.replace(/\s*\n\s*/g, '; ')}\n`);
  process.exit(code);
}

let scenario: Scenario;
try {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(1, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  scenario = parseScenario(raw, `scenario ${file}`);
} catch (error) {
  if (error instanceof ValidationError) fail(1, error.message);
  throw error;
}

// The profile's faults come on top of the scenario's own.
const chaos: ChaosSettings | undefined =
  options.chaos || scenario.chaos || options.chaosSeed !== undefined
    ? {
        seed: options.chaosSeed ?? scenario.chaos?.seed ?? DEFAULT_CHAOS_SEED,
        faults: [...(scenario.chaos?.faults ?? []), ...(options.chaos ? profileFaults(options.chaos) : [])],
      }
    : undefined;

// Ended by a signal, the process exits at once; the services it started go with it (services.ts).
process.once('SIGINT', () => {
  process.stderr.write('\nsimulate: interrupted\n');
  process.exit(130);
});
process.once('SIGTERM', () => process.exit(143));

const bar = simulationProgress(options.progress ? { terminal: true } : {});
try {
  const report = await runSimulation(scenario, {
    ...(options.dynamoEndpoint ? { dynamoEndpoint: options.dynamoEndpoint } : {}),
    ...(options.sesEndpoint ? { sesEndpoint: options.sesEndpoint } : {}),
    ...(chaos ? { chaos } : {}),
    onProgress: (done, total) => bar.update(done, total, new Date(Date.parse(scenario.simulate.from) + done)),
  });
  bar.stop();
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (options.report) writeFileSync(options.report, json);
  else process.stdout.write(json);
  const kinds = Object.entries(report.stats.byKind)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  process.stderr.write(
    `simulated ${report.stats.simulatedDays} days in ${report.stats.wallSeconds} s: ${report.stats.emails} emails (${kinds || 'none'}), ${report.stats.skipped} skipped, ${report.stats.failed} failed${options.report ? ` → ${options.report}` : ''}\n`,
  );
  if (report.chaos) {
    const injected = Object.entries(report.chaos.injected)
      .filter(([, n]) => n > 0)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ');
    process.stderr.write(
      `chaos (seed ${report.chaos.seed}): ${injected || 'nothing injected'}; ${report.chaos.failedInvocations.length} failed invocations, ${report.chaos.streamFailures} stream records failed\n`,
    );
  }
  process.stderr.write(`delivery: ${invariantLine(report.invariants)}\n`);
  // A lost or duplicated message breaks the delivery promise: the report holds the names.
  process.exit(invariantsHold(report.invariants) ? 0 : 3);
} catch (error) {
  bar.stop();
  fail(2, `the simulation failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
}
