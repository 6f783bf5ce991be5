/**
 * The flow-aggregate contract: what every flow source (local files through DuckDB, Logs
 * Insights, Athena) hands to the core. One logical query produces it on every engine.
 *
 * One row per (ENI, action, protocol, client address, server address, server port[, client port])
 * with sums. The engine pre-folds each record into the connection it belongs to when the record
 * alone decides who initiated:
 *  - `flags`: tcp-flags show SYN without SYN-ACK (the client's record) or SYN-ACK (the server's);
 *  - `well-known`: exactly one of the two ports is below 1024 — that one is the service.
 * Otherwise the record is `undecided`: the engine keeps BOTH ports (client = the higher port's
 * side, tentatively) and the core decides with what only it knows (the ENI's listening rules, the
 * peer's ephemeral range by resource type, distinct-counterpart-port evidence).
 * Request and reply records of one connection land in the same row, so replies never become
 * connections of their own.
 *
 * An engine given the core's {@link EphemeralFoldPlan} may also settle undecided rows the way the
 * core would (`peer-ephemeral`: exactly one side's port lies in that side's ephemeral range), and
 * then groups them like decided rows: one row per connection key, distinct client ports counted.
 */

import type { DeliveryCount, DeliveryCounter } from './delivery';

export type FoldEvidence = 'flags' | 'well-known' | 'peer-ephemeral' | 'undecided';
export type FlowAction = 'ACCEPT' | 'REJECT';

export interface FlowAggregate {
  readonly eniId: string;
  readonly action: FlowAction;
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, …). */
  readonly protocol: number;
  /**
   * The initiator's address (tentative when evidence is 'undecided'): pkt-srcaddr/pkt-dstaddr
   * where the format has them and the record holds one, else srcaddr/dstaddr.
   */
  readonly clientAddr: string;
  readonly serverAddr: string;
  /** The service port; null for protocols without ports. */
  readonly serverPort: number | null;
  /** Kept only when evidence is 'undecided' (and the protocol has ports); null otherwise. */
  readonly clientPort: number | null;
  readonly evidence: FoldEvidence;
  /** Flow-log records folded into this row (both directions). */
  readonly records: number;
  /** Records travelling client → server. */
  readonly requestRecords: number;
  /** Records whose tcp-flags show the client's SYN (a connection start), 0 when flags are absent. */
  readonly synRecords: number;
  readonly packets: number;
  readonly bytes: number;
  /** Epoch seconds of the earliest record start and latest record end. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Distinct client ports seen (exact in DuckDB/Athena, approximate in Logs Insights). */
  readonly distinctClientPorts: number;
  /**
   * The flow log whose records the row sums, when the source can tell: an ENI that several flow
   * logs record (VPC, subnet and ENI level) has its records once per log, and the core counts
   * one log's only.
   */
  readonly flowLogId?: string;
  /**
   * The AWS service AWS named for the server's address (pkt-dst-aws-service of the request
   * records, pkt-src-aws-service of the replies: `S3`, `DYNAMODB`, `AMAZON` …), when the format
   * has those fields and a record named one. A property of the address, whatever its role.
   */
  readonly serverService?: string;
}

