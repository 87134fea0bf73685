/** Time as the system sees it: real in AWS, real/accelerated/virtual in the local twin. */
export interface Clock {
  now(): Date;
}

let override: Clock | undefined;

/**
 * The clock handlers built from the environment use. In AWS it is the system clock; the local
 * twin points it at its accelerated or virtual clock (`useClock`) so the same handlers live in
 * simulated time.
 */
export const systemClock: Clock = { now: () => (override ? override.now() : new Date()) };

/** For the local twin only: make `systemClock` follow another clock (undefined restores real time). */
export function useClock(clock: Clock | undefined): void {
  override = clock;
}
