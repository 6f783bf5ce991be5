/**
 * report.xlsx: a Summary sheet (the account, the window, the counts and the worst findings with
 * their fix), then one sheet per contract CSV (Findings, Rules, Recommendations, Resources,
 * Delivery) with the same columns and values. Numbers stay numbers; text is written as text
 * cells, which Excel never evaluates, so the CSV's formula guard (a leading apostrophe) is not
 * needed here.
 */
import { PassThrough } from 'node:stream';
import type ExcelJS from 'exceljs';
import { COVERAGE_STATUSES, RULE_STATUSES, RULE_VERDICTS, SEVERITIES } from '../model/analysis';
import type { AuditReport } from '../report/model';
import { type Cell, type ReportTable, reportTables } from './csv';
import { compareFindings, findingRuleText, readableTime } from './format';
import { distinctWarnings } from './warnings';

/** Findings the Summary sheet lists, worst first; the Findings sheet has them all. */
const SUMMARY_FINDINGS = 15;

const HEADER_FILL = 'FF1F3A5F';
const HEADER_FONT = 'FFFFFFFF';
const MIN_WIDTH = 8;
const MAX_WIDTH = 60;
/** Rows sampled for column widths: enough to be representative, bounded for 1M-row reports. */
const WIDTH_SAMPLE_ROWS = 500;
/** Columns holding byte counts get a thousands separator. */
const THOUSANDS_COLUMNS: ReadonlySet<string> = new Set(['connections', 'bytes', 'distinct_peers']);

function columnWidth(table: ReportTable, index: number): number {
  let widest = (table.columns[index] ?? '').length + 4; // room for the autofilter button
  const sampled = Math.min(table.rows.length, WIDTH_SAMPLE_ROWS);
  for (let r = 0; r < sampled; r += 1) {
    const cell = table.rows[r]?.[index];
    if (cell !== undefined) widest = Math.max(widest, String(cell).length + 2);
  }
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, widest));
}

function addSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, table: ReportTable): void {
  const sheet = workbook.addWorksheet(table.sheetName, {
    views: [{ state: 'frozen', ySplit: 1, xSplit: 0, topLeftCell: 'A2', activeCell: 'A2' }],
  });
  sheet.columns = table.columns.map((column, index) => ({
    header: column,
    key: column,
    width: columnWidth(table, index),
    style: THOUSANDS_COLUMNS.has(column) ? { numFmt: '#,##0' } : {},
  }));
  const header = sheet.getRow(1);
  header.font = { bold: true, color: { argb: HEADER_FONT } };
  header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: HEADER_FILL } };
  header.alignment = { vertical: 'middle' };
  sheet.autoFilter = {
    from: { row: 1, column: 1 },
    to: { row: Math.max(1, table.rows.length + 1), column: table.columns.length },
  };
  header.commit();
  for (const row of table.rows) {
    sheet.addRow(row.map((cell: Cell) => (cell === undefined ? null : cell))).commit();
  }
  sheet.commit();
}

function addSummarySheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, report: AuditReport): void {
  const sheet = workbook.addWorksheet('Summary');
  sheet.columns = [{ width: 24 }, { width: 32 }, { width: 44 }, { width: 80 }, { width: 60 }];
  const s = report.summary;
  const add = (cells: readonly Cell[], bold = false) => {
    const row = sheet.addRow(cells.map((c) => (c === undefined ? null : c)));
    if (bold) row.font = { bold: true };
    row.alignment = { vertical: 'top', wrapText: true };
    row.commit();
  };
  const history = report.changeHistory;
  add([`Security group audit: account ${report.account.id ?? 'unknown'}`], true);
  add(['Region', report.account.region]);
  add([
    'Window',
    `${readableTime(report.window.start)} to ${readableTime(report.window.end)} (${report.window.days} days)`,
  ]);
  add(['Generated', `${readableTime(report.generatedAt)} (${report.mode}, run ${report.runId})`]);
  add([]);
  add(['Findings', 'count'], true);
  for (const severity of SEVERITIES) add([severity, s.findingsBySeverity[severity]]);
  add([]);
  add(['Rule entries', 'count'], true);
  for (const status of RULE_STATUSES) add([status, s.rulesByStatus[status]]);
  for (const verdict of RULE_VERDICTS) add([`verdict ${verdict}`, s.rulesByVerdict[verdict]]);
  add([]);
  add(['ENIs by coverage', 'count'], true);
  for (const status of COVERAGE_STATUSES) add([status, s.enisByCoverage[status]]);
  add(['Warnings', distinctWarnings(report).length]);
  if (history !== undefined) {
    add([
      'CloudTrail history',
      `${history.events} events${history.start ? ` since ${history.start.slice(0, 10)}` : ''}${history.complete ? '' : ' (incomplete)'}; ${history.attributedRules} rules attributed, ${history.olderRules} older, ${history.unknownRules} unknown`,
    ]);
  }
  add([]);
  add(['Worst findings', 'Security group', 'Rule', 'Fix', 'Changed'], true);
  for (const f of [...report.findings].sort(compareFindings).slice(0, SUMMARY_FINDINGS)) {
    add([
      `${f.severity} · ${f.check}`,
      `${f.sgName} (${f.sgId})`,
      findingRuleText(f) || 'SG-level',
      f.fix?.text ?? '',
      f.change?.text ?? '',
    ]);
  }
  sheet.commit();
}

/**
 * The workbook as bytes. Written with exceljs's streaming writer: rows are serialised as they
 * are added, which keeps 100,000-row reports fast and small in memory.
 *
 * @example const bytes = await renderXlsx(report); // Uint8Array starting with 'PK'
 */
export async function renderXlsx(report: AuditReport): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  // Loaded when a workbook is written, not with the renderers: exceljs and what it pulls in
  // (zip, streams) are some 150 modules that an audit would otherwise hold from its start.
  const { default: excel } = await import('exceljs');
  const workbook = new excel.stream.xlsx.WorkbookWriter({
    stream,
    useStyles: true,
    useSharedStrings: false,
  });
  workbook.creator = `${report.tool.name} ${report.tool.version}`;
  const generated = new Date(report.generatedAt);
  if (!Number.isNaN(generated.getTime())) {
    workbook.created = generated;
    workbook.modified = generated;
  }
  addSummarySheet(workbook, report);
  for (const table of reportTables(report)) addSheet(workbook, table);
  await workbook.commit();
  await finished;
  return new Uint8Array(Buffer.concat(chunks));
}
