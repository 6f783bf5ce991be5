/**
 * VPC Flow Logs record formats: the catalogue of fields AWS can write, the default (v2) format,
 * and the parsers for the two places a format is written down — a flow log's `LogFormat`
 * (`${version} ${account-id} …`) and the header line of every S3 text object
 * (`version account-id …`). Parquet objects and Athena tables name the same fields with
 * underscores (`account_id`); {@link fieldsFromHeader} accepts both spellings.
 */
import { FlowLogFormatError } from '../errors';

/** How a field is typed where a typed copy exists (Parquet, Athena DDL); text files hold strings. */
export type FlowFieldType = 'int' | 'string';

export interface FlowLogField {
  /** The hyphenated name AWS uses in `LogFormat` and text headers. */
  readonly name: string;
  /** The flow-log version that introduced the field. */
  readonly version: number;
  readonly type: FlowFieldType;
}

const field = (name: string, version: number, type: FlowFieldType = 'string'): FlowLogField => ({
  name,
  version,
  type,
});

/** Every flow-log field, in the order of AWS's "Available fields" table. */
export const FLOW_LOG_FIELDS: readonly FlowLogField[] = [
  field('version', 2, 'int'),
  field('account-id', 2),
  field('interface-id', 2),
  field('srcaddr', 2),
  field('dstaddr', 2),
  field('srcport', 2, 'int'),
  field('dstport', 2, 'int'),
  field('protocol', 2, 'int'),
  field('packets', 2, 'int'),
  field('bytes', 2, 'int'),
  field('start', 2, 'int'),
  field('end', 2, 'int'),
  field('action', 2),
  field('log-status', 2),
  field('vpc-id', 3),
  field('subnet-id', 3),
  field('instance-id', 3),
  field('tcp-flags', 3, 'int'),
  field('type', 3),
  field('pkt-srcaddr', 3),
  field('pkt-dstaddr', 3),
  field('region', 4),
  field('az-id', 4),
  field('sublocation-type', 4),
  field('sublocation-id', 4),
  field('pkt-src-aws-service', 5),
  field('pkt-dst-aws-service', 5),
  field('flow-direction', 5),
  field('traffic-path', 5, 'int'),
  field('ecs-cluster-arn', 7),
  field('ecs-cluster-name', 7),
  field('ecs-container-instance-arn', 7),
  field('ecs-container-instance-id', 7),
  field('ecs-container-id', 7),
  field('ecs-second-container-id', 7),
  field('ecs-service-name', 7),
  field('ecs-task-definition-arn', 7),
  field('ecs-task-arn', 7),
  field('ecs-task-id', 7),
  field('reject-reason', 8),
  field('resource-id', 9),
  field('encryption-status', 10),
];

const FIELDS_BY_NAME: ReadonlyMap<string, FlowLogField> = new Map(FLOW_LOG_FIELDS.map((f) => [f.name, f]));

/** The default (version 2) format, as `describe-flow-logs` returns it for a default flow log. */
export const DEFAULT_LOG_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

/** The fields of {@link DEFAULT_LOG_FORMAT}, in order. */
export const DEFAULT_FIELDS: readonly string[] = FLOW_LOG_FIELDS.filter((f) => f.version === 2).map(
  (f) => f.name,
);

