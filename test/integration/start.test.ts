/**
 * `npm start` end to end: the real script in its own process, with its own DynamoDB Local and SES
 * local, run fast (--speed), until it has printed an email line of every kind the demo promises;
 * then the clock drops to real time so that its links stay usable, and Ctrl-C (SIGINT) must stop
 * everything it started, print nothing on stderr and exit 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/cli/state.js';
import { freePort } from '../../local/ports.js';

const KINDS = ['reminder', 'check-in', 'maintenance-nudge', 'summary'] as const;
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

/** Processes whose command line mentions DynamoDB Local listening on `port`. */
function dynamoDbLocalOn(port: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return cmdline.some((arg) => arg.includes('DynamoDBLocal')) && cmdline.includes(port);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('npm start', () => {
  it('plays the demo, prints a line for every kind of email and the open check-in link, and stops cleanly on Ctrl-C', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kw-start-'));
    const port = await freePort();
    child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(PROJECT_ROOT, 'local/start.ts'), '--speed', '10800', '--port', String(port)],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, KEEPWELL_STATE_DIR: stateDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    const emailLine = (kind: string) => new RegExp(`^\\w{3} \\d{1,2} \\w{3} \\d{2}:\\d{2} {2}${kind} +\\S+@\\S+ +\\S`, 'm');
    const deadline = Date.now() + 240_000;
    const realTimeLine = /^Clock {12}now runs at real time \(from \w{3} \d{1,2} \w{3} \d{2}:\d{2}\), so the links above keep working$/m;
    while (
      !(KINDS.every((k) => emailLine(k).test(out)) && /open check-in for Kai Moreno: fill it in at /.test(out) && realTimeLine.test(out)) &&
      child.exitCode === null &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const state = JSON.parse(readFileSync(join(stateDir, 'twin.json'), 'utf8')) as {
      pid: number;
      webUrl: string;
      dynamoEndpoint: string;
      clock: { mode: string; factor?: number };
    };
    const dynamoPort = new URL(state.dynamoEndpoint).port;

    child.kill('SIGINT');
    const code = await exited;

    expect(err).toBe('');
    for (const kind of KINDS) expect(out).toMatch(emailLine(kind));
    expect(out).toMatch(new RegExp(`^Web pages {8}http://127\\.0\\.0\\.1:${port}$`, 'm'));
    expect(out).toMatch(/^SES v2 inbox {5}http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(out).toMatch(new RegExp(`open check-in for Kai Moreno: fill it in at http://127\\.0\\.0\\.1:${port}/check-in/[\\w.-]+$`, 'm'));
    expect(out).toMatch(/answered the check-in \(as from the form\)/);
    expect(out).toMatch(realTimeLine);
    // Once the story has been told the clock runs at real time, for the twin and the CLI alike.
    expect(state.clock).toMatchObject({ mode: 'accelerated', factor: 1 });
    expect(state.pid).toBe(child.pid);
    expect(state.webUrl).toBe(`http://127.0.0.1:${port}`);
    expect(code).toBe(0);
    expect(out).toMatch(/^Stopped\.$/m);
    expect(dynamoDbLocalOn(dynamoPort)).toEqual([]);
    await expect(fetch(state.dynamoEndpoint)).rejects.toThrow();
    expect(readdirSync(stateDir)).not.toContain('twin.json');
  }, 300_000);
});
