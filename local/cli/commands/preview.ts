/** `keepwell preview <clientId>`: the preview use case's messages, as a table or JSON. */
import type { Command } from 'commander';
import { toInstant } from '../../../shared/domain/time.js';
import { previewClient } from '../../../shared/use-cases/preview-messages.js';
import { positiveInt, type CliContext } from '../context.js';
import { formatPreview } from '../preview.js';

export function addPreviewCommand(program: Command, ctx: CliContext): void {
  const { io, withTarget } = ctx;
  program
    .command('preview')
    .description("dry run: every message a client would be sent from now on, and when, in the client's local time")
    .argument('<clientId>')
    .option('--weeks <n>', 'how far ahead to look', positiveInt, 4)
    .option('--json', 'print JSON instead of a table')
    .action(async function (this: Command, clientId: string, o: { weeks: number; json?: boolean }) {
      await withTarget(this, async (target) => {
        const deps = { store: target.store, ledger: target.store, clinic: () => target.clinic(), now: () => toInstant(target.now()) };
        const { bundle, now, items } = await previewClient(deps, clientId, o.weeks);
        const { client } = bundle;
        if (o.json) io.out(JSON.stringify({ clientId, now, weeks: o.weeks, timezone: client.timezone, messages: items }, null, 2));
        else for (const line of formatPreview(items, `${client.name} (${clientId}, ${client.email})`, client.timezone, o.weeks)) io.out(line);
      });
    });
}
