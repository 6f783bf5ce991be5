import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { createFoldPlanTables, dropFoldPlanTables } from '../../../../adapters/local/duckdb/fold-plan-tables';
import { foldConnections } from '../../../../shared/analysis/fold';
import { ephemeralFoldPlan } from '../../../../shared/analysis/fold-plan';
import { DEFAULT_CONFIG } from '../../../../shared/config';
import {
  buildFlowSinglePassSql,
  type FoldPlanTables,
  flowAggregateFromRow,
  type ResultCell,
} from '../../../../shared/flow/aggregate-sql';
import { DEFAULT_FIELDS, PACKET_FIELDS } from '../../../../shared/flow/format';
import type { Connection } from '../../../../shared/model/analysis';
import type { EphemeralFoldPlan, FlowAggregate } from '../../../../shared/model/flow';
import type { ResourceType } from '../../../../shared/model/inventory';
import { RuleIndex } from '../../../../shared/rules/rule-index';
import { InventoryBuilder } from '../../../../testkit/inventory-builder';
import { flowRecordsRelation, type SqlFlowRecord } from '../../../support/flow-sql';

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

const T0 = 1_700_000_000;
const WINDOW = { start: T0, end: T0 + 3600 };

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let tables: FoldPlanTables;
const PLAN = ephemeralFoldPlan(ACCOUNT, CONTEXT.resourceTypeOfEni, DEFAULT_CONFIG) as EphemeralFoldPlan;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  tables = await createFoldPlanTables(connection, PLAN);
});

afterAll(async () => {
  await dropFoldPlanTables(connection);
  connection.closeSync();
  instance.closeSync();
});

interface SinglePass {
  readonly aggregates: FlowAggregate[];
  /** The statistics rows (row_kind 'eni' and 'totals'), sorted. */
  readonly stats: string[];
}

/** Runs the single-pass query over the records, with or without the fold plan. */
async function singlePass(
  records: readonly SqlFlowRecord[],
  withPlan: boolean,
  fields: readonly string[] = [...DEFAULT_FIELDS, 'tcp-flags'],
): Promise<SinglePass> {
  const sql = buildFlowSinglePassSql({
    dialect: 'duckdb',
    relation: flowRecordsRelation(records),
    fields,
    window: WINDOW,
    ...(withPlan ? { foldPlan: tables } : {}),
  });
  const rows = (await connection.runAndReadAll(sql)).getRowObjects();
  return {
    aggregates: rows
      .filter((r) => r.row_kind === 'aggregate')
      .map((r) => flowAggregateFromRow(r as Record<string, ResultCell>)),
    stats: rows
      .filter((r) => r.row_kind !== 'aggregate')
      .map((r) => JSON.stringify(r, (_key, value) => (typeof value === 'bigint' ? Number(value) : value)))
      .sort(),
  };
}

const sorted = (connections: readonly Connection[]): Connection[] =>
  [...connections].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

function fold(rows: readonly FlowAggregate[]) {
  const result = foldConnections(rows, CONTEXT, DEFAULT_CONFIG);
  return { ...result, connections: sorted(result.connections) };
}

/** A flow-log record between two addresses of the account or the internet, mostly without flags. */
const flowRecord = fc
  .record({
    eni: fc.constantFrom(...ENIS),
    src: fc.constantFrom(...ADDRESSES),
    dst: fc.constantFrom(...ADDRESSES),
    sport: fc.constantFrom(...PORTS),
    dport: fc.constantFrom(...PORTS),
    protocol: fc.constantFrom(6, 6, 17),
    packets: fc.integer({ min: 1, max: 9 }),
    start: fc.integer({ min: WINDOW.start - 60, max: WINDOW.end }),
    span: fc.integer({ min: 0, max: 120 }),
    action: fc.constantFrom('ACCEPT', 'ACCEPT', 'REJECT'),
    flags: fc.constantFrom<number | null>(null, null, null, null, 2, 18, 19),
  })
  .filter((r) => r.src !== r.dst)
  .map(
    (r): SqlFlowRecord => ({
      eni: r.eni,
      src: r.src,
      dst: r.dst,
      sport: r.sport,
      dport: r.dport,
      protocol: r.protocol,
      packets: r.packets,
      bytes: r.packets * 100,
      start: r.start,
      end: r.start + r.span,
      action: r.action,
      status: 'OK',
      flags: r.flags,
    }),
  );

/** A record from `src`:`sport` to `dst`:`dport` on eni-web, without flags. */
function webRecord(overrides: Partial<SqlFlowRecord>): SqlFlowRecord {
  return {
    eni: 'eni-web',
    src: '203.0.113.7',
    dst: '10.0.1.10',
    sport: 40000,
    dport: 8080,
    protocol: 6,
    packets: 3,
    bytes: 300,
    start: T0 + 100,
    end: T0 + 160,
    action: 'ACCEPT',
    status: 'OK',
    flags: null,
    ...overrides,
  };
}

