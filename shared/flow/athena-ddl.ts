/**
 * Athena tables over S3 flow-log objects: the CREATE TABLE text for a flow log's format and S3
 * layout, the partition predicate of an analysis window, and where a flow log's objects are.
 *
 * Partitions are projected (no crawler, no MSCK): a date key `day` (and `hour` for per-hour
 * layouts) whose values are formatted exactly as the S3 path spells them, so Athena computes each
 * partition's location from `storage.location.template`. The key is never `region`: AWS's own
 * projection DDL reuses `region` as a partition key, which silently hides the v4 `region` data
 * column (aws-facts.md, Athena).
 *
 * Layouts (UTC dates of the object's delivery, see {@link windowPartitionFilter}):
 *  - plain: `<prefix>/AWSLogs/<account>/vpcflowlogs/<region>/yyyy/MM/dd[/HH]/`
 *  - Hive:  `<prefix>/AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=yyyy/month=MM/day=dd[/hour=HH]/`
 * For Hive the `day` values carry the `year=`/`month=`/`day=` text (a quoted literal in the date
 * format), so one date key still covers three path levels.
 *
 * Every name and value that reaches the DDL is validated first: identifiers against Athena's
 * rules, S3 locations and dates against their shapes. Nothing is escaped, so nothing can escape.
 */
import { InputError, InvalidValueError } from '../errors';
import type { TimeWindow } from '../model/flow';
import type { FlowLogConfig } from '../model/inventory';
import type { SqlDialect } from './aggregate-sql';
import { columnName, flowLogField } from './format';

/** How flow-log objects are stored. AWS's `FileFormat` is `plain-text` or `parquet`. */
export type FlowLogFileFormat = 'text' | 'parquet';

/** A database, table or column name Athena (Glue) would not accept, or that could inject SQL. */
export class InvalidAthenaIdentifierError extends InputError {
  override readonly name = 'InvalidAthenaIdentifierError';
}

/** The date partition key (never `region`, see the module comment). */
export const DAY_PARTITION = 'day';
/** The hour partition key of per-hour layouts. */
export const HOUR_PARTITION = 'hour';
/** Where projection starts when the flow log's creation time is unknown (S3 delivery began in 2018). */
export const DEFAULT_PROJECTION_START = '2018/01/01';
/**
 * Objects land in the partition of their delivery time, which trails the records' `start` by the
 * aggregation interval (≤ 10 min) plus delivery (typically ~10 min, best effort): the window's
 * upper partition bound is widened by this much.
 */
export const DEFAULT_DELIVERY_SLACK_SECONDS = 3600;

