import fc from 'fast-check';
import { InvalidValueError } from '../../../shared/errors';
import {
  buildFlowAggregateSql,
  buildFlowSinglePassSql,
  buildFlowStatsSql,
  deliveryCountFromRow,
  FLOW_AGGREGATE_COLUMNS,
  FLOW_SINGLE_PASS_COLUMNS,
  type FlowSqlOptions,
  flowAggregateFromRow,
  type ResultCell,
  sourceFileFromRow,
  sqlString,
} from '../../../shared/flow/aggregate-sql';
import { DEFAULT_FIELDS, PACKET_FIELDS } from '../../../shared/flow/format';
import type { FlowAggregate } from '../../../shared/model/flow';
import { FLOW_T0, flowAggregate, flowRecord, flowReply } from '../../support/flow-records';
import { flowRecordsRelation, inMemoryDuckDb, type SqlFlowRecord } from '../../support/flow-sql';

const T0 = FLOW_T0;
const WINDOW = { start: T0, end: T0 + 3600 };

const duckdb = inMemoryDuckDb();

const rowsOf = duckdb.rowsOf;

async function aggregate(
  records: readonly SqlFlowRecord[],
  options: Partial<FlowSqlOptions> = {},
): Promise<FlowAggregate[]> {
  const sql = buildFlowAggregateSql({
    dialect: 'duckdb',
    relation: flowRecordsRelation(records),
    fields: [...DEFAULT_FIELDS, 'tcp-flags'],
    window: WINDOW,
    ...options,
  });
  const rows = (await rowsOf(sql)).map(flowAggregateFromRow);
  return rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The column names a query builder's SQL returns over one record. */
async function columnNamesOf(build: (options: FlowSqlOptions) => string): Promise<string[]> {
  const sql = build({ dialect: 'duckdb', relation: flowRecordsRelation([flowRecord()]), window: WINDOW });
  return (await duckdb.connection.runAndReadAll(sql)).columnNames();
}

describe('buildFlowAggregateSql', () => {
  it('returns exactly the FlowAggregate columns in order', async () => {
    // Act
    const names = await columnNamesOf(buildFlowAggregateSql);

    // Assess
    expect(names).toEqual([...FLOW_AGGREGATE_COLUMNS]);
  });

  it('folds the request and reply of one TCP connection into one row', async () => {
    // Prepare
    const request = flowRecord({ packets: 4, bytes: 300, start: T0 + 5, end: T0 + 65 });
    const response = flowReply(request, { packets: 6, bytes: 9000, start: T0, end: T0 + 70 });

    // Act
    const rows = await aggregate([request, response]);

    // Assess
    expect(rows).toEqual([flowAggregate({ packets: 10, bytes: 9300, firstSeen: T0, lastSeen: T0 + 70 })]);
  });

  it('lets tcp-flags decide over ports: SYN marks the client, SYN-ACK the server', async () => {
    // Prepare: the client happens to use port 80 and the service listens on 50000.
    const syn = flowRecord({ sport: 80, dport: 50000, flags: 2 });
    const synAck = flowReply(syn, { flags: 19 });

    // Act
    const rows = await aggregate([syn, synAck]);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      clientAddr: '10.0.0.1',
      serverAddr: '10.0.0.2',
      serverPort: 50000,
      clientPort: null,
      evidence: 'flags',
      records: 2,
      requestRecords: 1,
      synRecords: 1,
    });
  });

  it('decides by the single well-known port when flags say nothing', async () => {
    // Prepare
    const inbound = flowRecord({ src: '203.0.113.7', dst: '10.0.0.5', sport: 51000, dport: 22, flags: 0 });

    // Act
    const rows = await aggregate([inbound, flowReply(inbound, { flags: 1 })]);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      clientAddr: '203.0.113.7',
      serverAddr: '10.0.0.5',
      serverPort: 22,
      evidence: 'well-known',
      synRecords: 0,
    });
  });

  it('keeps the client port of an undecided connection, the higher port being the client', async () => {
    // Prepare
    const request = flowRecord({ sport: 50000, dport: 8080 });

    // Act
    const rows = await aggregate([request, flowReply(request)]);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      clientAddr: '10.0.0.1',
      serverAddr: '10.0.0.2',
      serverPort: 8080,
      clientPort: 50000,
      evidence: 'undecided',
      records: 2,
      requestRecords: 1,
      distinctClientPorts: 1,
    });
  });

  it('treats two ports below 1024 as undecided', async () => {
    // Prepare
    const request = flowRecord({ sport: 1023, dport: 22 });

    // Act
    const rows = await aggregate([request]);

    // Assess
    expect(rows[0]).toMatchObject({ evidence: 'undecided', serverPort: 22, clientPort: 1023 });
  });

  it('folds equal ports on the lower address as client, in both directions', async () => {
    // Prepare
    const request = flowRecord({ src: '10.0.0.9', dst: '10.0.0.1', sport: 500, dport: 500, protocol: 17 });

    // Act
    const rows = await aggregate([request, flowReply(request)]);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      clientAddr: '10.0.0.1',
      serverAddr: '10.0.0.9',
      serverPort: 500,
      records: 2,
    });
  });

  it('gives portless protocols no ports, the source as client and undecided evidence', async () => {
    // Prepare
    const echo = flowRecord({ protocol: 1, sport: 0, dport: 0 });
    const sctp = flowRecord({ protocol: 132, sport: 40000, dport: 3868 });
    const gre = flowRecord({ protocol: 47, sport: null, dport: null });

    // Act
    const rows = await aggregate([echo, flowReply(echo), sctp, gre]);

    // Assess
    const portless = rows.filter((r) => r.protocol !== 132);
    expect(portless).toHaveLength(3);
    for (const row of portless) {
      expect(row).toMatchObject({
        serverPort: null,
        clientPort: null,
        evidence: 'undecided',
        distinctClientPorts: 0,
      });
      expect(row.requestRecords).toBe(1);
    }
    expect(portless.map((r) => `${r.protocol} ${r.clientAddr}`).sort()).toEqual([
      '1 10.0.0.1',
      '1 10.0.0.2',
      '47 10.0.0.1',
    ]);
    expect(rows.find((r) => r.protocol === 132)).toMatchObject({ serverPort: 3868, clientPort: 40000 });
  });

  it('counts distinct client ports and merges flags and well-known evidence of one service', async () => {
    // Prepare
    const first = flowRecord({ sport: 40001, flags: 2 });
    const later = flowRecord({ sport: 40001, flags: 0, start: T0 + 60, end: T0 + 120 });
    const second = flowRecord({ sport: 40002, flags: 3 });

    // Act
    const rows = await aggregate([
      first,
      flowReply(first, { flags: 18 }),
      later,
      second,
      flowReply(second, { flags: 19 }),
    ]);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      evidence: 'flags',
      records: 5,
      requestRecords: 3,
      synRecords: 2,
      distinctClientPorts: 2,
      lastSeen: T0 + 120,
    });
  });

  it('keeps ACCEPT and REJECT apart', async () => {
    // Prepare
    const accepted = flowRecord({});
    const rejected = flowRecord({ action: 'REJECT' });

    // Act
    const rows = await aggregate([accepted, rejected]);

    // Assess
    expect(rows.map((r) => r.action).sort()).toEqual(['ACCEPT', 'REJECT']);
  });

  it('leaves out NODATA, SKIPDATA and records missing a needed value', async () => {
    // Prepare
    const records = [
      flowRecord({}),
      flowRecord({
        src: null,
        dst: null,
        sport: null,
        dport: null,
        protocol: null,
        action: null,
        status: 'NODATA',
      }),
      flowRecord({
        status: 'SKIPDATA',
        src: null,
        dst: null,
        sport: null,
        dport: null,
        protocol: null,
        action: null,
      }),
      flowRecord({ bytes: null }),
      flowRecord({ dport: null }),
      flowRecord({ action: 'DROP' }),
    ];

    // Act
    const rows = await aggregate(records);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]?.records).toBe(1);
  });

  it('keeps records whose start lies in the window, both ends included', async () => {
    // Prepare
    const records = [
      flowRecord({ sport: 40001, start: WINDOW.start - 1 }),
      flowRecord({ sport: 40002, start: WINDOW.start }),
      flowRecord({ sport: 40003, start: WINDOW.end }),
      flowRecord({ sport: 40004, start: WINDOW.end + 1 }),
    ];

    // Act
    const rows = await aggregate(records);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ records: 2, distinctClientPorts: 2 });
  });

  it('keeps only the ENIs asked for', async () => {
    // Prepare
    const records = [
      flowRecord({ eni: 'eni-1' }),
      flowRecord({ eni: 'eni-2' }),
      flowRecord({ eni: "eni-'3" }),
    ];

    // Act
    const rows = await aggregate(records, { eniIds: ['eni-2', "eni-'3"] });

    // Assess
    expect(rows.map((r) => r.eniId).sort()).toEqual(["eni-'3", 'eni-2']);
  });

  it('keeps server ports in range, undecided rows with either port in range and portless rows', async () => {
    // Prepare
    const records = [
      flowRecord({ dport: 443 }),
      flowRecord({ dport: 22 }),
      flowRecord({ sport: 50000, dport: 8443 }),
      flowRecord({ sport: 8443, dport: 50001 }),
      flowRecord({ sport: 50002, dport: 9000 }),
      flowRecord({ protocol: 1, sport: 0, dport: 0 }),
    ];

    // Act
    const rows = await aggregate(records, {
      ports: [
        { from: 443, to: 443 },
        { from: 8000, to: 8999 },
      ],
    });

    // Assess
    expect(rows.map((r) => `${r.protocol}/${r.serverPort}/${r.clientPort}`).sort()).toEqual([
      '1/null/null',
      '6/443/null',
      '6/8443/50000',
      '6/8443/50001',
    ]);
  });

  it('falls back to ports when the format has no tcp-flags', async () => {
    // Prepare
    const request = flowRecord({ sport: 80, dport: 50000 });
    const sql = buildFlowAggregateSql({
      dialect: 'duckdb',
      relation: flowRecordsRelation([request], false),
      fields: DEFAULT_FIELDS,
      window: WINDOW,
    });

    // Act
    const rows = (await rowsOf(sql)).map(flowAggregateFromRow);

    // Assess
    expect(rows[0]).toMatchObject({
      clientAddr: '10.0.0.2',
      serverPort: 80,
      evidence: 'well-known',
      requestRecords: 0,
    });
  });

  it('folds both directions of any flag-less connection into one row', async () => {
    // Prepare
    const connection = fc.record({
      client: fc.ipV4(),
      server: fc.ipV4(),
      clientPort: fc.integer({ min: 0, max: 65535 }),
      serverPort: fc.integer({ min: 0, max: 65535 }),
      protocol: fc.constantFrom(6, 17, 132),
    });

    // Act & Assess
    await fc.assert(
      fc.asyncProperty(fc.array(connection, { minLength: 1, maxLength: 20 }), async (connections) => {
        const records = connections.flatMap((c, i) => {
          const request = flowRecord({
            eni: `eni-${i}`,
            src: c.client,
            dst: c.server,
            sport: c.clientPort,
            dport: c.serverPort,
            protocol: c.protocol,
          });
          return [request, flowReply(request)];
        });
        const rows = await aggregate(records);
        expect(rows).toHaveLength(connections.length);
        for (const row of rows) expect(row).toMatchObject({ records: 2, requestRecords: 1 });
      }),
      { numRuns: 40 },
    );
  });

  it('writes the same logic for Athena with bitwise_and instead of &', () => {
    // Prepare
    const options = { relation: 'vpc_flow_logs', fields: [...DEFAULT_FIELDS, 'tcp-flags'], window: WINDOW };

    // Act
    const duckdb = buildFlowAggregateSql({ ...options, dialect: 'duckdb' });
    const athena = buildFlowAggregateSql({ ...options, dialect: 'athena' });

    // Assess
    expect(athena).toContain('bitwise_and(flags, 18)');
    expect(athena).not.toContain('&');
    expect(athena).not.toContain('`');
    expect(athena).toContain('"end"');
    expect(athena.replace('(athena)', '(duckdb)').replaceAll('bitwise_and(flags, 18)', '(flags & 18)')).toBe(
      duckdb,
    );
  });

  it('adds a partition filter to the scan as written', () => {
    // Act
    const sql = buildFlowAggregateSql({
      dialect: 'athena',
      relation: 'vpc_flow_logs',
      window: WINDOW,
      partitionFilter: "day BETWEEN '2023/11/14' AND '2023/11/15'",
    });

    // Assess
    expect(sql).toContain("AND day BETWEEN '2023/11/14' AND '2023/11/15'");
  });

  it('rejects a window that is not whole seconds', () => {
    // Act
    const build = () =>
      buildFlowAggregateSql({ dialect: 'duckdb', relation: 'r', window: { start: 1.5, end: 2 } });

    // Assess
    expect(build).toThrow(InvalidValueError);
  });
});

