/**
 * The traffic views' tables (design.md "Additive CSV columns"): rejected.csv, one row per
 * rejected connection group and SG of its ENI, and egress.csv, one row per external destination
 * group of an SG. Also sheets of report.xlsx. Empty (header only) for a report without the views.
 */
import type { AuditReport } from '../report/model';
import type { ReportTable } from './csv';
import { isoSeconds } from './format';

export const REJECTED_COLUMNS = [
  'sg_id',
  'eni_id',
  'direction',
  'protocol',
  'port',
  'peer',
  'connections',
  'first_seen',
  'last_seen',
  'class',
] as const;

export const EGRESS_COLUMNS = [
  'sg_id',
  'destination',
  'protocol',
  'port',
  'connections',
  'bytes',
  'expected',
] as const;

/**
 * rejected.csv: per rejected group, one row for each SG on its ENI (they refused it together, or
 * admitted it for class nacl), so a filter on one SG shows everything about it.
 *
 * @example rejectedTable(report).rows[0] // ['sg-db','eni-rds','ingress','tcp',5432,'10.0.10.120',42,'2026-11-09T…','2026-11-15T…','missing-rule']
 */
export function rejectedTable(report: AuditReport): ReportTable {
  const rows = (report.rejected?.rows ?? []).flatMap((r) =>
    r.sgIds.map((sgId) => [
      sgId,
      r.eniId,
      r.direction,
      r.protocol,
      r.port ?? undefined,
      r.peer,
      r.connections,
      isoSeconds(r.firstSeen),
      isoSeconds(r.lastSeen),
      r.class,
    ]),
  );
  return { fileName: 'rejected.csv', sheetName: 'Rejected', columns: REJECTED_COLUMNS, rows };
}

/**
 * egress.csv: the external destinations of each SG; `expected` is yes, no, or unreviewed when no
 * allow-list was given.
 *
 * @example egressTable(report).rows[0] // ['sg-app','45.139.122.0/24','tcp',443,31,2048123,'no']
 */
export function egressTable(report: AuditReport): ReportTable {
  const rows = (report.egress?.destinations ?? []).map((d) => [
    d.sgId,
    d.destination,
    d.protocol,
    d.port ?? undefined,
    d.connections,
    d.bytes,
    d.expected,
  ]);
  return { fileName: 'egress.csv', sheetName: 'Egress', columns: EGRESS_COLUMNS, rows };
}
