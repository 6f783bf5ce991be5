import fc from 'fast-check';
import { foldConnectionRows, foldConnections } from '../../../shared/analysis/fold';
import { DEFAULT_CONFIG } from '../../../shared/config';
import { chooseOneReader, keepOneReaderPerEni } from '../../../shared/coverage/one-reader';
import type { Connection } from '../../../shared/model/analysis';
import type { FlowAggregate, FlowAggregateRows, FlowRowReader } from '../../../shared/model/flow';
import type { FlowLogConfig, NetworkInterface, ResourceType } from '../../../shared/model/inventory';
import { RuleIndex } from '../../../shared/rules/rule-index';
import {
  inventoryOf,
  networkInterface,
  ruleEntry as rule,
  sgWithRules as sg,
  vpc,
} from '../../../testkit/inventory-builder';
import { flowAggregate } from '../../support/flow-records';

// An account whose rules settle some undecided rows (listening) and leave others to the
// counterpart-port evidence and the lower port: every pass of the fold has work.
const eni = (id: string, ip: string, sgIds: string[]): NetworkInterface =>
  networkInterface(id, { privateIpv4: [ip], ipv6: [], sgIds });
const ACCOUNT = inventoryOf({
  vpcs: [vpc('vpc-1', { cidrs: ['10.0.0.0/8'] })],
  securityGroups: [
    sg('sg-web', [
      rule('sg-web', 'ingress', 'tcp', [8080, 8080], '10.0.0.0/16'),
      rule('sg-web', 'egress', '-1', undefined, '0.0.0.0/0'),
    ]),
    sg('sg-open', [
      rule('sg-open', 'ingress', 'tcp', [0, 65535], '0.0.0.0/0'),
      rule('sg-open', 'egress', '-1', undefined, '0.0.0.0/0'),
    ]),
  ],
  networkInterfaces: [
    eni('eni-web', '10.0.1.10', ['sg-web']),
    eni('eni-open', '10.0.2.20', ['sg-open']),
    eni('eni-alb', '10.0.0.5', []),
  ],
});
const TYPES = new Map<string, ResourceType>([
  ['eni-web', 'ec2'],
  ['eni-open', 'ec2'],
  ['eni-alb', 'elb'],
]);
const CONTEXT = {
  ruleIndex: RuleIndex.build(ACCOUNT),
  resourceTypeOfEni: (id: string) => TYPES.get(id),
};
const LOCAL: Readonly<Record<string, string>> = {
  'eni-web': '10.0.1.10',
  'eni-open': '10.0.2.20',
  'eni-alb': '10.0.0.5',
};
const PEERS = ['10.0.0.5', '10.0.1.10', '10.0.9.9', '203.0.113.7', '198.51.100.1'];
const PORTS = [22, 443, 1500, 5000, 8080, 9000, 33000, 40000, 50000, 61000];
const LOGS = ['fl-vpc', 'fl-eni'];

const row: fc.Arbitrary<FlowAggregate> = fc
  .record({
    eniId: fc.constantFrom('eni-web', 'eni-open', 'eni-alb'),
    peer: fc.constantFrom(...PEERS),
    localServes: fc.boolean(),
    action: fc.constantFrom('ACCEPT' as const, 'REJECT' as const),
    protocol: fc.constantFrom(6, 17, 50),
    serverPort: fc.constantFrom(...PORTS),
    clientPort: fc.constantFrom(...PORTS),
    evidence: fc.constantFrom(
      'flags' as const,
      'well-known' as const,
      'peer-ephemeral' as const,
      'undecided' as const,
    ),
    keepsClientPort: fc.boolean(),
    records: fc.integer({ min: 1, max: 9 }),
    syn: fc.integer({ min: 0, max: 3 }),
    clientPorts: fc.integer({ min: 0, max: 12 }),
    first: fc.integer({ min: 0, max: 500 }),
    log: fc.option(fc.constantFrom(...LOGS), { nil: undefined }),
  })
  .map((r) => {
    const local = LOCAL[r.eniId] as string;
    const portless = r.protocol === 50;
    const undecidedWithPorts = r.evidence === 'undecided' && r.keepsClientPort && !portless;
    return flowAggregate({
      eniId: r.eniId,
      action: r.action,
      protocol: r.protocol,
      clientAddr: r.localServes ? r.peer : local,
      serverAddr: r.localServes ? local : r.peer,
      serverPort: portless ? null : r.serverPort,
      clientPort: undecidedWithPorts ? r.clientPort : null,
      evidence: r.evidence,
      records: r.records,
      requestRecords: Math.min(r.records, 1 + (r.first % 3)),
      synRecords: r.evidence === 'flags' ? r.syn : 0,
      packets: r.records * 3,
      bytes: r.records * 300,
      firstSeen: r.first,
      lastSeen: r.first + 60,
      distinctClientPorts: undecidedWithPorts || portless ? (portless ? 0 : 1) : r.clientPorts,
      ...(r.log === undefined ? {} : { flowLogId: r.log }),
    });
  });

