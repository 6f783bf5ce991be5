/**
 * The four CSVs of the CSV contract (design.md): findings, rules, recommendations, resources.
 * The same tables are the sheets of report.xlsx, so the rows are built here once as typed cells
 * and only serialised differently.
 */
import { stringify } from 'csv-stringify/sync';
import { addition, fixLine, recommendationAction, removalOf, removalText } from '../remediation/fix';
import type { AuditReport, ReportSecurityGroup } from '../report/model';
import { changeCells } from '../trail/words';
import { egressTable, rejectedTable } from './csv-traffic';
import { contractPorts, isoSeconds, resourceCounts } from './format';

/** Columns every rule-shaped CSV starts with. */
export const COMMON_COLUMNS = [
  'sg_id',
  'sg_name',
  'vpc_id',
  'direction',
  'protocol',
  'from_port',
  'to_port',
  'peer',
] as const;

export const FINDINGS_COLUMNS = [
  ...COMMON_COLUMNS,
  'check',
  'severity',
  'reason',
  'resources',
  'evidence',
  // Additive (design.md "Additive CSV columns"): where, which controls, what to do, who changed it.
  'account_id',
  'region',
  'controls',
  'fix',
  'changed_by',
  'changed_at',
  'change_source',
] as const;

export const RULES_COLUMNS = [
  ...COMMON_COLUMNS,
  'status',
  'verdict',
  'connections',
  'bytes',
  'distinct_peers',
  'first_seen',
  'last_seen',
  'coverage',
  'changed_by',
  'changed_at',
  'change_source',
] as const;

export const RECOMMENDATIONS_COLUMNS = [
  ...COMMON_COLUMNS,
  'connections',
  'distinct_peers',
  'basis',
  'text',
  'action',
  'fix',
] as const;

export const RESOURCES_COLUMNS = [
  'eni_id',
  'sg_ids',
  'resource_type',
  'resource_id',
  'resource_name',
  'private_ips',
  'vpc_id',
  'subnet_id',
  'flow_log_coverage',
] as const;

/** One cell: text, a number (kept numeric in the workbook), or empty. */
export type Cell = string | number | undefined;

