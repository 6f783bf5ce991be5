/**
 * Generated NACL recommendation inputs, seeded: NACLs of 25 ENIs, connections / 20 distinct peers
 * clustered in public /24s, scattered public, private and some IPv6, service ports and random
 * high ports, mostly TCP. The NACL tests and `bench/measure-core.ts nacl N` both use it.
 */
import type { NaclContext } from '../shared/analysis/nacl';
import type { MatchedConnection } from '../shared/model/analysis';
import type { Inventory, NetworkInterface, ResourceType } from '../shared/model/inventory';
import { RuleIndex } from '../shared/rules/rule-index';
import { inventoryOf, networkInterface } from './inventory-builder';

/** A deterministic pseudo-random stream in [0, 1) (LCG). */
export function randomStream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface NaclInput {
  readonly inventory: Inventory;
  readonly context: NaclContext;
  readonly matched: MatchedConnection[];
  /** Distinct peer addresses drawn (ENI-to-ENI connections aside). */
  readonly peers: number;
}

const TYPES: readonly ResourceType[] = ['ec2', 'elb', 'lambda', 'rds'];
const SERVICE_PORTS = [22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9090, 53];

/** The peer addresses: 40 % a few per public /24, 35 % scattered public, 20 % private, 5 % IPv6. */
function peerAddresses(count: number, random: () => number): string[] {
  const octet = () => Math.floor(random() * 256);
  const addrs: string[] = [];
  for (let p = 0; p < count; p++) {
    const kind = random();
    if (kind < 0.4) addrs.push(`203.${(p >> 8) & 255}.${p & 255}.${Math.floor(random() * 4) + 1}`);
    else if (kind < 0.75) addrs.push(`${11 + Math.floor(random() * 180)}.${octet()}.${octet()}.${octet()}`);
    else if (kind < 0.95) addrs.push(`10.${100 + Math.floor(random() * 50)}.${octet()}.${octet()}`);
    else addrs.push(`2001:db8:${octet().toString(16)}::${octet().toString(16)}`);
  }
  return addrs;
}

/**
 * `connections` matched connections across `nacls` NACLs of one subnet and 25 ENIs each.
 *
 * @example naclInput(2000, 7).matched.length // 2000
 */
export function naclInput(connections: number, seed: number, nacls = 4): NaclInput {
  const random = randomStream(seed);
  const typeOfEni = new Map<string, ResourceType>();
  const typeOfAddress = new Map<string, ResourceType>();
  const enis: NetworkInterface[] = [];
  for (let a = 0; a < nacls; a++) {
    for (let e = 0; e < 25; e++) {
      const eni = networkInterface(`eni-${a}-${e}`, {
        subnetId: `subnet-${a}`,
        privateIpv4: [`10.${a}.0.${e + 10}`],
      });
      enis.push(eni);
      const type = TYPES[e % TYPES.length] as ResourceType;
      typeOfEni.set(eni.id, type);
      typeOfAddress.set(eni.privateIpv4[0] as string, type);
    }
  }
  const peers = peerAddresses(Math.max(10, Math.round(connections / 20)), random);
  const matched: MatchedConnection[] = [];
  for (let c = 0; c < connections; c++) {
    const eni = enis[Math.floor(random() * enis.length)] as NetworkInterface;
    // Now and then a peer is another ENI (same subnet or another NACL's).
    const peerAddr =
      random() < 0.02
        ? ((enis[Math.floor(random() * enis.length)] as NetworkInterface).privateIpv4[0] as string)
        : (peers[Math.floor(random() * peers.length)] as string);
    const port =
      random() < 0.3
        ? 1024 + Math.floor(random() * 64_000)
        : (SERVICE_PORTS[Math.floor(random() * SERVICE_PORTS.length)] as number);
    const protocol = random() < 0.9 ? 6 : random() < 0.7 ? 17 : peerAddr.includes(':') ? 58 : 1;
    matched.push({
      eniId: eni.id,
      direction: random() < 0.6 ? 'inbound' : 'outbound',
      action: random() < 0.95 ? 'ACCEPT' : 'REJECT',
      protocol,
      port: protocol === 1 || protocol === 58 ? null : port,
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
  const inventory = inventoryOf({
    networkInterfaces: enis,
    networkAcls: Array.from({ length: nacls }, (_, a) => ({
      id: `acl-${a}`,
      vpcId: 'vpc-1',
      isDefault: false,
      subnetIds: [`subnet-${a}`],
      entries: [],
    })),
  });
  const context: NaclContext = {
    ruleIndex: RuleIndex.build(inventory),
    resourceTypeOfEni: (id) => typeOfEni.get(id),
    resourceTypeOfAddress: (addr) => typeOfAddress.get(addr),
  };
  return { inventory, context, matched, peers: peers.length };
}
