/**
 * The SQL that reads flow-log files as one relation of typed flow records: read_csv for text
 * files of one format (header), read_parquet for Parquet files that spell the columns alike. Every
 * reader gives the columns the aggregation needs the same names and types, so their UNION ALL is
 * what buildFlowSinglePassSql reads.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { sqlString } from '../../../shared/flow/aggregate-sql';
import { columnName } from '../../../shared/flow/format';
import type { FlowLogFile } from './flow-files';

/** The columns the aggregation reads, typed; any other column of a file stays text and is never cast. */
export const COLUMN_TYPES = {
  interface_id: 'VARCHAR',
  srcaddr: 'VARCHAR',
  dstaddr: 'VARCHAR',
  srcport: 'INTEGER',
  dstport: 'INTEGER',
  protocol: 'INTEGER',
  packets: 'BIGINT',
  bytes: 'BIGINT',
  start: 'BIGINT',
  end: 'BIGINT',
  action: 'VARCHAR',
  log_status: 'VARCHAR',
  tcp_flags: 'INTEGER',
  // Read where a format has them (NULL where a file's has not, or for '-'): the packet-level
  // addresses and the AWS services AWS named for them.
  pkt_srcaddr: 'VARCHAR',
  pkt_dstaddr: 'VARCHAR',
  pkt_src_aws_service: 'VARCHAR',
  pkt_dst_aws_service: 'VARCHAR',
} as const;
export type TableColumn = keyof typeof COLUMN_TYPES;
export const TABLE_COLUMNS = Object.keys(COLUMN_TYPES) as TableColumn[];

/**
 * The types values are read as: the ranges a flow-log value can take (ports 0–65535, protocol
 * 0–255, epoch seconds before 2106), so a value out of range is a rejected line with its line
 * number rather than a record with an impossible port or time. DuckDB does not check gzip CRCs,
 * so a damaged gzip stream mostly surfaces this way too.
 */
const READ_TYPES: Readonly<Record<TableColumn, string>> = {
  ...COLUMN_TYPES,
  srcport: 'USMALLINT',
  dstport: 'USMALLINT',
  protocol: 'UTINYINT',
  start: 'UINTEGER',
  end: 'UINTEGER',
  tcp_flags: 'USMALLINT',
};

/** Text files of one format (header), read by one read_csv. */
export interface TextGroup {
  readonly fields: readonly string[];
  readonly files: readonly FlowLogFile[];
}

/** Parquet files that spell the needed columns alike, read by one read_parquet. */
export interface ParquetGroup {
  readonly columns: ReadonlyMap<TableColumn, string>;
  readonly files: readonly FlowLogFile[];
}

/** The readable files, by format. */
export interface FileGroups {
  readonly textGroups: readonly TextGroup[];
  readonly parquetGroups: readonly ParquetGroup[];
}

/** Where a text reader puts the lines it cannot read: DuckDB's rejects tables, or nowhere. */
export type RejectedLines =
  | { readonly rejects: { readonly table: string; readonly scans: string } }
  | { readonly ignoreErrors: true };

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The column every reader adds: the file a record came from (read_csv/read_parquet `filename`). */
export const SOURCE_FILE = 'source_file';
const SOURCE_FILE_VALUE = 'CAST(filename AS VARCHAR)';

/**
 * A record's flow-log id, from its file's name as S3 delivers it
 * (`{account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz`); NULL for a
 * file named otherwise (the core then gives its records to the ENI's only flow log, if one).
 */
export const FLOW_LOG_ID_OF_FILE = `NULLIF(regexp_extract(${SOURCE_FILE}, '_(fl-[0-9a-zA-Z]+)_[^/\\\\]*$', 1), '')`;

/**
 * A text reader: typed columns in their ranges, '-' as NULL; rejects recorded or lines skipped.
 *
 * @example textReader([file], ['version', 'account-id', 'interface-id', …], { ignoreErrors: true }) // '(SELECT … FROM read_csv([…], …))'
 */
