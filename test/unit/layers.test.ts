/**
 * The layers a newcomer reads in the tree are the ones the imports follow: the domain stands on
 * its own, the scheduling kernel stands on the domain and the ports, the stream's and the
 * sweep's entries are reached only through their handlers, use cases share code only through
 * `delivery/` and `scheduling/`, and the emails render what they are given without a use case.
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

/** A module whose every statement is an `export … from`: an index that names modules together, with no code of its own. */
function onlyReExports(file: string): boolean {
  const code = readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const statements = code
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return statements.length > 0 && statements.every((s) => /^export\s[\s\S]*?\sfrom\s+'[^']+'$/.test(s));
}

const USE_CASES = 'shared/use-cases/';
const SHARED_BY_USE_CASES = ['delivery/', 'scheduling/'].map((folder) => USE_CASES + folder);

/**
 * Whether a use-case module may import another: anything under `delivery/` or `scheduling/`; a
 * module in a subfolder, its own subfolder; and `x.ts`, the parts in `x/` beside it (its own steps,
 * as send-message.ts has send-message/).
 */
function mayImportUseCase(file: string, target: string): boolean {
  if (SHARED_BY_USE_CASES.some((folder) => target.startsWith(folder))) return true;
  const own = dirname(file) === 'shared/use-cases' ? file.replace(/\.ts$/, '') : dirname(file);
  return target.startsWith(`${own}/`);
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

  it('lets a use case import another only through delivery/ or scheduling/', () => {
    const crossings = importsOf('shared/use-cases').filter(
      ({ file, target }) => target.startsWith(USE_CASES) && !onlyReExports(file) && !mayImportUseCase(file, target),
    );
    expect(crossings).toEqual([]);
  });

  it('tells the rule on use cases apart from what it allows', () => {
    expect(mayImportUseCase('shared/use-cases/send-message.ts', 'shared/use-cases/delivery/pipeline.ts')).toBe(true);
    expect(mayImportUseCase('shared/use-cases/send-message.ts', 'shared/use-cases/send-message/decide.ts')).toBe(true);
    expect(mayImportUseCase('shared/use-cases/send-summaries.ts', 'shared/use-cases/send-message/decide.ts')).toBe(false);
    expect(mayImportUseCase('shared/use-cases/import/write.ts', 'shared/use-cases/import/rows.ts')).toBe(true);
    expect(mayImportUseCase('shared/use-cases/poll-feeds.ts', 'shared/use-cases/intake.ts')).toBe(false);
    expect(mayImportUseCase('shared/use-cases/send-message/decide.ts', 'shared/use-cases/send-message.ts')).toBe(false);
    expect(mayImportUseCase('shared/use-cases/import/write.ts', 'shared/use-cases/send-message/decide.ts')).toBe(false);
    expect(onlyReExports('shared/use-cases/manage-plans.ts')).toBe(true);
    expect(onlyReExports('shared/use-cases/send-message.ts')).toBe(false);
  });

  it('keeps the whole domain free of every other layer', () => {
    expect(importsOf('shared/domain').filter(({ target }) => !target.startsWith('shared/domain/'))).toEqual([]);
  });

  it('renders emails without a use case', () => {
    expect(importsOf('shared/email').filter(({ target }) => target.startsWith(USE_CASES))).toEqual([]);
  });

  it('keeps the helpers of no layer free of every layer', () => {
    expect(importsOf('shared/util')).toEqual([]);
  });
});