describe('buildFlowAggregateSql with packet-level fields', () => {
  const PACKET_FORMAT = [...DEFAULT_FIELDS, 'tcp-flags', ...PACKET_FIELDS];
  /** An EKS pod (secondary 10.0.5.57 of a node ENI whose primary is 10.0.5.10) calling DynamoDB. */
  const podRequest = flowRecord({
    eni: 'eni-node',
    src: '10.0.5.10',
    pktSrc: '10.0.5.57',
    dst: '52.94.12.10',
    pktDst: '52.94.12.10',
    srcService: '-',
    dstService: 'DYNAMODB',
    flags: 2,
  });

  it('folds records on their packet-level addresses, with the service AWS named for the server', async () => {
    // Prepare: the reply names the pod in pkt-dstaddr and DynamoDB in pkt-src-aws-service.
    const records = [podRequest, flowReply(podRequest, { flags: 18 })];

    // Act
    const rows = await aggregate(records, { fields: PACKET_FORMAT });

    // Assess
    expect(rows).toEqual([
      flowAggregate({
        eniId: 'eni-node',
        clientAddr: '10.0.5.57',
        serverAddr: '52.94.12.10',
        evidence: 'flags',
        synRecords: 1,
        serverService: 'DYNAMODB',
      }),
    ]);
  });

  it("falls back to srcaddr/dstaddr where a record's packet-level address is '-' or NULL", async () => {
    // Prepare: '-' as Athena's text tables keep it, NULL as DuckDB reads it (and a file without the field).
    const dash = flowRecord({ pktSrc: '-', pktDst: '-', dstService: '-' });
    const none = flowRecord({ eni: 'eni-2' });

    // Act
    const rows = await aggregate([dash, flowReply(dash), none, flowReply(none)], { fields: PACKET_FORMAT });

    // Assess: the interface-level addresses, no service.
    expect(rows).toEqual([flowAggregate(), flowAggregate({ eniId: 'eni-2' })]);
  });

  it('reads no packet-level column the format lacks', async () => {
    // Prepare: the relation holds the columns, the format does not name them.
    const records = [podRequest, flowReply(podRequest, { flags: 18 })];

    // Act
    const rows = await aggregate(records, { fields: [...DEFAULT_FIELDS, 'tcp-flags'] });

    // Assess
    expect(rows).toEqual([
      flowAggregate({
        eniId: 'eni-node',
        clientAddr: '10.0.5.10',
        serverAddr: '52.94.12.10',
        evidence: 'flags',
        synRecords: 1,
      }),
    ]);
  });

  it('reads the service of the side each record names when the format has only one service field', async () => {
    // Prepare: pkt-dst-aws-service only: the request names the server, the reply names its client.
    const request = flowRecord({ dst: '52.219.57.1', dstService: 'S3', srcService: 'EC2' });
    const fields = [...DEFAULT_FIELDS, 'pkt-dst-aws-service'];

    // Act
    const rows = await aggregate([request, flowReply(request)], { fields });

    // Assess
    expect(rows).toEqual([flowAggregate({ serverAddr: '52.219.57.1', serverService: 'S3' })]);
  });

  it('writes NULLIF and COALESCE alike for Athena, reading only the fields of the format', () => {
    // Act
    const athena = buildFlowAggregateSql({
      dialect: 'athena',
      relation: 'vpc_flow_logs',
      fields: [...DEFAULT_FIELDS, 'pkt-srcaddr', 'pkt-dst-aws-service'],
      window: WINDOW,
    });

    // Assess
    expect(athena).toContain("COALESCE(NULLIF(pkt_srcaddr, '-'), srcaddr) AS srcaddr, dstaddr AS dstaddr");
    expect(athena).toContain(
      "CAST(NULL AS VARCHAR) AS src_service, NULLIF(pkt_dst_aws_service, '-') AS dst_service",
    );
    expect(athena).not.toContain('pkt_dstaddr');
  });
});

