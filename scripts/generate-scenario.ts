/**
 * `npx tsx scripts/generate-scenario.ts <clients> <weeks> <out.json>`: writes the benchmark's
 * deterministic clinic (bench/simulate.ts: clients in three time zones on weekly courses moving to
 * maintenance, with cancellations, reschedules, check-in answers and unsubscribes) as a scenario
 * file for `npm run simulate`, e.g. with `--chaos all`.
 */
import { writeFileSync } from 'node:fs';
import { generateScenario } from '../bench/simulate.js';

const [clients, weeks, out] = process.argv.slice(2);
if (!clients || !weeks || !out || !/^\d+$/.test(clients) || !/^\d+$/.test(weeks)) {
  process.stderr.write('usage: npx tsx scripts/generate-scenario.ts <clients> <weeks> <out.json>\n');
  process.exit(1);
}
writeFileSync(out, `${JSON.stringify(generateScenario(Number(clients), Number(weeks)), null, 2)}\n`);
process.stderr.write(`wrote ${clients} clients over ${weeks} weeks to ${out}\n`);
