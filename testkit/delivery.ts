/**
 * Delivery proof for tests and benches on plain data: the counts a flow source reports when a flow
 * log delivered records for an ENI in every bucket of a window.
 */
import { windowBuckets } from '../shared/coverage/delivery';
import type { DeliveryCount } from '../shared/model/delivery';
import type { TimeWindow } from '../shared/model/flow';

/**
 * One record of `flowLogId` for `eniId` in every bucket of the window, but those listed as missing.
 *
 * @example deliveredEveryDay('fl-1', 'eni-1', window, { missing: [2] }) // 7-day window, the third day silent
 */
export function deliveredEveryDay(
  flowLogId: string | null,
  eniId: string,
  window: TimeWindow,
  options: { readonly bucketSeconds?: number; readonly missing?: readonly number[] } = {},
): DeliveryCount[] {
  const missing = new Set(options.missing ?? []);
  return windowBuckets(window, options.bucketSeconds ?? 86_400)
    .filter((_, i) => !missing.has(i))
    .map((bucket) => ({ flowLogId, eniId, bucketStart: bucket.start, records: 1 }));
}