/** The fields the flow aggregation cannot do without. */
export const REQUIRED_FIELDS: readonly string[] = [
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

/**
 * The fields the flow aggregation reads where a format has them, besides tcp-flags: the
 * packet-level addresses (read before srcaddr/dstaddr) and the AWS services AWS names for them.
 */
export const PACKET_FIELDS: readonly string[] = [
  'pkt-srcaddr',
  'pkt-dstaddr',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
];

/** A name AWS could plausibly add later: lower-case words joined by hyphens or underscores. */
const FIELD_NAME_SHAPE = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;

/**
 * The catalogue entry of a field (hyphenated or underscored name), if AWS defines it.
 *
 * @example flowLogField('tcp_flags') // { name: 'tcp-flags', version: 3, type: 'int' }
 */
export function flowLogField(name: string): FlowLogField | undefined {
  return FIELDS_BY_NAME.get(name.replaceAll('_', '-'));
}

/**
 * The field names of a flow log's `LogFormat`, in order.
 *
 * @throws FlowLogFormatError naming the text when the format is empty, holds anything but
 *   `${field}` tokens, names an unknown field or names a field twice.
 * @example parseLogFormat('${srcaddr} ${dstport}') // ['srcaddr', 'dstport']
 */
export function parseLogFormat(logFormat: string): string[] {
  const tokens = logFormat
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  if (tokens.length === 0) {
    throw new FlowLogFormatError('empty log format', { field: 'LogFormat' });
  }
  const fields: string[] = [];
  for (const token of tokens) {
    const match = /^\$\{([^}]*)\}$/.exec(token);
    const name = match?.[1];
    if (name === undefined) {
      throw new FlowLogFormatError(`log format token '${token}' is not of the form \${field}`, {
        field: 'LogFormat',
      });
    }
    if (!FIELDS_BY_NAME.has(name)) {
      throw new FlowLogFormatError(`unknown flow-log field '${name}' in log format`, { field: 'LogFormat' });
    }
    if (fields.includes(name)) {
      throw new FlowLogFormatError(`flow-log field '${name}' appears twice in log format`, {
        field: 'LogFormat',
      });
    }
    fields.push(name);
  }
  return fields;
}

export interface HeaderOptions {
  /**
   * Keep well-formed names the catalogue does not know (fields AWS added after this code) instead
   * of rejecting the header; they are read as strings. Default false.
   */
  readonly allowUnknownFields?: boolean;
  /** Named in error messages. */
  readonly file?: string;
}

/**
 * The field names of a text flow-log header line (`version account-id …`), or of a Parquet /
 * Athena column list (`version account_id …`), normalised to the hyphenated names.
 *
 * @throws FlowLogFormatError naming the file and the first token that is not a field name — which
 *   is also how a file without a header (its first line is a record) is recognised.
 * @example fieldsFromHeader('version interface_id srcaddr') // ['version', 'interface-id', 'srcaddr']
 */
export function fieldsFromHeader(headerLine: string, options: HeaderOptions = {}): string[] {
  const where = { file: options.file, line: 1 };
  const tokens = headerLine
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  if (tokens.length === 0) {
    throw new FlowLogFormatError('empty header line: expected flow-log field names', where);
  }
  const fields: string[] = [];
  for (const token of tokens) {
    const name = token.toLowerCase().replaceAll('_', '-');
    const known = FIELDS_BY_NAME.has(name);
    if (!known && !(options.allowUnknownFields === true && FIELD_NAME_SHAPE.test(token.toLowerCase()))) {
      throw new FlowLogFormatError(`not a flow-log header: '${token}' is not a flow-log field name`, where);
    }
    if (fields.includes(name)) {
      throw new FlowLogFormatError(`flow-log field '${name}' appears twice in the header`, where);
    }
    fields.push(name);
  }
  return fields;
}

/**
 * The column name of a field in Parquet files, Athena tables and the engines' relations.
 *
 * @example columnName('log-status') // 'log_status'
 */
export function columnName(fieldName: string): string {
  return fieldName.replaceAll('-', '_');
}

/**
 * The {@link REQUIRED_FIELDS} a format lacks, in catalogue order; empty when it can be aggregated.
 *
 * @example requiredFieldsMissing(['srcaddr', 'dstaddr']) // ['interface-id', 'srcport', …]
 */
export function requiredFieldsMissing(fields: readonly string[]): string[] {
  return REQUIRED_FIELDS.filter((name) => !hasField(fields, name));
}

/**
 * Whether a format holds a field (either spelling).
 *
 * @example hasField(DEFAULT_FIELDS, 'tcp-flags') // false
 */
export function hasField(fields: readonly string[], name: string): boolean {
  const wanted = name.replaceAll('_', '-');
  return fields.some((f) => f.replaceAll('_', '-') === wanted);
}

/**
 * The version AWS writes in the `version` field for a format: the highest among its fields.
 *
 * @example formatVersion(['srcaddr', 'tcp-flags']) // 3
 */
export function formatVersion(fields: readonly string[]): number {
  return fields.reduce((highest, name) => Math.max(highest, flowLogField(name)?.version ?? 2), 2);
}
