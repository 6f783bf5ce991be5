/**
 * Core scaling, one size per process (so peak RSS is this size's alone):
 *   measure-core.ts N          the synthetic account of N SGs: runAudit over a plain in-memory
 *                              flow source, then every renderer
 *   measure-core.ts nacl N     recommendNacls alone on N matched connections (see naclInput)
 * Prints one JSON line of timings, sizes and peak RSS.
 */

import { type NaclContext, recommendNacls } from '../shared/analysis/nacl';
import { runAudit } from '../shared/audit';
import { DEFAULT_CONFIG } from '../shared/config';
import type { MatchedConnection } from '../shared/model/analysis';
import type { FlowAggregateSource, FlowQuery, TimeWindow } from '../shared/model/flow';
import type { Inventory, NetworkInterface, ResourceType } from '../shared/model/inventory';
import { OUTPUT_FORMATS, renderReport } from '../shared/render';
import { RuleIndex } from '../shared/rules/rule-index';
import { syntheticAccount } from './synthetic-account';

/** A deterministic pseudo-random stream in [0, 1) (LCG), so every run measures the same input. */
function randomStream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * NACL input of `connections` matched connections: 4 NACLs of one subnet and 25 ENIs each (EC2,
 * ELB, Lambda, RDS), connections / 20 distinct peers (40 % a few per public /24, 40 % scattered
 * public, 20 % private in other subnets), 60 % inbound, 70 % on 10 service ports and 30 % on
 * random high ports, 90 % TCP, 5 % rejected.
 */
function naclInput(connections: number): {
  inventory: Inventory;
  context: NaclContext;
  matched: MatchedConnection[];
  peers: number;
} {
  const nacls = 4;
  const peers = Math.max(10, Math.round(connections / 20));
  const types: readonly ResourceType[] = ['ec2', 'elb', 'lambda', 'rds'];
  const typeOfEni = new Map<string, ResourceType>();
  const typeOfAddress = new Map<string, ResourceType>();
  const enis: NetworkInterface[] = [];
  for (let a = 0; a < nacls; a++) {
    for (let e = 0; e < 25; e++) {
      const eni: NetworkInterface = {
        id: `eni-${a}-${e}`,
        vpcId: 'vpc-1',
        subnetId: `subnet-${a}`,
        interfaceType: 'interface',
        description: '',
        requesterManaged: false,
        privateIpv4: [`10.${a}.0.${e + 10}`],
        ipv6: [],
        publicIpv4: [],
        sgIds: [],
        tags: {},
      };
      enis.push(eni);
      typeOfEni.set(eni.id, types[e % types.length] as ResourceType);
      typeOfAddress.set(eni.privateIpv4[0] as string, types[e % types.length] as ResourceType);
    }
  }
  const random = randomStream(42);
  const octet = () => Math.floor(random() * 256);
  const peerAddrs: string[] = [];
  for (let p = 0; p < peers; p++) {
    const kind = random();
    if (kind < 0.4) peerAddrs.push(`203.${(p >> 8) & 255}.${p & 255}.${Math.floor(random() * 4) + 1}`);
    else if (kind < 0.8)
      peerAddrs.push(`${11 + Math.floor(random() * 180)}.${octet()}.${octet()}.${octet()}`);
    else peerAddrs.push(`10.${100 + Math.floor(random() * 50)}.${octet()}.${octet()}`);
  }
  const servicePorts = [22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9090, 53];
  const matched: MatchedConnection[] = [];
  for (let c = 0; c < connections; c++) {
    const eni = enis[Math.floor(random() * enis.length)] as NetworkInterface;
    const peerAddr = peerAddrs[Math.floor(random() * peerAddrs.length)] as string;
    const inbound = random() < 0.6;
    const port =
      random() < 0.3
        ? 1024 + Math.floor(random() * 64_000)
        : (servicePorts[Math.floor(random() * servicePorts.length)] as number);
    const protocol = random() < 0.9 ? 6 : random() < 0.7 ? 17 : 1;
    matched.push({
      eniId: eni.id,
      direction: inbound ? 'inbound' : 'outbound',
      action: random() < 0.95 ? 'ACCEPT' : 'REJECT',
      protocol,
      port: protocol === 1 ? null : port,
      localAddr: eni.privateIpv4[0] as string,
      peerAddr,
      evidence: 'flags',
      connections: 1 + Math.floor(random() * 5),
      records: 2,
      packets: 4,
      bytes: 400,
      firstSeen: 0,
      lastSeen: 60,
      ruleIds: [],
    });
  }
  const inventory: Inventory = {
    vpcs: [],
    securityGroups: [],
    networkInterfaces: enis,
    flowLogs: [],
    prefixLists: [],
    networkAcls: Array.from({ length: nacls }, (_, a) => ({
      id: `acl-${a}`,
      vpcId: 'vpc-1',
      isDefault: false,
      subnetIds: [`subnet-${a}`],
      entries: [],
    })),
  };
  const context: NaclContext = {
    ruleIndex: RuleIndex.build(inventory),
    resourceTypeOfEni: (id) => typeOfEni.get(id),
    resourceTypeOfAddress: (addr) => typeOfAddress.get(addr),
  };
  return { inventory, context, matched, peers };
}

