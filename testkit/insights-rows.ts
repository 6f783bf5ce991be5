/**
 * What Logs Insights returns for flow aggregates: the stats rows of the aggregation query
 * (shared/flow/insights-query.ts), for tests and benchmarks that stand in for the service (moto
 * ignores `stats`, aws-sdk-client-mock answers what it is told).
 *
 * @example logsClient.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: aggregates.map(insightsRow) })
 */
import type { FlowAggregate, FoldEvidence } from '../shared/model/flow';

/** Logs Insights' evidence ranks; it never settles `peer-ephemeral` (a DuckDB fold), so that ranks as undecided. */
const RANK: Readonly<Record<FoldEvidence, number>> = {
  undecided: 0,
  'peer-ephemeral': 0,
  'well-known': 1,
  flags: 2,
};

/** The stats row Logs Insights returns for one aggregate (the query's output columns; -1 for no port). */
export function insightsRow(a: FlowAggregate): { field: string; value: string }[] {
  const cells: Record<string, string | number> = {
    interfaceId: a.eniId,
    action: a.action,
    protocol: a.protocol,
    client_addr: a.clientAddr,
    server_addr: a.serverAddr,
    server_port: a.serverPort ?? -1,
    client_port: a.clientPort ?? -1,
    records: a.records,
    request_records: a.requestRecords,
    syn_records: a.synRecords,
    packet_count: a.packets,
    byte_count: a.bytes,
    first_seen: a.firstSeen,
    last_seen: a.lastSeen,
    evidence_rank: RANK[a.evidence],
    distinct_client_ports: a.distinctClientPorts,
  };
  return Object.entries(cells).map(([field, value]) => ({ field, value: String(value) }));
}