/** Glue/Athena: lower-case letters, digits and underscores, at most 255 characters. */
const IDENTIFIER = /^[a-z0-9_]{1,255}$/;
/** A flow-log field name (hyphenated or underscored) of the shape AWS uses. */
const FIELD_NAME = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
/** Bucket naming rules; the key part holds no quote, backslash, whitespace, `$` or control character. */
const S3_LOCATION = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(?:[^'"\\\s$\p{Cc}]*\/)?$/u;
const S3_ARN = /^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;
const SAFE_PREFIX = /^[^'"\\\s$\p{Cc}]*$/u;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const PROJECTION_DATE = /^(\d{4})\/(\d{2})\/(\d{2})$/;

/**
 * Fields AWS writes as INT_64 in Parquet (and AWS's DDL types `bigint`): a text `int` would
 * overflow on `bytes`, and a Parquet INT_64 read as `int` fails the query.
 */
const BIGINT_FIELDS: ReadonlySet<string> = new Set(['packets', 'bytes', 'start', 'end']);

export type AthenaColumnType = 'int' | 'bigint' | 'string';

export interface AthenaColumn {
  /** The underscored column name (`log_status`). */
  readonly name: string;
  readonly type: AthenaColumnType;
}

export interface FlowLogTableDdlOptions {
  readonly database: string;
  readonly table: string;
  /** The flow log's fields in format order (either spelling). */
  readonly fields: readonly string[];
  /** The table's root: the `…/vpcflowlogs/<region>/` (or Hive `…/aws-region=<region>/`) folder, ending in `/`. See {@link s3LocationOf}. */
  readonly location: string;
  readonly fileFormat: FlowLogFileFormat;
  readonly hivePartitions: boolean;
  readonly perHour: boolean;
  /** First day projected, `yyyy/MM/dd` (UTC). */
  readonly projectionStart: string;
}

/** Everything needed to create and query one flow log's table. */
export interface FlowLogTableSpec {
  readonly flowLogId: string;
  readonly table: string;
  readonly fields: readonly string[];
  readonly perHour: boolean;
  readonly hivePartitions: boolean;
  readonly fileFormat: FlowLogFileFormat;
  readonly location: string;
  readonly projectionStart: string;
}

export interface PartitionFilterOptions {
  /** The layout's date values carry `year=`/`month=`/`day=` (Hive-compatible prefixes). @default false */
  readonly hivePartitions?: boolean;
  /** How far past the window's end objects may still hold its records. @default {@link DEFAULT_DELIVERY_SLACK_SECONDS} */
  readonly deliverySlackSeconds?: number;
  /**
   * Read only this flow log's objects ({@link flowLogObjectFilter}): the table's LOCATION is the
   * account/region folder every flow log delivering to the bucket and prefix shares.
   */
  readonly flowLogId?: string;
  /** The dialect of the object filter. @default 'athena' */
  readonly dialect?: SqlDialect;
}

/**
 * The column naming the object each record was read from: Athena's `"$path"` pseudo-column
 * (`s3://bucket/key`), DuckDB's `filename` (read_csv/read_parquet with `filename = true`). The one
 * place the two dialects differ on objects.
 */
export const OBJECT_PATH: Readonly<Record<SqlDialect, string>> = { athena: '"$path"', duckdb: 'filename' };

/** AWS's flow-log ids: `fl-` and hex digits (letters and digits accepted). */
const FLOW_LOG_ID = /^fl-[0-9a-zA-Z]+$/;

/**
 * The predicate that keeps one flow log's objects of a folder several flow logs deliver into:
 * AWS names every object `{account}_vpcflowlogs_{region}_{flow-log-id}_{stamp}_{hash}.{log.gz|parquet}`,
 * and only the name carries the id. LIKE with `_` escaped (a LIKE wildcard otherwise), both sides
 * of the id anchored by `_`, so `fl-1` never takes `fl-12`'s objects. It holds in both dialects
 * (LIKE … ESCAPE is standard in Trino and DuckDB); only the column differs ({@link OBJECT_PATH}).
 *
 * @throws InvalidValueError for an id that is not a flow-log id (nothing is quoted into the SQL).
 * @example flowLogObjectFilter('fl-0a1b', 'athena') // `"$path" LIKE '%\_fl-0a1b\_%' ESCAPE '\'`
 */
export function flowLogObjectFilter(flowLogId: string, dialect: SqlDialect): string {
  if (!FLOW_LOG_ID.test(flowLogId)) {
    throw new InvalidValueError(`'${flowLogId}' is not a flow-log id`, { field: 'flowLogId' });
  }
  return `${OBJECT_PATH[dialect]} LIKE '%\\_${flowLogId}\\_%' ESCAPE '\\'`;
}

/**
 * A validated Athena database or table name (lower-case letters, digits, `_`; ≤ 255 characters).
 *
 * @throws InvalidAthenaIdentifierError naming `what` when the name does not qualify.
 * @example athenaIdentifier('flow_logs', 'table') // 'flow_logs'
 */
export function athenaIdentifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new InvalidAthenaIdentifierError(
      `'${name}' is not an Athena identifier (lower-case letters, digits and '_', at most 255 characters)`,
      { field: what },
    );
  }
  return name;
}

/**
 * The relation a query reads: `"database"."table"`, both validated.
 *
 * @example qualifiedTableName('sg_audit', 'vpc_flow_logs_fl_1') // '"sg_audit"."vpc_flow_logs_fl_1"'
 */
export function qualifiedTableName(database: string, table: string): string {
  return `"${athenaIdentifier(database, 'database')}"."${athenaIdentifier(table, 'table')}"`;
}

/**
 * The table name sg-audit gives a flow log's table.
 *
 * @example flowLogTableName('fl-0123456789abcdef0') // 'vpc_flow_logs_fl_0123456789abcdef0'
 */
export function flowLogTableName(flowLogId: string): string {
  return athenaIdentifier(`vpc_flow_logs_${flowLogId.toLowerCase().replaceAll('-', '_')}`, 'flowLogId');
}

/**
 * The table columns of a format, in format order, typed as AWS's Parquet files are.
 *
 * @throws InvalidAthenaIdentifierError for a field name that is not a flow-log field name, or
 *   that collides with a partition key or another field.
 * @example flowLogTableColumns(['srcaddr', 'bytes']) // [{ name: 'srcaddr', type: 'string' }, { name: 'bytes', type: 'bigint' }]
 */
export function flowLogTableColumns(fields: readonly string[]): AthenaColumn[] {
  const seen = new Set<string>();
  return fields.map((field) => {
    const lower = field.toLowerCase();
    if (!FIELD_NAME.test(lower)) {
      throw new InvalidAthenaIdentifierError(`'${field}' is not a flow-log field name`, { field: 'fields' });
    }
    const name = columnName(lower);
    if (name === DAY_PARTITION || name === HOUR_PARTITION || seen.has(name)) {
      throw new InvalidAthenaIdentifierError(`column '${name}' would appear twice in the table`, {
        field: 'fields',
      });
    }
    seen.add(name);
    const catalogued = flowLogField(lower);
    const hyphenated = lower.replaceAll('_', '-');
    const type: AthenaColumnType =
      catalogued?.type !== 'int' ? 'string' : BIGINT_FIELDS.has(hyphenated) ? 'bigint' : 'int';
    return { name, type };
  });
}

/**
 * `CREATE DATABASE IF NOT EXISTS` for the tables' database.
 *
 * @example createDatabaseDdl('sg_audit') // 'CREATE DATABASE IF NOT EXISTS `sg_audit`'
 */
export function createDatabaseDdl(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS \`${athenaIdentifier(database, 'database')}\``;
}

function validLocation(location: string): string {
  if (!S3_LOCATION.test(location)) {
    throw new InvalidValueError(
      `'${location}' is not an s3://bucket/prefix/ location ending in '/' without quotes, '$' or spaces`,
      { field: 'location' },
    );
  }
  return location;
}

function validProjectionStart(text: string): string {
  const match = PROJECTION_DATE.exec(text);
  const date = match
    ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])))
    : undefined;
  if (date === undefined || formatDay(date.getTime() / 1000, false) !== text) {
    throw new InvalidValueError(`'${text}' is not a yyyy/MM/dd date`, { field: 'projectionStart' });
  }
  return text;
}

