/**
 * Reading a text flow-log object line by line in JavaScript, gunzipped as needed, for the few
 * objects DuckDB's answers point at: whether a gzip object is cut short, and the line numbers of
 * records DuckDB read (it gives none for accepted rows). Never for every file: inflating every
 * object in JavaScript costs more than DuckDB's whole read.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { FlowLogFile } from './flow-files';

const LINE_END = 0x0a;

/** How reading an object ended. */
export type ObjectEnd =
  /** Read to its end (a gzip stream with its trailer). */
  | 'complete'
  /** The gzip stream ends before its trailer: the object was cut (zlib: unexpected end of file). */
  | 'truncated'
  /** The gzip stream does not inflate (a damaged object, not a cut one). */
  | 'corrupt'
  /** The caller stopped reading. */
  | 'stopped';

export interface ObjectRead {
  readonly end: ObjectEnd;
  /**
   * Whole lines read, the header line included: those ending with a line end, and a last line
   * without one when the object is complete.
   */
  readonly lines: number;
  /** Whether a cut (or damaged) object has text after its last line end: the line cut in two. */
  readonly partialLine: boolean;
}

/**
 * Reads an object to its end (or until `onLine` returns false), calling `onLine` with each
 * whole line (without its line end) and its 1-based number — line 1 is the header. Without
 * `onLine` it only counts line ends, which is much faster.
 *
 * @throws Error when the file cannot be opened or read (not for a cut or damaged gzip stream).
 * @example await readObjectLines(file) // { end: 'truncated', lines: 932, partialLine: true }
 */
export async function readObjectLines(
  file: Pick<FlowLogFile, 'path' | 'gzip'>,
  onLine?: (line: string, lineNumber: number) => boolean | undefined,
): Promise<ObjectRead> {
  const raw = createReadStream(file.path);
  const stream: Readable = file.gzip ? raw.pipe(createGunzip()) : raw;
  // pipe() does not forward errors: a read error ends the inflated stream with it.
  raw.on('error', (error) => stream.destroy(error));
  let lines = 0;
  let lastByte = LINE_END;
  let carry = '';
  const decoder = new StringDecoder('utf8');
  const deliver = (line: string): boolean => {
    lines += 1;
    return onLine?.(line.endsWith('\r') ? line.slice(0, -1) : line, lines) !== false;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      lastByte = chunk[chunk.length - 1] as number;
      if (onLine === undefined) {
        for (let at = chunk.indexOf(LINE_END); at >= 0; at = chunk.indexOf(LINE_END, at + 1)) lines += 1;
        continue;
      }
      const parts = (carry + decoder.write(chunk)).split('\n');
      carry = parts.pop() ?? '';
      for (const part of parts) {
        if (!deliver(part)) return { end: 'stopped', lines, partialLine: false };
      }
    }
    // A complete object's last line needs no line end.
    if (lastByte !== LINE_END) {
      if (onLine === undefined) lines += 1;
      else if (!deliver(carry + decoder.end())) return { end: 'stopped', lines, partialLine: false };
    }
    return { end: 'complete', lines, partialLine: false };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!file.gzip || code === undefined || !code.startsWith('Z_')) throw error;
    // zlib's "unexpected end of file": the stream stops before its end, as a cut object does.
    return {
      end: code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt',
      lines,
      partialLine: lastByte !== LINE_END,
    };
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

/** A gzip object cut short: what was read before the cut. */
export interface CutObject {
  readonly file: FlowLogFile;
  /** Record lines read before the cut (the header line not counted). */
  readonly records: number;
  /** The number of the line the cut split in two, if it split one. */
  readonly cutLine?: number;
}

/**
 * Whether a gzip object's stream ends before its trailer (zlib reports an unexpected end), and
 * what it holds before the cut; undefined for a plain-text, complete or damaged object.
 *
 * @example await cutObject(file) // { file, records: 931, cutLine: 933 }
 */
export async function cutObject(file: FlowLogFile): Promise<CutObject | undefined> {
  if (!file.gzip || file.bytes === 0) return undefined;
  const read = await readObjectLines(file);
  if (read.end !== 'truncated') return undefined;
  return {
    file,
    records: Math.max(0, read.lines - 1),
    ...(read.partialLine ? { cutLine: read.lines + 1 } : {}),
  };
}

/**
 * A cut object in the words of a warning or a malformed line's reason.
 *
 * @example cutReason({ file, records: 931, cutLine: 933 }) // 'truncated gzip object: 931 records read before the cut'
 */
export function cutReason(cut: CutObject): string {
  return `truncated gzip object: ${cut.records} records read before the cut`;
}

/** Why a gzip object cut within its first line is skipped. */
export const HEADER_CUT_REASON = 'truncated gzip object: its header line is incomplete';
