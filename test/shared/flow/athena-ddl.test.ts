import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { InvalidValueError } from '../../../shared/errors';
import {
  buildFlowAggregateSql,
  buildFlowSinglePassSql,
  buildFlowStatsSql,
  flowAggregateFromRow,
  type ResultCell,
  sourceFileFromRow,
  sqlString,
} from '../../../shared/flow/aggregate-sql';
import {
  athenaIdentifier,
  createDatabaseDdl,
  DEFAULT_PROJECTION_START,
  type FlowLogTableDdlOptions,
  flowLogObjectFilter,
  flowLogTableColumns,
  flowLogTableDdl,
  flowLogTableName,
  flowLogTableSpec,
  InvalidAthenaIdentifierError,
  OBJECT_PATH,
  qualifiedTableName,
  s3LocationOf,
  windowPartitionFilter,
} from '../../../shared/flow/athena-ddl';
import { DEFAULT_FIELDS, FLOW_LOG_FIELDS, parseLogFormat } from '../../../shared/flow/format';
import type { FlowLogConfig } from '../../../shared/model/inventory';
import { flowAggregate } from '../../support/flow-records';

/** 2024-06-01T00:00:00Z */
const JUNE_1 = 1_717_200_000;
const HOUR = 3600;
const DAY = 86_400;
const ACCOUNT = '123456789012';
const REGION = 'ap-northeast-2';
const PLAIN_LOCATION = `s3://flow-logs/vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/`;
const HIVE_LOCATION = `s3://flow-logs/vpc/AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=${REGION}/`;

function ddlOptions(overrides: Partial<FlowLogTableDdlOptions> = {}): FlowLogTableDdlOptions {
  return {
    database: 'sg_audit',
    table: 'vpc_flow_logs_fl_1',
    fields: DEFAULT_FIELDS,
    location: PLAIN_LOCATION,
    fileFormat: 'text',
    hivePartitions: false,
    perHour: false,
    projectionStart: '2024/01/15',
    ...overrides,
  };
}

function flowLog(overrides: Partial<FlowLogConfig> = {}): FlowLogConfig {
  return {
    id: 'fl-0a1b2c3d4e5f60718',
    resourceId: 'vpc-1',
    scope: 'vpc',
    trafficType: 'ALL',
    destinationType: 's3',
    destination: 'arn:aws:s3:::flow-logs/vpc',
    fields: DEFAULT_FIELDS,
    logFormat: '',
    ...overrides,
  } as FlowLogConfig;
}

/** The `name type` column lines of a DDL, in order. */
function columnsOf(ddl: string): { name: string; type: string }[] {
  const body = ddl.slice(ddl.indexOf('(\n') + 2, ddl.indexOf('\n)\nPARTITIONED BY'));
  return body.split(',\n').map((line) => {
    const match = /^ {2}`([a-z0-9_]+)` (int|bigint|string)$/.exec(line);
    if (match === null) throw new Error(`not a column line: ${line}`);
    return { name: match[1] as string, type: match[2] as string };
  });
}

/** The TBLPROPERTIES of a DDL as a map. */
function propertiesOf(ddl: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const match of ddl.matchAll(/^ {2}"([^"]+)" = "([^"]*)",?$/gm)) {
    properties.set(match[1] as string, match[2] as string);
  }
  return properties;
}

function partitionKeysOf(ddl: string): string[] {
  const clause = /PARTITIONED BY \(([^)]*)\)/.exec(ddl)?.[1] ?? '';
  return [...clause.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string);
}