/** The Java date format of the `day` key, as the layout spells it. */
function dayFormat(hivePartitions: boolean): string {
  return hivePartitions ? "'year='yyyy/'month='MM/'day='dd" : 'yyyy/MM/dd';
}

const twoDigits = (n: number): string => String(n).padStart(2, '0');

/** A `day` value (UTC) of an epoch second, as the layout spells it. */
function formatDay(epochSeconds: number, hivePartitions: boolean): string {
  const date = new Date(epochSeconds * 1000);
  const yyyy = String(date.getUTCFullYear()).padStart(4, '0');
  const mm = twoDigits(date.getUTCMonth() + 1);
  const dd = twoDigits(date.getUTCDate());
  return hivePartitions ? `year=${yyyy}/month=${mm}/day=${dd}` : `${yyyy}/${mm}/${dd}`;
}

/**
 * The CREATE EXTERNAL TABLE statement of a flow log: columns in format order (underscored,
 * every name backticked — `end` must be), text (space-delimited, header line skipped; Athena
 * reads a `-` in a numeric column as NULL) or Parquet (columns resolved by name), and partition
 * projection on `day` (+ `hour` per hour) matching the S3 layout.
 *
 * @throws InvalidAthenaIdentifierError for a bad database, table or field name;
 *   InvalidValueError for a bad location or projection start.
 * @example
 * flowLogTableDdl({ database: 'sg_audit', table: 'vpc_flow_logs_fl_1', fields: DEFAULT_FIELDS,
 *   location: 's3://logs/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/', fileFormat: 'text',
 *   hivePartitions: false, perHour: false, projectionStart: '2024/01/01' })
 */
