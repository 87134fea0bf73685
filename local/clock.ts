/**
 * The clock that drives the local twin. The local Scheduler fires what is due by this clock, and the
 * twin hands the same clock to the handlers, so a simulated month reads as a month everywhere.
 *
 * - real: wall-clock time.
 * - accelerated: virtual time starts at `start` and runs `factor` times faster than wall-clock time.
 * - virtual: time stands still until someone (the local Scheduler's `advanceTo`) moves it.
 */
export type ClockMode = 'real' | 'accelerated' | 'virtual';

export interface Clock {
  readonly mode: ClockMode;
  now(): Date;
}

export interface VirtualClock extends Clock {
  readonly mode: 'virtual';
  /** Puts the clock at `instant`, forwards or backwards (for test setup). */
  set(instant: Date): void;
  /** Moves the clock forward to `instant`; a virtual clock never runs backwards on its own. */
  advanceTo(instant: Date): void;
}

export function realClock(): Clock {
  return { mode: 'real', now: () => new Date() };
}

export function acceleratedClock(options: { start: Date; factor: number }): Clock {
  const { start, factor } = options;
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new RangeError(`acceleratedClock factor must be a positive number, got ${factor}`);
  }
  assertValidDate(start, 'acceleratedClock start');
  const startMs = start.getTime();
  const realStartMs = Date.now();
  return {
    mode: 'accelerated',
    now: () => new Date(startMs + (Date.now() - realStartMs) * factor),
  };
}

export function virtualClock(start: Date): VirtualClock {
  assertValidDate(start, 'virtualClock start');
  let currentMs = start.getTime();
  return {
    mode: 'virtual',
    now: () => new Date(currentMs),
    set(instant) {
      assertValidDate(instant, 'virtual clock time');
      currentMs = instant.getTime();
    },
    advanceTo(instant) {
      assertValidDate(instant, 'virtual clock time');
      if (instant.getTime() < currentMs) {
        throw new RangeError(`Cannot move the virtual clock back from ${new Date(currentMs).toISOString()} to ${instant.toISOString()}`);
      }
      currentMs = instant.getTime();
    },
  };
}

export function isVirtualClock(clock: Clock): clock is VirtualClock {
  return clock.mode === 'virtual';
}

export type ClockSettings = { mode: 'real' } | { mode: 'accelerated'; start: Date; factor: number } | { mode: 'virtual'; start: Date };

/** Builds a clock from launcher settings (CLI flags, environment). */
export function createClock(settings: ClockSettings): Clock {
  switch (settings.mode) {
    case 'real':
      return realClock();
    case 'accelerated':
      return acceleratedClock(settings);
    case 'virtual':
      return virtualClock(settings.start);
  }
}

function assertValidDate(value: Date, what: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new RangeError(`${what} must be a valid Date`);
  }
}
