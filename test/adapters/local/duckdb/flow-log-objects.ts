/** Flow-log objects as S3 delivers them, written for the DuckDB source's tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** 2024-06-01T00:00:00Z. */
export const T0 = 1_717_200_000;
export const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
export const S3_DIR = 'AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2024/06/01';

/** A default-format record line. */
export function line(
  eni: string,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  start = T0,
  status = 'OK',
): string {
  return `2 123456789012 ${eni} ${src} ${dst} ${sport} ${dport} 6 10 1000 ${start} ${start + 60} ACCEPT ${status}`;
}

export function write(root: string, relative: string, content: string | Buffer): void {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

export function gzipLines(lines: readonly string[]): Buffer {
  return gzipSync(`${lines.join('\n')}\n`);
}

/** The S3 object name of a flow log's object delivered at an epoch second (under {@link S3_DIR}). */
export function objectName(at: number, flowLogId = 'fl-0abc123'): string {
  const d = new Date(at * 1000).toISOString();
  const stamp = `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}T${d.slice(11, 13)}${d.slice(14, 16)}Z`;
  return `${S3_DIR}/123456789012_vpcflowlogs_ap-northeast-2_${flowLogId}_${stamp}_${at.toString(16)}.log.gz`;
}