export function textReader(
  files: readonly FlowLogFile[],
  fields: readonly string[],
  errors: RejectedLines,
): string {
  const columns = fields.map((f) => {
    const name = columnName(f);
    const type = name in READ_TYPES ? READ_TYPES[name as TableColumn] : 'VARCHAR';
    return `${sqlString(name)}: ${sqlString(type)}`;
  });
  const present = new Set(fields.map(columnName));
  const select = TABLE_COLUMNS.map((c) => typedColumn(c, present.has(c) ? quoteIdentifier(c) : 'NULL'));
  select.push(`${SOURCE_FILE_VALUE} AS ${SOURCE_FILE}`);
  const handling =
    'rejects' in errors
      ? `store_rejects = true, rejects_table = ${sqlString(errors.rejects.table)}, rejects_scan = ${sqlString(errors.rejects.scans)}`
      : 'ignore_errors = true';
  return `(SELECT ${select.join(', ')}
   FROM read_csv([${files.map((f) => sqlString(f.path)).join(', ')}],
     delim = ' ', header = true, columns = {${columns.join(', ')}},
     nullstr = '-', quote = '', escape = '', auto_detect = false, filename = true,
     hive_partitioning = false, union_by_name = false, max_line_size = 65536, buffer_size = 2097152, ${handling}))`;
}

/**
 * A Parquet reader; TRY_CAST: a value of the wrong type or range becomes NULL (an incomplete record).
 * With `rowNumbers`, each row's 0-based number in its file as `file_row_number` too.
 *
 * @example parquetReader([file], new Map([['interface_id', 'interface_id'], …])) // '(SELECT … FROM read_parquet([…], …))'
 */
export function parquetReader(
  files: readonly FlowLogFile[],
  columns: ReadonlyMap<TableColumn, string>,
  options: { rowNumbers?: boolean } = {},
): string {
  const select = TABLE_COLUMNS.map((c) => {
    const actual = columns.get(c);
    return typedColumn(
      c,
      actual === undefined ? 'NULL' : `TRY_CAST(${quoteIdentifier(actual)} AS ${READ_TYPES[c]})`,
    );
  });
  select.push(`${SOURCE_FILE_VALUE} AS ${SOURCE_FILE}`);
  if (options.rowNumbers === true) select.push('file_row_number');
  return `(SELECT ${select.join(', ')}
   FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], union_by_name = true, hive_partitioning = false, filename = true${options.rowNumbers === true ? ', file_row_number = true' : ''}))`;
}

/**
 * The groups with only the files `keep` accepts (groups left empty dropped).
 *
 * @example groupsOf(inspection, (f) => f.gzip) // { textGroups: [{ fields, files: [gzip files] }], parquetGroups: [] }
 */
export function groupsOf(groups: FileGroups, keep: (file: FlowLogFile) => boolean): FileGroups {
  return {
    textGroups: groups.textGroups
      .map((g) => ({ fields: g.fields, files: g.files.filter(keep) }))
      .filter((g) => g.files.length > 0),
    parquetGroups: groups.parquetGroups
      .map((g) => ({ columns: g.columns, files: g.files.filter(keep) }))
      .filter((g) => g.files.length > 0),
  };
}

/**
 * A relation with the readers' columns and no rows: what no readable file reads as, so the
 * aggregation still runs (and states zero records) rather than failing on an empty UNION.
 *
 * @example emptyRecords() // 'SELECT CAST(NULL AS VARCHAR) AS "interface_id", … WHERE FALSE'
 */
export function emptyRecords(): string {
  const columns = TABLE_COLUMNS.map((c) => `CAST(NULL AS ${COLUMN_TYPES[c]}) AS ${quoteIdentifier(c)}`);
  columns.push(`CAST(NULL AS VARCHAR) AS ${SOURCE_FILE}`);
  return `SELECT ${columns.join(', ')} WHERE FALSE`;
}

/** One column of the relation, in the one type every reader gives it. */
function typedColumn(column: TableColumn, value: string): string {
  return `CAST(${value} AS ${COLUMN_TYPES[column]}) AS ${quoteIdentifier(column)}`;
}

/**
 * A numeric result value (BIGINT comes back as a bigint) as a number; NULL as undefined.
 *
 * @example optionalNumber(1717200060n) // 1717200060
 */
export function optionalNumber(value: DuckDBValue | undefined): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}
