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

/**
 * `items` in groups of equal `keyOf`, each group in input order, the groups in the order of their
 * first item: the lanes that work one after another within and at once across.
 */
export function groupInOrder<T>(items: readonly T[], keyOf: (item: T, index: number) => string): T[][] {
  const groups = new Map<string, T[]>();
  items.forEach((item, index) => {
    const key = keyOf(item, index);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  });
  return [...groups.values()];
}