/** One contract table: its file name, its workbook sheet, its columns and rows. */
export interface ReportTable {
  readonly fileName:
    | 'findings.csv'
    | 'rules.csv'
    | 'recommendations.csv'
    | 'resources.csv'
    | 'delivery.csv'
    | 'changes.csv'
    | 'rejected.csv'
    | 'egress.csv';
  readonly sheetName:
    | 'Findings'
    | 'Rules'
    | 'Recommendations'
    | 'Resources'
    | 'Delivery'
    | 'Changes'
    | 'Rejected'
    | 'Egress';
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

function commonCells(
  sg: { readonly id: string; readonly name: string; readonly vpcId: string },
  rule: {
    readonly direction?: string;
    readonly protocol?: string;
    readonly fromPort?: number;
    readonly toPort?: number;
    readonly peer?: string;
  },
): Cell[] {
  const [from, to] =
    rule.protocol === undefined
      ? [undefined, undefined]
      : contractPorts(rule.protocol, rule.fromPort, rule.toPort);
  return [sg.id, sg.name, sg.vpcId, rule.direction, rule.protocol, from, to, rule.peer];
}

/**
 * The findings table, one row per finding in report order (SG-level findings leave the rule
 * columns empty).
 *
 * @example findingsTable(report).rows[0] // ['sg-1','web','vpc-1','ingress','tcp',22,22,'0.0.0.0/0','sensitive-port-world','high',…]
 */
export function findingsTable(report: AuditReport): ReportTable {
  const rows = report.findings.map((f) => [
    ...commonCells({ id: f.sgId, name: f.sgName, vpcId: f.vpcId }, f),
    f.check,
    f.severity,
    f.reason,
    resourceCounts(f.resources),
    f.evidence,
    report.account.id,
    report.account.region,
    f.controls.join(';'),
    fixLine(f.fix),
    ...changeCells(f.change),
  ]);
  return { fileName: 'findings.csv', sheetName: 'Findings', columns: FINDINGS_COLUMNS, rows };
}

/**
 * The rules table: one row per rule entry (per CIDR, SG reference or prefix list) of every SG.
 *
 * @example rulesTable(report).columns // RULES_COLUMNS
 */
export function rulesTable(report: AuditReport): ReportTable {
  const rows = report.securityGroups.flatMap((sg: ReportSecurityGroup) =>
    sg.rules.map((rule) => [
      ...commonCells(sg, rule),
      rule.usage.status,
      rule.usage.verdict,
      rule.usage.connections,
      rule.usage.bytes,
      rule.usage.distinctPeers,
      isoSeconds(rule.usage.firstSeen),
      isoSeconds(rule.usage.lastSeen),
      rule.usage.coverage,
      ...changeCells(rule.change),
    ]),
  );
  return { fileName: 'rules.csv', sheetName: 'Rules', columns: RULES_COLUMNS, rows };
}

/**
 * The recommendations table: the recommended rule set per SG and direction, with the seed's line,
 * whether each entry is to be added or is kept, and then the rules it leaves out, to be removed
 * (verdict remove, or narrow: replaced by the entries above), each with its AWS CLI command — the
 * plan's: no command where code manages the SG (where to change it instead), `keep` and why where
 * the plan keeps the rule.
 *
 * @example recommendationsTable(report).rows[0]?.slice(11, 13) // ['- allow tcp port 443 from 203.0.113.10', 'add']
 */
export function recommendationsTable(report: AuditReport): ReportTable {
  const rows = report.securityGroups.flatMap((sg) => [
    ...sg.recommendations.map((rec) => {
      const action = recommendationAction(sg, rec);
      const add = action === 'add' ? addition(sg, rec, report) : undefined;
      return [
        ...commonCells(sg, rec),
        rec.connections,
        rec.distinctPeers,
        rec.basis,
        rec.text,
        action,
        add === undefined ? '' : 'command' in add ? add.command : add.text,
      ];
    }),
    // The rules left out, as the plan changes them: kept (and why) where it keeps them.
    ...sg.rules
      .filter((rule) => rule.usage.verdict === 'remove' || rule.usage.verdict === 'narrow')
      .map((rule) => {
        const removal = removalOf(rule, sg, report);
        return [
          ...commonCells(sg, rule),
          rule.usage.connections,
          rule.usage.distinctPeers,
          undefined,
          removalText(rule),
          removal.action,
          removal.command ?? removal.text,
        ];
      }),
  ]);
  return {
    fileName: 'recommendations.csv',
    sheetName: 'Recommendations',
    columns: RECOMMENDATIONS_COLUMNS,
    rows,
  };
}

/**
 * The resources table: one row per ENI with the resource behind it and its flow-log coverage.
 *
 * @example resourcesTable(report).rows[0] // ['eni-1','sg-1;sg-2','ec2','i-1','web-1','10.0.1.10','vpc-1','subnet-1','full']
 */
export function resourcesTable(report: AuditReport): ReportTable {
  const rows = report.resources.map((r) => [
    r.eniId,
    r.sgIds.join(';'),
    r.resource.type,
    r.resource.id,
    r.resource.name,
    r.privateIps.join(';'),
    r.vpcId,
    r.subnetId,
    r.coverage,
  ]);
  return { fileName: 'resources.csv', sheetName: 'Resources', columns: RESOURCES_COLUMNS, rows };
}

/** delivery.csv: one row per flow log and bucket of the window (a UTC day by default). */
export const DELIVERY_COLUMNS = [
  'flow_log_id',
  'resource_id',
  'status',
  'bucket_start',
  'records',
  'proven',
  'expected',
] as const;

/**
 * The delivery table: what each flow log is proven to have delivered, bucket by bucket — the
 * numbers behind report.html's calendar strips. Empty (header only) for a report without them.
 *
 * @example deliveryTable(report).rows[0] // ['fl-1','vpc-1','complete','2026-11-09T00:00:00Z',1204,'yes','yes']
 */
export function deliveryTable(report: AuditReport): ReportTable {
  const delivery = report.delivery;
  const rows =
    delivery === undefined
      ? []
      : delivery.flowLogs.flatMap((log) =>
          delivery.buckets.map((bucket, i) => [
            log.flowLogId,
            log.resourceId,
            log.status,
            isoSeconds(bucket.start),
            log.records[i] ?? 0,
            log.proven[i] ? 'yes' : 'no',
            log.expected[i] ? 'yes' : 'no',
          ]),
        );
  return { fileName: 'delivery.csv', sheetName: 'Delivery', columns: DELIVERY_COLUMNS, rows };
}

/**
 * The contract tables, in the order their files and sheets are written.
 *
 * @example reportTables(report).map((t) => t.fileName) // ['findings.csv', …, 'delivery.csv', 'rejected.csv', 'egress.csv']
 */
export function reportTables(report: AuditReport): ReportTable[] {
  return [
    findingsTable(report),
    rulesTable(report),
    recommendationsTable(report),
    resourcesTable(report),
    deliveryTable(report),
    rejectedTable(report),
    egressTable(report),
  ];
}

/** A number followed by nothing else: '-1', '-0.5' are values, not formulas. */
const SIGNED_NUMBER = /^-\d+(\.\d+)?$/;

/**
 * Neutralises spreadsheet formula injection (OWASP "CSV injection"): a text cell that starts
 * with =, +, @, tab or CR, or with '-' followed by anything but a digit or a space, gets a
 * leading apostrophe so Excel and LibreOffice show it as text. Contract values such as '-1' and
 * the seed's '- allow tcp port 443 from …' lines are left as they are.
 *
 * @example neutraliseFormula('=HYPERLINK("x")') // "'=HYPERLINK(\"x\")"
 */
export function neutraliseFormula(text: string): string {
  const first = text.charAt(0);
  if (first === '=' || first === '+' || first === '@' || first === '\t' || first === '\r') return `'${text}`;
  if (first === '-') {
    const second = text.charAt(1);
    const startsLikeNumber = second >= '0' && second <= '9';
    // "-1+cmd" starts like a number but is a formula; a whole signed number is a value.
    if (startsLikeNumber ? !SIGNED_NUMBER.test(text) : second !== ' ' && second !== '') return `'${text}`;
  }
  return text;
}

/**
 * A table as RFC 4180 CSV: header row always present, CRLF line endings, no BOM, text cells
 * protected against formula injection, empty cells for absent values.
 *
 * @example renderCsv(rulesTable(report)).split('\r\n')[0] // 'sg_id,sg_name,vpc_id,…,coverage'
 */
export function renderCsv(table: ReportTable): string {
  const records = [
    table.columns,
    ...table.rows.map((row) =>
      row.map((cell) => (typeof cell === 'string' ? neutraliseFormula(cell) : cell)),
    ),
  ];
  return stringify(records, { record_delimiter: 'windows', bom: false, cast: { number: (n) => String(n) } });
}
