/**
 * The export's own count of what each flow log delivered: its S3 objects, by the flow-log id and
 * delivery time in their names, per bucket of the window — held against the files actually read.
 * A file present but not read (gzip that does not inflate, broken Parquet, no header) shows as a
 * difference: too many, and the flow log's evidence is inconsistent (shared/coverage/delivery.ts).
 */
import type { DeliveryCounter } from '../../../shared/model/delivery';
import type { TimeWindow } from '../../../shared/model/flow';
import type { FlowLogFile } from './flow-files';
import { objectTime } from './newest-record';

/** Objects are delivered up to about ten minutes after their records; an hour's slack is safe. */
const DELIVERY_SLACK_SECONDS = 3600;

/**
 * One counter per flow log and bucket: files named for it and delivered in the bucket, and how
 * many of them were read. Files without a flow-log id or time in their name are not counted.
 *
 * @example exportFileCounters(allFiles, readFiles, window, 86400) // [{ kind: 'export-files', flowLogIds: ['fl-1'], bucketStart: 1763337600, delivered: 288, read: 288, … }]
 */
export function exportFileCounters(
  all: readonly FlowLogFile[],
  read: readonly FlowLogFile[],
  window: TimeWindow,
  bucketSeconds = 86_400,
): DeliveryCounter[] {
  const readPaths = new Set(read.map((f) => f.path));
  const counters = new Map<
    string,
    { flowLogId: string; bucketStart: number; delivered: number; read: number }
  >();
  for (const file of all) {
    const time = objectTime(file.relativePath);
    if (file.flowLogId === undefined || time === undefined) continue;
    if (time < window.start || time > window.end + DELIVERY_SLACK_SECONDS) continue;
    const bucketStart = time - (time % bucketSeconds);
    const key = `${file.flowLogId}|${bucketStart}`;
    const counter = counters.get(key) ?? { flowLogId: file.flowLogId, bucketStart, delivered: 0, read: 0 };
    counter.delivered += 1;
    if (readPaths.has(file.path)) counter.read += 1;
    counters.set(key, counter);
  }
  return [...counters.values()]
    .sort((a, b) => a.flowLogId.localeCompare(b.flowLogId) || a.bucketStart - b.bucketStart)
    .map((c) => ({
      kind: 'export-files',
      flowLogIds: [c.flowLogId],
      subject: `files of ${c.flowLogId} delivered ${new Date(c.bucketStart * 1000).toISOString().slice(0, bucketSeconds % 86400 === 0 ? 10 : 13)}`,
      bucketStart: c.bucketStart,
      delivered: c.delivered,
      read: c.read,
    }));
}