export function flowLogTableDdl(options: FlowLogTableDdlOptions): string {
  const database = athenaIdentifier(options.database, 'database');
  const table = athenaIdentifier(options.table, 'table');
  const location = validLocation(options.location);
  const start = validProjectionStart(options.projectionStart);
  const columns = flowLogTableColumns(options.fields);
  if (columns.length === 0) {
    throw new InvalidValueError('a flow-log table needs at least one field', { field: 'fields' });
  }
  const { hivePartitions, perHour } = options;
  const hourPath = hivePartitions ? `hour=\${${HOUR_PARTITION}}/` : `\${${HOUR_PARTITION}}/`;
  const template = `${location}\${${DAY_PARTITION}}/${perHour ? hourPath : ''}`;
  const startValue = hivePartitions
    ? `year=${start.slice(0, 4)}/month=${start.slice(5, 7)}/day=${start.slice(8)}`
    : start;

  const properties: [string, string][] = [
    ...(options.fileFormat === 'text' ? ([['skip.header.line.count', '1']] as [string, string][]) : []),
    ['projection.enabled', 'true'],
    [`projection.${DAY_PARTITION}.type`, 'date'],
    [`projection.${DAY_PARTITION}.format`, dayFormat(hivePartitions)],
    [`projection.${DAY_PARTITION}.range`, `${startValue},NOW`],
    [`projection.${DAY_PARTITION}.interval`, '1'],
    [`projection.${DAY_PARTITION}.interval.unit`, 'DAYS'],
    ...(perHour
      ? ([
          [`projection.${HOUR_PARTITION}.type`, 'integer'],
          [`projection.${HOUR_PARTITION}.range`, '0,23'],
          [`projection.${HOUR_PARTITION}.digits`, '2'],
        ] as [string, string][])
      : []),
    ['storage.location.template', template],
  ];
  const storage =
    options.fileFormat === 'parquet' ? 'STORED AS PARQUET' : "ROW FORMAT DELIMITED\nFIELDS TERMINATED BY ' '";
  const partitions = [`\`${DAY_PARTITION}\` string`, ...(perHour ? [`\`${HOUR_PARTITION}\` int`] : [])];

  // Double-quoted property literals: the Hive date format holds single quotes.
  return `CREATE EXTERNAL TABLE IF NOT EXISTS \`${database}\`.\`${table}\` (
${columns.map((c) => `  \`${c.name}\` ${c.type}`).join(',\n')}
)
PARTITIONED BY (${partitions.join(', ')})
${storage}
LOCATION "${location}"
TBLPROPERTIES (
${properties.map(([key, value]) => `  "${key}" = "${value}"`).join(',\n')}
)`;
}

/**
 * The partition predicate of a window, for `buildFlowAggregateSql({ partitionFilter })`: the
 * days (and, per hour, the hours) whose objects can hold records starting in the window. An
 * object's partition is its delivery time, never before its records' `start`, so the lower bound
 * is the window's start; the upper bound is widened by the delivery slack. With `flowLogId`, only
 * that flow log's objects of those partitions ({@link flowLogObjectFilter}).
 *
 * @example windowPartitionFilter({ start: 1717200000, end: 1717804800 }, false)
 * // "day BETWEEN '2024/06/01' AND '2024/06/08'"
 */
export function windowPartitionFilter(
  window: TimeWindow,
  perHour: boolean,
  options: PartitionFilterOptions = {},
): string {
  const hive = options.hivePartitions ?? false;
  const slack = options.deliverySlackSeconds ?? DEFAULT_DELIVERY_SLACK_SECONDS;
  if (!Number.isSafeInteger(window.start) || !Number.isSafeInteger(window.end) || window.end < window.start) {
    throw new InvalidValueError(`not a window: ${window.start}–${window.end}`, { field: 'window' });
  }
  if (!Number.isSafeInteger(slack) || slack < 0) {
    throw new InvalidValueError(`expected a non-negative integer, got ${slack}`, {
      field: 'deliverySlackSeconds',
    });
  }
  const last = window.end + slack;
  const firstDay = formatDay(window.start, hive);
  const lastDay = formatDay(last, hive);
  const days = `${DAY_PARTITION} BETWEEN '${firstDay}' AND '${lastDay}'`;
  const objects =
    options.flowLogId === undefined
      ? []
      : [flowLogObjectFilter(options.flowLogId, options.dialect ?? 'athena')];
  if (!perHour) return [days, ...objects].join(' AND ');
  const firstHour = new Date(window.start * 1000).getUTCHours();
  const lastHour = new Date(last * 1000).getUTCHours();
  // Hours matter on the first and last day only; whole days in between keep every hour.
  const edges = [
    firstHour > 0 ? `(${DAY_PARTITION} > '${firstDay}' OR ${HOUR_PARTITION} >= ${firstHour})` : undefined,
    lastHour < 23 ? `(${DAY_PARTITION} < '${lastDay}' OR ${HOUR_PARTITION} <= ${lastHour})` : undefined,
  ].filter((p): p is string => p !== undefined);
  return [days, ...edges, ...objects].join(' AND ');
}

/**
 * The S3 folder holding one account's and region's objects of an S3-destination flow log (the
 * table's LOCATION), from its destination ARN (`arn:aws:s3:::bucket[/prefix]`) and layout.
 *
 * @throws InvalidValueError when the flow log does not deliver to S3, its ARN is not a bucket
 *   ARN, or the account id or region is malformed.
 * @example s3LocationOf(flowLog, '123456789012', 'ap-northeast-2')
 * // 's3://logs/prefix/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/'
 */
export function s3LocationOf(flowLog: FlowLogConfig, accountId: string, region: string): string {
  const where = { field: `flow log ${flowLog.id}` };
  if (flowLog.destinationType !== 's3') {
    throw new InvalidValueError(`delivers to '${flowLog.destinationType}', not to S3`, where);
  }
  const match = S3_ARN.exec(flowLog.destination ?? '');
  const bucket = match?.[1];
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  if (bucket === undefined || !SAFE_PREFIX.test(prefix)) {
    throw new InvalidValueError(`'${flowLog.destination ?? ''}' is not an S3 bucket ARN`, where);
  }
  if (!ACCOUNT_ID.test(accountId)) {
    throw new InvalidValueError(`'${accountId}' is not an AWS account id`, { field: 'accountId' });
  }
  if (!REGION.test(region)) {
    throw new InvalidValueError(`'${region}' is not an AWS region`, { field: 'region' });
  }
  const root = `s3://${bucket}/${prefix === '' ? '' : `${prefix}/`}AWSLogs/`;
  return flowLog.s3Options?.hivePartitions === true
    ? `${root}aws-account-id=${accountId}/aws-service=vpcflowlogs/aws-region=${region}/`
    : `${root}${accountId}/vpcflowlogs/${region}/`;
}

/**
 * Everything needed to create and query a flow log's table: its name, fields, layout, location
 * and projection start (the flow log's creation day, else {@link DEFAULT_PROJECTION_START}).
 *
 * @throws as {@link s3LocationOf} and {@link flowLogTableName}.
 * @example flowLogTableSpec(flowLog, '123456789012', 'ap-northeast-2').table // 'vpc_flow_logs_fl_1'
 */
export function flowLogTableSpec(
  flowLog: FlowLogConfig,
  accountId: string,
  region: string,
): FlowLogTableSpec {
  const created = flowLog.creationTime !== undefined ? Date.parse(flowLog.creationTime) : Number.NaN;
  return {
    flowLogId: flowLog.id,
    table: flowLogTableName(flowLog.id),
    fields: flowLog.fields,
    perHour: flowLog.s3Options?.perHour === true,
    hivePartitions: flowLog.s3Options?.hivePartitions === true,
    fileFormat: flowLog.s3Options?.fileFormat?.toLowerCase() === 'parquet' ? 'parquet' : 'text',
    location: s3LocationOf(flowLog, accountId, region),
    projectionStart: Number.isFinite(created)
      ? formatDay(Math.floor(created / 1000), false)
      : DEFAULT_PROJECTION_START,
  };
}
