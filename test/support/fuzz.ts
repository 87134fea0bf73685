/**
 * fast-check settings for every fuzz property: a fixed seed, and a bounded number of runs in
 * `npm test`; `npm run test:fuzz` sets KEEPWELL_FUZZ_RUNS to run each property many more times.
 */
export const FUZZ_SEED = 20270201;

export function fuzzRuns(numRuns: number): { seed: number; numRuns: number } {
  const override = Number(process.env.KEEPWELL_FUZZ_RUNS);
  return { seed: FUZZ_SEED, numRuns: Number.isInteger(override) && override > 0 ? override : numRuns };
}

/** A property's test timeout: generous, as a hang is what it looks for, not slowness (the machine may be shared). */
export const FUZZ_TIMEOUT_MS = 600_000;
