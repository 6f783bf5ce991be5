/**
 * The flow-log tables the Athena source reads, and the step that creates them: the database and
 * one partition-projected table per flow log (shared/flow/athena-ddl.ts), created IF NOT EXISTS
 * once per source, so a deployment needs no Glue crawler and no table kept by hand. DDL is free.
 */
import { InvalidValueError } from '../../../shared/errors';
import { createDatabaseDdl, type FlowLogFileFormat, flowLogTableDdl } from '../../../shared/flow/athena-ddl';
import type { AthenaFlowSourceLogger } from './query-runner';

/** One flow log's table. A FlowLogTableSpec (shared/flow/athena-ddl.ts) fits as is. */
export interface AthenaFlowTable {
  readonly flowLogId: string;
  readonly table: string;
  /** The flow log's fields in format order (decides whether tcp-flags is read; the DDL's columns). */
  readonly fields: readonly string[];
  readonly perHour: boolean;
  /** @default false */
  readonly hivePartitions?: boolean;
  /** Needed with `ensureTables`. @default 'text' */
  readonly fileFormat?: FlowLogFileFormat;
  /** The table's S3 folder (s3LocationOf); needed with `ensureTables`. */
  readonly location?: string;
  /** First projected day, yyyy/MM/dd; needed with `ensureTables`. */
  readonly projectionStart?: string;
}

/**
 * The DDL that creates the database and every table, in the order it must run (the tables need
 * the database).
 *
 * @throws InvalidValueError for a table without its location or projection start;
 *   InvalidAthenaIdentifierError for a name that is not an Athena identifier.
 * @example flowTablesDdl('sg_audit', [table]) // ['CREATE DATABASE IF NOT EXISTS `sg_audit`', 'CREATE EXTERNAL TABLE …']
 */
export function flowTablesDdl(database: string, tables: readonly AthenaFlowTable[]): string[] {
  return [createDatabaseDdl(database), ...tables.map((table) => tableDdl(database, table))];
}

function tableDdl(database: string, table: AthenaFlowTable): string {
  if (table.location === undefined || table.projectionStart === undefined) {
    throw new InvalidValueError('ensureTables needs the location and projectionStart of every table', {
      field: `tables[${table.flowLogId}]`,
    });
  }
  return flowLogTableDdl({
    database,
    table: table.table,
    fields: table.fields,
    location: table.location,
    fileFormat: table.fileFormat ?? 'text',
    hivePartitions: table.hivePartitions ?? false,
    perHour: table.perHour,
    projectionStart: table.projectionStart,
  });
}

export interface FlowTableSetupOptions {
  readonly database: string;
  readonly tables: readonly AthenaFlowTable[];
  /** Build the DDL now, so a bad name, field, location or date fails at cold start, not mid-run. */
  readonly buildNow: boolean;
  /** Runs one DDL statement to its end. */
  readonly runDdl: (ddl: string) => Promise<unknown>;
  readonly logger?: AthenaFlowSourceLogger;
}

/**
 * Creates the database and tables once: concurrent callers share the one run, and a failed run
 * lets the next call try again.
 *
 * @example
 * const setup = new FlowTableSetup({ database: 'sg_audit', tables, buildNow: true, runDdl });
 * await setup.ensure(); // 1 + tables.length statements, the first time only
 */
export class FlowTableSetup {
  private readonly ddl: readonly string[];
  private ensuring?: Promise<number>;

  constructor(private readonly options: FlowTableSetupOptions) {
    this.ddl = options.buildNow ? flowTablesDdl(options.database, options.tables) : [];
  }

  /** Whether a run has started (or ended well): ensure() will not run the statements again. */
  get started(): boolean {
    return this.ensuring !== undefined;
  }

  /** Resolves to the number of statements the run took. */
  ensure(): Promise<number> {
    this.ensuring ??= this.create().catch((error: unknown) => {
      this.ensuring = undefined;
      throw error;
    });
    return this.ensuring;
  }

  /** The statements that create the database and tables, in the order they must run. */
  statements(): readonly string[] {
    return this.ddl.length > 0 ? this.ddl : flowTablesDdl(this.options.database, this.options.tables);
  }

  /** Records that the statements ran to their end elsewhere (a polled job): ensure() will not run them. */
  markEnsured(): void {
    this.ensuring ??= Promise.resolve(this.statements().length);
  }

  private async create(): Promise<number> {
    const { database, runDdl, logger } = this.options;
    const statements = this.statements();
    // In order: the tables need the database.
    for (const ddl of statements) await runDdl(ddl);
    logger?.info('athena flow tables ensured', { database, statements: statements.length });
    return statements.length;
  }
}
