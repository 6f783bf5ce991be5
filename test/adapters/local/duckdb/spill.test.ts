/**
 * Bounded memory changes no result: the sample account audited with its rows held in an array
 * (the default source) and with a tiny memory limit, every DuckDB operator forced to spill and the
 * rows streamed to the fold, gives the same report, byte for byte.
 */
import path from 'node:path';
import { DuckDBConnection } from '@duckdb/node-api';
import { DuckDbFlowSource } from '../../../../adapters/local/duckdb/flow-source';
import { readExportDirectory } from '../../../../adapters/local/export-dir';
import { runAudit } from '../../../../shared/audit';
import { DEFAULT_CONFIG } from '../../../../shared/config';
import { FLOW_LOG_FOLDER } from '../../../../shared/inventory/aws-json';
import type { FlowAggregateResult, FlowQuery } from '../../../../shared/model/flow';

const SAMPLE = path.join(__dirname, '../../../../examples/sample-account');
const NOW = Date.parse('2026-12-01T00:00:00Z') / 1000;

async function audit(source: DuckDbFlowSource): Promise<string> {
  try {
    const { newestRecord } = await source.probe();
    const end = newestRecord as number;
    const report = await runAudit({
      inventory: readExportDirectory(SAMPLE),
      flowSource: source,
      window: { start: end - 7 * 86_400, end },
      scope: { vpcIds: [], sgIds: [] },
      config: DEFAULT_CONFIG,
      mode: 'offline',
      runId: 'spill-test',
      generatedAt: new Date(NOW * 1000),
      toolVersion: 'test',
    });
    return JSON.stringify(report);
  } finally {
    await source.close();
  }
}

/** The last day of the sample's flow logs, every ENI. */
async function lastDay(source: DuckDbFlowSource): Promise<FlowQuery> {
  const { newestRecord } = await source.probe();
  return { window: { start: (newestRecord as number) - 86_400, end: newestRecord as number }, eniIds: [] };
}

/** The rows a streamed result reads. */
async function rowCount(result: FlowAggregateResult): Promise<number> {
  let rows = 0;
  for await (const chunk of result.rows?.read() ?? []) rows += chunk.length;
  return rows;
}

describe('the offline audit under a tiny memory limit', () => {
  it('reports exactly what it reports with the rows in memory, every operator spilled and the rows streamed', async () => {
    // Prepare
    const directory = path.join(SAMPLE, FLOW_LOG_FOLDER);
    const inMemory = new DuckDbFlowSource({ directory, now: NOW, memoryLimit: '2GiB' });
    const spilled = new DuckDbFlowSource({
      directory,
      now: NOW,
      memoryLimit: '96MiB',
      forceSpill: true,
      streamRows: true,
    });
    // Act
    const expected = await audit(inMemory);
    const actual = await audit(spilled);
    // Assess
    expect(actual).toEqual(expected);
    expect(JSON.parse(actual).summary.flowRecords).toBeGreaterThan(30_000);
  }, 60_000);

  it('runs an aggregation that runs out of memory again with twice the limit, up to the most allowed, with the same report', async () => {
    // Prepare
    const directory = path.join(SAMPLE, FLOW_LOG_FOLDER);
    const progress: string[] = [];
    const expected = await audit(new DuckDbFlowSource({ directory, now: NOW, memoryLimit: '2GiB' }));
    const growing = new DuckDbFlowSource({
      directory,
      now: NOW,
      memoryLimit: '32MiB',
      maxMemoryLimit: '512MiB',
      threads: 1,
      streamRows: true,
      progress: (line) => progress.push(line),
    });
    // Act
    const actual = JSON.parse(await audit(growing));
    // Assess: the same report, apart from the statements run again (the queries count them)
    const retries = progress.filter((line) => line.includes('running it again'));
    expect(retries.length).toBeGreaterThan(0);
    const report = JSON.parse(expected);
    expect(actual.summary.queries).toBeGreaterThan(report.summary.queries);
    expect(actual.flowSources[0].queries).toBe(actual.summary.queries);
    actual.summary.queries = report.summary.queries;
    actual.flowSources[0].queries = report.flowSources[0].queries;
    expect(actual).toEqual(report);
    expect(retries[0]).toMatch(/needs more than 32 MiB of DuckDB memory; running it again with 64 MiB/);
  }, 60_000);

  it("fails with DuckDB's out-of-memory error when the most allowed is not enough", async () => {
    // Prepare
    const source = new DuckDbFlowSource({
      directory: path.join(SAMPLE, FLOW_LOG_FOLDER),
      now: NOW,
      memoryLimit: '32MiB',
      maxMemoryLimit: '48MiB',
      threads: 1,
    });
    // Act / Assess
    await expect(audit(source)).rejects.toThrow(/Out of Memory Error/);
  }, 60_000);

  it('streams rows instead of holding them, readable until the next aggregation', async () => {
    // Prepare
    const source = new DuckDbFlowSource({
      directory: path.join(SAMPLE, FLOW_LOG_FOLDER),
      now: NOW,
      streamRows: true,
    });
    try {
      const query = await lastDay(source);
      // Act
      const first: FlowAggregateResult = await source.aggregate(query);
      const rows = await rowCount(first);
      await source.aggregate(query);
      // Assess
      expect(first.aggregates).toEqual([]);
      expect(rows).toBeGreaterThan(0);
      await expect(first.rows?.readers()).rejects.toThrow(/dropped/);
    } finally {
      await source.close();
    }
  }, 60_000);

  it('codes streamed rows in the most memory allowed, reads them in the working memory, and drops them when released', async () => {
    // Prepare: DuckDB's memory_limit statements, and every statement, seen where they reach DuckDB
    const limits: string[] = [];
    const statements: string[] = [];
    const run = DuckDBConnection.prototype.run;
    const spy = jest.spyOn(DuckDBConnection.prototype, 'run').mockImplementation(function (
      this: DuckDBConnection,
      sql: string,
      ...rest: unknown[]
    ) {
      statements.push(sql);
      const limit = /^SET memory_limit = '(\d+)B'$/.exec(sql)?.[1];
      if (limit !== undefined) limits.push(limit);
      return (run as (sql: string, ...rest: unknown[]) => ReturnType<typeof run>).call(this, sql, ...rest);
    });
    const source = new DuckDbFlowSource({
      directory: path.join(SAMPLE, FLOW_LOG_FOLDER),
      now: NOW,
      memoryLimit: '64MiB',
      maxMemoryLimit: '256MiB',
      threads: 1,
      streamRows: true,
    });
    const working = String(64 * 2 ** 20);
    try {
      const query = await lastDay(source);
      // Act
      const first: FlowAggregateResult = await source.aggregate(query);
      const afterAggregation = [...limits];
      const rows = await rowCount(first);
      await first.rows?.release?.();
      // Assess: the aggregation in the working memory, the coding in the most allowed, then back
      expect(afterAggregation).toEqual([working, String(256 * 2 ** 20), working]);
      expect(limits).toEqual(afterAggregation);
      expect(rows).toBeGreaterThan(0);
      await expect(first.rows?.readers()).rejects.toThrow(/dropped/);
      // A query ends a task after the drops, which is when DuckDB hands freed memory back.
      const afterDrops = statements.slice(
        statements.findLastIndex((sql) => sql.startsWith('DROP TABLE')) + 1,
      );
      expect(afterDrops.some((sql) => /^SELECT\b/.test(sql))).toBe(true);
      const second = await source.aggregate(query);
      expect(await rowCount(second)).toBe(rows);
    } finally {
      spy.mockRestore();
      await source.close();
    }
  }, 60_000);
});
