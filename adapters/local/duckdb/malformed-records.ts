/**
 * What one aggregation counts as malformed, besides the files left out whole (inspection.ts,
 * file-scanner.ts): the lines DuckDB rejected (malformed-lines.ts), the implausible records
 * (plausibility.ts), and — named in a warning — the gzip objects cut short (object-lines.ts).
 */
import type { MalformedRecord } from '../../../shared/model/flow';
import type { FlowFileScanner, Scan } from './file-scanner';
import { RejectedLines } from './malformed-lines';
import { type CutObject, cutObject, cutReason } from './object-lines';
import { implausibleRecords } from './plausibility';
import type { FileGroups } from './readers';

export interface MalformedRecords {
  /** Every malformed record counted once. */
  readonly count: number;
  /** The first samples of each kind (firstSamples merges and limits them). */
  readonly samples: readonly MalformedRecord[];
  /** One per gzip object cut short, naming it. */
  readonly warnings: readonly string[];
}

/**
 * The malformed records of one scan (whose rejects tables the caller drops).
 *
 * @example await malformedRecords(scanner, inspection, scan, 20) // { count: 3, samples: [...], warnings: ['a.log.gz: truncated gzip object: 931 records read before the cut'] }
 */
export async function malformedRecords(
  scanner: FlowFileScanner,
  groups: FileGroups,
  scan: Scan,
  sampleLimit: number,
): Promise<MalformedRecords> {
  const rejected = new RejectedLines(scanner.connection, scan.rejectTables);
  const cuts = await cutObjects(scan, new Set(await rejected.files()));
  const cutByPath = new Map(cuts.map((cut) => [cut.file.path, cut]));
  // The line a cut split in two is the cut, not a line of too few fields.
  const lines = await rejected.malformed(scan.files, sampleLimit, (path, line) => {
    const cut = cutByPath.get(path);
    return cut !== undefined && cut.cutLine === line ? cutReason(cut) : undefined;
  });
  // The aggregation's filter counted what it left out: the files are read again only when it left
  // out any (rarely), to count them per file and find their lines.
  const implausible = (await scanner.leftOutImplausible(scan))
    ? await implausibleRecords(scanner, groups, { sampleLimit, rejected: (paths) => rejected.linesIn(paths) })
    : { count: 0, samples: [] };
  return {
    count: lines.count + implausible.count,
    samples: [...lines.samples, ...implausible.samples],
    warnings: cuts.map((cut) => `${cut.file.relativePath}: ${cutReason(cut)}`),
  };
}

/**
 * The gzip objects of the scan that are cut short. DuckDB reads a cut object up to the cut and
 * rejects the line the cut split (too few fields), so only the gzip files with a rejected line are
 * inflated here, in JavaScript — inflating every file would cost more than DuckDB's whole read.
 * The limit: a cut exactly at a line end leaves no rejected line and is not detected this way (nor
 * is a cut within a line's last value that still reads, e.g. 'OK' cut to 'O').
 */
async function cutObjects(scan: Scan, withRejectedLines: ReadonlySet<string>): Promise<CutObject[]> {
  const cuts: CutObject[] = [];
  for (const file of scan.files) {
    if (!file.gzip || !withRejectedLines.has(file.path)) continue;
    const cut = await cutObject(file);
    if (cut !== undefined) cuts.push(cut);
  }
  return cuts;
}
