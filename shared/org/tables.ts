/**
 * Organization tables built from the targets' own tables (shared/render/csv.ts, the same rows
 * each target's CSV has): every row carries its target's `account_id` and `region` — prepended
 * when the target table has no such columns, filled in where it has them empty — and the rows of
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
  const missing = TARGET_COLUMNS.filter((c) => !table.columns.includes(c));
  const present = TARGET_COLUMNS.filter((c) => table.columns.includes(c)).map((c) => ({
    index: table.columns.indexOf(c),
    value: values[c],
  }));
  return {
    ...table,
    columns: [...missing, ...table.columns],
    rows: table.rows.map((row) => {
      const filled = [...row];
      for (const { index, value } of present) {
        const cell = filled[index];
        if (cell === undefined || cell === '') filled[index] = value;
      }
      return [...missing.map((c) => values[c]), ...filled];
    }),
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
