/**
 * `keepwell intake list` and `keepwell intake replay`: the delivery log of the booking-system
 * intake (accepted, ignored and refused, with reasons), and re-running a saved webhook body
 * through the same pipeline. A replay is an operator's deliberate act with the target's
 * credentials, so it needs no signature and no fresh timestamp; the delivery id still makes it
 * idempotent (a delivery already applied answers "duplicate" and changes nothing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { ValidationError } from '../../../shared/domain/validation.js';
import { loadStageConfig } from '../../../infra/config.js';
import { resolveIntakeConfig, type IntakeConfig } from '../../../shared/intake/config.js';
import { readDelivery } from '../../../shared/intake/receive.js';
import type { DeliveryRecord } from '../../../shared/ports/intake.js';
import { receiveBookingChange } from '../../../shared/use-cases/intake.js';
import { PROJECT_ROOT } from '../state.js';
import { parseSince, type CliContext } from '../context.js';

function stagesOfCdkJson(): unknown {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: { stages?: unknown } }).context?.stages;
}

/** The intake mapping of a stage in cdk.json; the twin serves the dev stage's. */
export function intakeConfigFor(stage: string | undefined): IntakeConfig {
  if (stage) return loadStageConfig(stagesOfCdkJson(), stage).intake;
  const dev = (stagesOfCdkJson() as { dev?: { intake?: unknown } } | undefined)?.dev?.intake;
  return resolveIntakeConfig(dev, 'local');
}

export function formatDelivery(d: DeliveryRecord): string {
  const what = [d.action, d.bookingId && `booking ${d.bookingId}`, d.sessionId && `session ${d.sessionId}`].filter(Boolean).join(', ');
  return `${d.at.slice(0, 16).replace('T', ' ')}Z  ${d.status.padEnd(8)}  ${d.source.padEnd(12)}  ${d.deliveryId.padEnd(40)}  ${what}${d.reason ? `  — ${d.reason}` : ''}`;
}

export function addIntakeCommands(program: Command, ctx: CliContext): void {
  const { io, withTarget } = ctx;
  const intake = program.command('intake').description("deliveries from the clinic's booking systems: list them, replay a saved one");
  intake
    .command('list')
    .description('accepted, ignored and refused deliveries, with reasons')
    .option('--since <when>', 'a duration back from now (24h, 7d) or an instant', '7d')
    .addOption(new Option('--status <status>', 'only deliveries with this outcome').choices(['accepted', 'ignored', 'refused', 'all']).default('all'))
    .option('--json', 'print JSON instead of a table')
    .action(async function (this: Command, o: { since: string; status: string; json?: boolean }) {
      await withTarget(this, async (target) => {
        const now = target.now();
        const since = parseSince(o.since, now);
        const deliveries = (await target.intake.listDeliveries(since, now.toISOString())).filter((d) => o.status === 'all' || d.status === o.status);
        if (o.json) {
          io.out(JSON.stringify({ since, deliveries }, null, 2));
          return;
        }
        const counts = ['accepted', 'ignored', 'refused'].map((s) => `${deliveries.filter((d) => d.status === s).length} ${s}`).join(', ');
        io.out(`intake of ${target.label} since ${since}: ${counts}`);
        for (const d of deliveries) io.out(formatDelivery(d));
      });
    });
  intake
    .command('replay')
    .description('run a saved webhook body through intake again (idempotent: an applied delivery changes nothing)')
    .argument('<file>', 'the raw body of the delivery, as the booking system sent it')
    .requiredOption('--source <name>', 'the intake source it came from, as named in the stage config')
    .action(async function (this: Command, file: string, o: { source: string }) {
      await withTarget(this, async (target) => {
        const stage = this.optsWithGlobals<{ stage?: string }>().stage;
        const config = intakeConfigFor(stage);
        const source = config.sources[o.source];
        if (!source)
          throw new ValidationError('intake replay', [
            {
              path: '--source',
              reason: `no intake source "${o.source}" in the ${stage ? `stage "${stage}"` : "dev stage (the twin's)"} config; sources: ${Object.keys(config.sources).join(', ') || 'none'}`,
            },
          ]);
        if (source.format === 'ical')
          throw new ValidationError('intake replay', [
            { path: '--source', reason: `"${o.source}" is an iCalendar feed, polled rather than posted: it has no deliveries to replay` },
          ]);
        let raw: Buffer;
        try {
          raw = readFileSync(file);
        } catch (error) {
          throw new ValidationError('intake replay', [{ path: file, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` }], {
            cause: error,
          });
        }
        let json: unknown;
        try {
          json = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new ValidationError('intake replay', [{ path: file, reason: 'is not valid JSON' }]);
        }
        const read = readDelivery(source.format, json, raw, target.now(), { checkAge: false });
        if (read.kind === 'refused') throw new ValidationError('intake replay', [{ path: file, reason: read.reason }]);
        if (read.kind !== 'event') {
          io.out(`ignored: ${read.kind === 'unmappable' ? read.reason : 'stale'}`);
          return;
        }
        // The twin plays the dev stage's clinic settings, as it plays its intake mapping.
        const clinic = { timezone: loadStageConfig(stagesOfCdkJson(), stage ?? 'dev').clinic.timezone };
        const outcome = await receiveBookingChange({ store: target.intake, clinic, now: () => target.now() }, o.source, source, read.event);
        io.out(
          outcome.status === 'accepted'
            ? `${outcome.duplicate ? 'duplicate (already applied)' : 'accepted'}${outcome.sessionId ? `: session ${outcome.sessionId}` : ''} (${target.label})`
            : `ignored: ${outcome.reason}${outcome.duplicate ? ' (recorded before)' : ''}`,
        );
      });
    });
}
