import fc from 'fast-check';
import { emptyFlowResult } from '../../../adapters/aws/s3-work-store';
import { openStoredResults } from '../../../adapters/aws/stored-aggregate-rows';
import type { FlowAggregate, FlowAggregateResult, FlowQuery } from '../../../shared/model/flow';
import { flowAggregate } from '../../support/flow-records';

type Stored = FlowAggregateResult & { sourceId: string };

/** A work store holding `results` by key, that counts its reads and how many run at once. */
function storeOf(results: readonly Stored[]) {
  const byKey = new Map(results.map((r, i) => [`key-${i}`, r]));
  const store = {
    reads: 0,
    running: 0,
    mostAtOnce: 0,
    async getAggregates(key: string): Promise<Stored> {
      store.reads++;
      store.running++;
      store.mostAtOnce = Math.max(store.mostAtOnce, store.running);
      await new Promise((resolve) => setImmediate(resolve));
      store.running--;
      const result = byKey.get(key) as Stored;
      // A fresh copy per read, as a parse of the object gives.
      return { ...result, aggregates: result.aggregates.map((a) => ({ ...a })) };
    },
  };
  return { store, keys: [...byKey.keys()] };
}

const row = fc
  .record({
    eni: fc.constantFrom('eni-1', 'eni-2', 'eni-3'),
    port: fc.integer({ min: 1, max: 65535 }),
    records: fc.integer({ min: 1, max: 50 }),
    log: fc.constantFrom('fl-1', 'fl-2'),
  })
  .map((r) => flowAggregate({ eniId: r.eni, serverPort: r.port, records: r.records, flowLogId: r.log }));

const stored = fc.array(fc.array(row, { maxLength: 30 }), { minLength: 1, maxLength: 4 }).map((sets) =>
  sets.map(
    (aggregates, i): Stored => ({
      sourceId: `athena-${i}`,
      aggregates,
      stats: { ...emptyFlowResult('athena', [`fl-${i}`]).stats, records: aggregates.length },
    }),
  ),
);

const sortRows = (rows: readonly FlowAggregate[]) => [...rows].map((r) => JSON.stringify(r)).sort();

describe('openStoredResults', () => {
  it('streams past the bound exactly the rows and statistics it would hold, one object at a time', async () => {
    await fc.assert(
      fc.asyncProperty(
        stored,
        fc.constantFrom([], ['eni-1'], ['eni-2', 'eni-3']),
        async (results, eniIds) => {
          // Prepare
          const query: FlowQuery = { window: { start: 0, end: 1 }, eniIds };
          const held = storeOf(results);
          const streamed = storeOf(results);
          // Act
          const small = await openStoredResults(held.store, held.keys);
          const large = await openStoredResults(streamed.store, streamed.keys, 0);
          const expected = await small.source.aggregate(query);
          const actual = await large.source.aggregate(query);
          const read: FlowAggregate[] = [];
          for await (const chunk of actual.rows?.read() ?? []) read.push(...chunk);
          // Assess
          const total = results.reduce((n, r) => n + r.aggregates.length, 0);
          expect(small.streamed).toBe(false);
          expect(large.streamed).toBe(total > 0);
          expect(large.sourceIds).toEqual(small.sourceIds);
          expect(actual.stats).toEqual(expected.stats);
          if (!large.streamed) return;
          expect(actual.aggregates).toEqual([]);
          expect(sortRows(read)).toEqual(sortRows(expected.aggregates));
          const readers = new Set(expected.aggregates.map((a) => `${a.eniId}|${a.action}|${a.flowLogId}`));
          const listed = (await actual.rows?.readers()) ?? [];
          expect(new Set(listed.map((r) => `${r.eniId}|${r.action}|${r.flowLogId}`))).toEqual(readers);
          expect(streamed.store.mostAtOnce).toBe(1);
          expect(streamed.store.reads).toBe(2 * results.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
