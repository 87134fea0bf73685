import { describe, expect, it } from 'vitest';
import { simulationProgress } from '../../local/simulation/progress.js';

const DAY_MS = 86_400_000;

/** A stream that is not a terminal and keeps what is written to it. */
function pipe() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(text) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('progress of a simulation when stderr is not a terminal', () => {
  it('writes one line with the simulated date, the day, the emails so far and emails per second', () => {
    const out = pipe();
    const progress = simulationProgress({ stream: out.stream, everyMs: 0 });
    progress.update(2.5 * DAY_MS, 14 * DAY_MS, new Date('2027-04-07T12:00:00Z'));
    progress.stop();

    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^simulating: 2027-04-07 12:00 UTC, day 2\.5 of 14\.0, 0 emails, \d+\.\d emails\/s\n$/);
  });

  it('writes at most one line every few seconds however often it is told of progress', () => {
    const out = pipe();
    const progress = simulationProgress({ stream: out.stream, everyMs: 60_000 });
    for (let day = 1; day <= 10; day++) progress.update(day * DAY_MS, 14 * DAY_MS, new Date(Date.parse('2027-04-05T00:00:00Z') + day * DAY_MS));
    progress.stop();

    expect(out.lines).toHaveLength(0);
  });
});
