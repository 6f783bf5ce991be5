/**
 * What the flow-log files of a directory are, before any window: each text file's format from its
 * header line, each Parquet file's from its schema, grouped so that files of one format are read
 * by one reader. A file whose format cannot be read, or lacks a field the aggregation needs, is
 * left out with a reason (a format problem in one file must not stop the audit of the others);
 * only when files exist and NONE of them is usable does inspection fail.
 */
import { FlowLogFormatError } from '../../../shared/errors';
import { sqlString } from '../../../shared/flow/aggregate-sql';
import {
  columnName,
  fieldsFromHeader,
  flowLogField,
  requiredFieldsMissing,
} from '../../../shared/flow/format';
import { cannotRead, type FlowFileScanner, type UnreadableFile } from './file-scanner';
import { type FlowLogFile, type HeaderLine, readHeaderLine } from './flow-files';
import { cutObject, HEADER_CUT_REASON } from './object-lines';
import { COLUMN_TYPES, type FileGroups, type ParquetGroup, TABLE_COLUMNS, type TableColumn } from './readers';

/** The files by format, and what could not be used. */
export interface Inspection extends FileGroups {
  readonly hasTcpFlags: boolean;
  readonly unreadable: readonly UnreadableFile[];
  /** The flow-log fields of each readable file (relative path → hyphenated names). */
  readonly fieldsByFile: Readonly<Record<string, readonly string[]>>;
  readonly warnings: readonly string[];
}

/** Text files whose header lines are read at once. */
const HEADER_READS_AT_ONCE = 64;

/**
 * The warning of a file left out.
 *
 * @example skippedFileWarning({ file: 'a.log', reason: 'flow-log format lacks srcport' }) // 'a.log: flow-log format lacks srcport; file skipped'
 */
export function skippedFileWarning(file: UnreadableFile): string {
  return `${file.file}: ${file.reason}; file skipped`;
}

/**
 * Reads every text file's header line and every Parquet file's schema and groups the usable files
 * by format.
 *
 * @throws FlowLogFormatError when files exist and none of them is usable.
 * @example
 * const inspection = await inspectFlowFiles(scanner, await discoverFlowLogFiles(dir), dir);
 * inspection.textGroups // [{ fields: ['version', 'account-id', …], files: [...] }]
 */
export async function inspectFlowFiles(
  scanner: FlowFileScanner,
  files: readonly FlowLogFile[],
  directory: string,
): Promise<Inspection> {
  const warnings: string[] = [];
  if (files.length === 0)
    warnings.push(`no flow-log files (*.log[.gz], *.txt[.gz], *.parquet) under ${directory}`);
  const text = files.filter((f) => f.kind === 'text');
  const parquet = files.filter((f) => f.kind === 'parquet');

  const unreadable: UnreadableFile[] = [];
  const fieldsByFile: Record<string, readonly string[]> = {};
  const unknownFields = new Set<string>();

  // Text: the header line decides the format; files of one format are read by one read_csv.
  const textGroups = new Map<string, { fields: string[]; files: FlowLogFile[] }>();
  const textFields: (string[] | undefined)[] = [];
  for (let i = 0; i < text.length; i += HEADER_READS_AT_ONCE) {
    const batch = text.slice(i, i + HEADER_READS_AT_ONCE);
    textFields.push(...(await Promise.all(batch.map((file) => textFieldsOf(file, unreadable)))));
  }
  text.forEach((file, i) => {
    const fields = textFields[i];
    if (fields === undefined) return;
    fieldsByFile[file.relativePath] = fields;
    if (fields.length === 0) return;
    const key = fields.join(' ');
    const group = textGroups.get(key) ?? { fields, files: [] };
    group.files.push(file);
    textGroups.set(key, group);
  });
  for (const group of textGroups.values()) {
    for (const field of group.fields) {
      if (flowLogField(field) === undefined) unknownFields.add(field);
    }
  }
  const parquetGroups =
    parquet.length > 0
      ? [...(await parquetGroupsOf(scanner, parquet, unreadable, fieldsByFile)).values()]
      : [];

  for (const failure of unreadable) {
    delete fieldsByFile[failure.file];
    warnings.push(skippedFileWarning(failure));
  }
  if (unknownFields.size > 0) {
    warnings.push(
      `flow-log fields unknown to this version were read as text: ${[...unknownFields].join(', ')}`,
    );
  }
  if (files.length > 0 && unreadable.length === files.length) {
    const shown = unreadable.slice(0, 5).map((u) => `${u.file}: ${u.reason}`);
    throw new FlowLogFormatError(
      `none of the ${files.length} flow-log files could be read (${shown.join('; ')}${unreadable.length > 5 ? '; …' : ''})`,
      { file: directory },
    );
  }

  return {
    textGroups: [...textGroups.values()],
    parquetGroups,
    hasTcpFlags:
      [...textGroups.values()].some((g) => g.fields.includes('tcp-flags')) ||
      parquetGroups.some((g) => g.columns.has('tcp_flags')),
    unreadable,
    fieldsByFile,
    warnings,
  };
}

