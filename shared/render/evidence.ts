/**
 * The flow logs whose evidence is not whole, in words — one line each, shared by every output that
 * must say so at the top (report.html's banner, summary.md, the console summary, e-mail, Slack).
 */
import { gapText } from '../coverage/delivery';
import type { DeliveryReport, FlowLogDelivery } from '../model/delivery';
import type { AuditReport } from '../report/model';

/**
 * One flow log's problem, or undefined when it delivered throughout (or was not read: the planner
 * warned about that already).
 *
 * @example flowLogProblem(delivery, log) // 'flow log fl-1 (vpc-1): no records 2026-11-17 – 2026-11-19'
 */
export function flowLogProblem(delivery: DeliveryReport, log: FlowLogDelivery): string | undefined {
  const name = `flow log ${log.flowLogId} (${log.resourceId})`;
  switch (log.status) {
    case 'inconsistent':
      return `${name}: counts disagree with the source's own counters (${log.inconsistencies.join('; ')})`;
    case 'silent':
      return `${name}: no records at all in the window`;
    case 'gaps':
      return `${name}: no records ${log.gaps.map((g) => gapText(g, delivery.bucketSeconds)).join(', ')}`;
    default:
      return undefined;
  }
}

/**
 * Every flow log's problem, inconsistent ones first, then silent, then gaps.
 *
 * @example evidenceProblems(report) // ['flow log fl-1 (vpc-1): no records at all in the window']
 */
export function evidenceProblems(report: AuditReport): string[] {
  const delivery = report.delivery;
  if (delivery === undefined) return [];
  const rank = { inconsistent: 0, silent: 1, gaps: 2, complete: 3, 'not-read': 4 } as const;
  return [...delivery.flowLogs]
    .sort((a, b) => rank[a.status] - rank[b.status] || a.flowLogId.localeCompare(b.flowLogId))
    .flatMap((log) => {
      const text = flowLogProblem(delivery, log);
      return text === undefined ? [] : [text];
    });
}

/** The sentence that leads every such list. */
export const EVIDENCE_LEAD =
  "Flow-log evidence is incomplete: rules of the ENIs these flow logs cover are 'unknown' where delivery is not proven (silence is never evidence of disuse).";
