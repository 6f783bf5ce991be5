/**
 * The newest record of the files, for the CLI's default window (the `--days` ending at it),
 * found by reading as few files as the S3 object names allow: a flow-log object is named by its
 * delivery time and holds records that ended before it was delivered.
 */
import type { FlowFileScanner } from './file-scanner';
import type { FlowLogFile } from './flow-files';
import { type FileGroups, groupsOf, optionalNumber } from './readers';

/** The delivery time in an S3 flow-log object name (`…_20240601T0955Z_hash.log.gz`). */
const OBJECT_TIME = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/;
/**
 * How long after its object's name time a record may end. S3 delivers a file after its records
 * end; an hour is far beyond the delivery interval and clock skew (the sample data ends 5
 * minutes past), and reading the files of a few hours costs little. With the source's default
 * delivery slack (the same hour, plausibility.ts) a record ending later is implausible and left
 * out of every read, so the newest files' answer is exact; a source given a wider slack may admit
 * one the narrowed read misses, which the aggregation then notices and states.
 */
const RECORD_LAG_SECONDS = 3600;
/** The newest files read to find the newest record: those named within this of the newest name. */
const NEWEST_FILES_SPAN_SECONDS = 3 * 3600;

/**
 * The latest plausible record end over every file, reading as few files as the S3 object names allow.
 * The files named within {@link NEWEST_FILES_SPAN_SECONDS} of the newest name, plus every
 * Parquet file (two columns of it cost little) and every file without such a name, are read; if
 * their newest record ends after any other file's name time plus {@link RECORD_LAG_SECONDS}, it
 * is the newest of all. Otherwise every file is read. Lines that cannot be read are skipped here
 * (aggregate() counts them); a file that cannot be read at all is left to aggregate() to report.
 *
 * @example await newestRecordOf(scanner, inspection) // 1717207260 (epoch seconds), or undefined for no records
 */
export async function newestRecordOf(
  scanner: FlowFileScanner,
  groups: FileGroups,
): Promise<number | undefined> {
  const named = groups.textGroups.flatMap((g) => g.files).map((f) => objectTime(f.relativePath));
  const latestName = Math.max(...named.map((t) => t ?? Number.NEGATIVE_INFINITY));
  const cutoff = latestName - NEWEST_FILES_SPAN_SECONDS;
  const recent = (file: FlowLogFile): boolean => {
    const time = objectTime(file.relativePath);
    return time === undefined || time > cutoff;
  };
  const narrowed = groupsOf(groups, (f) => f.kind === 'parquet' || recent(f));
  const newest = await newestEnd(scanner, narrowed);
  const others = groups.textGroups.some((g) => g.files.some((f) => !recent(f)));
  if (!others || (newest !== undefined && newest > cutoff + RECORD_LAG_SECONDS)) return newest;
  return newestEnd(scanner, groups);
}

/** max(end) over the plausible records of the groups' files, any log status; unreadable lines and files skipped. */
async function newestEnd(scanner: FlowFileScanner, groups: FileGroups): Promise<number | undefined> {
  const { relation } = scanner.scanOf(groups, { rejects: false });
  try {
    const [row] = await scanner.readRows(`SELECT max("end") AS newest FROM ${relation}`);
    return optionalNumber(row?.newest);
  } catch {
    // A file DuckDB cannot read: take the newest of the others, file by file (a single file
    // that fails is skipped); aggregate() reports it.
    const singles: FileGroups[] = [
      ...groups.textGroups.flatMap((g) =>
        g.files.map((file) => ({ textGroups: [{ fields: g.fields, files: [file] }], parquetGroups: [] })),
      ),
      ...groups.parquetGroups.flatMap((g) =>
        g.files.map((file) => ({ textGroups: [], parquetGroups: [{ columns: g.columns, files: [file] }] })),
      ),
    ];
    if (singles.length <= 1) return undefined;
    let newest: number | undefined;
    for (const single of singles) {
      const end = await newestEnd(scanner, single);
      if (end !== undefined) newest = Math.max(newest ?? end, end);
    }
    return newest;
  }
}

/**
 * The delivery time (epoch seconds) in an S3 flow-log object name, or undefined.
 *
 * @example objectTime('…_fl-0abc_20240601T0955Z_1a2b.log.gz') // 1717235700
 */
export function objectTime(path: string): number | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const m = OBJECT_TIME.exec(name);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi) / 1000;
  return Number.isFinite(time) ? time : undefined;
}
