/**
 * Flow data with defaults for tests of the flow engines, the flow sources and the fold: one
 * flow-log record (an HTTPS request from 10.0.0.1 to 10.0.0.2 seen on eni-1 at FLOW_T0), its
 * reply, and the FlowAggregate the engines fold such a request and reply into. Tests override only
 * the fields their case is about.
 *
 * @example
 * const request = flowRecord({ sport: 50000, dport: 8080 });
 * const rows = [request, flowReply(request, { flags: 18 })];
 * const expected = flowAggregate({ serverPort: 8080, clientPort: 50000, evidence: 'undecided' });
 */
import type { FlowAggregate } from '../../shared/model/flow';
import type { SqlFlowRecord } from './flow-sql';

/** Epoch seconds the default record starts at (2023-11-14T22:13:20Z). */
export const FLOW_T0 = 1_700_000_000;

/**
 * A flow-log record: by default one HTTPS request of 10 packets / 1000 bytes over one minute
 * from FLOW_T0, accepted, without tcp-flags (null: the log's '-').
 *
 * @example flowRecord({ eni: 'eni-b', status: 'NODATA', src: null, dst: null })
 */
export function flowRecord(overrides: Partial<SqlFlowRecord> = {}): SqlFlowRecord {
  return {
    eni: 'eni-1',
    src: '10.0.0.1',
    dst: '10.0.0.2',
    sport: 49152,
    dport: 443,
    protocol: 6,
    packets: 10,
    bytes: 1000,
    start: FLOW_T0,
    end: FLOW_T0 + 60,
    action: 'ACCEPT',
    status: 'OK',
    flags: null,
    ...overrides,
  };
}

/** The record's packet-level values of one pair, each on the other side (only those it has). */
function swapped<K extends keyof SqlFlowRecord>(a: K, b: K, record: SqlFlowRecord): Partial<SqlFlowRecord> {
  return record[a] === undefined && record[b] === undefined ? {} : { [a]: record[b], [b]: record[a] };
}

/**
 * The reply of a record: the same connection seen the other way (addresses and ports swapped).
 *
 * @example flowReply(syn, { flags: 18 })
 */
export function flowReply(record: SqlFlowRecord, overrides: Partial<SqlFlowRecord> = {}): SqlFlowRecord {
  return {
    ...record,
    src: record.dst,
    dst: record.src,
    sport: record.dport,
    dport: record.sport,
    ...swapped('pktSrc', 'pktDst', record),
    ...swapped('srcService', 'dstService', record),
    ...overrides,
  };
}

/**
 * A flow aggregate: by default the well-known-port fold of one HTTPS request and its reply on
 * eni-1 (10.0.0.1 → 10.0.0.2:443, 2 records, 20 packets, 2000 bytes, seen FLOW_T0 … +60).
 *
 * @example flowAggregate({ eniId: 'eni-2', serverPort: 22, records: 5 })
 */
export function flowAggregate(overrides: Partial<FlowAggregate> = {}): FlowAggregate {
  return {
    eniId: 'eni-1',
    action: 'ACCEPT',
    protocol: 6,
    clientAddr: '10.0.0.1',
    serverAddr: '10.0.0.2',
    serverPort: 443,
    clientPort: null,
    evidence: 'well-known',
    records: 2,
    requestRecords: 1,
    synRecords: 0,
    packets: 20,
    bytes: 2000,
    firstSeen: FLOW_T0,
    lastSeen: FLOW_T0 + 60,
    distinctClientPorts: 1,
    ...overrides,
  };
}
