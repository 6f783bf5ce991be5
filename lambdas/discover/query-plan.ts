/**
 * The query list of a run: which flow sources the query steps run, one item per log-group set of
 * one format (≤ 50 groups: one Logs Insights query covers them all, whatever the ENI count) or
 * per S3-delivered flow log (one Athena table). Flow logs no source can read are listed with the
 * reason, so the analyze step does not mistake their silence for unused rules.
 */

import { flowLogTableName } from '../../shared/flow/athena-ddl';
import type { Inventory } from '../../shared/model/inventory';
import type { PlannedSource } from '../adapters/s3-work-store';
import type { QueryItem } from '../query/contract';

export interface QueryPlan {
  readonly items: QueryItem[];
  readonly sources: PlannedSource[];
  readonly unqueried: { flowLogId: string; reason: string }[];
  readonly warnings: string[];
}

export interface QueryPlanOptions {
  /** Whether S3-delivered flow logs can be read (Athena configured). */
  readonly athena: boolean;
  /** @default 50 (Logs Insights' limit) */
  readonly maxLogGroupsPerQuery?: number;
}

/**
 * Plans the flow queries of an inventory.
 *
 * @example planFlowQueries(inventory, { athena: false }).items // [{ sourceId: 'insights-1', kind: 'insights', … }]
 */
export function planFlowQueries(inventory: Inventory, options: QueryPlanOptions): QueryPlan {
  const perQuery = options.maxLogGroupsPerQuery ?? 50;
  const plan: QueryPlan = { items: [], sources: [], unqueried: [], warnings: [] };
  // Log group → the format of its first flow log and every flow log writing to it.
  const groups = new Map<string, { fields: readonly string[]; flowLogIds: string[] }>();
  for (const flowLog of [...inventory.flowLogs].sort((a, b) => a.id.localeCompare(b.id))) {
    if (flowLog.destinationType === 'cloud-watch-logs' && flowLog.logGroupName) {
      const group = groups.get(flowLog.logGroupName);
      if (group === undefined) {
        groups.set(flowLog.logGroupName, { fields: flowLog.fields, flowLogIds: [flowLog.id] });
        continue;
      }
      group.flowLogIds.push(flowLog.id);
      if (group.fields.join(' ') !== flowLog.fields.join(' ')) {
        plan.warnings.push(
          `flow log ${flowLog.id} writes another format to log group ${flowLog.logGroupName}; the group is read with the format of flow log ${group.flowLogIds[0]}`,
        );
      }
    } else if (flowLog.destinationType === 's3' && options.athena) {
      const sourceId = `athena-${flowLog.id}`;
      plan.items.push({
        sourceId,
        kind: 'athena',
        flowLogId: flowLog.id,
        table: flowLogTableName(flowLog.id),
      });
      plan.sources.push({ sourceId, kind: 'athena', flowLogIds: [flowLog.id] });
    } else {
      const reason =
        flowLog.destinationType === 's3'
          ? 'delivers to S3 and no Athena database is configured (ATHENA_DATABASE)'
          : `delivers to ${flowLog.destinationType}, which no flow source reads`;
      plan.unqueried.push({ flowLogId: flowLog.id, reason });
    }
  }
  const byFormat = new Map<string, { fields: readonly string[]; names: string[] }>();
  for (const [name, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const format = group.fields.join(' ');
    const entry = byFormat.get(format) ?? { fields: group.fields, names: [] };
    entry.names.push(name);
    byFormat.set(format, entry);
  }
  let n = 0;
  const insights: QueryItem[] = [];
  for (const { fields, names } of byFormat.values()) {
    for (let i = 0; i < names.length; i += perQuery) {
      n += 1;
      const logGroups = names.slice(i, i + perQuery);
      const sourceId = `insights-${n}`;
      insights.push({ sourceId, kind: 'insights', fields: [...fields], logGroups });
      plan.sources.push({
        sourceId,
        kind: 'insights',
        flowLogIds: logGroups.flatMap((g) => groups.get(g)?.flowLogIds ?? []),
      });
    }
  }
  plan.items.unshift(...insights);
  return plan;
}
