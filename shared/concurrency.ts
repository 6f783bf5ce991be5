/**
 * Bounded concurrency in two shapes: mapBounded for a list known up front, and Semaphore for
 * tasks that arrive over time (queries that split, retry or wait for an earlier step) and must
 * still share one bound, such as an account's concurrent-query quota.
 */
import { InvalidValueError } from './errors';

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

/**
 * A counting semaphore: at most `limit` tasks run at once; the others wait and start in the order
 * they were handed in. A task's slot is freed however it ends (resolved or rejected).
 *
 * @example
 * const queries = new Semaphore(4); // the account's concurrent-query quota, shared by every caller
 * const rows = await Promise.all(tables.map((t) => queries.run(() => runQuery(t))));
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** @throws InvalidValueError when `limit` is not a positive integer. */
  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidValueError(`expected a positive integer, got ${limit}`, { field: 'limit' });
    }
  }

  /** Runs `task` once a slot is free and resolves (or rejects) as it does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) {
      this.active += 1;
    } else {
      // The slot is handed over by the task that frees it (see below): a caller arriving in
      // between cannot take it first, so waiting tasks start in call order.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active -= 1;
    }
  }
}
