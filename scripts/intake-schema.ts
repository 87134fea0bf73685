/**
 * Writes docs/intake-event.schema.json, the JSON Schema of Keepwell's own intake format, from the
 * zod schema the intake function validates with (shared/intake/keepwell-format.ts). Run with
 * `npx tsx scripts/intake-schema.ts`; test/unit/intake.test.ts fails when the file is out of date.
 */
import { writeFileSync } from 'node:fs';
import * as z from 'zod';
import { keepwellEventSchema } from '../shared/intake/keepwell-format.js';

export function intakeEventJsonSchema(): string {
  const schema = z.toJSONSchema(keepwellEventSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, $id: 'https://keepwell.example/schemas/intake-event.json', title: 'Keepwell intake event' }, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/intake-event.schema.json', import.meta.url), intakeEventJsonSchema());
}
