/**
 * The whole audit on plain data, for tests of what comes after it (change plans): an inventory,
 * connections as flow aggregates, and a flow source that proves every flow log delivered for
 * every ENI on every day of the window.
 *
 * @example
 * const report = await auditOnData(inventory, [inbound('eni-1', '203.0.113.9', '10.0.0.10', 22, 5)]);
 */
import { runAudit } from '../shared/audit';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../shared/config';
import type { FlowAggregate, FlowAggregateSource, FlowQuery, FlowSourceStats } from '../shared/model/flow';
import type { Inventory } from '../shared/model/inventory';
import type { AuditReport } from '../shared/report/model';
import { deliveredEveryDay } from './delivery';
import { WINDOW } from './inventory-builder';

/** A flow source on fixed rows whose flow logs delivered for each ENI every day of the window. */
export class DeliveredFlowSource implements FlowAggregateSource {
  constructor(
    private readonly rows: readonly FlowAggregate[],
    private readonly inventory: Inventory,
  ) {}

  async aggregate(query: FlowQuery) {
    const flowLogIds = this.inventory.flowLogs.map((f) => f.id);
    const deliveries = flowLogIds.flatMap((flowLogId) =>
      query.eniIds.flatMap((eniId) => deliveredEveryDay(flowLogId, eniId, query.window)),
    );
    const aggregates = this.rows.filter((r) => query.eniIds.includes(r.eniId));
    const stats: FlowSourceStats = {
      engine: 'fixed',
      sources: flowLogIds,
      files: 1,
      records: aggregates.reduce((n, r) => n + r.records, 0),
      nodataRecords: 0,
      skipdataRecords: 0,
      malformedRecords: 0,
      malformedSamples: [],
      queries: 1,
      bytesScanned: 0,
      enisWithRecords: [...new Set(aggregates.map((r) => r.eniId))],
      warnings: [],
      deliveries,
      flowLogIds,
    };
    return { aggregates, stats };
  }
}

/**
 * One accepted connection group seen on an ENI, decided by tcp-flags: `connections` SYNs from the
 * client to the server's port.
 *
 * @example connectionRow('eni-1', '203.0.113.9', '10.0.0.10', 6, 22, 5)
 */
export function connectionRow(
  eniId: string,
  clientAddr: string,
  serverAddr: string,
  protocol: number,
  serverPort: number | null,
  connections: number,
): FlowAggregate {
  return {
    eniId,
    action: 'ACCEPT',
    protocol,
    clientAddr,
    serverAddr,
    serverPort,
    clientPort: null,
    evidence: 'flags',
    records: 2 * connections,
    requestRecords: connections,
    synRecords: protocol === 6 ? connections : 0,
    packets: 10 * connections,
    bytes: 1000 * connections,
    firstSeen: WINDOW.start + 3600,
    lastSeen: WINDOW.end - 3600,
    distinctClientPorts: connections,
  };
}

/**
 * The report of a run over the inventory and rows ({@link WINDOW}, offline, fixed run id and time).
 *
 * @example const report = await auditOnData(inventory, rows, { ruleQuota: 5 });
 */
export async function auditOnData(
  inventory: Inventory,
  rows: readonly FlowAggregate[],
  config: Partial<AnalysisConfig> = {},
): Promise<AuditReport> {
  return runAudit({
    inventory,
    flowSource: new DeliveredFlowSource(rows, inventory),
    window: WINDOW,
    scope: { vpcIds: [], sgIds: [] },
    config: { ...DEFAULT_CONFIG, ...config },
    mode: 'offline',
    runId: 'run-plan',
    generatedAt: new Date('2026-11-17T06:00:00Z'),
    toolVersion: '0.0.0-test',
  });
}
