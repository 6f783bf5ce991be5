/**
 * Bounded concurrency for I/O fan-out (API pages, S3 objects, queries): at most `concurrency`
 * calls of `work` in flight, results in input order. The first rejection rejects the whole map.
 *
 * @example const sizes = await mapBounded(keys, 8, (key) => head(key));
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}
