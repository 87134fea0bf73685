/**
 * Bounded concurrency for reads that fan out (a summary's clients, the sweep's therapists,
 * reconcile's plans): enough requests in flight to hide latency, not so many that DynamoDB
 * throttles. A helper of no layer: it imports nothing of the project.
 */

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
