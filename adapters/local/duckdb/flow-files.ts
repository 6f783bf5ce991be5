/**
 * Finding flow-log objects in an export directory and reading the header line of text ones.
 *
 * The directory holds flow-log objects as S3 delivers them, at any depth:
 * `AWSLogs/{account}/vpcflowlogs/{region}/yyyy/mm/dd/…` or Hive-style `key=value/` folders,
 * gzip or plain text with one header line, or Parquet.
 */
import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';

export type FlowLogFileKind = 'text' | 'parquet';

export interface FlowLogFile {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the export directory, with forward slashes: what messages name. */
  readonly relativePath: string;
  readonly kind: FlowLogFileKind;
  readonly gzip: boolean;
  readonly bytes: number;
  /** The flow-log id in an S3 object name (`…_vpcflowlogs_{region}_{fl-…}_{time}_{hash}.log.gz`). */
  readonly flowLogId?: string;
}

const TEXT_FILE = /\.(log|txt)(\.gz)?$/i;
const PARQUET_FILE = /\.parquet$/i;
const FLOW_LOG_ID = /_(fl-[0-9a-z]+)_/i;
/** Files whose size is asked at once. */
const STATS_AT_ONCE = 64;
/** Directory levels walked at most: S3 layouts are about ten deep. */
const MAX_DEPTH = 64;

/**
 * Every flow-log file under a directory (recursively; symbolic links are not followed), sorted by
 * relative path. A missing directory yields no files.
 *
 * @example await discoverFlowLogFiles('export/flowlogs') // [{ relativePath: 'AWSLogs/…/x.log.gz', kind: 'text', … }]
 */
export async function discoverFlowLogFiles(directory: string): Promise<FlowLogFile[]> {
  const found: { path: string; name: string; kind: FlowLogFileKind }[] = [];
  const pending: { dir: string; depth: number }[] = [{ dir: directory, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === undefined || next.depth > MAX_DEPTH) continue;
    let entries: Dirent[];
    try {
      entries = await readdir(next.dir, { withFileTypes: true });
    } catch (error) {
      if (next.depth === 0 && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    for (const entry of entries) {
      const path = join(next.dir, entry.name);
      if (entry.isDirectory()) {
        pending.push({ dir: path, depth: next.depth + 1 });
        continue;
      }
      if (!entry.isFile()) continue;
      const kind: FlowLogFileKind | undefined = PARQUET_FILE.test(entry.name)
        ? 'parquet'
        : TEXT_FILE.test(entry.name)
          ? 'text'
          : undefined;
      if (kind !== undefined) found.push({ path, name: entry.name, kind });
    }
  }
  // Sizes in batches: one stat after another costs a round trip per file (763 files: 0.15 s).
  const files: FlowLogFile[] = [];
  for (let i = 0; i < found.length; i += STATS_AT_ONCE) {
    const batch = found.slice(i, i + STATS_AT_ONCE);
    const sizes = await Promise.all(batch.map((f) => stat(f.path)));
    batch.forEach((f, j) => {
      files.push({
        path: f.path,
        relativePath: relative(directory, f.path).split(sep).join('/'),
        kind: f.kind,
        gzip: /\.gz$/i.test(f.name),
        bytes: sizes[j]?.size ?? 0,
        flowLogId: FLOW_LOG_ID.exec(f.name)?.[1],
      });
    });
  }
  return files.sort((a, b) =>
    a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0,
  );
}

/** Compressed bytes read first; doubled while no line end shows, up to the cap. */
const HEADER_FIRST_READ = 1024;
const HEADER_MAX_READ = 1 << 20;

/** The first line of a text flow-log file, and whether a line end closes it. */
export interface HeaderLine {
  /** Without its line end; undefined for an empty file. */
  readonly line?: string;
  /** False when the file ends within its first line (a header-only file, or one cut short). */
  readonly closed: boolean;
}

/**
 * The first line of a text flow-log file (gunzipped as needed), without its line end; undefined
 * for an empty file. Reads only the first few kilobytes.
 *
 * @throws Error when the file cannot be read or its gzip stream is corrupt.
 * @example await readFirstLine(file) // 'version account-id interface-id …'
 */
export async function readFirstLine(file: Pick<FlowLogFile, 'path' | 'gzip'>): Promise<string | undefined> {
  return (await readHeaderLine(file)).line;
}

/**
 * The first line of a text flow-log file as {@link readFirstLine} reads it, and whether it is closed.
 *
 * @throws Error when the file cannot be read or its gzip stream is corrupt.
 * @example await readHeaderLine(file) // { line: 'version account-id interface-id …', closed: true }
 */
export async function readHeaderLine(file: Pick<FlowLogFile, 'path' | 'gzip'>): Promise<HeaderLine> {
  const handle = await open(file.path, 'r');
  try {
    for (let length = HEADER_FIRST_READ; ; length *= 2) {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      const head = buffer.subarray(0, bytesRead);
      // Z_SYNC_FLUSH inflates a truncated gzip stream instead of failing on its missing end.
      const text = (
        file.gzip && bytesRead > 0 ? gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : head
      ).toString('utf8');
      if (text === '' && bytesRead < length) return { closed: false };
      const end = text.indexOf('\n');
      if (end >= 0) return { line: text.slice(0, end).replace(/\r$/, ''), closed: true };
      if (bytesRead < length || length >= HEADER_MAX_READ)
        return { line: text.replace(/\r$/, ''), closed: false };
    }
  } finally {
    await handle.close();
  }
}
