/**
 * Renderers of the audit report: report.json, the four contract CSVs, report.xlsx, summary.md,
 * the self-contained report.html and findings.ocsf.json (OCSF Detection Findings), plus the
 * console summary. Pure: the files come back as
 * values and sinks (local directory, S3) write them.
 */
import { InvalidValueError } from '../errors';
import { renderOcsf } from '../export/ocsf';
import type { AuditReport } from '../report/model';
import { renderCsv, reportTables } from './csv';
import { renderHtml } from './html';
import { renderJson } from './json';
import { renderMarkdown } from './markdown';
import { renderXlsx } from './xlsx';

export type { ConsoleSummaryOptions } from './console';
export { renderConsoleSummary } from './console';
export {
  COMMON_COLUMNS,
  FINDINGS_COLUMNS,
  RECOMMENDATIONS_COLUMNS,
  RESOURCES_COLUMNS,
  RULES_COLUMNS,
} from './csv';

export type OutputFormat = 'json' | 'csv' | 'xlsx' | 'md' | 'html' | 'ocsf';

/** Every format, in the order files are rendered. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'csv', 'xlsx', 'md', 'html', 'ocsf'];

export interface RenderedFile {
  /** File name relative to the output location ('report.json', 'findings.csv', …). */
  readonly name: string;
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

const CONTENT_TYPES = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  ocsf: 'application/json; charset=utf-8',
} as const satisfies Record<OutputFormat, string>;

/**
 * Parses a comma-separated format list ('json,csv'); 'all' stands for every format. Case and
 * spaces are ignored, duplicates collapse, the result keeps the order given.
 *
 * @throws InvalidValueError on an empty list or an unknown format.
 * @example parseOutputFormats('json, CSV') // ['json', 'csv']
 */
export function parseOutputFormats(text: string): OutputFormat[] {
  const names = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.length === 0) {
    throw new InvalidValueError(`no output format given (expected some of ${OUTPUT_FORMATS.join(', ')})`, {
      field: 'format',
    });
  }
  const formats: OutputFormat[] = [];
  for (const name of names) {
    const wanted = name === 'all' ? OUTPUT_FORMATS : OUTPUT_FORMATS.filter((f) => f === name);
    if (wanted.length === 0) {
      throw new InvalidValueError(
        `unknown output format '${name}' (expected ${OUTPUT_FORMATS.join(', ')} or all)`,
        { field: 'format' },
      );
    }
    for (const format of wanted) if (!formats.includes(format)) formats.push(format);
  }
  return formats;
}

/**
 * Renders the report in the given formats: json → report.json; csv → findings.csv, rules.csv,
 * recommendations.csv, resources.csv; xlsx → report.xlsx; md → summary.md; html → report.html;
 * ocsf → findings.ocsf.json.
 * Files come in the canonical format order whatever the order asked, each format once.
 *
 * @example const files = await renderReport(report, ['json', 'csv']); // 5 files
 */
export async function renderReport(
  report: AuditReport,
  formats: readonly OutputFormat[],
): Promise<RenderedFile[]> {
  const wanted = new Set(formats);
  const files: RenderedFile[] = [];
  for (const format of OUTPUT_FORMATS) {
    if (!wanted.has(format)) continue;
    const contentType = CONTENT_TYPES[format];
    switch (format) {
      case 'json':
        files.push({ name: 'report.json', contentType, body: renderJson(report) });
        break;
      case 'csv':
        for (const table of reportTables(report)) {
          files.push({ name: table.fileName, contentType, body: renderCsv(table) });
        }
        break;
      case 'xlsx':
        files.push({ name: 'report.xlsx', contentType, body: await renderXlsx(report) });
        break;
      case 'md':
        files.push({ name: 'summary.md', contentType, body: renderMarkdown(report) });
        break;
      case 'html':
        files.push({ name: 'report.html', contentType, body: renderHtml(report) });
        break;
      case 'ocsf':
        files.push({ name: 'findings.ocsf.json', contentType, body: renderOcsf(report) });
        break;
    }
  }
  return files;
}
