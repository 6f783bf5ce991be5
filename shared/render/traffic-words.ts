/**
 * The words every renderer uses for the traffic views (rejected connections, egress
 * destinations), so summary.md, report.html, the console and the alerts say the same thing.
 */
import { REJECTED_CLASSES, type RejectedReport } from '../model/rejected';
import { formatCount, formatQuantity } from './format';

/**
 * Attempts by class, on one line.
 *
 * @example rejectedOverview(report.rejected) // '868 refused attempts: 3 missing-rule, 2 nacl, 863 probe'
 */
export function rejectedOverview(report: RejectedReport): string {
  return `${formatQuantity(report.connections, 'refused attempt', 'refused attempts')}: ${REJECTED_CLASSES.map((c) => `${formatCount(report.byClass[c])} ${c}`).join(', ')}`;
}

/**
 * The traffic of a rejected row or probed port: `tcp/22`, `icmp`, or `tcp (port not kept)` when
 * the fold kept no service port for a protocol that has ports.
 *
 * @example rejectedTraffic({ protocol: 'tcp', port: 22 }) // 'tcp/22'
 */
export function rejectedTraffic(row: {
  readonly protocol: string;
  readonly port: number | null;
  readonly servicePortUnknown?: boolean;
}): string {
  if (row.port !== null) return `${row.protocol}/${row.port}`;
  return row.servicePortUnknown ? `${row.protocol} (port not kept)` : row.protocol;
}

/**
 * An SG as `name (sg-id)`, or its id alone when the report has no name for it.
 *
 * @example sgLabel('sg-1', new Map([['sg-1', 'web']])) // 'web (sg-1)'
 */
export function sgLabel(sgId: string, names: ReadonlyMap<string, string>): string {
  const name = names.get(sgId);
  return name === undefined ? sgId : `${name} (${sgId})`;
}
