/**
 * `npm start`: the whole local twin with the demo clinic playing on an accelerated clock.
 *
 * Step by step:
 * 1. start DynamoDB Local, SES v2 local, the local Scheduler, the stream poller, the functions and
 *    the pages' HTTP server (port 3000 when free), with the clinic's links pointing at that server;
 * 2. hold the clock at the demo's start while the demo clinic is seeded, then let it run
 *    (`--speed` virtual seconds per real second; `--realtime` for the wall clock);
 * 3. print one line per email as SES accepts it; answer some check-ins as their clients would, and
 *    print the link of the one left for the newcomer to fill in; once every kind of email has been
 *    shown, drop the clock to real time (and say so) so that the printed links stay usable;
 * 4. write .keepwell/twin.json so `keepwell` in another terminal works on this twin;
 * 5. on Ctrl-C, stop every service and exit 0.
 */
import { silenceSdkNodeVersionWarning } from './cli/sdk-warning.js';
import { createServer } from 'node:net';
import { Command, InvalidArgumentError } from 'commander';
import { DateTime } from 'luxon';
import type { MessageKind } from '../shared/domain/message.js';
import { buildDemo, demoStart } from './demo/clinic.js';
import { seedDemo } from './demo/seed.js';
import { checkInLink, emailLine, watchOutbox } from './demo/watch.js';
import { answerCheckIn } from './simulation/actions.js';
import { freePort } from './ports.js';
import { appendDeadLetter, clearTwinState, twinStateOf, writeTwinState, type ClockState } from './cli/state.js';
import { startTwin } from './twin.js';
import { postDemoBooking } from './demo/webhook.js';
import { pollDemoFeed, startDemoFeed } from './demo/feed.js';
import type { Clock } from './clock.js';

silenceSdkNodeVersionWarning();

/** 1 virtual hour per real second: the demo's three and a half days play in under a minute and a half. */
const DEFAULT_SPEED = 3600;
const PREFERRED_PORT = 3000;

function speedOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > 1_000_000) throw new InvalidArgumentError('must be a number from 1 to 1000000 (virtual seconds per real second)');
  return n;
}

const options = new Command('npm start')
  .description('Run the Keepwell twin locally with a demo clinic.')
  .option('--realtime', 'run on the real clock (the demo data is loaded, emails come at their real times)')
  .option('--speed <factor>', 'virtual seconds per real second', speedOption, DEFAULT_SPEED)
  .option('--port <port>', `port for the web pages; 0 for any free port (default ${PREFERRED_PORT} if free, else any free port)`, portOption)
  .parse(process.argv)
  .opts<{ realtime?: boolean; speed: number; port?: number }>();

function portOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a port number from 0 to 65535');
  return n;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * An accelerated clock that stands still until `go()` (seeding takes real seconds, which at demo
 * speed would be virtual hours gone before the story starts) and again after `freeze()` (so that
 * nothing new falls due while the services shut down).
 */
function heldClock(start: Date, speed: number): Clock & { go(): number; freeze(): void; realTime(): ClockState; readonly factor: number } {
  let virtualStart = start.getTime();
  let factor = speed;
  let realStart: number | undefined;
  let frozen: Date | undefined;
  const now = () => frozen ?? new Date(virtualStart + (realStart === undefined ? 0 : (Date.now() - realStart) * factor));
  return {
    mode: 'accelerated',
    now,
    get factor() {
      return factor;
    },
    go() {
      realStart = Date.now();
      return realStart;
    },
    freeze() {
      frozen = now();
    },
    /** From now on one virtual second per real second, carrying on from the current virtual time. */
    realTime() {
      virtualStart = now().getTime();
      realStart = Date.now();
      factor = 1;
      return { mode: 'accelerated', virtualStartMs: virtualStart, realStartMs: realStart, factor };
    },
  };
}

const realtime = Boolean(options.realtime);
const speed = realtime ? 1 : options.speed;
const start = realtime ? new Date() : demoStart(new Date());
const demo = buildDemo(start);
// The port is chosen before the twin starts: the clinic's links must name it.
const port =
  options.port === undefined ? ((await portIsFree(PREFERRED_PORT)) ? PREFERRED_PORT : await freePort()) : options.port === 0 ? await freePort() : options.port;
const clock = realtime ? undefined : heldClock(start, speed);