describe('buildFlowSinglePassSql with a fold plan', () => {
  it('gives the core the same connections, transit and ambiguity counts as without the plan', async () => {
    const property = fc.asyncProperty(
      fc.array(flowRecord, { minLength: 1, maxLength: 60 }),
      async (records) => {
        // Act
        const settled = await singlePass(records, true);
        const plain = await singlePass(records, false);
        // Assess
        expect(fold(settled.aggregates)).toEqual(fold(plain.aggregates));
        expect(settled.stats).toEqual(plain.stats);
      },
    );
    await fc.assert(property, { numRuns: 60 });
  });

  it('folds every client port of a settled connection into one row with the ports counted', async () => {
    // Prepare: three connections from the internet to eni-web's 8080 (request and reply each).
    const records = [40000, 40001, 50000].flatMap((port, i) => [
      webRecord({ sport: port, start: T0 + 100 * i, end: T0 + 100 * i + 60 }),
      webRecord({ src: '10.0.1.10', dst: '203.0.113.7', sport: 8080, dport: port, start: T0 + 100 * i }),
    ]);
    // Act
    const { aggregates } = await singlePass(records, true);
    // Assess
    expect(aggregates).toEqual([
      {
        eniId: 'eni-web',
        action: 'ACCEPT',
        protocol: 6,
        clientAddr: '203.0.113.7',
        serverAddr: '10.0.1.10',
        serverPort: 8080,
        clientPort: null,
        evidence: 'peer-ephemeral',
        records: 6,
        requestRecords: 3,
        synRecords: 0,
        packets: 18,
        bytes: 1800,
        firstSeen: T0,
        lastSeen: T0 + 260,
        distinctClientPorts: 3,
      },
    ]);
  });

  it('flips a connection whose tentative client is the service and leaves what it cannot settle', async () => {
    // Prepare: the NAT gateway (any client port) calls eni-web's 8080 from its port 2000 — the
    // SQL takes the higher port (8080) for the client, the plan flips it. eni-alb's row between
    // two any-port sides stays undecided.
    const fromNat = [
      webRecord({ src: '10.0.0.100', sport: 2000, dport: 8080 }),
      webRecord({ src: '10.0.1.10', dst: '10.0.0.100', sport: 8080, dport: 2000 }),
      webRecord({ src: '10.0.1.10', dst: '10.0.0.100', sport: 8080, dport: 2000 }),
    ];
    const betweenAnyPorts = webRecord({
      eni: 'eni-alb',
      src: '10.0.0.100',
      dst: '10.0.0.5',
      sport: 4000,
      dport: 3000,
    });
    // Act
    const { aggregates } = await singlePass([...fromNat, betweenAnyPorts], true);
    // Assess
    expect(aggregates).toHaveLength(2);
    expect(aggregates).toContainEqual(
      expect.objectContaining({
        eniId: 'eni-web',
        clientAddr: '10.0.0.100',
        serverAddr: '10.0.1.10',
        serverPort: 8080,
        clientPort: null,
        evidence: 'peer-ephemeral',
        records: 3,
        requestRecords: 1,
        distinctClientPorts: 1,
      }),
    );
    expect(aggregates).toContainEqual(
      expect.objectContaining({
        eniId: 'eni-alb',
        clientAddr: '10.0.0.100',
        serverAddr: '10.0.0.5',
        serverPort: 3000,
        clientPort: 4000,
        evidence: 'undecided',
      }),
    );
  });

  it("keeps the AWS service of a settled row's server, and names none once a flip makes the other side the server", async () => {
    // Prepare: eni-web calls DynamoDB on 8443 from its ephemeral 40000 (settled, not flipped);
    // the NAT gateway, named EC2 here, calls eni-web's 8080 from 2000 (settled by a flip).
    const toDynamoDb = webRecord({ src: '10.0.1.10', dst: '52.94.12.31', sport: 40000, dport: 8443 });
    const fromNat = webRecord({ src: '10.0.0.100', sport: 2000, dport: 8080, srcService: 'EC2' });
    const records = [
      { ...toDynamoDb, dstService: 'DYNAMODB' },
      {
        ...toDynamoDb,
        src: '52.94.12.31',
        dst: '10.0.1.10',
        sport: 8443,
        dport: 40000,
        srcService: 'DYNAMODB',
      },
      fromNat,
      {
        ...fromNat,
        src: '10.0.1.10',
        dst: '10.0.0.100',
        sport: 8080,
        dport: 2000,
        srcService: null,
        dstService: 'EC2',
      },
    ];

    // Act
    const { aggregates } = await singlePass(records, true, [...DEFAULT_FIELDS, ...PACKET_FIELDS]);

    // Assess
    expect(
      aggregates.map((a) => [a.clientAddr, a.serverAddr, a.serverPort, a.evidence, a.serverService]),
    ).toEqual(
      expect.arrayContaining([
        ['10.0.1.10', '52.94.12.31', 8443, 'peer-ephemeral', 'DYNAMODB'],
        ['10.0.0.100', '10.0.1.10', 8080, 'peer-ephemeral', undefined],
      ]),
    );
    expect(aggregates).toHaveLength(2);
  });

  it('keeps a settled connection apart from the same connection decided by flags', async () => {
    // Prepare: one connection to 8080 with a SYN, one from another client port without flags.
    const records = [webRecord({ flags: 2 }), webRecord({ sport: 40001 })];
    // Act
    const { aggregates } = await singlePass(records, true);
    // Assess
    expect(aggregates.map((a) => [a.evidence, a.distinctClientPorts, a.synRecords]).sort()).toEqual([
      ['flags', 1, 1],
      ['peer-ephemeral', 1, 0],
    ]);
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
