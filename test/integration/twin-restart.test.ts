/**
 * DynamoDB Local going away and coming back under a running twin (real clock, stream polled on a
 * timer): the stream poller backs off, says so once, re-reads the stream when it answers, and the
 * next booking is scheduled as if nothing had happened. DynamoDB Local runs with a data directory,
 * so the table and its stream survive the restart on the same port.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../../local/cli/state.js';
import { freePort } from '../../local/ports.js';
import { startDynamoDbLocal, startSesLocal, type RunningService } from '../../local/services.js';
import { parseScenario } from '../../local/simulation/scenario.js';
import { startTwin, type Twin } from '../../local/twin.js';
import { bookSession, importDataset } from '../../shared/use-cases/manage-plans.js';

const dataDir = mkdtempSync(join(tmpdir(), 'kw-dynamo-data-'));
let dynamo: RunningService | undefined;
let ses: RunningService | undefined;
let twin: Twin | undefined;

afterAll(async () => {
  await twin?.close();
  await Promise.all([dynamo?.stop(), ses?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the twin with DynamoDB Local restarted under it', () => {
  it('backs off while the table is away, then schedules the next booking', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await freePort();
    dynamo = await startDynamoDbLocal({ port, dataDir });
    ses = await startSesLocal();
    const scenario = parseScenario(JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples/team-kit.json'), 'utf8')), 'team-kit');
    twin = await startTwin({
      clinic: scenario.clinic,
      clock: { mode: 'real' },
      dynamoEndpoint: dynamo.endpoint,
      sesEndpoint: ses.endpoint,
      web: false,
      recurring: false,
      tickMs: 50,
    });
    await importDataset(twin.store, scenario.dataset);
    const scheduled = (sessionId: string) => twin!.scheduler.list().some((s) => s.name.includes(`.${sessionId}.`));
    // Every imported session scheduled and every record handled before the table goes: a sync still
    // in flight would log its own error.
    await until(() => scenario.dataset.sessions.every((s) => scheduled(s.id)), 'the imported sessions to be scheduled');
    await twin.settle();

    await dynamo.stop();
    // Long enough for several failed polls at 50 ms: they must not each print an error.
    await new Promise((r) => setTimeout(r, 1500));
    const whileAway = errors.mock.calls.length;
    dynamo = await startDynamoDbLocal({ port, dataDir });

    await bookSession(twin.store, { id: 's-sam-after', planId: 'p-sam', start: '2027-03-01T14:00:00Z', durationMinutes: 60, location: 'Room 2' });
    await until(() => scheduled('s-sam-after'), 'the booking made after the restart to be scheduled');

    expect(whileAway).toBe(1);
    expect(String(errors.mock.calls[0]?.[0])).toMatch(/^Stream poller: cannot read the table stream \(.*\); retrying with backoff$/);
    // The poller says it is back once the round that read the booking has finished, which can be
    // a moment after that round's schedules are visible.
    const back = () => errors.mock.calls.some((c) => /^Stream poller: reading the table stream again after \d+ failed attempt\(s\)$/.test(String(c[0])));
    await until(back, 'the poller to say it reads the stream again', 10_000);
    expect(back()).toBe(true);
    errors.mockRestore();
  }, 120_000);
});
