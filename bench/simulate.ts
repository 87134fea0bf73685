/**
 * Simulation throughput: emails per second of wall time when a clinic of 1,000 clients is played
 * over 12 weeks on the local twin (virtual clock, every function, every recurring job). The
 * scenario is generated here, deterministically: clients in three time zones on weekly courses
 * that move to maintenance, with cancellations, reschedules, check-in answers and unsubscribes.
 *
 * Besides throughput it reports the requests made to each local service (DynamoDB Local, its
 * streams, SES local, the local Scheduler) per email and per simulated idle day, the time spent in
 * them, and the twin's memory after the first simulated week against its last simulated instant
 * (before the report is read; `heapMbWithReport` adds the report). The idle day is measured on a
 * clinic with no clients, played for KEEPWELL_BENCH_IDLE_DAYS days (default 14), between the end
 * of its first simulated day and its last.
 *
 * KEEPWELL_BENCH_CLIENTS and KEEPWELL_BENCH_WEEKS shrink it for a quick look.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseScenario } from '../local/simulation/scenario.js';
import { runSimulation } from '../local/simulation/run.js';
import { startDynamoDbLocal, startSesLocal } from '../local/services.js';
import { difference, perUnit, round, SERVICES, startRequestMeter } from './support/requests.js';

const ZONES = ['Europe/London', 'America/New_York', 'America/Chicago'] as const;
const DAY_MS = 86_400_000;
const START = Date.parse('2027-04-05T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A small deterministic generator (mulberry32), so every run plays the same clinic. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateScenario(clients: number, weeks: number): Record<string, unknown> {
  const rand = random(20270405);
  const until = START + weeks * 7 * DAY_MS;
  const therapists = Array.from({ length: Math.max(1, Math.ceil(clients / 40)) }, (_, i) => ({
    id: `t-${i}`,
    name: `Therapist ${i}`,
    email: `therapist-${i}@bench.example`,
    timezone: ZONES[i % ZONES.length],
    summary: { cadence: i % 2 === 0 ? 'daily' : 'weekly', hour: 7 },
  }));
  const out = { clients: [] as unknown[], plans: [] as unknown[], sessions: [] as Array<{ id: string; start: string }>, events: [] as unknown[] };
  for (let c = 0; c < clients; c++) {
    const zone = ZONES[c % ZONES.length]!;
    out.clients.push({ id: `c-${c}`, name: `Client ${c}`, email: `client-${c}@bench.example`, timezone: zone });
    out.plans.push({
      id: `p-${c}`,
      clientId: `c-${c}`,
      therapistId: `t-${c % therapists.length}`,
      goal: (['back-pain', 'sports-injury', 'general-wellness'] as const)[c % 3],
      phases: [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
      reminders: c % 2 === 0 ? ['P2D', 'PT2H'] : ['PT24H'],
      checkInAfter: 'PT24H',
    });
    // Sessions between 09:00 and 17:00 UTC, weekly for six weeks, then every four weeks.
    const first = START + Math.floor(rand() * 7) * DAY_MS + (9 + Math.floor(rand() * 8)) * 3_600_000;
    const starts = [0, 1, 2, 3, 4, 5].map((w) => first + w * 7 * DAY_MS);
    for (let t = starts[5]! + 28 * DAY_MS; t < until; t += 28 * DAY_MS) starts.push(t);
    starts
      .filter((t) => t < until)
      .forEach((t, n) => {
        const id = `s-${c}-${n}`;
        out.sessions.push({ id, planId: `p-${c}`, start: iso(t), durationMinutes: 60, location: 'Room 1' } as { id: string; start: string });
        const roll = rand();
        if (roll < 0.05 && t - 3 * DAY_MS > START) out.events.push({ at: iso(t - 3 * DAY_MS), type: 'cancel-session', sessionId: id });
        else if (roll < 0.1 && t - 4 * DAY_MS > START)
          out.events.push({ at: iso(t - 4 * DAY_MS), type: 'reschedule-session', sessionId: id, start: iso(t + DAY_MS) });
        else if (roll < 0.6 && t + 30 * 3_600_000 < until) {
          out.events.push({
            at: iso(t + 30 * 3_600_000),
            type: 'check-in-response',
            sessionId: id,
            answers: {
              pain: 2 + Math.floor(rand() * 6),
              mobility: 4 + Math.floor(rand() * 6),
              stress: Math.floor(rand() * 8),
              sleep: 3 + Math.floor(rand() * 6),
            },
          });
        }
      });
    if (rand() < 0.03)
      out.events.push({
        at: iso(START + Math.floor(rand() * weeks * 7) * DAY_MS + 12 * 3_600_000),
        type: 'unsubscribe',
        clientId: `c-${c}`,
        category: 'check-ins',
      });
  }
  return {
    clinic: { name: 'Benchmark Clinic', senderEmail: 'care@bench.example', timezone: 'Europe/London', baseUrl: 'http://localhost:3000' },
    therapists,
    ...out,
    simulate: { from: iso(START), until: iso(until) },
  };
}

const mb = (bytes: number) => Math.round(bytes / 1_048_576);

// Memory is read after a full collection, so the figures are what the twin holds, not garbage not yet collected.
setFlagsFromString('--expose_gc');
const collectGarbage = runInNewContext('gc') as () => void;
function memoryHeld(): NodeJS.MemoryUsage {
  collectGarbage();
  return process.memoryUsage();
}

/** The idle clinic runs in a process of its own: a twin is one per process. */
function idleDay(endpoints: { dynamoEndpoint: string; sesEndpoint: string }): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./support/idle-day.ts', import.meta.url))], {
      env: { ...process.env, KEEPWELL_BENCH_DYNAMO: endpoints.dynamoEndpoint, KEEPWELL_BENCH_SES: endpoints.sesEndpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').at(-1);
      if (code === 0 && line) resolve(JSON.parse(line) as Record<string, unknown>);
      else reject(new Error(`the idle-day run exited with code ${code}: ${stderr.trim().split('\n').slice(-5).join('\n')}`));
    });
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const clients = Number(process.env.KEEPWELL_BENCH_CLIENTS ?? 1000);
  const weeks = Number(process.env.KEEPWELL_BENCH_WEEKS ?? 12);
  const scenario = parseScenario(generateScenario(clients, weeks), 'benchmark scenario');
  const [dynamo, ses] = await Promise.all([startDynamoDbLocal({ readyTimeoutMs: 120_000 }), startSesLocal()]);
  const meter = startRequestMeter();
  try {
    const endpoints = { dynamoEndpoint: dynamo.endpoint, sesEndpoint: ses.endpoint };
    const idle = await idleDay(endpoints);
    const before = meter.snapshot();
    let firstWeek: NodeJS.MemoryUsage | undefined;
    // At the last simulated instant, before the run reads the ledger and SES local into its report.
    let lastDay: NodeJS.MemoryUsage | undefined;
    const started = performance.now();
    const report = await runSimulation(scenario, {
      ...endpoints,
      logLevel: 'ERROR',
      onProgress: (done, total) => {
        if (!firstWeek && done >= 7 * DAY_MS) firstWeek = memoryHeld();
        if (!lastDay && done >= total) lastDay = memoryHeld();
      },
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const end = memoryHeld();
    const counts = difference(meter.snapshot(), before);
    const emails = Math.max(1, report.stats.emails);
    const inRequestsMs = SERVICES.reduce((sum, s) => sum + counts[s].milliseconds, 0);
    return {
      clients,
      weeks,
      sessions: scenario.dataset.sessions.length,
      events: scenario.events.length,
      emails: report.stats.emails,
      byKind: report.stats.byKind,
      skipped: report.stats.skipped,
      failed: report.stats.failed,
      firings: report.stats.firings,
      wallSeconds: round(wallSeconds),
      emailsPerWallSecond: round(report.stats.emails / wallSeconds),
      simulatedDaysPerWallMinute: round(report.stats.simulatedDays / (wallSeconds / 60)),
      requests: Object.fromEntries(SERVICES.filter((s) => counts[s].requests > 0).map((s) => [s, counts[s].requests])),
      perEmail: perUnit(counts, emails),
      // Request time is summed over requests in flight together, so the shares can add up past 1.
      wallShare: Object.fromEntries(SERVICES.filter((s) => counts[s].requests > 0).map((s) => [s, round(counts[s].milliseconds / 1000 / wallSeconds, 2)])),
      outsideRequestsShare: round(Math.max(0, 1 - inRequestsMs / 1000 / wallSeconds), 2),
      idleDay: idle,
      memory: {
        heapMbAfterFirstWeek: firstWeek ? mb(firstWeek.heapUsed) : null,
        heapMbAtLastDay: lastDay ? mb(lastDay.heapUsed) : null,
        // With the report in memory too: every email's text and HTML, read back from SES local.
        heapMbWithReport: mb(end.heapUsed),
        rssMbAfterFirstWeek: firstWeek ? mb(firstWeek.rss) : null,
        rssMbAtLastDay: lastDay ? mb(lastDay.rss) : null,
        rssMbWithReport: mb(end.rss),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      },
    };
  } finally {
    meter.stop();
    await Promise.all([dynamo.stop(), ses.stop()]);
  }
}
