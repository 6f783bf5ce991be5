/**
 * The work bucket of the weekly workflow: what one step hands the next, stored as (gzipped) JSON
 * under `runs/<runId>/…`, so Step Functions state carries only keys (its 256 KiB limit is
 * terminal). Layout:
 *  - `runs/<runId>/inventory.json.gz` — the discovered inventory, scope, window and query plan;
 *  - `runs/<runId>/change-history.json.gz` — the security-group change events CloudTrail's event
 *    history holds (LookupEvents), how completely they were read and why not, for attribution;
 *  - `runs/<runId>/queries.json` — the query list, plain JSON (a Distributed Map's ItemReader
 *    reads it when the list is too large to inline in state);
 *  - `runs/<runId>/aggregates/<sourceId>.json.gz` — one flow source's FlowAggregate rows (as
 *    tuples: a million rows must fit a Lambda's memory) and its FlowSourceStats;
 *  - `runs/<runId>/partials/<sourceId>/<n>.json.gz` — rows of query windows that finished before
 *    the source's others (a polled job keeps only their count in state);
 *  - `runs/<runId>/errors/<sourceId>.json` — a failed source's whole error (state keeps ≤ 500
 *    characters of it);
 *  - `runs/<runId>/query-results/…` — the Distributed Map's ResultWriter output (manifest.json and
 *    the child executions' outputs), read by analyze.
 * `StoredAggregatesSource` serves stored aggregates back through the FlowAggregateSource port, so
 * the analyze step runs runAudit unchanged.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type CompositeFlowAggregateResult, CompositeFlowSource } from '../../shared/flow/composite-source';
import type {
  FlowAction,
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
  FoldEvidence,
  MalformedRecord,
} from '../../shared/model/flow';
import type { CloudTrailLookupEvent, RuleChangeHistory } from '../../shared/model/rule-change';
import type { StoredInventory } from '../../shared/model/run';
import { errorText, S3BucketObjects, type S3BucketOptions, S3ObjectError } from './s3-objects';

/** A run or source id usable as one key segment (Step Functions execution names fit). */
const KEY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
/** 2: each row names its flow log (or null); 3: and its server's AWS service (or null). */
const AGGREGATES_SCHEMA_VERSION = 3;
const INVENTORY_SCHEMA_VERSION = 1;
const CHANGE_HISTORY_SCHEMA_VERSION = 1;

/** A work object could not be written or read, or is not what the workflow stores. */
export class WorkStoreError extends S3ObjectError {
  override readonly name = 'WorkStoreError';
}

/** A run id or source id that cannot be a key segment. */
export class InvalidWorkKeyError extends Error {
  override readonly name = 'InvalidWorkKeyError';
}

function segment(value: string, what: string): string {
  if (!KEY_SEGMENT.test(value) || /^\.+$/.test(value)) {
    throw new InvalidWorkKeyError(
      `${what} '${value.slice(0, 140)}' must be 1-128 characters of A-Z a-z 0-9 . _ = - (not starting with one of . _ = -)`,
    );
  }
  return value;
}

/**
 * The keys of one run's work objects.
 *
 * @example workKeys.aggregates('2025-11-17T000512Z-7f3a9c', 'insights-1')
 * // 'runs/2025-11-17T000512Z-7f3a9c/aggregates/insights-1.json.gz'
 */
export const workKeys = {
  run: (runId: string): string => `runs/${segment(runId, 'run id')}/`,
  inventory: (runId: string): string => `${workKeys.run(runId)}inventory.json.gz`,
  queries: (runId: string): string => `${workKeys.run(runId)}queries.json`,
  changeHistory: (runId: string): string => `${workKeys.run(runId)}change-history.json.gz`,
  aggregates: (runId: string, sourceId: string): string =>
    `${workKeys.run(runId)}aggregates/${segment(sourceId, 'source id')}.json.gz`,
  partial: (runId: string, sourceId: string, part: number): string =>
    `${workKeys.run(runId)}partials/${segment(sourceId, 'source id')}/${part}.json.gz`,
  error: (runId: string, sourceId: string): string =>
    `${workKeys.run(runId)}errors/${segment(sourceId, 'source id')}.json`,
  /** The Distributed Map's ResultWriter prefix (it adds `<map run id>/manifest.json` and the result files). */
  queryResults: (runId: string): string => `${workKeys.run(runId)}query-results`,
};

