import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { settleUndecidedRows } from '../../../adapters/local/ephemeral-settle';
import { foldConnections } from '../../../shared/analysis/fold';
import { ephemeralFoldPlan } from '../../../shared/analysis/fold-plan';
import { DEFAULT_CONFIG } from '../../../shared/config';
import { sqlString } from '../../../shared/flow/aggregate-sql';
import type { Connection } from '../../../shared/model/analysis';
import type { EphemeralFoldPlan, FlowAggregate } from '../../../shared/model/flow';
import type { ResourceType } from '../../../shared/model/inventory';
import { RuleIndex } from '../../../shared/rules/rule-index';
import { InventoryBuilder } from '../../support/inventory-builder';

// An account where every branch of the core's pass 2 and 3 occurs: EC2 (32768-65535), an ELB and
// a NAT gateway (any client port), a Lambda, an EKS node with a delegated /28, rules that name
// services (8080, 50051) and an allow-all.
const ACCOUNT = new InventoryBuilder()
  .sg('sg-web')
  .ingress('sg-web', 'tcp', 8080, '10.0.0.0/16')
  .egress('sg-web', '-1', undefined, '0.0.0.0/0')
  .sg('sg-grpc')
  .ingress('sg-grpc', 'tcp', 50051, '10.0.0.0/16')
  .egress('sg-grpc', '-1', undefined, '0.0.0.0/0')
  .sg('sg-open')
  .ingress('sg-open', '-1', undefined, '10.0.0.0/16')
  .egress('sg-open', '-1', undefined, '0.0.0.0/0')
  .eni('eni-web', { privateIpv4: ['10.0.1.10'], sgIds: ['sg-web'] })
  .eni('eni-grpc', { privateIpv4: ['10.0.2.20'], sgIds: ['sg-grpc'] })
  .eni('eni-alb', { privateIpv4: ['10.0.0.5'], sgIds: ['sg-web'] })
  .eni('eni-nat', { privateIpv4: ['10.0.0.100'], sgIds: [] })
  .eni('eni-fn', { privateIpv4: ['10.0.5.50'], sgIds: ['sg-open'] })
  .eni('eni-eks', { privateIpv4: ['10.0.6.60'], ipv4Prefixes: ['10.0.10.176/28'], sgIds: ['sg-open'] })
  .build();
const TYPES = new Map<string, ResourceType>([
  ['eni-web', 'ec2'],
  ['eni-grpc', 'ec2'],
  ['eni-alb', 'elb'],
  ['eni-nat', 'nat-gateway'],
  ['eni-fn', 'lambda'],
  ['eni-eks', 'eks'],
]);
const CONTEXT = { ruleIndex: RuleIndex.build(ACCOUNT), resourceTypeOfEni: (id: string) => TYPES.get(id) };
const ENIS = ['eni-web', 'eni-grpc', 'eni-alb', 'eni-nat', 'eni-fn', 'eni-eks', 'eni-unknown'];
const ADDRESSES = [
  '10.0.1.10',
  '10.0.2.20',
  '10.0.0.5',
  '10.0.0.100',
  '10.0.5.50',
  '10.0.6.60',
  '10.0.10.180', // in eni-eks's delegated prefix
  '10.0.9.9', // in the VPC, on no ENI
  '203.0.113.7', // the internet
];
const PORTS = [53, 443, 1000, 2000, 8080, 32767, 32768, 40000, 50051, 60999, 65535];

const COLUMNS = [
  'eni_id VARCHAR',
  'action VARCHAR',
  'protocol INTEGER',
  'client_addr VARCHAR',
  'server_addr VARCHAR',
  'server_port INTEGER',
  'client_port INTEGER',
  'evidence VARCHAR',
  'records BIGINT',
  'request_records BIGINT',
  'syn_records BIGINT',
  'packets BIGINT',
  'bytes BIGINT',
  'first_seen BIGINT',
  'last_seen BIGINT',
  'distinct_client_ports BIGINT',
];

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

