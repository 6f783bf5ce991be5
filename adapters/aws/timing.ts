/**
 * How the adapters wait, tell the time and back off: the injectable timing options they share
 * (tests pass their own), the default sleep, and the capped exponential backoff with full jitter
 * of throttled calls.
 */

/** Timing an adapter takes from its caller; each adapter picks the ones it uses. */
export interface InjectedTiming {
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Backoff jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** Resolves after `ms` milliseconds (setTimeout): the adapters' default sleep. */
export const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The wait before retry `attempt` (1 = the first retry) of a throttled call: capped exponential
 * backoff with full jitter, so parallel callers do not retry in lockstep.
 *
 * @example fullJitterDelay(3, () => 0.5, { baseMs: 500, maxMs: 20_000 }) // 1000
 */
export function fullJitterDelay(
  attempt: number,
  random: () => number,
  { baseMs, maxMs }: { readonly baseMs: number; readonly maxMs: number },
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/**
 * The options' timing with the defaults filled in (setTimeout, Date.now, Math.random).
 *
 * @example const { sleep, now } = timingOf({}); await sleep(100);
 */
export function timingOf(options: InjectedTiming): Required<InjectedTiming> {
  return {
    sleep: options.sleep ?? sleepMs,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  };
}
