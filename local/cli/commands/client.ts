/**
 * `keepwell client erase <clientId>` and `keepwell client export <clientId>`: a client's right to
 * erasure and to a copy of their data (shared/use-cases/erase-client.ts).
 */
import type { Command } from 'commander';
import { eraseClient, exportClient, type ErasureReport } from '../../../shared/use-cases/erase-client.js';
import type { CliContext } from '../context.js';

/** The report an erasure prints: counts by kind and every schedule deleted; no names, no answers. */
export function formatErasure(report: ErasureReport, label: string): string[] {
  const kinds = Object.entries(report.removed)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, n]) => `${n} ${type}`);
  const total = Object.values(report.removed).reduce((a, b) => a + b, 0);
  return [
    `erased client ${report.clientId} from ${label}${report.repeated ? ` (erased before, on ${report.erasedAt})` : ''}: ${total} item(s) removed${kinds.length ? ` (${kinds.join(', ')})` : ''}, ${report.schedules.length} schedule(s) deleted`,
    ...report.schedules.map((name) => `  schedule ${name}`),
    `a tombstone (client id, address digest, ${report.erasedAt}) keeps a late import or booking webhook from bringing them back`,
  ];
}

export function addClientCommands(program: Command, ctx: CliContext): void {
  const { io, withTarget } = ctx;
  const client = program.command('client').description("a client's data: erase it, or export it as JSON");
  client
    .command('erase')
    .description('remove every item of the client, their schedules and their spent links; leave a tombstone; report what was removed')
    .argument('<clientId>', 'the client id')
    .option('--json', 'print the report as JSON')
    .action(async function (this: Command, clientId: string, o: { json?: boolean }) {
      await withTarget(this, async (target) => {
        const report = await eraseClient({ records: target.records, scheduler: await target.messageScheduler(), now: () => target.now() }, clientId);
        if (o.json) io.out(JSON.stringify(report, null, 2));
        else for (const line of formatErasure(report, target.label)) io.out(line);
      });
    });
  client
    .command('export')
    .description('everything Keepwell holds about the client, as JSON on stdout (a subject-access request)')
    .argument('<clientId>', 'the client id')
    .action(async function (this: Command, clientId: string) {
      await withTarget(this, async (target) => {
        io.out(JSON.stringify(await exportClient({ records: target.records, now: () => target.now() }, clientId), null, 2));
      });
    });
}
