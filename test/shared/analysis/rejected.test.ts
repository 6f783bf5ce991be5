import fc from 'fast-check';
import { foldConnections } from '../../../shared/analysis/fold';
import { analyseRejected } from '../../../shared/analysis/rejected';
import { DEFAULT_CONFIG } from '../../../shared/config';
import { buildFlowAggregateSql, flowAggregateFromRow } from '../../../shared/flow/aggregate-sql';
import { DEFAULT_FIELDS } from '../../../shared/flow/format';
import type { Connection, InitiatorEvidence } from '../../../shared/model/analysis';
import type { RejectedFacts } from '../../../shared/model/rejected';
import { flowLog } from '../../../testkit/inventory-builder';
import { FLOW_T0, flowRecord } from '../../support/flow-records';
import { flowRecordsRelation, inMemoryDuckDb, type SqlFlowRecord } from '../../support/flow-sql';
import {
  trafficConnection as connection,
  DB_SUGGESTION,
  rejectedContext,
  TRAFFIC_ACCOUNT,
  TRAFFIC_INDEX,
  TRAFFIC_RESOURCES,
  trafficCoverage,
} from '../../support/traffic-account';

const WINDOW = { start: FLOW_T0, end: FLOW_T0 + 3600 };
const duckdb = inMemoryDuckDb();

/** A refused attempt: REJECT, its request records only. */
function refused(fields: Partial<Connection> & Pick<Connection, 'eniId' | 'peerAddr'>): Connection {
  return connection({ action: 'REJECT', ...fields });
}

/** The analysis, with its probe groups (streamed to `onProbe`) after its missing-rule and NACL rows. */
function analyse(connections: readonly Connection[], context = rejectedContext()) {
  const probes: RejectedFacts[] = [];
  const analysis = analyseRejected(connections, context, (row) => probes.push(row));
  return { ...analysis, rows: [...analysis.rows, ...probes] };
}

/** Flow-log records → the one aggregation (DuckDB) → the fold: the connections runAudit reads. */
async function foldRecords(records: readonly SqlFlowRecord[], withFlags = true): Promise<Connection[]> {
  const sql = buildFlowAggregateSql({
    dialect: 'duckdb',
    relation: flowRecordsRelation(records, withFlags),
    fields: withFlags ? [...DEFAULT_FIELDS, 'tcp-flags'] : DEFAULT_FIELDS,
    window: WINDOW,
  });
  const aggregates = (await duckdb.rowsOf(sql)).map(flowAggregateFromRow);
  const context = {
    ruleIndex: TRAFFIC_INDEX,
    resourceTypeOfEni: (id: string) => TRAFFIC_RESOURCES.get(id)?.type,
  };
  return foldConnections(aggregates, context, DEFAULT_CONFIG).connections;
}

