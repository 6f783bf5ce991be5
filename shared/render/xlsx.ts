/**
 * report.xlsx: one sheet per contract CSV (Findings, Rules, Recommendations, Resources) with the
 * same columns and values. Numbers stay numbers; text is written as text cells, which Excel
 * never evaluates, so the CSV's formula guard (a leading apostrophe) is not needed here.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import type { AuditReport } from '../report/model';
import { type Cell, type ReportTable, reportTables } from './csv';

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
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
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
  for (const table of reportTables(report)) addSheet(workbook, table);
  await workbook.commit();
  await finished;
  return new Uint8Array(Buffer.concat(chunks));
}