const port = (value: number | null): string => (value === null ? 'NULL' : String(value));

/** Writes the rows as the aggregate query would have, settles them, and reads the result back. */
async function settle(rows: readonly FlowAggregate[], plan: EphemeralFoldPlan): Promise<FlowAggregate[]> {
  await connection.run(`CREATE OR REPLACE TEMP TABLE agg (${COLUMNS.join(', ')})`);
  if (rows.length > 0) {
    const values = rows.map(
      (a) =>
        `(${[
          sqlString(a.eniId),
          sqlString(a.action),
          a.protocol,
          sqlString(a.clientAddr),
          sqlString(a.serverAddr),
          port(a.serverPort),
          port(a.clientPort),
          sqlString(a.evidence),
          a.records,
          a.requestRecords,
          a.synRecords,
          a.packets,
          a.bytes,
          a.firstSeen,
          a.lastSeen,
          a.distinctClientPorts,
        ].join(', ')})`,
    );
    await connection.run(`INSERT INTO agg VALUES ${values.join(', ')}`);
  }
  await settleUndecidedRows(connection, 'agg', 'settled', plan);
  const result = (await connection.runAndReadAll('SELECT * FROM settled')).getRowObjects();
  return result.map((r) => ({
    eniId: String(r.eni_id),
    action: r.action === 'ACCEPT' ? 'ACCEPT' : 'REJECT',
    protocol: Number(r.protocol),
    clientAddr: String(r.client_addr),
    serverAddr: String(r.server_addr),
    serverPort: r.server_port === null ? null : Number(r.server_port),
    clientPort: r.client_port === null ? null : Number(r.client_port),
    evidence: String(r.evidence) as FlowAggregate['evidence'],
    records: Number(r.records),
    requestRecords: Number(r.request_records),
    synRecords: Number(r.syn_records),
    packets: Number(r.packets),
    bytes: Number(r.bytes),
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    distinctClientPorts: Number(r.distinct_client_ports),
  }));
}

const sorted = (connections: readonly Connection[]): Connection[] =>
  [...connections].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

function fold(rows: readonly FlowAggregate[]) {
  const result = foldConnections(rows, CONTEXT, DEFAULT_CONFIG);
  return { ...result, connections: sorted(result.connections) };
}

/** An undecided row the way the aggregate SQL writes it: the higher port's side is the client. */
const undecidedRow = fc
  .record({
    eniId: fc.constantFrom(...ENIS),
    action: fc.constantFrom<'ACCEPT' | 'REJECT'>('ACCEPT', 'ACCEPT', 'REJECT'),
    protocol: fc.constantFrom(6, 17),
    a: fc.constantFrom(...ADDRESSES),
    b: fc.constantFrom(...ADDRESSES),
    pa: fc.constantFrom(...PORTS),
    pb: fc.constantFrom(...PORTS),
    records: fc.integer({ min: 1, max: 9 }),
    requests: fc.integer({ min: 0, max: 9 }),
    first: fc.integer({ min: 1_000, max: 2_000 }),
    span: fc.integer({ min: 0, max: 500 }),
  })
  .filter((r) => r.a !== r.b)
  .map((r): FlowAggregate => {
    const aIsClient = r.pa !== r.pb ? r.pa > r.pb : r.a < r.b;
    return {
      eniId: r.eniId,
      action: r.action,
      protocol: r.protocol,
      clientAddr: aIsClient ? r.a : r.b,
      serverAddr: aIsClient ? r.b : r.a,
      serverPort: aIsClient ? r.pb : r.pa,
      clientPort: aIsClient ? r.pa : r.pb,
      evidence: 'undecided',
      records: r.records,
      requestRecords: Math.min(r.records, r.requests),
      synRecords: 0,
      packets: r.records * 3,
      bytes: r.records * 300,
      firstSeen: r.first,
      lastSeen: r.first + r.span,
      distinctClientPorts: 1,
    };
  });

