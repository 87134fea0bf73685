/** Every manifest function's handler stays a thin adapter: short, started by lambdaEntry, with nothing from infra/. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../shared/config/manifest.js';

const source = (entry: string) => readFileSync(new URL(`../../${entry}`, import.meta.url), 'utf8');

describe.each(FUNCTIONS.map((spec) => [spec.name, spec.entry] as const))('the %s handler', (name, entry) => {
  it('is at most 60 lines', () => {
    expect(source(entry).trimEnd().split('\n').length).toBeLessThanOrEqual(60);
  });

  it('imports nothing from infra/', () => {
    expect(source(entry)).not.toMatch(/from '(\.\.\/)+infra\//);
  });

  it(`exports the Lambda entry point made by lambdaEntry('${name}')`, () => {
    expect(source(entry)).toContain(`export const handler = lambdaEntry('${name}',`);
  });
});
