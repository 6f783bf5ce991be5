/**
 * Organization tables built from the targets' own tables (shared/render/csv.ts, the same rows
 * each target's CSV has): every row carries its target's `account_id` and `region`, first (the
 * target's own columns, when its table has them, are replaced: the organization's rows are keyed
 * by the target they were audited as) — and the rows of
 * all targets are stacked under one header (the union of the targets' columns, in first-seen
 * order, should the targets' tables differ).
 */
import type { Cell, ReportTable } from '../render/csv';
import type { OrgTarget } from './model';

/** The columns every organization table starts with (or carries, when the target table has them). */
export const TARGET_COLUMNS = ['account_id', 'region'] as const;

/**
 * A target's table whose rows carry its account and region.
 *
 * @example withTargetColumns(findingsTable(report), { accountId: '111111111111', region: 'eu-west-1' }).columns.slice(0, 3)
 * // ['account_id', 'region', 'sg_id']
 */
export function withTargetColumns(
  table: ReportTable,
  target: Pick<OrgTarget, 'accountId' | 'region'>,
): ReportTable {
  const values: Readonly<Record<(typeof TARGET_COLUMNS)[number], string>> = {
    account_id: target.accountId,
    region: target.region,
  };
  const at: number[] = TARGET_COLUMNS.map((c) => table.columns.indexOf(c));
  const rest = table.columns.map((_, i) => i).filter((i) => !at.includes(i));
  return {
    ...table,
    columns: [...TARGET_COLUMNS, ...rest.map((i) => table.columns[i] as string)],
    rows: table.rows.map((row) => [...TARGET_COLUMNS.map((c) => values[c]), ...rest.map((i) => row[i])]),
  };
}

/**
 * Stacks tables of one file name under the union of their columns; the first table's columns
 * come first. No table: the header of `empty` alone.
 *
 * @example stackTables([a, b], emptyFindings).rows.length // a.rows.length + b.rows.length
 */
export function stackTables(tables: readonly ReportTable[], empty: ReportTable): ReportTable {
  const columns: string[] = [];
  for (const table of tables.length > 0 ? tables : [empty]) {
    for (const column of table.columns) if (!columns.includes(column)) columns.push(column);
  }
  const rows: Cell[][] = [];
  for (const table of tables) {
    const same = table.columns.length === columns.length && table.columns.every((c, i) => columns[i] === c);
    if (same) {
      for (const row of table.rows) rows.push([...row]);
      continue;
    }
    const at = columns.map((c) => table.columns.indexOf(c));
    for (const row of table.rows) rows.push(at.map((i) => (i < 0 ? undefined : row[i])));
  }
  return { fileName: empty.fileName, sheetName: empty.sheetName, columns, rows };
}