/** The work bucket, and the KMS key for SSE-KMS (without it objects use SSE-S3, AES256). */
export type S3WorkStoreOptions = S3BucketOptions;

/** The aggregates of one source as stored: tuples in AGGREGATE_TUPLE order, plus the source's stats. */
export interface StoredAggregates {
  readonly schemaVersion: number;
  readonly runId: string;
  readonly sourceId: string;
  readonly columns: readonly string[];
  readonly rows: readonly AggregateTuple[];
  readonly stats: FlowSourceStats;
}

type AggregateTuple = readonly [
  eniId: string,
  action: FlowAction,
  protocol: number,
  clientAddr: string,
  serverAddr: string,
  serverPort: number | null,
  clientPort: number | null,
  evidence: FoldEvidence,
  records: number,
  requestRecords: number,
  synRecords: number,
  packets: number,
  bytes: number,
  firstSeen: number,
  lastSeen: number,
  distinctClientPorts: number,
  flowLogId: string | null,
  serverService: string | null,
];

const TUPLE_COLUMNS = [
  'eniId',
  'action',
  'protocol',
  'clientAddr',
  'serverAddr',
  'serverPort',
  'clientPort',
  'evidence',
  'records',
  'requestRecords',
  'synRecords',
  'packets',
  'bytes',
  'firstSeen',
  'lastSeen',
  'distinctClientPorts',
  'flowLogId',
  'serverService',
] as const;

function toTuple(a: FlowAggregate): AggregateTuple {
  return [
    a.eniId,
    a.action,
    a.protocol,
    a.clientAddr,
    a.serverAddr,
    a.serverPort,
    a.clientPort,
    a.evidence,
    a.records,
    a.requestRecords,
    a.synRecords,
    a.packets,
    a.bytes,
    a.firstSeen,
    a.lastSeen,
    a.distinctClientPorts,
    a.flowLogId ?? null,
    a.serverService ?? null,
  ];
}

