/**
 * `npm run bench [-- <name> …]`: runs every benchmark module in bench/ (each exports
 * `run(): Promise<Record<string, unknown>>` and prints nothing itself), one after another, each in a
 * process of its own (a local twin is one per process, and one benchmark's heap must not skew the
 * next one's), prints each module's results as a table and writes them all to bench/results.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const SELF = basename(fileURLToPath(import.meta.url));
/** The line a child prints its result on, so module output cannot be mistaken for it. */
const RESULT_MARK = '@@keepwell-bench-result@@ ';

interface ModuleResult {
  readonly status: 'ok' | 'failed' | 'no run()';
  readonly seconds: number;
  readonly result?: Record<string, unknown>;
  readonly error?: string;
}

/** In a child: import one module, run it, hand the result back on stdout. */
async function runChild(file: string): Promise<void> {
  const module = (await import(pathToFileURL(join(BENCH_DIR, file)).href)) as { run?: () => Promise<Record<string, unknown>> };
  if (typeof module.run !== 'function') {
    process.stdout.write(`${RESULT_MARK}${JSON.stringify({ status: 'no run()' })}\n`);
    return;
  }
  const result = await module.run();
  process.stdout.write(`${RESULT_MARK}${JSON.stringify({ status: 'ok', result })}\n`);
}

function runModule(file: string): Promise<ModuleResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url)], {
      env: { ...process.env, KEEPWELL_BENCH_MODULE: file, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (code === 0 && line) {
        const parsed = JSON.parse(line.slice(RESULT_MARK.length)) as { status: 'ok' | 'no run()'; result?: Record<string, unknown> };
        resolve({ status: parsed.status, seconds, ...(parsed.result ? { result: parsed.result } : {}) });
      } else {
        resolve({ status: 'failed', seconds, error: (stderr.trim().split('\n').slice(-5).join('\n') || `exited with code ${code}`).slice(0, 2000) });
      }
    });
  });
}

/** `{ a: { b: 1 } }` → `[['a.b', 1]]`, for a two-column table. */
function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, value]];
}

function printTable(name: string, outcome: ModuleResult): void {
  console.log(`\n${name} — ${outcome.status}, ${outcome.seconds} s`);
  if (outcome.error) console.log(`  ${outcome.error.replace(/\n/g, '\n  ')}`);
  const rows = outcome.result ? flatten(outcome.result) : [];
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  for (const [key, value] of rows) console.log(`  ${key.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const available = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.ts') && f !== SELF)
    .sort();
  const unknown = wanted.filter((w) => !available.includes(`${w}.ts`));
  if (unknown.length > 0) {
    console.error(`bench: no benchmark named ${unknown.join(', ')}; available: ${available.map((f) => f.replace(/\.ts$/, '')).join(', ')}`);
    process.exit(1);
  }
  const files = wanted.length > 0 ? wanted.map((w) => `${w}.ts`) : available;
  const results: Record<string, ModuleResult> = {};
  for (const file of files) {
    const name = file.replace(/\.ts$/, '');
    console.log(`running ${name}…`);
    results[name] = await runModule(file);
    printTable(name, results[name]);
  }
  // Running one benchmark updates its entry and keeps the others' last results.
  const path = join(BENCH_DIR, 'results.json');
  const previous = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { results?: Record<string, unknown> }).results : undefined;
  const stamped = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      { ...r, ranAt: new Date().toISOString(), node: process.version, platform: `${process.platform} ${process.arch}` },
    ]),
  );
  writeFileSync(path, `${JSON.stringify({ results: { ...previous, ...stamped } }, null, 2)}\n`);
  console.log(`\nresults written to ${path}`);
  if (Object.values(results).some((r) => r.status === 'failed')) process.exitCode = 1;
}

const child = process.env.KEEPWELL_BENCH_MODULE;
if (child) await runChild(child);
else await main();
