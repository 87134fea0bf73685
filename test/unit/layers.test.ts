/**
 * The layers a newcomer reads in the tree are the ones the imports follow: the domain stands on
 * its own, the scheduling kernel stands on the domain and the ports, and the stream's and the
 * sweep's entries are reached only through their handlers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** The project files a source file imports, as paths from the project root (packages and node: modules left out). */
function localImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'/g)].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)).replace(/\.js$/, '.ts'));
}

function importsOf(dir: string): { file: string; target: string }[] {
  return sourcesUnder(dir).flatMap((file) => localImports(file).map((target) => ({ file, target })));
}

describe('the import layers of shared/', () => {
  it('finds the imports it checks', () => {
    expect(importsOf('shared/use-cases/scheduling')).toContainEqual({
      file: 'shared/use-cases/scheduling/maintenance.ts',
      target: 'shared/domain/maintenance.ts',
    });
  });

  it('keeps the scheduling rules of the domain free of ports, adapters and use cases', () => {
    const rules = ['eligibility', 'schedule-diff', 'maintenance', 'schedule-rules', 'message', 'errors'].map((name) => `shared/domain/${name}.ts`);
    const imports = importsOf('shared/domain').filter(({ file }) => rules.includes(file));
    expect(new Set(imports.map(({ file }) => file))).toEqual(new Set(rules));
    expect(imports.filter(({ target }) => !target.startsWith('shared/domain/'))).toEqual([]);
  });

  it('builds the scheduling kernel on the domain and the ports only', () => {
    const outside = importsOf('shared/use-cases/scheduling').filter(
      ({ target }) => !['shared/domain/', 'shared/ports/', 'shared/use-cases/scheduling/'].some((layer) => target.startsWith(layer)),
    );
    expect(outside).toEqual([]);
  });

  it('reaches the stream entry and the sweep only through their handlers', () => {
    const entries = ['shared/use-cases/sync-schedules.ts', 'shared/use-cases/reconcile.ts'];
    expect(importsOf('shared').filter(({ target }) => entries.includes(target))).toEqual([]);
  });
});