console.log('Starting the Keepwell twin (DynamoDB Local, SES v2 local, Scheduler, functions, pages)…');
// Stopped while still starting: exit at once; the exit hook in services.ts ends DynamoDB Local.
const stopWhileStarting = () => process.exit(0);
process.once('SIGINT', stopWhileStarting);
process.once('SIGTERM', stopWhileStarting);
const demoFeed = await startDemoFeed(start);
const twin = await startTwin({
  clinic: { ...demo.clinic, baseUrl: `http://127.0.0.1:${port}` },
  clock: clock ?? { mode: 'real' },
  tableName: 'keepwell-local',
  webPort: port,
  tickMs: 50,
  intake: demoFeed.intake,
  onDeadLetter: (letter) => {
    console.log(`dead letter: ${letter.scheduleName} failed ${letter.attempts} time(s): ${letter.error}`);
    appendDeadLetter(letter);
  },
}).catch((error: unknown) => {
  console.error(`npm start: the twin could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  await watch?.stop().catch(() => undefined);
  // Let the firing round under way finish before its services go: a handler cut off mid-call
  // would log errors for work that is in fact complete.
  clock?.freeze();
  await twin.scheduler.runDue().catch(() => undefined);
  await twin.close();
  await demoFeed.close();
  clearTwinState();
  console.log('Stopped.');
  process.exit(code);
}
process.off('SIGINT', stopWhileStarting);
process.off('SIGTERM', stopWhileStarting);
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

let watch: { stop(): Promise<void> } | undefined;
try {
  const { mailer } = await seedDemo(twin, demo);
  const webhookLine = await postDemoBooking(twin);
  const feedLine = await pollDemoFeed(twin);
  const realStartMs = clock ? clock.go() : Date.now();
  const clockState: ClockState = clock ? { mode: 'accelerated', virtualStartMs: start.getTime(), realStartMs, factor: speed } : { mode: 'real' };
  const statePath = writeTwinState(twinStateOf(twin, clockState));

  console.log('');
  console.log(`SES v2 inbox     ${twin.sesEndpoint}/`);
  console.log(`Web pages        ${twin.webUrl ?? '(off)'}`);
  console.log(`DynamoDB Local   ${twin.dynamoEndpoint} (table ${twin.tableName})`);
  console.log(`Operator CLI     npx keepwell outbox --since 7d   (state in ${statePath})`);
  console.log(realtime ? 'Clock            real time' : `Clock            starts ${start.toISOString()}, ${speed} virtual seconds per real second`);
  console.log(`Demo             ${demo.dataset.clients.length} clients of ${demo.clinic.name}; times below are ${demo.clinic.timezone}`);
  console.log(webhookLine);
  console.log(feedLine);
  console.log('Ctrl-C to stop.\n');

  const auto = new Map(demo.autoAnswers.map((a) => [a.sessionId, a]));
  const seenKinds = new Set<MessageKind>();
  const storyKinds: MessageKind[] = ['reminder', 'check-in', 'maintenance-nudge', 'summary'];
  let answered = 0;
  let told = false;
  watch = watchOutbox({
    twin,
    speed: () => clock?.factor ?? 1,
    onEmail: async (email) => {
      console.log(emailLine(email, twin.clinic.timezone));
      seenKinds.add(email.kind);
      if (email.kind === 'check-in' && email.sessionId) {
        const answers = auto.get(email.sessionId);
        if (answers) {
          await answerCheckIn(twin, mailer, answers, twin.clock.now());
          answered++;
          console.log(`${' '.repeat(19)}↳ ${email.to} answered the check-in (as from the form)`);
        } else if (email.sessionId === demo.openCheckIn.sessionId) {
          const link = checkInLink(email);
          console.log(`${' '.repeat(19)}↳ open check-in for ${demo.openCheckIn.clientName}: fill it in at ${link ?? '(link not found in the email)'}`);
        }
      }
      if (!told && storyKinds.every((k) => seenKinds.has(k)) && answered === demo.autoAnswers.length) {
        told = true;
        console.log(
          `\nThe demo has shown reminders, check-ins, a maintenance nudge and summaries. The twin keeps running; try \`npx keepwell preview c-sam\`. Ctrl-C to stop.`,
        );
        // At demo speed a link printed above would expire within minutes of real time: from here on
        // the clock runs at real time, so a person has the links' full lifetime to click them.
        if (clock) {
          writeTwinState(twinStateOf(twin, clock.realTime()));
          console.log(
            `Clock            now runs at real time (from ${DateTime.fromJSDate(twin.clock.now(), { zone: twin.clinic.timezone }).toFormat('ccc d LLL HH:mm')}), so the links above keep working\n`,
          );
        } else console.log('');
      }
    },
    onError: (error) => console.error(`outbox watch: ${error instanceof Error ? error.message : String(error)}`),
  });
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
}