/** A row the engine decided (tcp-flags or a well-known port), sharing keys with undecided ones. */
const decidedRow = undecidedRow.map(
  (row): FlowAggregate => ({
    ...row,
    clientPort: null,
    evidence: row.serverPort !== null && row.serverPort < 1024 ? 'well-known' : 'flags',
    synRecords: 1,
    distinctClientPorts: 2,
  }),
);

/** Rows unique per aggregate key, as a GROUP BY yields them. */
const uniqueRows = (rows: readonly FlowAggregate[]): FlowAggregate[] => {
  const byKey = new Map<string, FlowAggregate>();
  for (const row of rows) {
    byKey.set(
      [
        row.eniId,
        row.action,
        row.protocol,
        row.clientAddr,
        row.serverAddr,
        row.serverPort,
        row.clientPort,
      ].join('|'),
      row,
    );
  }
  return [...byKey.values()];
};

describe('settleUndecidedRows', () => {
  it('gives the core the same connections, transit and ambiguity counts as the unsettled rows', async () => {
    // Prepare
    const plan = ephemeralFoldPlan(ACCOUNT, CONTEXT.resourceTypeOfEni, DEFAULT_CONFIG);
    expect(plan).toBeDefined();
    const property = fc.asyncProperty(
      fc.array(fc.oneof({ weight: 4, arbitrary: undecidedRow }, { weight: 1, arbitrary: decidedRow }), {
        maxLength: 60,
      }),
      async (generated) => {
        const rows = uniqueRows(generated);
        // Act
        const settled = await settle(rows, plan as EphemeralFoldPlan);
        // Assess
        expect(fold(settled)).toEqual(fold(rows));
      },
    );
    await fc.assert(property, { numRuns: 60 });
  });

  it('folds every client port of a settled connection into one row with the ports counted', async () => {
    // Prepare: three connections from the internet to eni-web's 8080, one from its own 40000.
    const plan = ephemeralFoldPlan(ACCOUNT, CONTEXT.resourceTypeOfEni, DEFAULT_CONFIG) as EphemeralFoldPlan;
    const base: FlowAggregate = {
      eniId: 'eni-web',
      action: 'ACCEPT',
      protocol: 6,
      clientAddr: '203.0.113.7',
      serverAddr: '10.0.1.10',
      serverPort: 8080,
      clientPort: 40000,
      evidence: 'undecided',
      records: 2,
      requestRecords: 1,
      synRecords: 0,
      packets: 6,
      bytes: 600,
      firstSeen: 1_000,
      lastSeen: 1_100,
      distinctClientPorts: 1,
    };
    const rows = [
      base,
      { ...base, clientPort: 40001, firstSeen: 900 },
      { ...base, clientPort: 50000, lastSeen: 1_300 },
    ];
    // Act
    const settled = await settle(rows, plan);
    // Assess
    expect(settled).toEqual([
      {
        ...base,
        clientPort: null,
        evidence: 'peer-ephemeral',
        records: 6,
        requestRecords: 3,
        packets: 18,
        bytes: 1800,
        firstSeen: 900,
        lastSeen: 1_300,
        distinctClientPorts: 3,
      },
    ]);
  });

  it('flips a row whose tentative client is the service and leaves rows it cannot settle as they are', async () => {
    // Prepare: eni-web (EC2) calls 203.0.113.7:2000 from 33000 — the higher port is the ENI's
    // ephemeral one, so the SQL's tentative orientation was right; eni-alb's row between two
    // any-port sides stays undecided.
    const plan = ephemeralFoldPlan(ACCOUNT, CONTEXT.resourceTypeOfEni, DEFAULT_CONFIG) as EphemeralFoldPlan;
    const flipped: FlowAggregate = {
      eniId: 'eni-web',
      action: 'ACCEPT',
      protocol: 6,
      clientAddr: '203.0.113.7',
      serverAddr: '10.0.1.10',
      serverPort: 33000,
      clientPort: 40000,
      evidence: 'undecided',
      records: 4,
      requestRecords: 1,
      synRecords: 0,
      packets: 8,
      bytes: 800,
      firstSeen: 1_000,
      lastSeen: 1_010,
      distinctClientPorts: 1,
    };
    const unsettled: FlowAggregate = {
      ...flipped,
      eniId: 'eni-alb',
      clientAddr: '10.0.0.100',
      serverAddr: '10.0.0.5',
      serverPort: 3000,
      clientPort: 4000,
    };
    // Act
    const settled = await settle([flipped, unsettled], plan);
    // Assess: 203.0.113.7:40000 is ephemeral (default range) and 33000 is eni-web's too — equal,
    // so it is not settled either; only rows with exactly one ephemeral side are.
    expect(settled).toEqual(expect.arrayContaining([unsettled, flipped]));
    // The NAT gateway (any client port) calls eni-web's 8080 from its port 2000: the SQL took the
    // higher port (8080) for the client; the plan flips it.
    const fromNat: FlowAggregate = {
      ...flipped,
      clientAddr: '10.0.1.10',
      serverAddr: '10.0.0.100',
      serverPort: 2000,
      clientPort: 8080,
    };
    const [inbound] = await settle([fromNat], plan);
    expect(inbound).toEqual({
      ...fromNat,
      clientAddr: '10.0.0.100',
      serverAddr: '10.0.1.10',
      serverPort: 8080,
      clientPort: null,
      evidence: 'peer-ephemeral',
      requestRecords: 3,
    });
  });
});

