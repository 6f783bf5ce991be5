/**
 * The one DuckDB connection's reads of the flow-log files. Every statement that reads the files
 * goes through here, which counts them (the source's stats.queries), names each scan's rejects
 * tables, and remembers the files a scan found unreadable, so later scans leave them out.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { sqlString } from '../../../shared/flow/aggregate-sql';
import type { FlowLogFile } from './flow-files';
import { implausibleRecordSql, type RecordBounds } from './plausibility';
import { emptyRecords, type FileGroups, parquetReader, textReader } from './readers';

/** A file left out, with the reason in the words of a warning. */
export interface UnreadableFile {
  readonly file: string;
  readonly reason: string;
}

/** The rejects tables one text reader fills, and the field count of its files' header. */
export interface RejectTables {
  /** DuckDB's rejects table: one row per error of a rejected line. */
  readonly errors: string;
  /** DuckDB's reject scans table: the file of each scan id and file id. */
  readonly scans: string;
  readonly headerFields: number;
}

/** One scan of the files: the relation of every usable file, and the rejects tables it fills. */
export interface Scan {
  readonly relation: string;
  /** One entry per text group. */
  readonly rejectTables: readonly RejectTables[];
  /**
   * With rejects: the temp sequence the relation's filter advances for each implausible record it
   * leaves out, so the aggregation learns whether it left any out without reading the files again.
   */
  readonly implausibleCounter?: string;
  readonly files: readonly FlowLogFile[];
}

/**
 * Why DuckDB could not read a file: the first line of its error (the rest repeats the SQL).
 *
 * @example cannotRead(new Error('Invalid Input Error: No magic bytes found…\nLINE 1: …')) // 'DuckDB cannot read it: Invalid Input Error: No magic bytes found…'
 */
export function cannotRead(error: unknown): string {
  const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return `DuckDB cannot read it: ${first}`;
}

/**
 * Reads the flow-log files over one connection. Every relation it gives holds the plausible
 * records only (plausibility.ts): implausible ones are left out of every query, and counted apart.
 *
 * @example
 * const scanner = new FlowFileScanner(connection, { now: 1764547200, deliverySlackSeconds: 3600 });
 * const { relation } = scanner.scanOf(groups, { rejects: false });
 * const [row] = await scanner.readRows(`SELECT max("end") AS newest FROM ${relation}`);
 */
export class FlowFileScanner {
  private statements = 0;
  private rejectScans = 0;
  private countedScans = 0;
  /** Files a scan found unreadable (relative path → reason): left out of later scans. */
  private readonly broken = new Map<string, string>();

  /** SQL true for an implausible record of a reader's relation. */
  private readonly implausible: string;

  constructor(
    readonly connection: DuckDBConnection,
    readonly bounds: RecordBounds,
  ) {
    this.implausible = implausibleRecordSql(bounds);
  }

  /** Statements that read the files since the connection opened (stats.queries). */
  get queries(): number {
    return this.statements;
  }

  /** Runs a statement that reads the files. */
  async run(sql: string): Promise<void> {
    this.statements += 1;
    await this.connection.run(sql);
  }

  /** Runs a statement that reads the files and returns its rows. */
  async readRows(sql: string): Promise<Record<string, DuckDBValue>[]> {
    this.statements += 1;
    return (await this.connection.runAndReadAll(sql)).getRowObjects();
  }