describe('analyseRejected', () => {
  it('reads repeated internal attempts on a port the ENI serves to others as a missing rule, to review on the SG admitting the others', () => {
    // Prepare
    const served = connection({ eniId: 'eni-db', peerAddr: '10.0.1.10', port: 5432 });
    const attempt = refused({ eniId: 'eni-db', peerAddr: '10.0.1.20', port: 5432, connections: 4 });

    // Act
    const { report } = analyse([served, attempt]);

    // Assess
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({
      eniId: 'eni-db',
      sgIds: ['sg-db'],
      direction: 'ingress',
      protocol: 'tcp',
      port: 5432,
      peer: '10.0.1.20',
      origin: 'vpc',
      connections: 4,
      class: 'missing-rule',
      suggestion: DB_SUGGESTION,
    });
    expect(report.rows[0]?.nacl).toBeUndefined();
  });

  it('keeps attempts from the internet as probes however often they come, suggesting nothing', () => {
    // Prepare
    const served = connection({ eniId: 'eni-db', peerAddr: '10.0.1.10', port: 5432 });
    const scan = refused({ eniId: 'eni-db', peerAddr: '203.0.113.9', port: 5432, connections: 50 });

    // Act
    const row = analyse([served, scan]).report.rows[0];

    // Assess
    expect(row).toMatchObject({ class: 'probe', origin: 'internet', connections: 50 });
    expect(row?.suggestion).toBeUndefined();
    expect(row?.nacl).toMatchObject({ naclId: 'acl-data', ruleNumber: 32767 });
  });

  it('calls internal attempts fewer than rejectedMinAttempts a probe', () => {
    // Prepare
    const served = connection({ eniId: 'eni-db', peerAddr: '10.0.1.10', port: 5432 });
    const once = refused({ eniId: 'eni-db', peerAddr: '10.0.1.20', port: 5432, connections: 2 });

    // Act
    const row = analyse([served, once]).report.rows[0];

    // Assess
    expect(row).toMatchObject({ class: 'probe', origin: 'vpc' });
    expect(row?.reason).toContain('fewer than the 3 attempts');
  });

  it('reads a port another SG on a sibling ENI admits as a missing rule', () => {
    // Prepare: eni-w1 carries sg-metrics (9100), its sibling eni-w2 does not.
    const scrape = refused({ eniId: 'eni-w2', peerAddr: '10.0.1.10', port: 9100, connections: 6 });

    // Act
    const row = analyse([scrape]).report.rows[0];

    // Assess
    expect(row).toMatchObject({
      class: 'missing-rule',
      suggestion: { sgId: 'sg-worker', basis: 'sibling-sg', text: '- allow tcp port 9100 from 10.0.1.10' },
    });
    expect(row?.suggestion?.why).toContain('eni-w1');
    expect(row?.suggestion?.why).toContain('sg-metrics');
  });

  it('calls repeated internal attempts on a port nobody serves and no sibling admits a probe', () => {
    // Prepare
    const ssh = refused({ eniId: 'eni-app1', peerAddr: '10.0.1.11', port: 22, connections: 5 });

    // Act
    const row = analyse([ssh]).report.rows[0];

    // Assess
    expect(row).toMatchObject({ class: 'probe', origin: 'vpc' });
    expect(row?.reason).toContain('serves tcp/22 to no one');
  });

  it('reads refused outbound attempts to a destination others reach as a missing egress rule', () => {
    // Prepare: app1 reaches the database; the web server's egress rules refuse it.
    const reached = connection({
      eniId: 'eni-app1',
      direction: 'outbound',
      peerAddr: '10.0.2.10',
      port: 5432,
    });
    const blocked = refused({
      eniId: 'eni-web',
      direction: 'outbound',
      peerAddr: '10.0.2.10',
      port: 5432,
      connections: 3,
    });

    // Act
    const row = analyse([reached, blocked]).report.rows[0];

    // Assess
    expect(row).toMatchObject({
      direction: 'egress',
      class: 'missing-rule',
      suggestion: {
        sgId: 'sg-web',
        direction: 'egress',
        text: '- allow tcp port 5432 to 10.0.2.10',
        peerSgIds: ['sg-db'],
      },
    });
  });

  it('tells a NACL refusal apart when the SGs admit the connection, and names the refusing entry', () => {
    // Prepare: sg-db admits 10.9.0.0/16 on 5432; the data NACL admits only the app subnet.
    const attempt = refused({ eniId: 'eni-db', peerAddr: '10.9.0.5', port: 5432, connections: 3 });

    // Act
    const { report, blockedRules } = analyse([attempt]);

    // Assess
    expect(report.rows[0]).toMatchObject({
      class: 'nacl',
      origin: 'private',
      nacl: { naclId: 'acl-data', direction: 'inbound', ruleNumber: 32767 },
      admittedBy: ['sg-db/ingress/tcp/5432-5432/10.9.0.0/16'],
    });
    expect(report.rows[0]?.nacl?.text).toBe(
      'acl-data inbound rule 32767 (*): deny all traffic from 0.0.0.0/0',
    );
    expect(blockedRules.get('sg-db/ingress/tcp/5432-5432/10.9.0.0/16')).toMatchObject({ connections: 3 });
  });

  it('reads a refused reply as return traffic the NACL refused, never as an attempt', () => {
    // Prepare: replies to 10.9.0.5 leave the data subnet, whose NACL lets replies out to the app subnet only.
    const replies = refused({
      eniId: 'eni-db',
      peerAddr: '10.9.0.5',
      port: 5432,
      requestRecords: 0,
      records: 4,
    });
    const admittedReplies = refused({
      eniId: 'eni-db',
      peerAddr: '10.0.1.10',
      port: 5432,
      requestRecords: 0,
      records: 2,
    });

    // Act
    const { report } = analyse([replies, admittedReplies]);

    // Assess
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({
      class: 'nacl',
      replyOnly: true,
      nacl: { naclId: 'acl-data', direction: 'outbound', ruleNumber: 32767 },
    });
    expect(report.unexplainedReplies).toBe(2);
  });

  it('turns a row ephemeral ranges alone oriented against its refused packets into the peer’s attempt, port unknown', () => {
    // Prepare: all the refused packets came from the scanner, yet the fold made the ENI the client.
    const backwards = refused({
      eniId: 'eni-web',
      direction: 'outbound',
      evidence: 'peer-ephemeral',
      peerAddr: '198.51.100.7',
      port: 30000,
      requestRecords: 0,
    });

    // Act
    const row = analyse([backwards]).report.rows[0];

    // Assess
    expect(row).toMatchObject({
      direction: 'ingress',
      port: null,
      servicePortUnknown: true,
      class: 'probe',
      origin: 'internet',
    });
  });

  it('names the audited ENIs whose flow logs record no REJECT', () => {
    // Prepare
    const inventory = {
      ...TRAFFIC_ACCOUNT,
      flowLogs: [...TRAFFIC_ACCOUNT.flowLogs, flowLog('fl-accept', { trafficType: 'ACCEPT' })],
    };
    const coverage = trafficCoverage({ 'eni-w2': { flowLogIds: ['fl-accept'] } });

    // Act
    const { report } = analyseRejected([], { ...rejectedContext({ coverage }), inventory });

    // Assess
    expect(report.unrecordedEnis).toEqual(['eni-w2']);
  });

  it('hands the findings the missing-rule groups in report order, whatever order the engine gave them', () => {
    // Prepare: two clients the DB refuses while it serves a third; the engine may list them either way
    const served = connection({ eniId: 'eni-db', peerAddr: '10.0.1.10', port: 5432 });
    const first = refused({ eniId: 'eni-db', peerAddr: '10.0.1.20', port: 5432, connections: 3 });
    const second = refused({ eniId: 'eni-db', peerAddr: '10.0.1.21', port: 5432, connections: 3 });
    const settled = (rows: readonly { class: string; peer: string }[]) =>
      rows.filter((r) => r.class !== 'probe').map((r) => `${r.class} ${r.peer}`);

    // Act
    const forward = analyseRejected([served, first, second], rejectedContext()).rows;
    const backward = analyseRejected([served, second, first], rejectedContext()).rows;

    // Assess
    expect(settled(forward)).toEqual(['missing-rule 10.0.1.20', 'missing-rule 10.0.1.21']);
    expect(settled(backward)).toEqual(settled(forward));
  });

  it("merges a peer's connections that differ only in local address, however many groups the peer has", () => {
    // Prepare: one scanner, 12 ports (past the short list a peer's groups start in), each port
    // seen on two local addresses of the ENI, the second pass after all of the first.
    const ports = Array.from({ length: 12 }, (_, i) => 20000 + i);
    const pass = (localAddr: string, connections: number) =>
      ports.map((port) =>
        refused({ eniId: 'eni-web', peerAddr: '203.0.113.9', port, localAddr, connections }),
      );
    // Act
    const { report } = analyse([...pass('10.0.1.5', 1), ...pass('10.0.1.6', 2)]);
    // Assess
    expect(
      report.rows.map((r) => [r.port, r.connections]).sort((a, b) => Number(a[0]) - Number(b[0])),
    ).toEqual(ports.map((port) => [port, 3]));
    expect(report.byClass.probe).toBe(36);
  });

  it('keeps every missing-rule and NACL group and the busiest probes within rejectedRowLimit, counting all', () => {
    // Prepare
    const served = connection({ eniId: 'eni-db', peerAddr: '10.0.1.10', port: 5432 });
    const missing = refused({ eniId: 'eni-db', peerAddr: '10.0.1.20', port: 5432, connections: 3 });
    const probes = [7, 5, 2].map((n, i) =>
      refused({ eniId: 'eni-web', peerAddr: `203.0.113.${i + 1}`, port: 22, connections: n }),
    );
    const context = { ...rejectedContext(), config: { ...DEFAULT_CONFIG, rejectedRowLimit: 2 } };

    // Act
    const streamed: RejectedFacts[] = [];
    const { report, rows } = analyseRejected([served, missing, ...probes], context, (row) =>
      streamed.push(row),
    );

    // Assess
    expect(report.rows.map((r) => [r.class, r.connections])).toEqual([
      ['missing-rule', 3],
      ['probe', 7],
    ]);
    expect(report.omittedRows).toBe(2);
    expect(rows.map((r) => r.class)).toEqual(['missing-rule']);
    expect(streamed.map((r) => [r.class, r.connections]).sort()).toEqual([
      ['probe', 2],
      ['probe', 5],
      ['probe', 7],
    ]);
    expect(report.byClass).toEqual({ 'missing-rule': 3, nacl: 0, probe: 14 });
    expect(report.topPorts).toEqual([{ protocol: 'tcp', port: 22, connections: 14, sources: 3 }]);
    expect(report.topSources.map((s) => s.addr)).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.3']);
  });
});