/** Streams `rows` as a source would: in chunks of `size`, in the order given, every read alike. */
function streamed(rows: readonly FlowAggregate[], size: number): FlowAggregateRows & { reads: number } {
  const stream = {
    reads: 0,
    async *read(options: { undecidedOnly?: boolean } = {}) {
      stream.reads++;
      const wanted = options.undecidedOnly === true ? rows.filter((r) => r.evidence === 'undecided') : rows;
      for (let i = 0; i < wanted.length; i += size) yield wanted.slice(i, i + size);
    },
    async readers(): Promise<FlowRowReader[]> {
      return rows.map((r) => ({
        eniId: r.eniId,
        action: r.action,
        ...(r.flowLogId === undefined ? {} : { flowLogId: r.flowLogId }),
      }));
    },
  };
  return stream;
}

const keyOf = (c: Connection) =>
  [c.eniId, c.direction, c.action, c.protocol, c.port, c.localAddr, c.peerAddr].join('|');
const sorted = (connections: readonly Connection[]) =>
  [...connections].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

describe('foldConnectionRows', () => {
  it('folds streamed rows, in any order and chunking, into exactly what foldConnections folds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 80 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 1000 }),
        async (rows, size, seed) => {
          // Prepare: the same rows, rotated (a source returns them in any order).
          const shift = rows.length === 0 ? 0 : seed % rows.length;
          const reordered = [...rows.slice(shift), ...rows.slice(0, shift)];
          const config = { ...DEFAULT_CONFIG, counterpartMinPorts: 2 };
          // Act
          const expected = foldConnections(rows, CONTEXT, config);
          const actual = await foldConnectionRows(streamed(reordered, size), CONTEXT, config);
          // Assess
          expect(sorted(actual.connections)).toEqual(sorted(expected.connections));
          expect(actual.transit).toBe(expected.transit);
          expect(actual.ambiguous).toBe(expected.ambiguous);
          expect(actual.rows).toBe(rows.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads the rows once when none is left for the counterpart-port pass, twice otherwise', async () => {
    // Prepare: a decided row alone, then an undecided one between two ephemeral ports the rules do not settle.
    const decided = flowAggregate({ eniId: 'eni-open', clientAddr: '203.0.113.7', serverAddr: '10.0.2.20' });
    const undecided = flowAggregate({
      eniId: 'eni-open',
      clientAddr: '10.0.0.5',
      serverAddr: '10.0.2.20',
      serverPort: 40000,
      clientPort: 50000,
      evidence: 'undecided',
    });
    // Act
    const once = streamed([decided], 10);
    await foldConnectionRows(once, CONTEXT, DEFAULT_CONFIG);
    const twice = streamed([decided, undecided], 10);
    const result = await foldConnectionRows(twice, CONTEXT, DEFAULT_CONFIG);
    // Assess
    expect(once.reads).toBe(1);
    expect(twice.reads).toBe(2);
    expect(result.ambiguous).toBe(1);
  });

  it('keeps one flow log per ENI as keepOneReaderPerEni does, counting what it leaves out once', async () => {
    const flowLogs: FlowLogConfig[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        async (rows, size) => {
          // Prepare
          const expected = keepOneReaderPerEni(rows, flowLogs, undefined);
          const stream = streamed(rows, size);
          const choice = chooseOneReader(await stream.readers(), flowLogs, undefined);
          // Act
          const actual = await foldConnectionRows(stream, CONTEXT, DEFAULT_CONFIG, {
            keep: (r) => choice.keeps(r),
            skipped: (r) => choice.leftOut(r),
          });
          // Assess
          const reference = foldConnections(expected.aggregates, CONTEXT, DEFAULT_CONFIG);
          expect(sorted(actual.connections)).toEqual(sorted(reference.connections));
          expect(actual.rows).toBe(expected.aggregates.length);
          expect(choice.choices).toEqual(expected.choices);
        },
      ),
      { numRuns: 200 },
    );
  });
});