  /**
   * The relation of every usable file (UNION ALL of one reader per group): its plausible records,
   * or (`records: 'implausible'`, to count them) the others. With `rejects`, fresh rejects tables
   * and an implausible-record counter, which {@link prepare} creates before the scan runs.
   */
  scanOf(groups: FileGroups, options: { rejects: boolean; records?: 'plausible' | 'implausible' }): Scan {
    let counter: string | undefined;
    let kept = `WHERE NOT ${this.implausible}`;
    if (options.records === 'implausible') kept = `WHERE ${this.implausible}`;
    else if (options.rejects) {
      this.countedScans += 1;
      counter = `flow_implausible_${this.countedScans}`;
      // CASE evaluates nextval for the implausible rows alone: one step per record left out.
      kept = `WHERE NOT (CASE WHEN ${this.implausible} THEN nextval(${sqlString(counter)}) > 0 ELSE FALSE END)`;
    }
    const parts: string[] = [];
    const rejectTables: RejectTables[] = [];
    const files: FlowLogFile[] = [];
    const usable = (group: { files: readonly FlowLogFile[] }) =>
      group.files.filter((f) => !this.broken.has(f.relativePath));
    for (const group of groups.textGroups) {
      const readable = usable(group);
      if (readable.length === 0) continue;
      for (const file of readable) files.push(file); // a week of one header: more files than a call's arguments
      let rejects: { table: string; scans: string } | undefined;
      if (options.rejects) {
        this.rejectScans += 1;
        rejects = {
          table: `flow_rejects_${this.rejectScans}`,
          scans: `flow_reject_scans_${this.rejectScans}`,
        };
        rejectTables.push({ errors: rejects.table, scans: rejects.scans, headerFields: group.fields.length });
      }
      parts.push(
        `SELECT * FROM ${textReader(readable, group.fields, rejects ? { rejects } : { ignoreErrors: true })} ${kept}`,
      );
    }
    for (const group of groups.parquetGroups) {
      const readable = usable(group);
      if (readable.length === 0) continue;
      for (const file of readable) files.push(file); // a week of one header: more files than a call's arguments
      parts.push(`SELECT * FROM ${parquetReader(readable, group.columns)} ${kept}`);
    }
    if (parts.length === 0) parts.push(emptyRecords());
    return {
      relation: `(\n${parts.join('\nUNION ALL\n')}\n) flow_records`,
      rejectTables,
      ...(counter !== undefined ? { implausibleCounter: counter } : {}),
      files,
    };
  }

  /** Creates what a scan's relation advances as it runs (its implausible-record counter). */
  async prepare(scan: Scan): Promise<void> {
    if (scan.implausibleCounter === undefined) return;
    await this.connection.run(`CREATE OR REPLACE TEMP SEQUENCE ${scan.implausibleCounter}`);
  }

  /** Whether a scan that ran left out any implausible record (false for a scan without a counter). */
  async leftOutImplausible(scan: Scan): Promise<boolean> {
    if (scan.implausibleCounter === undefined) return false;
    const [row] = (
      await this.connection.runAndReadAll(
        `SELECT last_value FROM duckdb_sequences() WHERE sequence_name = ${sqlString(scan.implausibleCounter)}`,
      )
    ).getRowObjects();
    // A sequence nextval never advanced has no last value.
    return row?.last_value !== null && row?.last_value !== undefined;
  }

  /** Reads each file alone and records those DuckDB cannot read; returns how many it found. */
  async findBrokenFiles(groups: FileGroups): Promise<number> {
    let found = 0;
    for (const group of groups.textGroups) {
      for (const file of group.files) {
        if (this.broken.has(file.relativePath)) continue;
        try {
          await this.run(`SELECT count(*) FROM ${textReader([file], group.fields, { ignoreErrors: true })}`);
        } catch (error) {
          this.broken.set(file.relativePath, cannotRead(error));
          found += 1;
        }
      }
    }
    for (const group of groups.parquetGroups) {
      for (const file of group.files) {
        if (this.broken.has(file.relativePath)) continue;
        try {
          await this.run(`SELECT count(*) FROM ${parquetReader([file], group.columns)}`);
        } catch (error) {
          this.broken.set(file.relativePath, cannotRead(error));
          found += 1;
        }
      }
    }
    return found;
  }

  /** The files scans found unreadable so far. */
  brokenFiles(): UnreadableFile[] {
    return [...this.broken].map(([file, reason]) => ({ file, reason }));
  }

  /** Drops the rejects tables and the counter of a scan. */
  async dropScanTables(scan: Scan): Promise<void> {
    for (const { errors, scans } of scan.rejectTables) {
      await this.connection.run(`DROP TABLE IF EXISTS ${errors}`);
      await this.connection.run(`DROP TABLE IF EXISTS ${scans}`);
    }
    if (scan.implausibleCounter !== undefined) {
      await this.connection.run(`DROP SEQUENCE IF EXISTS ${scan.implausibleCounter}`);
    }
  }
}