/**
 * Records around the window: usable ones of eni-b (one before the window), NODATA of eni-a,
 * SKIPDATA of eni-c, an incomplete one of eni-b, and one of eni-z after the window.
 */
const SCATTERED_RECORDS = [
  flowRecord({ eni: 'eni-b' }),
  flowRecord({ eni: 'eni-b', start: T0 - 600, end: T0 - 540 }),
  flowRecord({
    eni: 'eni-a',
    src: null,
    dst: null,
    sport: null,
    dport: null,
    protocol: null,
    status: 'NODATA',
  }),
  flowRecord({ eni: 'eni-c', status: 'SKIPDATA', src: null, dst: null, action: null }),
  flowRecord({ eni: 'eni-b', packets: null }),
  flowRecord({ eni: 'eni-z', start: T0 + 7200, end: T0 + 7260 }),
];

describe('buildFlowStatsSql', () => {
  it('counts the window’s usable, NODATA, SKIPDATA and incomplete records and spans every row', async () => {
    // Prepare
    const records = SCATTERED_RECORDS;
    const sql = buildFlowStatsSql({
      dialect: 'duckdb',
      relation: flowRecordsRelation(records),
      window: WINDOW,
    });

    // Act
    const [totals] = await rowsOf(sql.totals);
    const enis = (await rowsOf(sql.enis)).map((r) => r.eni_id);

    // Assess
    expect(totals).toEqual({
      records: 1n,
      nodata_records: 1n,
      skipdata_records: 1n,
      incomplete_records: 1n,
      oldest_start: BigInt(T0 - 600),
      newest_end: BigInt(T0 + 7260),
    });
    expect(enis).toEqual(['eni-a', 'eni-b', 'eni-c']);
  });

  it('scopes the counts and ENIs to the ENIs asked for', async () => {
    // Prepare
    const records = [
      flowRecord({ eni: 'eni-a' }),
      flowRecord({ eni: 'eni-b' }),
      flowRecord({ eni: 'eni-b', sport: 40000 }),
    ];
    const sql = buildFlowStatsSql({
      dialect: 'duckdb',
      relation: flowRecordsRelation(records),
      window: WINDOW,
      eniIds: ['eni-b'],
    });

    // Act
    const [totals] = await rowsOf(sql.totals);
    const enis = (await rowsOf(sql.enis)).map((r) => r.eni_id);

    // Assess
    expect(totals?.records).toBe(2n);
    expect(enis).toEqual(['eni-b']);
  });

  it('writes no & for Athena', () => {
    // Act
    const sql = buildFlowStatsSql({
      dialect: 'athena',
      relation: 'vpc_flow_logs',
      window: WINDOW,
      eniIds: ['eni-1'],
    });

    // Assess
    expect(sql.totals).not.toContain('&');
    expect(sql.enis).toContain("interface_id IN ('eni-1')");
  });
});