/** A flow-log line the source could not use, with where it was. */
export interface MalformedRecord {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

/** What a flow source read and how: the completeness and cost facts the report states. */
export interface FlowSourceStats {
  /** 'duckdb-local' | 'logs-insights' | 'athena' */
  readonly engine: string;
  /** Flow-log ids, log groups or file sets this source covered. */
  readonly sources: readonly string[];
  readonly files: number;
  readonly records: number;
  readonly nodataRecords: number;
  readonly skipdataRecords: number;
  readonly malformedRecords: number;
  /** The first few malformed lines (file:line, why); the count above is complete. */
  readonly malformedSamples: readonly MalformedRecord[];
  readonly queries: number;
  readonly bytesScanned: number;
  /** Epoch seconds of the newest record end seen in the input (before windowing), if known. */
  readonly newestRecord?: number;
  readonly oldestRecord?: number;
  /** ENIs that had at least one record in the window. */
  readonly enisWithRecords: readonly string[];
  readonly warnings: readonly string[];
  /**
   * Delivery proof: records read (any log-status) per flow log, ENI and bucket of
   * `FlowQuery.bucketSeconds`. A source that reports none proves no delivery: its ENIs' rules
   * stay unknown.
   */
  readonly deliveries?: readonly DeliveryCount[];
  /** The source's own delivery counters beside what it read (S3 objects, IncomingLogEvents, export files). */
  readonly counters?: readonly DeliveryCounter[];
  /** Flow logs the source read, those it found empty included. */
  readonly flowLogIds?: readonly string[];
  /**
   * Records in the window of ENIs the query did not ask about, by ENI (the most first, at most
   * 100): the core warns about those the inventory does not know.
   */
  readonly otherEnis?: readonly { readonly eniId: string; readonly records: number }[];
}

export interface TimeWindow {
  /** Epoch seconds, inclusive. */
  readonly start: number;
  /** Epoch seconds, inclusive. */
  readonly end: number;
}

export interface FlowQuery {
  readonly window: TimeWindow;
  /** ENIs in scope; empty = all. */
  readonly eniIds: readonly string[];
  /** Only rows whose server port is in these ranges (undecided rows are kept: the core decides). */
  readonly ports?: readonly { readonly from: number; readonly to: number }[];
  /**
   * What the core knows about ephemeral ranges, for engines that can settle undecided rows
   * themselves (fewer rows reach the core, same connections). Engines may ignore it.
   */
  readonly foldPlan?: EphemeralFoldPlan;
  /** Bucket length of the delivery counts (86,400: UTC days). @default 86400 */
  readonly bucketSeconds?: number;
}

/** A port interval, both ends inclusive. */
export interface PortInterval {
  readonly from: number;
  readonly to: number;
}

/**
 * The inputs of the core's `peer-ephemeral` decision, as plain tables an engine can join: the
 * ephemeral ranges of every ENI (by its resource type) and the IPv4 address → ENI map. An address
 * not in `addresses` is outside the inventory and uses `defaultRanges`. Built only when these
 * tables decide exactly as the core does (no IPv4 delegated prefixes, no address on two ENIs);
 * IPv6 rows are left to the core.
 */
export interface EphemeralFoldPlan {
  readonly enis: readonly { readonly eniId: string; readonly ranges: readonly PortInterval[] }[];
  readonly addresses: readonly { readonly addr: string; readonly eniId: string }[];
  readonly defaultRanges: readonly PortInterval[];
}

/**
 * Aggregate rows a source keeps on its side (a DuckDB table, spilled to disk under its memory
 * limit) and streams on demand, as often as asked: the core folds them in two reads and holds
 * none, so its memory does not grow with the rows.
 */
export interface FlowAggregateRows {
  /**
   * Every row, in chunks, in any order; with `undecidedOnly`, at least every row whose evidence
   * is 'undecided' with both ports (others may come too).
   */
  read(options?: { readonly undecidedOnly?: boolean }): AsyncIterable<readonly FlowAggregate[]>;
  /** The distinct (ENI, action, flow log) of the rows: what choosing one flow log per ENI needs. */
  readers(): Promise<readonly FlowRowReader[]>;
  /**
   * Lets the rows go once the caller has read all it needs of them: the source frees what holds
   * them (DuckDB's result tables), so the analyses that follow do not share the run's memory with
   * rows nobody reads again. Reads afterwards fail.
   */
  release?(): Promise<void>;
}

/** An ENI and action, and a flow log with rows of them (undefined: the source could not tell). */
export interface FlowRowReader {
  readonly eniId: string;
  readonly action: FlowAction;
  readonly flowLogId?: string;
}

export interface FlowAggregateResult {
  /** The rows, or none when the source streams them (`rows`). */
  readonly aggregates: readonly FlowAggregate[];
  /** The rows, streamed on demand instead of held: `aggregates` is then empty. */
  readonly rows?: FlowAggregateRows;
  readonly stats: FlowSourceStats;
}

/** The port the core asks of every flow source. */
export interface FlowAggregateSource {
  aggregate(query: FlowQuery): Promise<FlowAggregateResult>;
}