const ACTIONS: ReadonlySet<unknown> = new Set(['ACCEPT', 'REJECT']);
const EVIDENCE: ReadonlySet<unknown> = new Set(['flags', 'well-known', 'undecided']);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isPort = (v: unknown): v is number | null => v === null || (Number.isInteger(v) && isCount(v));
const isOptionalText = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** A stored row back to a FlowAggregate; undefined when it is not one (checked by hand: 1M rows). */
function fromTuple(row: unknown): FlowAggregate | undefined {
  if (!Array.isArray(row) || row.length !== TUPLE_COLUMNS.length) return undefined;
  const [flowLogId, serverService]: unknown[] = row.slice(-2);
  if (!isOptionalText(flowLogId) || !isOptionalText(serverService)) return undefined;
  const [eniId, action, protocol, clientAddr, serverAddr, serverPort, clientPort, evidence, ...counts] =
    row.slice(0, -2);
  if (typeof eniId !== 'string' || typeof clientAddr !== 'string' || typeof serverAddr !== 'string')
    return undefined;
  if (!ACTIONS.has(action) || !EVIDENCE.has(evidence) || !Number.isInteger(protocol)) return undefined;
  if (!isPort(serverPort) || !isPort(clientPort) || !counts.every(isCount)) return undefined;
  const [records, requestRecords, synRecords, packets, bytes, firstSeen, lastSeen, distinctClientPorts] =
    counts as number[];
  return {
    eniId,
    action: action as FlowAction,
    protocol: protocol as number,
    clientAddr,
    serverAddr,
    serverPort,
    clientPort,
    evidence: evidence as FoldEvidence,
    records: records ?? 0,
    requestRecords: requestRecords ?? 0,
    synRecords: synRecords ?? 0,
    packets: packets ?? 0,
    bytes: bytes ?? 0,
    firstSeen: firstSeen ?? 0,
    lastSeen: lastSeen ?? 0,
    distinctClientPorts: distinctClientPorts ?? 0,
    ...(flowLogId !== null ? { flowLogId } : {}),
    ...(serverService !== null ? { serverService } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads and writes a run's intermediate objects in the work bucket.
 *
 * @example
 * const store = new S3WorkStore({ s3, bucket: 'sg-audit-work' });
 * const key = await store.putAggregates('run-1', 'insights-1', await source.aggregate(query));
 * const { aggregates, stats } = await store.getAggregates(key);
 */
export class S3WorkStore extends S3BucketObjects {
  constructor(options: S3WorkStoreOptions) {
    if (options.bucket.trim() === '') throw new WorkStoreError('', '', 'the work bucket name is empty');
    super(options);
  }

  /**
   * Stores `value` as JSON: gzipped (ContentEncoding gzip) when the key ends in `.gz`, plain
   * otherwise; always server-side encrypted.
   *
   * @throws WorkStoreError when PutObject fails.
   */
  async putJson(key: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    const gzip = key.endsWith('.gz');
    try {
      await this.putObject({
        Key: key,
        Body: gzip ? gzipSync(json) : json,
        ContentType: 'application/json; charset=utf-8',
        ...(gzip ? { ContentEncoding: 'gzip' } : {}),
      });
    } catch (error) {
      throw new WorkStoreError(this.bucket, key, `cannot write: ${errorText(error)}`, { cause: error });
    }
  }

  /**
   * The JSON value stored at `key` (gunzipped when the object is gzip, whatever its name).
   *
   * @throws WorkStoreError when the object is missing, unreadable or not JSON.
   */
  async getJson(key: string): Promise<unknown> {
    let bytes: Uint8Array | undefined;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      bytes = await response.Body?.transformToByteArray();
    } catch (error) {
      throw new WorkStoreError(this.bucket, key, `cannot read: ${errorText(error)}`, { cause: error });
    }
    if (bytes === undefined) throw new WorkStoreError(this.bucket, key, 'the object has no body');
    try {
      const gzipped = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
      const text = Buffer.from(gzipped ? gunzipSync(bytes) : bytes).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new WorkStoreError(this.bucket, key, `not (gzipped) JSON: ${errorText(error)}`, { cause: error });
    }
  }

  /** Stores the run's discovery at `runs/<runId>/inventory.json.gz`; returns the key. */
  async putInventory(stored: Omit<StoredInventory, 'schemaVersion'>): Promise<string> {
    const key = workKeys.inventory(stored.runId);
    await this.putJson(key, { schemaVersion: INVENTORY_SCHEMA_VERSION, ...stored });
    return key;
  }

  /**
   * The run's discovery, as the discover step stored it (checked for shape, not re-validated
   * field by field: the work bucket holds only what the workflow wrote).
   *
   * @throws WorkStoreError when missing or not a stored inventory.
   */
  async getInventory(key: string): Promise<StoredInventory> {
    const value = await this.getJson(key);
    const inventory = isRecord(value) ? value.inventory : undefined;
    const plan = isRecord(value) ? value.plan : undefined;
    if (
      !isRecord(value) ||
      value.schemaVersion !== INVENTORY_SCHEMA_VERSION ||
      typeof value.runId !== 'string' ||
      !isRecord(value.window) ||
      !isRecord(inventory) ||
      !Array.isArray(inventory.networkInterfaces) ||
      !Array.isArray(inventory.securityGroups) ||
      !Array.isArray(inventory.flowLogs) ||
      !isRecord(plan) ||
      !Array.isArray(plan.sources)
    ) {
      throw new WorkStoreError(
        this.bucket,
        key,
        `not a stored inventory (schema ${INVENTORY_SCHEMA_VERSION})`,
      );
    }
    return value as unknown as StoredInventory;
  }

  /** Stores the run's security-group change history at `runs/<runId>/change-history.json.gz`; returns the key. */
  async putChangeHistory(runId: string, history: RuleChangeHistory): Promise<string> {
    const key = workKeys.changeHistory(runId);
    await this.putJson(key, { schemaVersion: CHANGE_HISTORY_SCHEMA_VERSION, runId, history });
    return key;
  }

  /**
   * The change history as the discover step stored it: its events, period, completeness and
   * warnings (the events are checked to be objects, not parsed: attribution reads them).
   *
   * @throws WorkStoreError when missing or not a stored change history.
   */
  async getChangeHistory(key: string): Promise<RuleChangeHistory> {
    const value = await this.getJson(key);
    const history = isRecord(value) ? value.history : undefined;
    const epochOrAbsent = (v: unknown): boolean => v === undefined || isCount(v);
    if (
      !isRecord(value) ||
      value.schemaVersion !== CHANGE_HISTORY_SCHEMA_VERSION ||
      !isRecord(history) ||
      typeof history.source !== 'string' ||
      !Array.isArray(history.events) ||
      !history.events.every(isRecord) ||
      typeof history.complete !== 'boolean' ||
      !Array.isArray(history.warnings) ||
      !history.warnings.every((w) => typeof w === 'string') ||
      !epochOrAbsent(history.start) ||
      !epochOrAbsent(history.end)
    ) {
      throw new WorkStoreError(
        this.bucket,
        key,
        `not a stored change history (schema ${CHANGE_HISTORY_SCHEMA_VERSION})`,
      );
    }
    return {
      source: history.source,
      events: history.events as CloudTrailLookupEvent[],
      ...(history.start !== undefined ? { start: history.start as number } : {}),
      ...(history.end !== undefined ? { end: history.end as number } : {}),
      complete: history.complete,
      warnings: history.warnings as string[],
    };
  }

  /** Stores one source's result at `runs/<runId>/aggregates/<sourceId>.json.gz`; returns the key. */
  async putAggregates(runId: string, sourceId: string, result: FlowAggregateResult): Promise<string> {
    const key = workKeys.aggregates(runId, sourceId);
    const stored: StoredAggregates = {
      schemaVersion: AGGREGATES_SCHEMA_VERSION,
      runId,
      sourceId,
      columns: TUPLE_COLUMNS,
      rows: result.aggregates.map(toTuple),
      stats: result.stats,
    };
    await this.putJson(key, stored);
    return key;
  }

  /** Stores the rows of a job's finished windows, part `part` of source `sourceId`. */
  async putPartialAggregates(
    runId: string,
    sourceId: string,
    part: number,
    rows: readonly FlowAggregate[],
  ): Promise<void> {
    await this.putJson(workKeys.partial(runId, sourceId, part), {
      schemaVersion: AGGREGATES_SCHEMA_VERSION,
      columns: TUPLE_COLUMNS,
      rows: rows.map(toTuple),
    });
  }

  /** @throws WorkStoreError when the part is missing or not stored rows. */
  async getPartialAggregates(runId: string, sourceId: string, part: number): Promise<FlowAggregate[]> {
    const key = workKeys.partial(runId, sourceId, part);
    const value = await this.getJson(key);
    if (!isRecord(value) || value.schemaVersion !== AGGREGATES_SCHEMA_VERSION || !Array.isArray(value.rows)) {
      throw new WorkStoreError(this.bucket, key, `not stored rows (schema ${AGGREGATES_SCHEMA_VERSION})`);
    }
    return this.aggregatesOf(key, value.rows);
  }

  /**
   * The outputs of a Distributed Map's child executions, from its ResultWriter manifest (the key
   * the Map state returns as ResultWriterDetails.Key): each SUCCEEDED result file's records, their
   * `Output` parsed. The Map fails when a child fails, so a manifest naming FAILED or PENDING
   * results is refused.
   *
   * @throws WorkStoreError when the manifest or a result file is missing or not what Step Functions writes.
   */
  async getMapResults(manifestKey: string): Promise<unknown[]> {
    const manifest = await this.getJson(manifestKey);
    const files = isRecord(manifest) && isRecord(manifest.ResultFiles) ? manifest.ResultFiles : undefined;
    const keysOf = (status: string): string[] | undefined => {
      const list = files?.[status] ?? [];
      if (!Array.isArray(list)) return undefined;
      const keys = list.map((f) => (isRecord(f) && typeof f.Key === 'string' ? f.Key : undefined));
      return keys.every((k) => k !== undefined) ? (keys as string[]) : undefined;
    };
    const succeeded = keysOf('SUCCEEDED');
    const unfinished = [...(keysOf('FAILED') ?? []), ...(keysOf('PENDING') ?? [])];
    if (files === undefined || succeeded === undefined) {
      throw new WorkStoreError(this.bucket, manifestKey, 'not a Distributed Map ResultWriter manifest');
    }
    if (unfinished.length > 0) {
      throw new WorkStoreError(
        this.bucket,
        manifestKey,
        `the map run left child executions that did not succeed: ${unfinished.join(', ')}`,
      );
    }
    const outputs: unknown[] = [];
    for (const key of succeeded) {
      const records = await this.getJson(key);
      if (!Array.isArray(records)) throw new WorkStoreError(this.bucket, key, 'not an array of executions');
      for (const [index, record] of records.entries()) {
        const output = isRecord(record) ? record.Output : undefined;
        try {
          outputs.push(typeof output === 'string' ? JSON.parse(output) : output);
        } catch (error) {
          throw new WorkStoreError(this.bucket, key, `execution ${index}: Output is not JSON`, {
            cause: error,
          });
        }
      }
    }
    return outputs;
  }

  /**
   * One source's stored result.
   *
   * @throws WorkStoreError when the object is not stored aggregates (names the bad row).
   */
  async getAggregates(key: string): Promise<FlowAggregateResult & { sourceId: string }> {
    const value = await this.getJson(key);
    if (
      !isRecord(value) ||
      value.schemaVersion !== AGGREGATES_SCHEMA_VERSION ||
      typeof value.sourceId !== 'string' ||
      !Array.isArray(value.rows) ||
      !isRecord(value.stats)
    ) {
      throw new WorkStoreError(
        this.bucket,
        key,
        `not stored aggregates (schema ${AGGREGATES_SCHEMA_VERSION})`,
      );
    }
    return {
      sourceId: value.sourceId,
      aggregates: this.aggregatesOf(key, value.rows),
      stats: statsFrom(value.stats),
    };
  }

  private aggregatesOf(key: string, rows: readonly unknown[]): FlowAggregate[] {
    const aggregates: FlowAggregate[] = [];
    for (const [index, row] of rows.entries()) {
      const aggregate = fromTuple(row);
      if (aggregate === undefined)
        throw new WorkStoreError(this.bucket, key, `row ${index} is not an aggregate`);
      aggregates.push(aggregate);
    }
    return aggregates;
  }
}

/** Stats as stored, with every list and counter present (older or partial objects degrade to 0). */
function statsFrom(value: Record<string, unknown>): FlowSourceStats {
  const count = (name: string): number => (isCount(value[name]) ? (value[name] as number) : 0);
  const strings = (name: string): string[] =>
    Array.isArray(value[name]) ? (value[name] as unknown[]).filter((v) => typeof v === 'string') : [];
  const epoch = (name: string): { [k: string]: number } =>
    isCount(value[name]) ? { [name]: value[name] as number } : {};
  return {
    engine: typeof value.engine === 'string' ? value.engine : 'unknown',
    sources: strings('sources'),
    files: count('files'),
    records: count('records'),
    nodataRecords: count('nodataRecords'),
    skipdataRecords: count('skipdataRecords'),
    malformedRecords: count('malformedRecords'),
    malformedSamples: Array.isArray(value.malformedSamples)
      ? (value.malformedSamples as MalformedRecord[])
      : [],
    queries: count('queries'),
    bytesScanned: count('bytesScanned'),
    ...epoch('newestRecord'),
    ...epoch('oldestRecord'),
    enisWithRecords: strings('enisWithRecords'),
    warnings: strings('warnings'),
    // The delivery evidence travels with the stats: without it analyze would see every flow log silent.
    ...records('deliveries', isDeliveryCount),
    ...records('counters', isDeliveryCounter),
    ...(Array.isArray(value.flowLogIds) ? { flowLogIds: strings('flowLogIds') } : {}),
    ...records('otherEnis', (v) => isRecord(v) && typeof v.eniId === 'string' && isCount(v.records)),
  };

  function records<K extends 'deliveries' | 'counters' | 'otherEnis'>(
    name: K,
    valid: (v: unknown) => boolean,
  ): { [P in K]?: FlowSourceStats[P] } {
    const list = value[name];
    return Array.isArray(list)
      ? ({ [name]: list.filter(valid) } as unknown as { [P in K]?: FlowSourceStats[P] })
      : {};
  }
}

function isDeliveryCount(v: unknown): boolean {
  return (
    isRecord(v) &&
    (v.flowLogId === null || typeof v.flowLogId === 'string') &&
    typeof v.eniId === 'string' &&
    isCount(v.bucketStart) &&
    isCount(v.records)
  );
}

function isDeliveryCounter(v: unknown): boolean {
  return (
    isRecord(v) &&
    typeof v.kind === 'string' &&
    Array.isArray(v.flowLogIds) &&
    typeof v.subject === 'string' &&
    (v.bucketStart === undefined || isCount(v.bucketStart)) &&
    isCount(v.delivered) &&
    isCount(v.read)
  );
}

/**
 * The result of a source that had nothing to ask (no ENI in its flow logs' reach).
 *
 * @example emptyFlowResult('logs-insights', ['fl-1']).stats.queries // 0
 */
export function emptyFlowResult(engine: string, sources: readonly string[]): FlowAggregateResult {
  return { aggregates: [], stats: emptyStats(engine, sources) };
}

function emptyStats(engine: string, sources: readonly string[]): FlowSourceStats {
  return {
    engine,
    sources: [...sources],
    files: 0,
    records: 0,
    nodataRecords: 0,
    skipdataRecords: 0,
    malformedRecords: 0,
    malformedSamples: [],
    queries: 0,
    bytesScanned: 0,
    enisWithRecords: [],
    warnings: [],
  };
}

/**
 * A FlowAggregateSource over aggregates the query steps stored: it answers runAudit's query with
 * the stored rows of the ENIs asked for (the query steps already applied the window and ports)
 * and the sources' stats.
 *
 * @example
 * const source = new StoredAggregatesSource(await Promise.all(keys.map((k) => store.getAggregates(k))));
 * const report = await runAudit({ ...options, flowSource: source });
 */
export class StoredAggregatesSource implements FlowAggregateSource {
  private readonly results: readonly FlowAggregateResult[];

  constructor(results: readonly FlowAggregateResult[]) {
    this.results = results;
  }

  /** The stored rows of the query's ENIs (all when it names none); `sourceStats` one entry per engine. */
  async aggregate(query: FlowQuery): Promise<CompositeFlowAggregateResult> {
    const wanted = new Set(query.eniIds);
    const stored = this.results.map(
      (result): FlowAggregateSource => ({
        aggregate: async () => ({
          aggregates:
            wanted.size === 0 ? result.aggregates : result.aggregates.filter((a) => wanted.has(a.eniId)),
          stats: result.stats,
        }),
      }),
    );
    // The composite keeps each engine's statistics apart in the report, as the live CLI does.
    return new CompositeFlowSource(stored).aggregate(query);
  }
}