/** The fields named by a text file's header; [] for an empty file; undefined (and recorded) when unusable. */
async function textFieldsOf(file: FlowLogFile, unreadable: UnreadableFile[]): Promise<string[] | undefined> {
  let first: HeaderLine;
  try {
    first = await readHeaderLine(file);
  } catch (error) {
    unreadable.push({ file: file.relativePath, reason: `cannot read: ${(error as Error).message}` });
    return undefined;
  }
  // A gzip object that ends within its first line may be cut there: its header is then a part of
  // one (or nothing), which would read as a format lacking fields, or as an empty file. The file
  // is small (it ends within the first read), so inflating it whole costs nothing.
  if (!first.closed && (await cutObject(file)) !== undefined) {
    unreadable.push({ file: file.relativePath, reason: HEADER_CUT_REASON });
    return undefined;
  }
  const header = first.line;
  if (header === undefined) return [];
  try {
    const fields = fieldsFromHeader(header, { allowUnknownFields: true });
    const missing = requiredFieldsMissing(fields);
    if (missing.length > 0) {
      unreadable.push({ file: file.relativePath, reason: `flow-log format lacks ${missing.join(', ')}` });
      return undefined;
    }
    return fields;
  } catch (error) {
    if (!(error instanceof FlowLogFormatError)) throw error;
    unreadable.push({ file: file.relativePath, reason: `unrecognised flow-log header (${error.message})` });
    return undefined;
  }
}

/** Parquet files grouped by how they spell the columns the aggregation reads. */
async function parquetGroupsOf(
  scanner: FlowFileScanner,
  files: readonly FlowLogFile[],
  unreadable: UnreadableFile[],
  fieldsByFile: Record<string, readonly string[]>,
): Promise<Map<string, ParquetGroup & { files: FlowLogFile[] }>> {
  const columnsByPath = new Map<string, string[]>();
  const readSchemas = async (batch: readonly FlowLogFile[]): Promise<void> => {
    const rows = await scanner.readRows(
      `SELECT file_name, name FROM parquet_schema([${batch.map((f) => sqlString(f.path)).join(', ')}])
           WHERE num_children IS NULL OR num_children = 0`,
    );
    for (const row of rows) {
      const path = String(row.file_name);
      columnsByPath.set(path, [...(columnsByPath.get(path) ?? []), String(row.name)]);
    }
  };
  try {
    await readSchemas(files);
  } catch {
    // One broken file fails the batch: read them one by one so only the broken ones are skipped.
    for (const file of files) {
      try {
        await readSchemas([file]);
      } catch (error) {
        unreadable.push({ file: file.relativePath, reason: cannotRead(error) });
      }
    }
  }

  const groups = new Map<string, ParquetGroup & { files: FlowLogFile[] }>();
  const failed = new Set(unreadable.map((u) => u.file));
  for (const file of files) {
    if (failed.has(file.relativePath)) continue;
    // Columns that are not flow-log field names (a user's extras) are ignored; fields are matched by name.
    const columns = new Map<TableColumn, string>();
    const fields: string[] = [];
    for (const actual of columnsByPath.get(file.path) ?? []) {
      const field = parquetField(actual);
      if (field === undefined || fields.includes(field)) continue;
      fields.push(field);
      const column = columnName(field);
      if (column in COLUMN_TYPES) columns.set(column as TableColumn, actual);
    }
    const missing = requiredFieldsMissing(fields);
    if (missing.length > 0) {
      unreadable.push({ file: file.relativePath, reason: `flow-log format lacks ${missing.join(', ')}` });
      continue;
    }
    fieldsByFile[file.relativePath] = fields;
    const key = TABLE_COLUMNS.map((c) => columns.get(c) ?? '').join(' ');
    const group = groups.get(key) ?? { columns, files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  return groups;
}

/** The hyphenated field a Parquet column holds, if its name is a flow-log field name. */
function parquetField(column: string): string | undefined {
  try {
    const [field, extra] = fieldsFromHeader(column, { allowUnknownFields: true });
    return extra === undefined ? field : undefined;
  } catch {
    return undefined;
  }
}