/** The single-pass result split as the Athena source splits it. */
async function singlePass(sql: string) {
  const rows = await rowsOf(sql);
  const kinds = new Set(rows.map((r) => r.row_kind));
  const totals = rows.filter((r) => r.row_kind === 'totals');
  const stat = (r: Record<string, ResultCell> | undefined) => ({
    records: r?.records ?? null,
    nodata_records: r?.nodata_records ?? null,
    skipdata_records: r?.skipdata_records ?? null,
    incomplete_records: r?.incomplete_records ?? null,
    oldest_start: r?.oldest_start ?? null,
    newest_end: r?.newest_end ?? null,
  });
  return {
    kinds,
    totalsRows: totals.length,
    totals: stat(totals[0]),
    aggregates: rows
      .filter((r) => r.row_kind === 'aggregate')
      .map(flowAggregateFromRow)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    enis: rows
      .filter((r) => r.row_kind === 'eni')
      .map((r) => ({ eni: String(r.eni_id), ...stat(r) }))
      .sort((a, b) => a.eni.localeCompare(b.eni)),
  };
}

/** What buildFlowAggregateSql and buildFlowStatsSql return for the same options. */
async function threeQueries(options: FlowSqlOptions) {
  const stats = buildFlowStatsSql(options);
  const [totals] = await rowsOf(stats.totals);
  return {
    aggregates: (await rowsOf(buildFlowAggregateSql(options)))
      .map(flowAggregateFromRow)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    totals: { ...totals },
    enis: (await rowsOf(stats.enis)).map((r) => String(r.eni_id)),
  };
}