describe('ephemeralFoldPlan', () => {
  it('lists every inventory address with its ENI, delegated prefixes after exact addresses', () => {
    // Act
    const plan = ephemeralFoldPlan(ACCOUNT, CONTEXT.resourceTypeOfEni, DEFAULT_CONFIG);
    // Assess
    expect(plan?.addresses).toContainEqual({ addr: '10.0.1.10', eniId: 'eni-web' });
    expect(plan?.addresses.filter((a) => a.eniId === 'eni-eks')).toHaveLength(17);
    expect(plan?.enis).toContainEqual({ eniId: 'eni-alb', ranges: [{ from: 1024, to: 65535 }] });
    expect(plan?.defaultRanges).toEqual([{ from: 32768, to: 65535 }]);
  });

  it('is withheld when an address is on two ENIs or a delegated prefix is unusually wide', () => {
    // Prepare
    const shared = new InventoryBuilder()
      .eni('eni-1', { privateIpv4: ['10.0.0.1'] })
      .eni('eni-2', { privateIpv4: ['10.0.0.1'] })
      .build();
    const wide = new InventoryBuilder()
      .eni('eni-1', { privateIpv4: ['10.0.0.1'], ipv4Prefixes: ['10.1.0.0/16'] })
      .build();
    // Act / Assess
    expect(ephemeralFoldPlan(shared, () => 'ec2', DEFAULT_CONFIG)).toBeUndefined();
    expect(ephemeralFoldPlan(wide, () => 'ec2', DEFAULT_CONFIG)).toBeUndefined();
  });

  it('merges overlapping configured ranges, so an engine joins a port to at most one', () => {
    // Prepare
    const config = {
      ...DEFAULT_CONFIG,
      ephemeralRanges: {
        default: [
          { from: 40000, to: 65535 },
          { from: 32768, to: 50000 },
          { from: 1024, to: 2000 },
        ],
      },
    };
    const inventory = new InventoryBuilder().eni('eni-1', { privateIpv4: ['10.0.0.1'] }).build();

    // Act
    const plan = ephemeralFoldPlan(inventory, () => undefined, config);

    // Assess
    expect(plan?.defaultRanges).toEqual([
      { from: 1024, to: 2000 },
      { from: 32768, to: 65535 },
    ]);
    expect(plan?.enis).toEqual([{ eniId: 'eni-1', ranges: plan?.defaultRanges }]);
  });
});