if (process.argv[2] === 'nacl') {
  const connections = Number(process.argv[3]);
  if (!Number.isSafeInteger(connections) || connections < 1) throw new Error('usage: measure-core.ts nacl N');
  const input = naclInput(connections);
  const started = performance.now();
  const rules = recommendNacls(input.inventory, input.matched, input.context, DEFAULT_CONFIG);
  const naclMs = performance.now() - started;
  const nacl = {
    connections,
    peers: input.peers,
    rules: rules.length,
    naclMs: Math.round(naclMs),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(nacl)}\n`);
  process.exit(0);
}

const n = Number(process.argv[2]);
if (!Number.isSafeInteger(n) || n < 1) throw new Error('usage: measure-core.ts N | measure-core.ts nacl N');

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const window: TimeWindow = { start: T0, end: T0 + 7 * 86400 - 1 };

const generateStarted = performance.now();
const account = syntheticAccount({ securityGroups: n, window });
const generateMs = performance.now() - generateStarted;

/** The rows of the ENIs asked for, as a flow engine would return them: no engine cost. */
const flowSource: FlowAggregateSource = {
  async aggregate(query: FlowQuery) {
    const wanted = new Set(query.eniIds);
    const aggregates =
      wanted.size === 0 ? account.aggregates : account.aggregates.filter((a) => wanted.has(a.eniId));
    return {
      aggregates,
      stats: {
        engine: 'in-memory',
        sources: account.flowLogTargets.map((t) => t.flowLogId),
        files: 0,
        records: aggregates.reduce((sum, a) => sum + a.records, 0),
        nodataRecords: 0,
        skipdataRecords: 0,
        malformedRecords: 0,
        malformedSamples: [],
        queries: 1,
        bytesScanned: 0,
        enisWithRecords: [...new Set(aggregates.map((a) => a.eniId))].sort(),
        warnings: [],
      },
    };
  },
};

const phases: Record<string, number> = {};
let last = performance.now();
const analysisStarted = last;
const report = await runAudit({
  inventory: account.inventory,
  flowSource,
  window,
  scope: { vpcIds: [], sgIds: [] },
  config: DEFAULT_CONFIG,
  mode: 'offline',
  runId: `bench-core-${n}`,
  generatedAt: new Date(T0 * 1000 + 7 * 86400 * 1000),
  toolVersion: 'bench',
  progress: (message) => {
    const now = performance.now();
    phases[message.split(':')[0] ?? message] = Math.round(now - last);
    last = now;
  },
});
const analysisMs = performance.now() - analysisStarted;
phases.report = Math.round(performance.now() - last);

const renderMs: Record<string, number> = {};
let bytes = 0;
for (const format of OUTPUT_FORMATS) {
  const started = performance.now();
  const files = await renderReport(report, [format]);
  renderMs[format] = Math.round(performance.now() - started);
  for (const file of files)
    bytes += typeof file.body === 'string' ? Buffer.byteLength(file.body) : file.body.length;
}

const result = {
  securityGroups: n,
  ruleEntries: report.summary.ruleEntries,
  networkInterfaces: account.inventory.networkInterfaces.length,
  aggregateRows: account.aggregates.length,
  findings: report.findings.length,
  generateMs: Math.round(generateMs),
  analysisMs: Math.round(analysisMs),
  phases,
  renderMs,
  renderTotalMs: Object.values(renderMs).reduce((a, b) => a + b, 0),
  outputBytes: bytes,
  rulesByStatus: report.summary.rulesByStatus,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
