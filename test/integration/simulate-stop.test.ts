/**
 * `npm run simulate` without running services starts its own DynamoDB Local (Java); however the
 * run is stopped, that process must not outlive it.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/cli/state.js';

/** DynamoDB Local processes whose parent is `parent`. */
function dynamoDbLocalChildrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const ppid = Number(
          readFileSync(`/proc/${pid}/stat`, 'utf8')
            .replace(/^.*\) /s, '')
            .split(' ')[1],
        );
        return cmdline.includes('DynamoDBLocal') && ppid === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    // A zombie still has a /proc entry; its state letter says it is gone.
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('npm run simulate, stopped', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'by %s leaves no DynamoDB Local behind',
    async (signal) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          import.meta.resolve('tsx'),
          join(PROJECT_ROOT, 'local/simulate.ts'),
          join(PROJECT_ROOT, 'examples/team-kit.json'),
          '--report',
          '/dev/null',
        ],
        {
          cwd: PROJECT_ROOT,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      const pid = child.pid as number;

      let java: number[] = [];
      const deadline = Date.now() + 60_000;
      while (java.length === 0 && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        java = dynamoDbLocalChildrenOf(pid);
      }
      expect(java, `no DynamoDB Local started: ${stderr}`).toHaveLength(1);
      // Into the run: DynamoDB Local is up and the twin is starting or playing.
      await new Promise((r) => setTimeout(r, 1500));
      child.kill(signal);
      const ended = await exited;

      expect(ended.code).toBe(signal === 'SIGTERM' ? 143 : 130);
      const gone = Date.now() + 5000;
      while (alive(java[0] as number) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(alive(java[0] as number)).toBe(false);
    },
    120_000,
  );
});