describe('analyseRejected over the one aggregation and fold (REJECT pairs)', () => {
  it('folds SYN retries into one attempt per client port, across capture intervals, with no reply record', async () => {
    // Prepare: two attempts from the web server; the first retries its SYN into the next minute.
    const syn = (sport: number, start: number) =>
      flowRecord({
        eni: 'eni-db',
        src: '10.0.1.20',
        dst: '10.0.2.10',
        sport,
        dport: 5432,
        action: 'REJECT',
        flags: 2,
        packets: 2,
        start,
        end: start + 59,
      });
    const records = [syn(40001, FLOW_T0), syn(40001, FLOW_T0 + 60), syn(40002, FLOW_T0 + 600)];
    const served = connection({ eniId: 'eni-db', peerAddr: '10.0.1.10', port: 5432 });

    // Act
    const folded = await foldRecords(records);
    const { report } = analyse([...folded, served]);

    // Assess
    expect(folded).toEqual([
      expect.objectContaining({
        action: 'REJECT',
        direction: 'inbound',
        port: 5432,
        connections: 2,
        records: 3,
      }),
    ]);
    expect(report.rows).toEqual([
      expect.objectContaining({ class: 'probe', connections: 2, records: 3, peer: '10.0.1.20' }),
    ]);
  });

  it('counts attempts by client port whatever the retries, with or without tcp-flags', async () => {
    const attempts = fc.array(fc.record({ retries: fc.integer({ min: 1, max: 4 }), spread: fc.boolean() }), {
      minLength: 1,
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(attempts, fc.boolean(), async (plan, withFlags) => {
        // Prepare: attempt i from port 40000 + i, its retries in one interval or spread over two.
        const records = plan.flatMap(({ retries, spread }, i) =>
          Array.from({ length: retries }, (_, k) =>
            flowRecord({
              eni: 'eni-db',
              src: '10.0.1.20',
              dst: '10.0.2.10',
              sport: 40000 + i,
              dport: 5432,
              action: 'REJECT',
              flags: withFlags ? 2 : null,
              packets: 1,
              start: FLOW_T0 + i * 300 + (spread ? k * 60 : 0),
              end: FLOW_T0 + i * 300 + (spread ? k * 60 : 0) + 30,
            }),
          ),
        );

        // Act
        const { report } = analyse(await foldRecords(records, withFlags));

        // Assess
        expect(report.connections).toBe(plan.length);
        expect(report.rows.map((r) => [r.direction, r.port, r.peer])).toEqual([
          ['ingress', 5432, '10.0.1.20'],
        ]);
      }),
      { numRuns: 40 },
    );
  });

  it('reports an attempt between two ENIs of the VPC once, on the ENI that refused it', async () => {
    // Prepare: the web server's egress lets its SYN out (ACCEPT, no reply); the database refuses it.
    const sent = flowRecord({
      eni: 'eni-web',
      src: '10.0.1.20',
      dst: '10.0.2.10',
      sport: 41000,
      dport: 5432,
      flags: 2,
    });
    const refusedThere = { ...sent, eni: 'eni-db', action: 'REJECT' };

    // Act
    const folded = await foldRecords([sent, refusedThere]);
    const { report } = analyse(folded);

    // Assess
    expect(folded.map((c) => [c.eniId, c.action, c.direction])).toEqual(
      expect.arrayContaining([
        ['eni-web', 'ACCEPT', 'outbound'],
        ['eni-db', 'REJECT', 'inbound'],
      ]),
    );
    expect(report.rows.map((r) => [r.eniId, r.direction, r.connections])).toEqual([['eni-db', 'ingress', 1]]);
  });

  it('reads a refused SYN-ACK as return traffic the NACL refused', async () => {
    // Prepare: 10.9.0.5's SYN is accepted (sg-db admits 10.9.0.0/16), the reply is refused on its way out.
    const request = flowRecord({
      eni: 'eni-db',
      src: '10.9.0.5',
      dst: '10.0.2.10',
      sport: 42000,
      dport: 5432,
      flags: 2,
    });
    const reply = {
      ...request,
      src: '10.0.2.10',
      dst: '10.9.0.5',
      sport: 5432,
      dport: 42000,
      flags: 18,
      action: 'REJECT',
    };

    // Act
    const { report } = analyse(await foldRecords([request, reply]));

    // Assess
    expect(report.rows).toEqual([
      expect.objectContaining({
        class: 'nacl',
        replyOnly: true,
        direction: 'ingress',
        port: 5432,
        nacl: expect.objectContaining({ direction: 'outbound', ruleNumber: 32767 }),
      }),
    ]);
  });
});

describe('analyseRejected class rules (property)', () => {
  const ENIS = ['eni-app1', 'eni-app2', 'eni-web', 'eni-w1', 'eni-w2', 'eni-db'];
  const PEERS = [
    '10.0.1.10',
    '10.0.1.20',
    '10.0.2.10',
    '10.9.0.5',
    '192.168.7.7',
    '203.0.113.9',
    '198.51.100.7',
    '2001:db8::7',
    '2001:db8::8',
  ];
  const PORTS = [22, 443, 5432, 8080, 9100, 30000];
  const EVIDENCE: InitiatorEvidence[] = ['flags', 'well-known', 'peer-ephemeral', 'listening'];
  const arbitraryConnection = fc
    .record({
      eniId: fc.constantFrom(...ENIS),
      direction: fc.constantFrom('inbound' as const, 'outbound' as const),
      action: fc.constantFrom('ACCEPT' as const, 'REJECT' as const, 'REJECT' as const),
      port: fc.constantFrom(...PORTS),
      peerAddr: fc.constantFrom(...PEERS),
      connections: fc.integer({ min: 1, max: 6 }),
      reply: fc.boolean(),
      evidence: fc.constantFrom(...EVIDENCE),
    })
    .map(({ reply, connections, ...c }) =>
      connection({ ...c, connections, records: connections, requestRecords: reply ? 0 : connections }),
    );

  it('keeps the classes to their rules: suggestions only for repeated internal missing rules, NACL only where the SGs admit', () => {
    fc.assert(
      fc.property(fc.array(arbitraryConnection, { maxLength: 30 }), (connections) => {
        // Act
        const { report, rows } = analyse(connections);

        // Assess
        const total = rows.reduce((n, r) => n + r.connections, 0);
        expect(Object.values(report.byClass).reduce((a, b) => a + b, 0)).toBe(total);
        expect(report.connections).toBe(total);
        for (const row of rows) {
          if (row.class === 'missing-rule') {
            expect(row.connections).toBeGreaterThanOrEqual(DEFAULT_CONFIG.rejectedMinAttempts);
            expect(row.direction === 'ingress' && row.origin === 'internet').toBe(false);
            expect(row.suggestion).toMatchObject({
              direction: row.direction,
              fromPort: row.port,
              toPort: row.port,
              peer: `${row.peer}/${row.peer.includes(':') ? 128 : 32}`,
            });
          } else {
            expect(row.suggestion).toBeUndefined();
          }
          if (row.class === 'nacl' && !row.replyOnly) {
            const admitting = TRAFFIC_INDEX.matching(row.eniId, row.direction, 6, row.port, row.peer).map(
              (r) => r.id,
            );
            expect(admitting).toEqual(row.admittedBy);
            expect(admitting.length).toBeGreaterThan(0);
          }
          if (row.replyOnly) expect(row.class).toBe('nacl');
        }
      }),
      { numRuns: 200 },
    );
  });

  /**
   * The groups merged the plain way, for reference: a map by group key, in the order each group
   * first appears, one connection per group (the first one's local address and fields, counters
   * summed); accepted connections kept as they are.
   */
  function mergedByGroup(connections: readonly Connection[]): Connection[] {
    const groups = new Map<string, Connection>();
    for (const c of connections) {
      if (c.action !== 'REJECT') continue;
      const backwards = c.requestRecords === 0;
      const portUnknown = backwards && c.evidence === 'peer-ephemeral';
      const key = [
        c.eniId,
        c.direction,
        c.protocol,
        portUnknown ? null : c.port,
        backwards,
        portUnknown,
        c.peerAddr,
      ].join('|');
      const group = groups.get(key);
      groups.set(
        key,
        group === undefined
          ? c
          : {
              ...group,
              connections: group.connections + c.connections,
              records: group.records + c.records,
              packets: group.packets + c.packets,
              firstSeen: Math.min(group.firstSeen, c.firstSeen),
              lastSeen: Math.max(group.lastSeen, c.lastSeen),
            },
      );
    }
    return [...connections.filter((c) => c.action !== 'REJECT'), ...groups.values()];
  }

  it('merges each group as a map by group key in first-appearance order would: keys, sums, first and last seen, the rows kept', () => {
    const spread = fc
      .tuple(
        arbitraryConnection,
        fc.constantFrom('10.0.1.5', '10.0.1.6', undefined),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
      )
      .map(([c, localAddr, start, length]) => ({
        ...c,
        ...(localAddr === undefined ? {} : { localAddr }),
        firstSeen: 1_000 + start * 60,
        lastSeen: 1_000 + (start + length) * 60,
      }));
    fc.assert(
      fc.property(
        fc.array(spread, { maxLength: 40 }),
        fc.integer({ min: 0, max: 4 }),
        (connections, limit) => {
          // Prepare: a small row limit makes the probes kept depend on ties
          const context = { ...rejectedContext(), config: { ...DEFAULT_CONFIG, rejectedRowLimit: limit } };

          // Act
          const merged = analyse(mergedByGroup(connections), context);
          const direct = analyse(connections, context);

          // Assess
          expect(direct.report).toEqual(merged.report);
          expect(direct.rows).toEqual(merged.rows);
          expect([...direct.blockedRules]).toEqual([...merged.blockedRules]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lists the top probe sources and ports as plain maps of every probe row would', () => {
    // More sources than the lists hold, IPv4 and IPv6, each on several ports and ENIs.
    const sources = [
      ...Array.from({ length: 12 }, (_, i) => `203.0.113.${i * 7 + 1}`),
      '2001:db8::7',
      '2001:db8::8',
    ];
    const probeConnection = fc
      .record({
        eniId: fc.constantFrom(...ENIS),
        port: fc.constantFrom(...PORTS),
        peerAddr: fc.constantFrom(...sources),
        connections: fc.integer({ min: 1, max: 3 }),
      })
      .map((c) => connection({ ...c, direction: 'inbound', action: 'REJECT', records: c.connections }));
    fc.assert(
      fc.property(fc.array(probeConnection, { maxLength: 60 }), (connections) => {
        // Act
        const { report, rows } = analyse(connections);
        // Assess: the reference sums the probe rows by source and by port
        const probes = rows.filter((row) => row.class === 'probe');
        const bySource = new Map<string, { connections: number; ports: Set<string>; enis: Set<string> }>();
        const byPort = new Map<
          string,
          { protocol: string; port: number | null; connections: number; peers: Set<string> }
        >();
        for (const row of probes) {
          const key = `${row.protocol}/${row.port}`;
          const source = bySource.get(row.peer) ?? { connections: 0, ports: new Set(), enis: new Set() };
          source.connections += row.connections;
          source.ports.add(key);
          source.enis.add(row.eniId);
          bySource.set(row.peer, source);
          const port = byPort.get(key) ?? {
            protocol: row.protocol,
            port: row.port,
            connections: 0,
            peers: new Set(),
          };
          port.connections += row.connections;
          port.peers.add(row.peer);
          byPort.set(key, port);
        }
        const expectedSources = [...bySource]
          .map(([addr, s]) => ({ addr, connections: s.connections, ports: s.ports.size, enis: s.enis.size }))
          .sort((a, b) => b.connections - a.connections || a.addr.localeCompare(b.addr))
          .slice(0, 10);
        const expectedPorts = [...byPort.values()]
          .map((p) => ({
            protocol: p.protocol,
            port: p.port,
            connections: p.connections,
            sources: p.peers.size,
          }))
          .sort(
            (a, b) =>
              b.connections - a.connections ||
              a.protocol.localeCompare(b.protocol) ||
              (a.port ?? -1) - (b.port ?? -1),
          )
          .slice(0, 10);
        expect(report.topSources.map(({ origin: _, ...s }) => s)).toEqual(expectedSources);
        expect(report.topPorts).toEqual(expectedPorts);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same report whatever order the engine returned its rows in', () => {
    fc.assert(
      fc.property(fc.array(arbitraryConnection, { maxLength: 30 }), fc.nat(), (connections, shift) => {
        // Prepare
        const k = connections.length === 0 ? 0 : shift % connections.length;
        const reordered = [...connections.slice(k), ...connections.slice(0, k)].reverse();

        // Act / Assess
        expect(analyse(reordered).report).toEqual(analyse(connections).report);
      }),
      { numRuns: 200 },
    );
  });
});
