/**
 * The JavaScript heap's part of an audit's memory, as the CLI sets it for the run: how far V8
 * lets the heap grow past what is live, and giving back what is not live before the phases that
 * take much (DuckDB's aggregation, the analyses that hold structures per distinct peer).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc` with the options of its GC extension. */
type GcFunction = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: string;
}) => void;

/** V8's heap growth past its live size, in percent, for offline audits (V8 picks up to 300 otherwise). */
const HEAP_GROWING_PERCENT = 30;

/**
 * Holds V8's heap growth to {@link HEAP_GROWING_PERCENT} above what is live for the rest of the
 * process. The fold and the analyses hold one entry per distinct peer and service port, which
 * --memory-limit does not bound yet; above that live size V8 lets its heap grow by a factor it
 * picks (up to 4 for a large, long-lived heap) before it collects. A fixed 30 % keeps the peak
 * nearer what is live: a million distinct clients peaked at 1.7 instead of 2.8 GiB, a million
 * scanners at 2.2 instead of 3.1 GiB, for 25–30 % more time; audits with few peers do not change
 * (measured when it went in; bench/results.md has today's figures).
 */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

let gcFunction: GcFunction | undefined;

/**
 * V8's `gc` without exposing it to the program: the flag holds only while a new context is made,
 * which keeps the function (`--expose-gc` on the command line would put it on every global).
 */
function v8Gc(): GcFunction {
  if (gcFunction === undefined) {
    setFlagsFromString('--expose-gc');
    try {
      const found: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
      // A V8 that would not take the flag at run time: nothing is collected, the audit goes on.
      gcFunction = typeof found === 'function' ? (found as GcFunction) : () => undefined;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return gcFunction;
}

/**
 * Collects the JavaScript heap's garbage now and gives its spare space back to the system: V8's
 * last-resort collection, which also shrinks the young generation to what is live (a plain full
 * collection keeps its 32 MiB) and the pages V8 keeps for reuse after a collection. The audit
 * calls it:
 * - as DuckDB's aggregation starts (DuckDbFlowSource's beforeAggregation): the heap then still
 *   holds what reading the inventory and the files' headers left, up to twice what is live, while
 *   DuckDB fills its working memory. On the bench's 300× account (9.8M records) the heap during
 *   the aggregation went from 115 to 61 MiB and the run's peak RSS from about 331 to 276 MiB;
 * - before each analysis that builds and drops structures per distinct peer (runAudit's
 *   releaseMemory): a million distinct clients peaked at about 1.2 GiB, 1.06–1.09 GiB with it.
 * Each call takes from tens of milliseconds to half a second (a heap of a million peers).
 *
 * @example collectGarbage() // before a long wait on DuckDB
 */
export function collectGarbage(): void {
  v8Gc()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
