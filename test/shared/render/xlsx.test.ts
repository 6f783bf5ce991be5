import ExcelJS from 'exceljs';
import { FINDINGS_COLUMNS, RESOURCES_COLUMNS, RULES_COLUMNS, reportTables } from '../../../shared/render/csv';
import { renderXlsx } from '../../../shared/render/xlsx';
import type { AuditReport } from '../../../shared/report/model';
import { SG_APP, sampleReport, withSgName } from '../../fixtures/report-fixture';

async function readBack(report: AuditReport): Promise<ExcelJS.Workbook> {
  const bytes = await renderXlsx(report);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.from(bytes) as unknown as ExcelJS.Buffer);
  return workbook;
}

function headerOf(sheet: ExcelJS.Worksheet): string[] {
  const values = sheet.getRow(1).values as unknown[];
  return values.slice(1).map(String);
}

describe('renderXlsx', () => {
  it('sums the audit up on its first sheet: account, counts, and the worst findings with fix and who opened them', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const sheet = (await readBack(report)).getWorksheet('Summary') as ExcelJS.Worksheet;

    // Assess
    const rows = Array.from({ length: sheet.rowCount }, (_, i) =>
      (sheet.getRow(i + 1).values as unknown[])
        .slice(1)
        .map((v) => (v === null || v === undefined ? '' : String(v))),
    );
    expect(rows[0]?.[0]).toBe('Security group audit: account 123456789012');
    expect(rows).toContainEqual(['critical', '2']);
    expect(rows).toContainEqual(['Warnings', '4']);
    const header = rows.findIndex((r) => r[0] === 'Worst findings');
    expect(rows[header]).toEqual(['Worst findings', 'Security group', 'Rule', 'Fix', 'Changed']);
    const ssh = rows.slice(header + 1).find((r) => r[0] === 'high · sensitive-port-world');
    expect(ssh?.[3]).toMatch(/^Replace it with allow tcp port 22 from 198\.51\.100\.0\/24/);
    expect(ssh?.[4]).toBe(
      'opened by assumed-role/Admin/alice via console on 2025-11-03 09:12 UTC from 203.0.113.10',
    );
  });

  it('writes a summary sheet, then one sheet per contract CSV, in order', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const workbook = await readBack(report);

    // Assess
    expect(workbook.worksheets.map((s) => s.name)).toEqual([
      'Summary',
      'Findings',
      'Rules',
      'Recommendations',
      'Resources',
      'Delivery',
      'Rejected',
      'Egress',
    ]);
  });

  it('uses the CSV columns as the header row of each sheet', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const workbook = await readBack(report);

    // Assess
    expect(headerOf(workbook.getWorksheet('Findings') as ExcelJS.Worksheet)).toEqual([...FINDINGS_COLUMNS]);
    expect(headerOf(workbook.getWorksheet('Rules') as ExcelJS.Worksheet)).toEqual([...RULES_COLUMNS]);
    expect(headerOf(workbook.getWorksheet('Resources') as ExcelJS.Worksheet)).toEqual([...RESOURCES_COLUMNS]);
  });

  it('holds the same values as the CSV tables, numbers as numbers and empty cells empty', async () => {
    // Prepare
    const report = sampleReport();
    const tables = reportTables(report);

    // Act
    const workbook = await readBack(report);

    // Assess
    for (const table of tables) {
      const sheet = workbook.getWorksheet(table.sheetName) as ExcelJS.Worksheet;
      expect(sheet.rowCount).toBe(table.rows.length + 1);
      table.rows.forEach((row, r) => {
        const values = (sheet.getRow(r + 2).values as unknown[]).slice(1);
        // An empty CSV cell is an empty workbook cell, whether the value was '' or absent.
        const expected = row.map((cell) => (cell === '' ? undefined : cell));
        expect(Array.from({ length: row.length }, (_, i) => values[i] ?? undefined)).toEqual(expected);
      });
    }
  });

  it('keeps connections and bytes numeric', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const sheet = (await readBack(report)).getWorksheet('Rules') as ExcelJS.Worksheet;

    // Assess
    const connections = sheet.getRow(2).getCell(RULES_COLUMNS.indexOf('connections') + 1);
    const bytes = sheet.getRow(2).getCell(RULES_COLUMNS.indexOf('bytes') + 1);
    expect(connections.type).toBe(ExcelJS.ValueType.Number);
    expect(connections.value).toBe(184_220);
    expect(bytes.value).toBe(96_400_000_000);
  });

  it('freezes and styles the header row and sets an autofilter over the table', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const sheet = (await readBack(report)).getWorksheet('Findings') as ExcelJS.Worksheet;

    // Assess
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(sheet.getRow(1).getCell(1).fill).toMatchObject({ type: 'pattern', pattern: 'solid' });
    expect(sheet.autoFilter).toBe(`A1:T${report.findings.length + 1}`);
    expect(sheet.getColumn(1).width).toBeGreaterThanOrEqual('sg-0a11c0ffee0000001'.length);
  });

  it('stores a formula-like SG name as plain text, never as a formula', async () => {
    // Prepare
    const report = withSgName(sampleReport(), SG_APP, '=1+1');

    // Act
    const sheet = (await readBack(report)).getWorksheet('Rules') as ExcelJS.Worksheet;

    // Assess
    const appRow = sheet.getRows(2, sheet.rowCount - 1)?.find((row) => row.getCell(1).value === SG_APP);
    expect(appRow?.getCell(2).type).toBe(ExcelJS.ValueType.String);
    expect(appRow?.getCell(2).value).toBe('=1+1');
  });

  it('writes a header-only sheet when a table has no rows', async () => {
    // Prepare
    const report: AuditReport = { ...sampleReport(), findings: [] };

    // Act
    const sheet = (await readBack(report)).getWorksheet('Findings') as ExcelJS.Worksheet;

    // Assess
    expect(sheet.rowCount).toBe(1);
    expect(headerOf(sheet)).toEqual([...FINDINGS_COLUMNS]);
  });
});