describe('flowLogTableDdl', () => {
  it('writes the default text format in format order with `end` backticked and the header skipped', () => {
    // Prepare
    const options = ddlOptions();

    // Act
    const ddl = flowLogTableDdl(options);

    // Assess
    expect(ddl.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `sg_audit`.`vpc_flow_logs_fl_1` (\n')).toBe(
      true,
    );
    expect(columnsOf(ddl)).toEqual([
      { name: 'version', type: 'int' },
      { name: 'account_id', type: 'string' },
      { name: 'interface_id', type: 'string' },
      { name: 'srcaddr', type: 'string' },
      { name: 'dstaddr', type: 'string' },
      { name: 'srcport', type: 'int' },
      { name: 'dstport', type: 'int' },
      { name: 'protocol', type: 'int' },
      { name: 'packets', type: 'bigint' },
      { name: 'bytes', type: 'bigint' },
      { name: 'start', type: 'bigint' },
      { name: 'end', type: 'bigint' },
      { name: 'action', type: 'string' },
      { name: 'log_status', type: 'string' },
    ]);
    expect(ddl).toContain('  `end` bigint,\n');
    expect(ddl).toContain("ROW FORMAT DELIMITED\nFIELDS TERMINATED BY ' '\n");
    expect(ddl).toContain(`LOCATION "${PLAIN_LOCATION}"`);
    expect(partitionKeysOf(ddl)).toEqual(['day']);
    expect(Object.fromEntries(propertiesOf(ddl))).toEqual({
      'skip.header.line.count': '1',
      'projection.enabled': 'true',
      'projection.day.type': 'date',
      'projection.day.format': 'yyyy/MM/dd',
      'projection.day.range': '2024/01/15,NOW',
      'projection.day.interval': '1',
      'projection.day.interval.unit': 'DAYS',
      'storage.location.template': `${PLAIN_LOCATION}\${day}/`,
    });
  });

  it('keeps a custom format’s order and its region data column, with day as the partition key', () => {
    // Prepare
    const fields = parseLogFormat(
      '${region} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${tcp-flags} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${traffic-path}',
    );

    // Act
    const ddl = flowLogTableDdl(ddlOptions({ fields }));

    // Assess
    expect(columnsOf(ddl).map((c) => `${c.name} ${c.type}`)).toEqual([
      'region string',
      'interface_id string',
      'srcaddr string',
      'dstaddr string',
      'srcport int',
      'dstport int',
      'protocol int',
      'tcp_flags int',
      'packets bigint',
      'bytes bigint',
      'start bigint',
      'end bigint',
      'action string',
      'log_status string',
      'traffic_path int',
    ]);
    expect(partitionKeysOf(ddl)).toEqual(['day']);
  });

  it('stores Parquet by column name without a delimiter or header property', () => {
    // Prepare
    const options = ddlOptions({ fileFormat: 'parquet' });

    // Act
    const ddl = flowLogTableDdl(options);

    // Assess
    expect(ddl).toContain('\nSTORED AS PARQUET\n');
    expect(ddl).not.toContain('ROW FORMAT');
    expect(propertiesOf(ddl).has('skip.header.line.count')).toBe(false);
    expect(propertiesOf(ddl).get('projection.enabled')).toBe('true');
  });

  it('projects Hive-compatible per-hour folders with a quoted-literal date format and an hour key', () => {
    // Prepare
    const options = ddlOptions({ location: HIVE_LOCATION, hivePartitions: true, perHour: true });

    // Act
    const ddl = flowLogTableDdl(options);

    // Assess
    expect(partitionKeysOf(ddl)).toEqual(['day', 'hour']);
    expect(ddl).toContain('PARTITIONED BY (`day` string, `hour` int)');
    expect(Object.fromEntries(propertiesOf(ddl))).toEqual({
      'skip.header.line.count': '1',
      'projection.enabled': 'true',
      'projection.day.type': 'date',
      'projection.day.format': "'year='yyyy/'month='MM/'day='dd",
      'projection.day.range': 'year=2024/month=01/day=15,NOW',
      'projection.day.interval': '1',
      'projection.day.interval.unit': 'DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': `${HIVE_LOCATION}\${day}/hour=\${hour}/`,
    });
  });

  it('projects plain per-hour folders as day/HH', () => {
    // Prepare
    const options = ddlOptions({ perHour: true });

    // Act
    const ddl = flowLogTableDdl(options);

    // Assess
    expect(propertiesOf(ddl).get('storage.location.template')).toBe(`${PLAIN_LOCATION}\${day}/\${hour}/`);
  });

  it('never uses region as a partition key and lists every field once, whatever the format and layout', () => {
    fc.assert(
      fc.property(
        fc.subarray(
          FLOW_LOG_FIELDS.map((f) => f.name),
          { minLength: 1 },
        ),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('text' as const, 'parquet' as const),
        (fields, hivePartitions, perHour, fileFormat) => {
          // Act
          const ddl = flowLogTableDdl(
            ddlOptions({
              fields,
              hivePartitions,
              perHour,
              fileFormat,
              location: hivePartitions ? HIVE_LOCATION : PLAIN_LOCATION,
            }),
          );

          // Assess
          expect(partitionKeysOf(ddl)).not.toContain('region');
          expect(columnsOf(ddl).map((c) => c.name)).toEqual(fields.map((f) => f.replaceAll('-', '_')));
        },
      ),
    );
  });

  it.each([
    ['database', { database: 'sg_audit`; DROP TABLE x; --' }],
    ['database', { database: 'SgAudit' }],
    ['table', { table: 'flows" OR 1=1' }],
    ['table', { table: '' }],
    ['table', { table: 'a'.repeat(256) }],
    ['fields', { fields: ['srcaddr', 'x` string) LOCATION "s3://evil/" --'] }],
    ['fields', { fields: ['srcaddr', 'day'] }],
  ])('rejects an injected or invalid %s with a typed error', (field, overrides) => {
    // Act
    const act = () => flowLogTableDdl(ddlOptions(overrides as Partial<FlowLogTableDdlOptions>));

    // Assess
    expect(act).toThrow(InvalidAthenaIdentifierError);
    expect(act).toThrow(expect.objectContaining({ name: 'InvalidAthenaIdentifierError', field }));
  });

  it.each([
    ['location', { location: 's3://flow-logs/vpc/" TBLPROPERTIES ("x"="y/' }],
    ['location', { location: "s3://flow-logs/it's/" }],
    ['location', { location: 's3://flow-logs/${day}/' }],
    ['location', { location: 's3://flow-logs/no-trailing-slash' }],
    ['location', { location: 'https://flow-logs/vpc/' }],
    ['projectionStart', { projectionStart: '2024-01-15' }],
    ['projectionStart', { projectionStart: '2024/02/30' }],
  ])('rejects a malformed %s', (field, overrides) => {
    // Act
    const act = () => flowLogTableDdl(ddlOptions(overrides));

    // Assess
    expect(act).toThrow(InvalidValueError);
    expect(act).toThrow(expect.objectContaining({ field }));
  });
});

describe('flowLogTableColumns', () => {
  it('reads a field AWS added later as a string column', () => {
    // Act
    const columns = flowLogTableColumns(['srcaddr', 'future-field']);

    // Assess
    expect(columns).toEqual([
      { name: 'srcaddr', type: 'string' },
      { name: 'future_field', type: 'string' },
    ]);
  });

  it('rejects a field named twice in either spelling', () => {
    // Act
    const act = () => flowLogTableColumns(['log-status', 'log_status']);

    // Assess
    expect(act).toThrow(InvalidAthenaIdentifierError);
  });
});

describe('athenaIdentifier', () => {
  it('accepts lower-case letters, digits and underscores', () => {
    // Act
    const name = athenaIdentifier('vpc_flow_logs_2', 'table');

    // Assess
    expect(name).toBe('vpc_flow_logs_2');
  });

  it('names the field it checked in the error', () => {
    // Act
    const act = () => athenaIdentifier('bad-name', 'database');

    // Assess
    expect(act).toThrow(/database: 'bad-name' is not an Athena identifier/);
  });
});

describe('qualifiedTableName', () => {
  it('double-quotes both validated parts', () => {
    // Act
    const relation = qualifiedTableName('sg_audit', 'vpc_flow_logs_fl_1');

    // Assess
    expect(relation).toBe('"sg_audit"."vpc_flow_logs_fl_1"');
  });
});

describe('createDatabaseDdl', () => {
  it('creates the database only when missing', () => {
    // Act
    const ddl = createDatabaseDdl('sg_audit');

    // Assess
    expect(ddl).toBe('CREATE DATABASE IF NOT EXISTS `sg_audit`');
  });

  it('rejects an injected database name', () => {
    // Act
    const act = () => createDatabaseDdl('x`; DROP DATABASE y');

    // Assess
    expect(act).toThrow(InvalidAthenaIdentifierError);
  });
});

describe('flowLogTableName', () => {
  it('derives a valid table name from the flow log id', () => {
    // Act
    const table = flowLogTableName('fl-0A1b2c3d4e5f60718');

    // Assess
    expect(table).toBe('vpc_flow_logs_fl_0a1b2c3d4e5f60718');
  });
});

describe('windowPartitionFilter', () => {
  it('covers the window’s days, widened by the delivery slack', () => {
    // Prepare
    const window = { start: JUNE_1 + 8 * HOUR, end: JUNE_1 + 6 * DAY + 23 * HOUR + 30 * 60 };

    // Act
    const filter = windowPartitionFilter(window, false);

    // Assess
    expect(filter).toBe("day BETWEEN '2024/06/01' AND '2024/06/08'");
  });

  it('stops at the window’s last day when the slack stays within it', () => {
    // Prepare
    const window = { start: JUNE_1, end: JUNE_1 + 12 * HOUR };

    // Act
    const filter = windowPartitionFilter(window, false, { deliverySlackSeconds: 0 });

    // Assess
    expect(filter).toBe("day BETWEEN '2024/06/01' AND '2024/06/01'");
  });

  it('adds the first and last hours for per-hour layouts', () => {
    // Prepare
    const window = { start: JUNE_1 + 8 * HOUR + 59, end: JUNE_1 + DAY + 12 * HOUR };

    // Act
    const filter = windowPartitionFilter(window, true);

    // Assess
    expect(filter).toBe(
      "day BETWEEN '2024/06/01' AND '2024/06/02' AND (day > '2024/06/01' OR hour >= 8) AND (day < '2024/06/02' OR hour <= 13)",
    );
  });

  it('spells Hive days as the folders do', () => {
    // Prepare
    const window = { start: JUNE_1 + 3 * HOUR, end: JUNE_1 + 5 * HOUR };

    // Act
    const filter = windowPartitionFilter(window, true, { hivePartitions: true });

    // Assess
    expect(filter).toBe(
      "day BETWEEN 'year=2024/month=06/day=01' AND 'year=2024/month=06/day=01' AND (day > 'year=2024/month=06/day=01' OR hour >= 3) AND (day < 'year=2024/month=06/day=01' OR hour <= 6)",
    );
  });

  it('keeps one flow log’s objects with an escaped LIKE on the object column of the dialect', () => {
    // Act
    const athena = windowPartitionFilter({ start: JUNE_1, end: JUNE_1 + HOUR }, false, {
      flowLogId: 'fl-0a1b',
    });
    const duckdb = flowLogObjectFilter('fl-0a1b', 'duckdb');

    // Assess
    expect(athena).toBe(
      `day BETWEEN '2024/06/01' AND '2024/06/01' AND "$path" LIKE '%\\_fl-0a1b\\_%' ESCAPE '\\'`,
    );
    expect(duckdb).toBe(`filename LIKE '%\\_fl-0a1b\\_%' ESCAPE '\\'`);
    expect(() => flowLogObjectFilter("fl-1' OR '1'='1", 'athena')).toThrow(InvalidValueError);
  });

  it('rejects a window that ends before it starts', () => {
    // Act
    const act = () => windowPartitionFilter({ start: JUNE_1, end: JUNE_1 - 1 }, false);

    // Assess
    expect(act).toThrow(InvalidValueError);
  });
});

describe('s3LocationOf', () => {
  it('builds the plain AWSLogs folder from the bucket ARN and prefix', () => {
    // Act
    const location = s3LocationOf(flowLog(), ACCOUNT, REGION);

    // Assess
    expect(location).toBe(PLAIN_LOCATION);
  });

  it('builds the Hive-compatible folder when the flow log writes Hive prefixes', () => {
    // Act
    const location = s3LocationOf(flowLog({ s3Options: { hivePartitions: true } }), ACCOUNT, REGION);

    // Assess
    expect(location).toBe(HIVE_LOCATION);
  });

  it.each([
    ['arn:aws:s3:::flow-logs', `s3://flow-logs/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/`],
    ['arn:aws:s3:::flow-logs/a/b/', `s3://flow-logs/a/b/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/`],
    ['arn:aws-cn:s3:::flow-logs/vpc', `s3://flow-logs/vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/`],
  ])('reads the destination %s', (destination, expected) => {
    // Act
    const location = s3LocationOf(flowLog({ destination }), ACCOUNT, REGION);

    // Assess
    expect(location).toBe(expected);
  });

  it.each([
    [
      'CloudWatch Logs',
      { destinationType: 'cloud-watch-logs', destination: 'arn:aws:logs:ap-northeast-2:1:log-group:x' },
    ],
    ['a Firehose ARN', { destination: 'arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/x' }],
    ['a quote in the prefix', { destination: "arn:aws:s3:::flow-logs/it's" }],
    ['no destination', { destination: undefined }],
  ])('rejects a flow log without a usable S3 bucket ARN (%s)', (_case, overrides) => {
    // Act
    const act = () => s3LocationOf(flowLog(overrides), ACCOUNT, REGION);

    // Assess
    expect(act).toThrow(InvalidValueError);
  });

  it('rejects a malformed account id or region', () => {
    // Act
    const badAccount = () => s3LocationOf(flowLog(), '12345', REGION);
    const badRegion = () => s3LocationOf(flowLog(), ACCOUNT, 'ap-northeast-2/../x');

    // Assess
    expect(badAccount).toThrow(InvalidValueError);
    expect(badRegion).toThrow(InvalidValueError);
  });
});

describe('flowLogTableSpec', () => {
  it('takes the layout, format and creation day of a Parquet Hive per-hour flow log', () => {
    // Prepare
    const log = flowLog({
      creationTime: '2024-03-05T23:59:00.000Z',
      s3Options: { fileFormat: 'parquet', hivePartitions: true, perHour: true },
    });

    // Act
    const spec = flowLogTableSpec(log, ACCOUNT, REGION);

    // Assess
    expect(spec).toEqual({
      flowLogId: 'fl-0a1b2c3d4e5f60718',
      table: 'vpc_flow_logs_fl_0a1b2c3d4e5f60718',
      fields: DEFAULT_FIELDS,
      perHour: true,
      hivePartitions: true,
      fileFormat: 'parquet',
      location: HIVE_LOCATION,
      projectionStart: '2024/03/05',
    });
  });

  it('defaults to text and a fixed projection start when the flow log says neither', () => {
    // Act
    const spec = flowLogTableSpec(flowLog({ s3Options: { fileFormat: 'plain-text' } }), ACCOUNT, REGION);

    // Assess
    expect(spec.fileFormat).toBe('text');
    expect(spec.projectionStart).toBe(DEFAULT_PROJECTION_START);
    expect(spec.perHour).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// The DDL's columns, location template and partition filter against real files, in DuckDB: the
// files are written in AWS's S3 layout, read the way Athena's text SerDe reads them (space
// delimited, first line skipped, '-' in a number column = NULL), and queried with the Athena
// text of the aggregate and statistics SQL.
// ---------------------------------------------------------------------------------------------

/** A deliberately unusual order: a column read at the wrong position would show. */
const CUSTOM_FORMAT =
  '${log-status} ${region} ${interface-id} ${dstaddr} ${srcaddr} ${dstport} ${srcport} ${tcp-flags} ${protocol} ${bytes} ${packets} ${end} ${start} ${action} ${version}';
const CUSTOM_FIELDS = parseLogFormat(CUSTOM_FORMAT);

interface LineRecord {
  eni: string;
  src: string;
  dst: string;
  sport: number | '-';
  dport: number | '-';
  protocol: number | '-';
  flags: number | '-';
  packets: number | '-';
  bytes: number | '-';
  start: number;
  end: number;
  action: string;
  status: string;
}

function lineOf(r: LineRecord): string {
  const values: Record<string, string | number> = {
    'log-status': r.status,
    region: REGION,
    'interface-id': r.eni,
    dstaddr: r.dst,
    srcaddr: r.src,
    dstport: r.dport,
    srcport: r.sport,
    'tcp-flags': r.flags,
    protocol: r.protocol,
    bytes: r.bytes,
    packets: r.packets,
    end: r.end,
    start: r.start,
    action: r.action,
    version: 5,
  };
  return CUSTOM_FIELDS.map((f) => String(values[f])).join(' ');
}

/** A text object as S3 delivers it: the header of field names, then the records. */
function objectText(records: readonly LineRecord[]): string {
  return `${CUSTOM_FIELDS.join(' ')}\n${records.map(lineOf).join('\n')}\n`;
}

/** The folder AWS writes an object delivered at `deliveredAt` into (aws-facts / VPC user guide). */
function awsFolder(deliveredAt: number, hive: boolean, perHour: boolean): string {
  const d = new Date(deliveredAt * 1000);
  const yyyy = String(d.getUTCFullYear());
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const hh = String(d.getUTCHours()).padStart(2, '0');
  return hive
    ? `vpc/AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=${REGION}/year=${yyyy}/month=${mm}/day=${dd}/${perHour ? `hour=${hh}/` : ''}`
    : `vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/${yyyy}/${mm}/${dd}/${perHour ? `${hh}/` : ''}`;
}

/** The partition values Athena would give an object key, from the DDL's template and day format. */
function partitionOf(ddl: string, key: string): { day: string; hour: number | null } {
  const properties = propertiesOf(ddl);
  const template = (properties.get('storage.location.template') ?? '').replace('s3://flow-logs/', '');
  const dayPattern = (properties.get('projection.day.format') ?? '')
    .split(/('[^']*')/)
    .map((part) =>
      part.startsWith("'")
        ? part.slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        : part.replace('yyyy', '\\d{4}').replace('MM', '\\d{2}').replace('dd', '\\d{2}'),
    )
    .join('');
  const pattern = template
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace('\\$\\{day\\}', `(${dayPattern})`)
    .replace('\\$\\{hour\\}', '(\\d{2})');
  const match = new RegExp(`^${pattern}[^/]+$`).exec(key);
  if (match === null) throw new Error(`the table would not read ${key} (template ${template})`);
  return { day: match[1] as string, hour: match[2] === undefined ? null : Number(match[2]) };
}

const DUCKDB_TYPES: Record<string, string> = { int: 'INTEGER', bigint: 'BIGINT', string: 'VARCHAR' };

describe('flowLogTableDdl on files in the S3 layout (DuckDB)', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  let root: string;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    // Trino's bitwise_and, so the Athena text of the aggregate runs unchanged.
    await connection.run('CREATE MACRO bitwise_and(a, b) AS a & b');
    await connection.run('CREATE SCHEMA sg_audit');
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'athena-ddl-'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  async function rowsOf(sql: string): Promise<Record<string, ResultCell>[]> {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, ResultCell>[];
  }

  /** Writes objects, then a view over them shaped by the DDL: its columns, types and partitions. */
  async function tableOver(ddl: string, objects: readonly { key: string; text: string }[]): Promise<void> {
    const columns = columnsOf(ddl);
    const partitioned = objects.map(({ key, text }) => {
      const path = join(root, key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      const { day, hour } = partitionOf(ddl, key);
      const csvColumns = columns.map((c) => `'${c.name}': 'VARCHAR'`).join(', ');
      // Athena's LazySimpleSerDe: a number that does not parse ('-') is NULL; strings stay as written.
      const typed = columns
        .map((c) =>
          c.type === 'string'
            ? `"${c.name}"`
            : `TRY_CAST("${c.name}" AS ${DUCKDB_TYPES[c.type]}) AS "${c.name}"`,
        )
        .join(', ');
      // The object's path: what Athena's "$path" gives, named as DuckDB names it (OBJECT_PATH).
      return `SELECT ${typed}, ${sqlString(day)} AS day, ${hour === null ? 'NULL' : hour} AS hour, filename
        FROM read_csv(${sqlString(path)}, delim = ' ', header = false, skip = 1, auto_detect = false, filename = true, columns = {${csvColumns}})`;
    });
    await connection.run(
      `CREATE OR REPLACE VIEW sg_audit.vpc_flow_logs_fl_1 AS ${partitioned.join('\nUNION ALL\n')}`,
    );
  }

  const base: LineRecord = {
    eni: 'eni-a',
    src: '10.0.0.5',
    dst: '10.0.0.9',
    sport: 49152,
    dport: 443,
    protocol: 6,
    flags: 2,
    packets: 3,
    bytes: 180,
    start: JUNE_1 + 9 * HOUR,
    end: JUNE_1 + 9 * HOUR + 30,
    action: 'ACCEPT',
    status: 'OK',
  };
  const reply: LineRecord = {
    ...base,
    src: base.dst,
    dst: base.src,
    sport: 443,
    dport: 49152,
    flags: 18,
    packets: 2,
    bytes: 3_000_000_000,
  };
  const nodata: LineRecord = {
    ...base,
    eni: 'eni-b',
    src: '-',
    dst: '-',
    sport: '-',
    dport: '-',
    protocol: '-',
    flags: '-',
    packets: '-',
    bytes: '-',
    action: '-',
    status: 'NODATA',
  };

  it.each([
    ['plain daily text', false, false],
    ['Hive per-hour text', true, true],
  ])('lines up the columns, location template and partition filter (%s)', async (_name, hive, perHour) => {
    // Prepare
    const ddl = flowLogTableDdl(
      ddlOptions({
        fields: CUSTOM_FIELDS,
        location: hive ? HIVE_LOCATION : PLAIN_LOCATION,
        hivePartitions: hive,
        perHour,
      }),
    );
    const window = { start: JUNE_1 + 8 * HOUR, end: JUNE_1 + 12 * HOUR };
    const late = { ...base, src: '10.0.0.77' };
    await tableOver(ddl, [
      {
        key: `${awsFolder(JUNE_1 + 9 * HOUR + 600, hive, perHour)}${ACCOUNT}_vpcflowlogs_${REGION}_fl-1_20240601T0910Z_a1.log`,
        text: objectText([base, reply, nodata]),
      },
      {
        // Delivered long after the window: outside its partitions, so never read.
        key: `${awsFolder(JUNE_1 + 2 * DAY + 20 * HOUR, hive, perHour)}${ACCOUNT}_vpcflowlogs_${REGION}_fl-1_20240603T2000Z_b2.log`,
        text: objectText([late]),
      },
    ]);
    const sqlOptions = {
      dialect: 'athena' as const,
      relation: qualifiedTableName('sg_audit', 'vpc_flow_logs_fl_1'),
      fields: CUSTOM_FIELDS,
      window,
      eniIds: ['eni-a', 'eni-b'],
      partitionFilter: windowPartitionFilter(window, perHour, { hivePartitions: hive }),
    };

    // Act
    const aggregates = (await rowsOf(buildFlowAggregateSql(sqlOptions))).map(flowAggregateFromRow);
    const statsSql = buildFlowStatsSql(sqlOptions);
    const [totals = {}] = await rowsOf(statsSql.totals);
    const enis = await rowsOf(statsSql.enis);
    const singlePass = await rowsOf(buildFlowSinglePassSql(sqlOptions));

    // Assess
    expect(aggregates).toEqual([
      flowAggregate({
        eniId: 'eni-a',
        clientAddr: '10.0.0.5',
        serverAddr: '10.0.0.9',
        evidence: 'flags',
        synRecords: 1,
        packets: 5,
        bytes: 3_000_000_180,
        firstSeen: base.start,
        lastSeen: base.end,
      }),
    ]);
    expect(
      ['records', 'nodata_records', 'skipdata_records', 'incomplete_records'].map((c) => Number(totals[c])),
    ).toEqual([2, 1, 0, 0]);
    expect(enis.map((r) => r.eni_id).sort()).toEqual(['eni-a', 'eni-b']);
    // The one-scan query of the Athena source returns the same over the same table.
    expect(singlePass.filter((r) => r.row_kind === 'aggregate').map(flowAggregateFromRow)).toEqual(
      aggregates,
    );
    const singleTotals = singlePass.find((r) => r.row_kind === 'totals') ?? {};
    expect(
      [
        'records',
        'nodata_records',
        'skipdata_records',
        'incomplete_records',
        'oldest_start',
        'newest_end',
      ].map((c) => Number(singleTotals[c])),
    ).toEqual(
      [
        'records',
        'nodata_records',
        'skipdata_records',
        'incomplete_records',
        'oldest_start',
        'newest_end',
      ].map((c) => Number(totals[c])),
    );
    expect(
      singlePass
        .filter((r) => r.row_kind === 'eni')
        .map((r) => r.eni_id)
        .sort(),
    ).toEqual(['eni-a', 'eni-b']);
  });

  it('reads only its flow log’s objects of a folder two flow logs (and another format) share', async () => {
    // Prepare: an ACCEPT-only log fl-1 and a REJECT-only log fl-12 deliver into one day folder,
    // and a Parquet log fl-3 too (its object named .parquet; here text, so the view can hold it).
    const ddl = flowLogTableDdl(ddlOptions({ fields: CUSTOM_FIELDS }));
    const window = { start: JUNE_1 + 8 * HOUR, end: JUNE_1 + 12 * HOUR };
    const folder = awsFolder(JUNE_1 + 9 * HOUR + 600, false, false);
    const name = (id: string, hash: string, extension = 'log') =>
      `${folder}${ACCOUNT}_vpcflowlogs_${REGION}_${id}_20240601T0910Z_${hash}.${extension}`;
    const rejected = { ...base, src: '10.0.0.66', action: 'REJECT', flags: 2 };
    await tableOver(ddl, [
      { key: name('fl-1', 'a1'), text: objectText([base, reply]) },
      { key: name('fl-1', 'a2'), text: objectText([nodata]) },
      { key: name('fl-12', 'b1'), text: objectText([rejected, rejected]) },
      { key: name('fl-3', 'c1', 'parquet'), text: objectText([base, reply, base]) },
    ]);
    const sqlOptions = (flowLogId: string) => ({
      dialect: 'athena' as const,
      relation: qualifiedTableName('sg_audit', 'vpc_flow_logs_fl_1'),
      fields: CUSTOM_FIELDS,
      window,
      partitionFilter: windowPartitionFilter(window, false, { flowLogId, dialect: 'duckdb' }),
      flowLogId: sqlString(flowLogId),
      sourceFile: OBJECT_PATH.duckdb,
    });

    // Act
    const accepted = await rowsOf(buildFlowSinglePassSql(sqlOptions('fl-1')));
    const refused = await rowsOf(buildFlowSinglePassSql(sqlOptions('fl-12')));

    // Assess: each table counts its own records once, and names its own objects only.
    const totals = (rows: Record<string, ResultCell>[]) => {
      const row = rows.find((r) => r.row_kind === 'totals') ?? {};
      return [Number(row.records), Number(row.nodata_records)];
    };
    const files = (rows: Record<string, ResultCell>[]) =>
      rows
        .filter((r) => r.row_kind === 'file')
        .map(sourceFileFromRow)
        .map((f) => [f.file.slice(f.file.lastIndexOf('_', f.file.length - 6) + 1), f.records])
        .sort();
    expect(totals(accepted)).toEqual([2, 1]);
    expect(files(accepted)).toEqual([
      ['a1.log', 2],
      ['a2.log', 1],
    ]);
    expect(accepted.filter((r) => r.row_kind === 'aggregate').map((r) => r.action)).toEqual(['ACCEPT']);
    expect(totals(refused)).toEqual([2, 0]);
    expect(files(refused)).toEqual([['b1.log', 2]]);
    expect(refused.filter((r) => r.row_kind === 'aggregate').map((r) => r.action)).toEqual(['REJECT']);
  });

  it('selects exactly the partitions whose hours meet the window and its slack', async () => {
    // Prepare: every hour partition from a day before to three days after June 1st.
    const partitions: { day: string; hour: number; at: number }[] = [];
    for (let at = JUNE_1 - DAY; at < JUNE_1 + 3 * DAY; at += HOUR) {
      const d = new Date(at * 1000);
      const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
      partitions.push({ day, hour: d.getUTCHours(), at });
    }
    await connection.run(
      `CREATE OR REPLACE TABLE partitions AS SELECT * FROM (VALUES ${partitions
        .map((p) => `(${sqlString(p.day)}, ${p.hour}, ${p.at})`)
        .join(', ')}) AS v(day, hour, delivered_at)`,
    );

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: DAY + 12 * HOUR }),
        fc.integer({ min: 0, max: DAY }),
        fc.integer({ min: 0, max: 2 * HOUR }),
        fc.boolean(),
        async (offset, length, slack, perHour) => {
          // Prepare
          const window = { start: JUNE_1 + offset, end: JUNE_1 + offset + length };
          const unit = perHour ? HOUR : DAY;
          const expected = partitions
            .filter(
              (p) =>
                Math.floor(p.at / unit) >= Math.floor(window.start / unit) &&
                Math.floor(p.at / unit) <= Math.floor((window.end + slack) / unit),
            )
            .map((p) => p.at);

          // Act
          const filter = windowPartitionFilter(window, perHour, { deliverySlackSeconds: slack });
          const selected = (
            await rowsOf(`SELECT delivered_at FROM partitions WHERE ${filter} ORDER BY delivered_at`)
          ).map((r) => Number(r.delivered_at));

          // Assess
          expect(selected).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});