/** CTE names of a query with how often each is read (`FROM name`). */
function cteReads(sql: string): Map<string, number> {
  const names = [...sql.matchAll(/^(?:WITH )?([a-z_]+) AS \($/gm)].map((m) => m[1] ?? '');
  return new Map(names.map((name) => [name, sql.split(new RegExp(`FROM ${name}\\b`)).length - 1]));
}

describe('buildFlowSinglePassSql', () => {
  it('returns the row kind, the FlowAggregate columns and the statistics columns in order', async () => {
    // Act
    const names = await columnNamesOf(buildFlowSinglePassSql);

    // Assess
    expect(names).toEqual([...FLOW_SINGLE_PASS_COLUMNS]);
  });

  it('returns the aggregate rows, the ENIs and the totals of the three queries', async () => {
    // Prepare
    const records = [...SCATTERED_RECORDS, flowRecord({ eni: 'eni-b', src: '10.0.0.3' })];
    const options: FlowSqlOptions = {
      dialect: 'duckdb',
      relation: flowRecordsRelation(records),
      window: WINDOW,
    };

    // Act
    const single = await singlePass(buildFlowSinglePassSql(options));

    // Assess
    const expected = await threeQueries(options);
    expect(single.aggregates).toEqual(expected.aggregates);
    expect(single.aggregates).toHaveLength(2);
    expect(single.totals).toEqual({
      records: 2n,
      nodata_records: 1n,
      skipdata_records: 1n,
      incomplete_records: 1n,
      oldest_start: BigInt(T0 - 600),
      newest_end: BigInt(T0 + 7260),
    });
    expect(single.totals).toEqual(expected.totals);
    expect(single.enis.map((e) => e.eni)).toEqual(expected.enis);
    expect(single.totalsRows).toBe(1);
  });

  it('counts the two connections of AWS’s tcp-flags example as two: the FIN-only interval joins its SYN', async () => {
    // Prepare: AWS's "TCP flag sequence" example (eni-1235b8ca123456789, server 10.0.0.62:5001):
    // two SYN / SYN-ACK pairs in the first interval, then the FIN records of port 43418 in the next.
    const eni = 'eni-1235b8ca123456789';
    const [first, next] = [1566848875, 1566848933];
    const exchange = (sport: number, flags: number, start: number, reply: number) => [
      flowRecord({
        eni,
        src: '52.213.180.42',
        dst: '10.0.0.62',
        sport,
        dport: 5001,
        flags,
        start,
        end: start + 58,
      }),
      flowRecord({
        eni,
        src: '10.0.0.62',
        dst: '52.213.180.42',
        sport: 5001,
        dport: sport,
        flags: reply,
        start,
        end: start + 58,
      }),
    ];
    const records = [
      ...exchange(43416, 2, first, 18),
      ...exchange(43418, 2, first, 18),
      ...exchange(43418, 1, next, 1),
    ];

    // Act
    const single = await singlePass(
      buildFlowSinglePassSql({
        dialect: 'duckdb',
        relation: flowRecordsRelation(records),
        fields: ['tcp-flags'],
        window: { start: first - 60, end: next + 600 },
      }),
    );

    // Assess: one connection row, two SYNs and two client ports: 2 connections (the core's count).
    expect(single.aggregates).toEqual([
      expect.objectContaining({
        serverAddr: '10.0.0.62',
        serverPort: 5001,
        evidence: 'flags',
        records: 6,
        synRecords: 2,
        distinctClientPorts: 2,
        clientPort: null,
      }),
    ]);
  });

  it('counts each flow log’s records per ENI and day, any log-status, and the records of ENIs outside the scope', async () => {
    // Prepare: eni-a (fl-1) with a data record and a NODATA record a day later; eni-b (fl-2) out of scope.
    const records = [
      flowRecord({ eni: 'eni-a', start: T0 }),
      flowRecord({
        eni: 'eni-a',
        status: 'NODATA',
        src: null,
        dst: null,
        sport: null,
        dport: null,
        protocol: null,
        packets: null,
        bytes: null,
        action: null,
        start: T0 + 86_400,
        end: T0 + 86_460,
      }),
      flowRecord({ eni: 'eni-b', start: T0 + 60 }),
      flowRecord({ eni: 'eni-b', start: T0 + 120 }),
    ];

    // Act
    const rows = await rowsOf(
      buildFlowSinglePassSql({
        dialect: 'duckdb',
        relation: flowRecordsRelation(records),
        window: { start: T0, end: T0 + 2 * 86_400 },
        eniIds: ['eni-a'],
        flowLogId: "CASE WHEN interface_id = 'eni-a' THEN 'fl-1' ELSE 'fl-2' END",
      }),
    );

    // Assess
    const day = (t: number) => t - (t % 86_400);
    const deliveries = rows
      .filter((r) => r.row_kind === 'delivery')
      .map(deliveryCountFromRow)
      .sort((a, b) => a.eniId.localeCompare(b.eniId) || a.bucketStart - b.bucketStart);
    expect(deliveries).toEqual([
      { flowLogId: 'fl-1', eniId: 'eni-a', bucketStart: day(T0), records: 1 },
      { flowLogId: 'fl-1', eniId: 'eni-a', bucketStart: day(T0 + 86_400), records: 1 },
      { flowLogId: 'fl-2', eniId: 'eni-b', bucketStart: day(T0), records: 2 },
    ]);
    expect(
      rows.filter((r) => r.row_kind === 'other-eni').map((r) => [r.eni_id, Number(r.other_records)]),
    ).toEqual([['eni-b', 2]]);
    expect(rows.filter((r) => r.row_kind === 'aggregate').map((r) => r.flow_log_id)).toEqual(['fl-1']);
  });

  it('gives each ENI row that ENI’s share of the counts', async () => {
    // Prepare
    const records = [
      ...SCATTERED_RECORDS,
      flowRecord({ eni: 'eni-a' }),
      flowRecord({ eni: null, src: '10.0.0.9' }),
      flowRecord({ eni: 'eni-c', dport: 22 }),
    ];
    const sql = buildFlowSinglePassSql({
      dialect: 'duckdb',
      relation: flowRecordsRelation(records),
      window: WINDOW,
      ports: [{ from: 443, to: 443 }],
    });

    // Act
    const { enis, totals } = await singlePass(sql);

    // Assess: eni-c's port-22 record is not aggregated, yet counted; the ENI-less record is incomplete.
    expect(
      enis.map(({ eni, records, nodata_records, skipdata_records, incomplete_records }) => ({
        eni,
        counts: [records, nodata_records, skipdata_records, incomplete_records].map(Number),
      })),
    ).toEqual([
      { eni: 'eni-a', counts: [1, 1, 0, 0] },
      { eni: 'eni-b', counts: [1, 0, 0, 1] },
      { eni: 'eni-c', counts: [1, 0, 1, 0] },
    ]);
    expect([totals.records, totals.incomplete_records].map(Number)).toEqual([3, 2]);
  });

  it('returns one totals row of NULL counts, and nothing else, for an empty relation', async () => {
    // Prepare
    const relation = `(SELECT * FROM ${flowRecordsRelation([flowRecord({})])} WHERE FALSE) AS nothing`;
    const options: FlowSqlOptions = { dialect: 'duckdb', relation, window: WINDOW };

    // Act
    const single = await singlePass(buildFlowSinglePassSql(options));

    // Assess
    expect(single).toMatchObject({ totalsRows: 1, aggregates: [], enis: [], kinds: new Set(['totals']) });
    expect(single.totals).toEqual((await threeQueries(options)).totals);
  });

  it('equals the aggregate and statistics queries on any records, scope, ports and format (packet-level fields too)', async () => {
    // Prepare
    const port = fc.constantFrom(22, 53, 443, 1000, 3306, 40000, 50001, null);
    const testRecord = fc.record({
      eni: fc.constantFrom('eni-a', 'eni-b', 'eni-c', null),
      src: fc.constantFrom('10.0.0.1', '10.0.0.2', '192.0.2.7', null),
      dst: fc.constantFrom('10.0.0.1', '10.0.0.2', '192.0.2.7'),
      sport: port,
      dport: port,
      protocol: fc.constantFrom(6, 17, 1, 132, null),
      packets: fc.constantFrom(1, 7, null),
      bytes: fc.constantFrom(40, 1500),
      start: fc.integer({ min: WINDOW.start - 120, max: WINDOW.end + 120 }),
      action: fc.constantFrom('ACCEPT', 'REJECT', null),
      status: fc.constantFrom('OK', 'OK', 'OK', 'NODATA', 'SKIPDATA'),
      flags: fc.constantFrom(2, 18, 16, 0, null),
      pktSrc: fc.constantFrom(null, '-', '10.0.0.9', '10.0.0.1'),
      pktDst: fc.constantFrom(null, '-', '10.0.0.2', '198.51.100.3'),
      srcService: fc.constantFrom(null, '-', 'EC2'),
      dstService: fc.constantFrom(null, '-', 'S3', 'AMAZON'),
    });
    const scope = fc.subarray(['eni-a', 'eni-b', 'eni-x']);
    const ranges = fc.subarray([
      { from: 22, to: 22 },
      { from: 443, to: 1000 },
      { from: 40000, to: 40000 },
    ]);

    // Act & Assess
    await fc.assert(
      fc.asyncProperty(
        fc.array(testRecord, { minLength: 1, maxLength: 25 }),
        scope,
        ranges,
        fc.boolean(),
        fc.subarray(PACKET_FIELDS as string[]),
        async (generated, eniIds, ports, withFlags, packetFields) => {
          const records = generated.map((r) => flowRecord({ ...r, end: r.start + 30 }));
          const options: FlowSqlOptions = {
            dialect: 'duckdb',
            relation: flowRecordsRelation(records, withFlags),
            fields: [...DEFAULT_FIELDS, ...(withFlags ? ['tcp-flags'] : []), ...packetFields],
            window: WINDOW,
            eniIds,
            ports,
          };
          const single = await singlePass(buildFlowSinglePassSql(options));
          const expected = await threeQueries(options);
          expect(single.aggregates).toEqual(expected.aggregates);
          expect(single.totals).toEqual(expected.totals);
          expect(single.enis.map((e) => e.eni)).toEqual(expected.enis);
          expect(single.totalsRows).toBe(1);
          // The ENI rows of an unscoped query add up to any scope's counts (results-side scoping).
          if (eniIds.length > 0) {
            const unscoped = await singlePass(buildFlowSinglePassSql({ ...options, eniIds: [] }));
            const sum = (column: 'records' | 'nodata_records' | 'skipdata_records' | 'incomplete_records') =>
              unscoped.enis
                .filter((e) => eniIds.includes(e.eni))
                .reduce((total, e) => total + Number(e[column]), 0);
            expect([
              sum('records'),
              sum('nodata_records'),
              sum('skipdata_records'),
              sum('incomplete_records'),
            ]).toEqual(
              ['records', 'nodata_records', 'skipdata_records', 'incomplete_records'].map((c) =>
                Number(expected.totals[c] ?? 0),
              ),
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('adds one file row per object with its records, leaving every other row as it was', async () => {
    // Prepare: the "object" of each record is its ENI's (NULL ENIs in an object of their own).
    const testRecord = fc.record({
      eni: fc.constantFrom('eni-a', 'eni-b', null),
      dport: fc.constantFrom(22, 443, 50001),
      start: fc.integer({ min: WINDOW.start - 120, max: WINDOW.end + 120 }),
      status: fc.constantFrom('OK', 'OK', 'NODATA', 'SKIPDATA'),
      flags: fc.constantFrom(2, 18, 0),
    });
    const sourceFile = "'s3://logs/' || COALESCE(interface_id, 'none') || '.log.gz'";

    // Act & Assess
    await fc.assert(
      fc.asyncProperty(
        fc.array(testRecord, { minLength: 1, maxLength: 20 }),
        fc.subarray(['eni-a', 'eni-x']),
        fc.boolean(),
        async (generated, eniIds, settle) => {
          const records = generated.map((r) => flowRecord({ ...r, end: r.start + 30 }));
          const options: FlowSqlOptions = {
            dialect: 'duckdb',
            relation: flowRecordsRelation(records),
            fields: [...DEFAULT_FIELDS, 'tcp-flags'],
            window: WINDOW,
            eniIds,
            ports: settle ? [{ from: 22, to: 443 }] : [],
          };
          const withFiles = await rowsOf(buildFlowSinglePassSql({ ...options, sourceFile }));
          const without = await rowsOf(buildFlowSinglePassSql(options));
          const key = (r: Record<string, ResultCell>) =>
            JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
          expect(
            withFiles
              .filter((r) => r.row_kind !== 'file')
              .map(key)
              .sort(),
          ).toEqual(without.map(key).sort());
          const files = withFiles.filter((r) => r.row_kind === 'file').map(sourceFileFromRow);
          const expected = new Map<string, number>();
          for (const r of records) {
            const file = `s3://logs/${r.eni ?? 'none'}.log.gz`;
            expected.set(file, (expected.get(file) ?? 0) + 1);
          }
          expect(new Map(files.map((f) => [f.file, f.records]))).toEqual(expected);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('reads the relation once: one FROM of it and every CTE read exactly once', () => {
    // Prepare
    const relation = '"sg_audit"."vpc_flow_logs_fl_1"';

    // Act
    const sql = buildFlowSinglePassSql({
      dialect: 'athena',
      relation,
      window: WINDOW,
      eniIds: ['eni-1'],
      ports: [{ from: 22, to: 22 }],
      partitionFilter: "day BETWEEN '2023/11/14' AND '2023/11/15'",
    });

    // Assess
    expect(sql.split(relation)).toHaveLength(2);
    const reads = cteReads(sql);
    expect([...reads.keys()]).toEqual([
      'scanned',
      'decided',
      'folded',
      'classified',
      'keyed',
      'per_client_port',
      'grouped',
    ]);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    expect(sql).toContain(`FROM ${relation}\n  WHERE day BETWEEN '2023/11/14' AND '2023/11/15'\n`);
  });

  it('writes the same logic for Athena with bitwise_and instead of &', () => {
    // Prepare
    const options = {
      relation: 'vpc_flow_logs',
      fields: [...DEFAULT_FIELDS, 'tcp-flags'],
      window: WINDOW,
      eniIds: ['eni-1'],
    };

    // Act
    const duckdb = buildFlowSinglePassSql({ ...options, dialect: 'duckdb' });
    const athena = buildFlowSinglePassSql({ ...options, dialect: 'athena' });

    // Assess
    expect(athena).not.toContain('&');
    expect(athena).not.toContain('`');
    expect(athena).toContain("interface_id IN ('eni-1')");
    expect(athena.replace('(athena)', '(duckdb)').replaceAll('bitwise_and(flags, 18)', '(flags & 18)')).toBe(
      duckdb,
    );
  });

  it('counts the three separate queries as three reads of the relation (the cost it removes)', () => {
    // Prepare
    const options: FlowSqlOptions = { dialect: 'athena', relation: 'vpc_flow_logs', window: WINDOW };

    // Act
    const stats = buildFlowStatsSql(options);
    const separate = [buildFlowAggregateSql(options), stats.totals, stats.enis];

    // Assess
    expect(separate.map((sql) => sql.split('FROM vpc_flow_logs').length - 1)).toEqual([1, 1, 1]);
    expect(buildFlowSinglePassSql(options).split('FROM vpc_flow_logs').length - 1).toBe(1);
  });
});

describe('flowAggregateFromRow', () => {
  it('reads the text cells of a CSV result, empty ports as null', () => {
    // Prepare
    const row = {
      eni_id: 'eni-1',
      action: 'REJECT',
      protocol: '17',
      client_addr: '2001:db8::1',
      server_addr: '2001:db8::2',
      server_port: '53',
      client_port: '',
      evidence: 'well-known',
      records: '3',
      request_records: '2',
      syn_records: '0',
      packets: '9',
      bytes: '900',
      first_seen: '1700000000',
      last_seen: '1700000600',
      distinct_client_ports: '2',
    };

    // Act
    const aggregate = flowAggregateFromRow(row);

    // Assess
    expect(aggregate).toEqual({
      eniId: 'eni-1',
      action: 'REJECT',
      protocol: 17,
      clientAddr: '2001:db8::1',
      serverAddr: '2001:db8::2',
      serverPort: 53,
      clientPort: null,
      evidence: 'well-known',
      records: 3,
      requestRecords: 2,
      synRecords: 0,
      packets: 9,
      bytes: 900,
      firstSeen: 1_700_000_000,
      lastSeen: 1_700_000_600,
      distinctClientPorts: 2,
    });
  });

  it('throws InvalidValueError naming the column of a malformed cell', () => {
    // Prepare
    const row = { eni_id: 'eni-1', action: 'ACCEPT', evidence: 'guessed' };

    // Act
    const read = () => flowAggregateFromRow(row);

    // Assess
    expect(read).toThrow(InvalidValueError);
    expect(read).toThrow(/evidence/);
  });
});

describe('sqlString', () => {
  it('doubles single quotes', () => {
    // Act
    const text = sqlString("it's");

    // Assess
    expect(text).toBe("'it''s'");
  });
});
