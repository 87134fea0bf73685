/**
 * What a simulated day costs when nothing is due: a clinic with one therapist and no clients,
 * played for KEEPWELL_BENCH_IDLE_DAYS days (default 14) on the running services named by
 * KEEPWELL_BENCH_DYNAMO and KEEPWELL_BENCH_SES. The day is measured from the end of the first
 * simulated day to the end of the last, so the twin's start is left out. Prints one JSON line.
 */
import { parseScenario } from '../../local/simulation/scenario.js';
import { runSimulation } from '../../local/simulation/run.js';
import { generateScenario } from '../simulate.js';
import { difference, perUnit, round, startRequestMeter, type RequestCounts } from './requests.js';

const DAY_MS = 86_400_000;
const days = Number(process.env.KEEPWELL_BENCH_IDLE_DAYS ?? 14);
const dynamoEndpoint = process.env.KEEPWELL_BENCH_DYNAMO;
const sesEndpoint = process.env.KEEPWELL_BENCH_SES;
if (!dynamoEndpoint || !sesEndpoint) throw new Error('KEEPWELL_BENCH_DYNAMO and KEEPWELL_BENCH_SES must name the running services');

const scenario = parseScenario(
  { ...generateScenario(0, 1), simulate: { from: '2027-04-05T00:00:00Z', until: new Date(Date.parse('2027-04-05T00:00:00Z') + days * DAY_MS).toISOString() } },
  'idle benchmark scenario',
);
const meter = startRequestMeter();
const checkpoints: Array<{ at: number; counts: RequestCounts }> = [];
await runSimulation(scenario, {
  dynamoEndpoint,
  sesEndpoint,
  logLevel: 'ERROR',
  onProgress: (done) => {
    if (done >= DAY_MS) checkpoints.push({ at: performance.now(), counts: meter.snapshot() });
  },
});
meter.stop();
const first = checkpoints[0];
const last = checkpoints.at(-1);
if (!first || !last || last === first) throw new Error('the idle run reported too little progress to measure a day');
const measured = checkpoints.length - 1;
process.stdout.write(
  `${JSON.stringify({ days: measured, secondsPerDay: round((last.at - first.at) / 1000 / measured, 3), perDay: perUnit(difference(last.counts, first.counts), measured) })}\n`,
);
process.exit(0);
