import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildEmailModule, LAYOUT_MODULE, LAYOUT_SOURCE } from '../../scripts/build-email.js';

describe('the compiled email layout', () => {
  it('is up to date with layout.mjml (run `npx tsx scripts/build-email.ts` when this fails)', async () => {
    const committed = await readFile(LAYOUT_MODULE, 'utf8');

    const fresh = await buildEmailModule();

    expect(fresh).toBe(committed);
  });

  it('would be reported stale after any change to the MJML source', async () => {
    const source = await readFile(LAYOUT_SOURCE, 'utf8');
    const committed = await readFile(LAYOUT_MODULE, 'utf8');

    const edited = await buildEmailModule(source.replace('background-color="#f4f4f5"', 'background-color="#f4f4f6"'));

    expect(edited).not.toBe(committed);
  });

  it('refuses a layout that has lost the slot the blocks go in', async () => {
    const source = await readFile(LAYOUT_SOURCE, 'utf8');

    await expect(buildEmailModule(source.replace('<mj-raw><!--kw:blocks--></mj-raw>', ''))).rejects.toThrow(/kw:blocks/);
  });
});
