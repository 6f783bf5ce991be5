/**
 * NACL recommendations: the allow rules each network ACL needs for the observed ACCEPT traffic of
 * the ENIs in its subnets. NACLs are stateless, so every connection needs two rules: the request
 * on the service port, and the reply on the client's ephemeral range (which depends on what the
 * client is: an ELB or NAT gateway uses 1024-65535, Linux 32768-…).
 *
 * Peers are summarised like SG recommendations, entries merge exactly, and each direction is
 * compacted to the NACL rule quota by the same fewest-added-addresses merges. Rule numbers step
 * from config.naclFirstRuleNumber by config.naclRuleStep, unique per NACL and direction.
 */
import type { AnalysisConfig, PortGroup } from '../config';
import type { MatchedConnection, NaclRecommendation } from '../model/analysis';
import type { Inventory, NetworkAcl, NetworkInterface, ResourceType } from '../model/inventory';
import {
  type Cidr,
  cidrSize,
  familyBits,
  formatCidr,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIp,
} from '../net/ip';
import { ALL_PORTS, formatPortRange, type PortRange } from '../net/ports';
import { protocolHasPorts, protocolName } from '../net/protocol';
import type { RuleIndex } from '../rules/rule-index';
import { compactToQuota } from './compact';
import { dropContainedEntries, mergeEntriesExactly } from './exact-merge';
import { publicNetworks } from './public-service';
import { groupPorts, summariseDistinctPeers } from './recommend';
import { compareRecommendedEntries, type RecommendedEntry } from './recommended-entry';

/** What NACL recommendations read besides the inventory and the matched connections. */
export interface NaclContext {
  readonly ruleIndex: Pick<RuleIndex, 'eniByAddress' | 'eniAddresses'>;
  readonly resourceTypeOfEni: (eniId: string) => ResourceType | undefined;
  readonly resourceTypeOfAddress: (addr: string) => ResourceType | undefined;
}

type NaclDirection = NaclRecommendation['direction'];
type NaclPurpose = 'service' | 'return-traffic';

/** Traffic one NACL must allow in one direction for one purpose, before peers are summarised. */
interface Need {
  readonly id: string;
  readonly direction: NaclDirection;
  readonly purpose: NaclPurpose;
  readonly protocol: number;
  readonly ports?: PortRange;
  /** Who opened the connections: a peer (inbound connections) or an ENI of the subnets. */
  readonly initiator: 'peer' | 'local';
  /** Return traffic: whose ephemeral range the ports are ('elb', 'ec2', 'default' …). */
  readonly client?: string;
  /** Per peer address: the connections and the service ports they used. */
  readonly peers: Map<string, NeedPeer>;
}

interface NeedPeer {
  readonly ip: IpAddress;
  connections: number;
  /** The service ports the peer used: one (the common case, no set allocated) or a set of them. */
  servicePorts: number | null | Set<number | null>;
}

/** One observed connection (group) as the NACL sees it. */
interface Crossing {
  readonly naclId: string;
  readonly initiator: 'peer' | 'local';
  readonly protocol: number;
  readonly port: number | null;
  readonly ip: IpAddress;
  readonly addr: string;
  /** The client's resource type: the peer's for inbound connections, the ENI's for outbound. */
  readonly clientType: ResourceType | undefined;
  readonly connections: number;
}

/** A peer of a crossing: its address parsed, its canonical text and the subnet holding it. */
interface PeerOfCrossing {
  readonly ip: IpAddress;
  readonly addr: string;
  /** Subnet of the ENI holding the address (null: none). */
  readonly subnet: string | null;
}

/** NACL rule numbers run up to 32766; 32767 stands for the default rule '*'. */
const DEFAULT_RULE_NUMBER = 32767;
const ANY_CLIENT_PORT: readonly PortGroup[] = [{ from: 1024, to: 65535 }];

function opposite(direction: NaclDirection): NaclDirection {
  return direction === 'inbound' ? 'outbound' : 'inbound';
}

/** The client's ephemeral ranges and the name they are known by ('default' when the type has none). */
function ephemeralRangesOf(
  type: ResourceType | undefined,
  config: AnalysisConfig,
): { client: string; ranges: readonly PortGroup[] } {
  const own = type === undefined ? undefined : config.ephemeralRanges[type];
  if (type !== undefined && own !== undefined && own.length > 0) return { client: type, ranges: own };
  return { client: 'default', ranges: config.ephemeralRanges.default ?? ANY_CLIENT_PORT };
}

/** Calls `visit` for each observed crossing, in input order. */
type CrossingWalk = (visit: (crossing: Crossing) => void) => void;

/**
 * The observed ACCEPT connections that cross a NACL, as a walk that can be taken more than once:
 * needs are built straight from the connections, so no map of all crossings is ever held.
 */
function crossingsOf(
  inventory: Inventory,
  matched: readonly MatchedConnection[],
  context: NaclContext,
): CrossingWalk {
  const naclBySubnet = new Map<string, NetworkAcl>();
  for (const acl of inventory.networkAcls) for (const subnet of acl.subnetIds) naclBySubnet.set(subnet, acl);
  // ENI id → the ENI and its NACL (null: unknown ENI or no NACL), its resource type read once.
  const localOf = new Map<
    string,
    { readonly eni: NetworkInterface; readonly acl: NetworkAcl; type?: ResourceType } | null
  >();
  for (const eni of inventory.networkInterfaces) {
    const acl = naclBySubnet.get(eni.subnetId);
    localOf.set(eni.id, acl === undefined ? null : { eni, acl });
  }
  // Peer address → subnet of the ENI holding it (null: none). Exact ENI addresses are mapped up
  // front; the index is asked only when delegated prefixes (EKS) can hold other addresses.
  const peerSubnets = new Map<string, string | null>();
  let delegated = false;
  for (const eni of inventory.networkInterfaces) {
    for (const addr of context.ruleIndex.eniAddresses(eni.id)) peerSubnets.set(addr, eni.subnetId);
    delegated ||= (eni.ipv4Prefixes?.length ?? 0) > 0 || (eni.ipv6Prefixes?.length ?? 0) > 0;
  }
  // Peer text → parsed address, canonical text and subnet (null: not an address). Worked out per
  // connection and walk, not cached per peer: a cache would hold every distinct peer (a million
  // internet clients) beside the needs, for a parse that costs less than the lookup it saves.
  const peerOf = (peerAddr: string): PeerOfCrossing | null => {
    const ip = parseIp(peerAddr);
    if (ip === undefined) return null;
    // The canonical text, the peer's own string when it already is (no second copy per peer).
    const canonical = formatIp(ip.family, ip.value);
    const addr = canonical === peerAddr ? peerAddr : canonical;
    // Traffic between ENIs of one subnet never leaves it, so the NACL does not see it.
    const subnet =
      peerSubnets.get(addr) ?? (delegated ? (context.ruleIndex.eniByAddress(addr)?.subnetId ?? null) : null);
    return { ip, addr, subnet };
  };
  return (visit) => {
    for (const connection of matched) {
      if (connection.action !== 'ACCEPT') continue;
      const local = localOf.get(connection.eniId);
      if (local === undefined || local === null) continue;
      const peer = peerOf(connection.peerAddr);
      if (peer === null || peer.subnet === local.eni.subnetId) continue;
      const { ip, addr } = peer;
      let clientType: ResourceType | undefined;
      const initiator = connection.direction === 'inbound' ? 'peer' : 'local';
      if (initiator === 'peer') {
        clientType = context.resourceTypeOfAddress(addr);
      } else {
        if (!('type' in local)) local.type = context.resourceTypeOfEni(local.eni.id);
        clientType = local.type;
      }
      const { protocol, port, connections } = connection;
      visit({ naclId: local.acl.id, initiator, protocol, port, ip, addr, clientType, connections });
    }
  };
}

/**
 * The needs of each NACL: per crossing, the request on the service port and the reply on the
 * client's range. Two walks: the ports used first (port grouping needs them all), then the needs,
 * each created and filled in the order the crossings first show it.
 */
function collectNeeds(walk: CrossingWalk, config: AnalysisConfig): Map<string, Need[]> {
  // Service ports group like SG recommendations, per NACL, initiator and protocol.
  const portsUsed = new Map<string, Set<number>>();
  walk((c) => {
    if (c.port === null || !protocolHasPorts(c.protocol)) return;
    const key = `${c.naclId}|${c.initiator}|${c.protocol}`;
    const used = portsUsed.get(key);
    if (used === undefined) portsUsed.set(key, new Set([c.port]));
    else used.add(c.port);
  });
  const portUnits = new Map<string, ReturnType<typeof groupPorts>>();
  for (const [key, ports] of portsUsed) portUnits.set(key, groupPorts(ports, config, ALL_PORTS));

  const needs = new Map<string, Need>();
  const needsByNacl = new Map<string, Need[]>();
  const needFor = (naclId: string, shape: Omit<Need, 'id' | 'peers'>): Need => {
    const ports = shape.ports === undefined ? '' : formatPortRange(shape.ports);
    const key = [naclId, shape.direction, shape.purpose, shape.protocol, ports, shape.client ?? ''].join('|');
    let need = needs.get(key);
    if (need === undefined) {
      need = { ...shape, id: key, peers: new Map() };
      needs.set(key, need);
      const list = needsByNacl.get(naclId);
      if (list === undefined) needsByNacl.set(naclId, [need]);
      else list.push(need);
    }
    return need;
  };
  const addPeer = (need: Need, crossing: Crossing): void => {
    const peer = need.peers.get(crossing.addr);
    if (peer === undefined) {
      need.peers.set(crossing.addr, {
        ip: crossing.ip,
        connections: crossing.connections,
        servicePorts: crossing.port,
      });
    } else {
      peer.connections += crossing.connections;
      if (peer.servicePorts instanceof Set) peer.servicePorts.add(crossing.port);
      else if (peer.servicePorts !== crossing.port)
        peer.servicePorts = new Set([peer.servicePorts, crossing.port]);
    }
  };

  /** The needs a crossing adds its peer to: the request, then the reply on each client range. */
  const needsOfCrossing = (crossing: Crossing): Need[] => {
    const { naclId, initiator, protocol } = crossing;
    const withPorts = protocolHasPorts(protocol);
    const serviceDirection: NaclDirection = initiator === 'peer' ? 'inbound' : 'outbound';
    let servicePorts: PortRange | undefined;
    if (withPorts) {
      servicePorts =
        crossing.port === null
          ? ALL_PORTS
          : (portUnits.get(`${naclId}|${initiator}|${protocol}`)?.get(crossing.port)?.range ?? {
              from: crossing.port,
              to: crossing.port,
            });
    }
    const crossed = [
      needFor(naclId, {
        direction: serviceDirection,
        purpose: 'service',
        protocol,
        initiator,
        ...(servicePorts === undefined ? {} : { ports: servicePorts }),
      }),
    ];
    const { client, ranges } = ephemeralRangesOf(crossing.clientType, config);
    for (const range of withPorts ? ranges : [undefined]) {
      crossed.push(
        needFor(naclId, {
          direction: opposite(serviceDirection),
          purpose: 'return-traffic',
          protocol,
          initiator,
          client,
          ...(range === undefined ? {} : { ports: { from: range.from, to: range.to } }),
        }),
      );
    }
    return crossed;
  };

  // NACL → protocol and initiator → service port → client type → the needs: everything that
  // decides a crossing's needs, looked up without building a key per crossing.
  const needsBySlot = new Map<string, Map<number, Map<number, Map<ResourceType | undefined, Need[]>>>>();
  walk((crossing) => {
    let byTraffic = needsBySlot.get(crossing.naclId);
    if (byTraffic === undefined) {
      byTraffic = new Map();
      needsBySlot.set(crossing.naclId, byTraffic);
    }
    const traffic = crossing.protocol * 2 + (crossing.initiator === 'peer' ? 1 : 0);
    let byPort = byTraffic.get(traffic);
    if (byPort === undefined) {
      byPort = new Map();
      byTraffic.set(traffic, byPort);
    }
    const port = crossing.port ?? -1;
    let byClient = byPort.get(port);
    if (byClient === undefined) {
      byClient = new Map();
      byPort.set(port, byClient);
    }
    let crossed = byClient.get(crossing.clientType);
    if (crossed === undefined) {
      crossed = needsOfCrossing(crossing);
      byClient.set(crossing.clientType, crossed);
    }
    for (const need of crossed) addPeer(need, crossing);
  });
  return needsByNacl;
}

/**
 * The IP families in which each need of one NACL serves the public, as a world-open SG rule does
 * (public-service.ts): inbound requests on one service port that must not be sensitive, from at
 * least config.publicServiceMinNetworks unrelated public networks of the family; and the replies
 * to such requests (a return-traffic need holding a peer of one). There the NACL rule is the
 * family's whole space, never narrowed to the peers of one week (whose successors it would cut off).
 */
function publicFamiliesOf(
  needs: readonly Need[],
  config: AnalysisConfig,
): Map<string, Set<IpAddress['family']>> {
  const result = new Map<string, Set<IpAddress['family']>>();
  // Per protocol, the peers of the public services (their replies are the public's too).
  const publicPeers = new Map<number, Set<string>>();
  for (const need of needs) {
    if (need.initiator !== 'peer' || need.purpose !== 'service' || need.ports === undefined) continue;
    const { from, to } = need.ports;
    if (from !== to || config.sensitivePorts.includes(from)) continue;
    const byFamily: Record<IpAddress['family'], IpAddress[]> = { ipv4: [], ipv6: [] };
    for (const peer of need.peers.values()) byFamily[peer.ip.family].push(peer.ip);
    const families = new Set<IpAddress['family']>();
    for (const family of ['ipv4', 'ipv6'] as const) {
      if (publicNetworks(byFamily[family]) >= config.publicServiceMinNetworks) families.add(family);
    }
    if (families.size === 0) continue;
    result.set(need.id, families);
    const peers = publicPeers.get(need.protocol) ?? new Set<string>();
    for (const [addr, peer] of need.peers) if (families.has(peer.ip.family)) peers.add(addr);
    publicPeers.set(need.protocol, peers);
  }
  for (const need of needs) {
    if (need.initiator !== 'peer' || need.purpose !== 'return-traffic') continue;
    const peers = publicPeers.get(need.protocol);
    if (peers === undefined) continue;
    const families = new Set<IpAddress['family']>();
    for (const [addr, peer] of need.peers) if (peers.has(addr)) families.add(peer.ip.family);
    if (families.size > 0) result.set(need.id, families);
  }
  return result;
}

/** The whole space of a family, admitting every peer of the need in it. */
function worldEntry(
  need: Need,
  family: IpAddress['family'],
  sourceRuleIds: readonly string[],
): RecommendedEntry {
  const cidr = parseCidr(family === 'ipv4' ? '0.0.0.0/0' : '::/0');
  const addrs = new Set<string>();
  let connections = 0;
  for (const [addr, peer] of need.peers) {
    if (peer.ip.family !== family) continue;
    addrs.add(addr);
    connections += peer.connections;
  }
  return {
    family,
    protocol: need.protocol,
    ports: need.ports,
    peer: { kind: 'cidr', cidr },
    addressCount: cidrSize(cidr),
    connections,
    peerAddrs: addrs,
    sourceRuleIds,
    basis: 'observed',
    addedAddresses: cidrSize(cidr) - BigInt(addrs.size),
  };
}

/**
 * One entry per summarised peer of a need, or, in the families where it serves the public
 * ({@link publicFamiliesOf}), the family's whole space; sourceRuleIds carries the need's id
 * through merging.
 */
function needEntries(
  need: Need,
  config: AnalysisConfig,
  world: ReadonlySet<IpAddress['family']> = new Set(),
): RecommendedEntry[] {
  // Entries are read-only to merging and compaction, so they can share the need's one id list.
  const sourceRuleIds = [need.id];
  const peers = [...need.peers].filter(([, peer]) => !world.has(peer.ip.family));
  const summaries = summariseDistinctPeers(
    peers.map(([, peer]) => peer.ip),
    config,
  );
  // Addresses of one summary share its Cidr object, so the object is the group key; a /32 or
  // /128 is one address's own and needs no lookup.
  const groups: { cidr: Cidr; addrs: string[]; connections: number }[] = [];
  const bySummary = new Map<Cidr, { addrs: string[]; connections: number }>();
  peers.forEach(([addr, peer], i) => {
    const cidr = summaries[i] as Cidr;
    const single = cidr.prefix === familyBits(cidr.family);
    const group = single ? undefined : bySummary.get(cidr);
    if (group !== undefined) {
      group.addrs.push(addr);
      group.connections += peer.connections;
      return;
    }
    const created = { cidr, addrs: [addr], connections: peer.connections };
    groups.push(created);
    if (!single) bySummary.set(cidr, created);
  });
  const { protocol, ports } = need;
  // `ports` is written even when undefined (portless protocols), rather than spread in: this
  // runs once per peer of every need, and nothing tells an undefined key from a missing one.
  const observed = groups.map(
    ({ cidr, addrs, connections }): RecommendedEntry => ({
      family: cidr.family,
      protocol,
      ports,
      peer: { kind: 'cidr', cidr },
      addressCount: cidrSize(cidr),
      connections,
      peerAddrs: new Set(addrs),
      sourceRuleIds,
      basis: cidr.prefix < familyBits(cidr.family) ? 'summarised-/24' : 'observed',
      addedAddresses: 0n,
    }),
  );
  return [...[...world].map((family) => worldEntry(need, family, sourceRuleIds)), ...observed];
}

function trafficText(protocol: number, ports: readonly (number | null)[]): string {
  const name = protocolName(protocol);
  if (!protocolHasPorts(protocol)) return /^\d+$/.test(name) ? `protocol ${name}` : name;
  const listed = ports.filter((p): p is number => p !== null).sort((a, b) => a - b);
  const shown = listed.slice(0, 5).join(', ');
  return listed.length > 5 ? `${name} ${shown} and ${listed.length - 5} more ports` : `${name} ${shown}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Service ports the entry's peers used in the needs, for the reason text. */
function servicePortsOf(entry: RecommendedEntry, needs: readonly Need[]): (number | null)[] {
  const ports = new Set<number | null>();
  const addPorts = (peer: NeedPeer | undefined): void => {
    if (peer === undefined) return;
    if (peer.servicePorts instanceof Set) for (const port of peer.servicePorts) ports.add(port);
    else ports.add(peer.servicePorts);
  };
  for (const need of needs) {
    // Walk the smaller side: a compacted entry and a need can each hold thousands of peers.
    if (need.peers.size < entry.peerAddrs.size) {
      for (const [addr, peer] of need.peers) if (entry.peerAddrs.has(addr)) addPorts(peer);
    } else {
      for (const addr of entry.peerAddrs) addPorts(need.peers.get(addr));
    }
  }
  return [...ports];
}

/** Why an entry is needed, from the needs merged into it. */
function entryReason(
  entry: RecommendedEntry,
  needs: readonly Need[],
  quota: number,
  publicNeeds: ReadonlyMap<string, unknown>,
): string {
  const peers = plural(entry.peerAddrs.size, 'peer');
  const parts: string[] = [];
  const service = needs.filter((n) => n.purpose === 'service');
  if (service.length > 0) {
    const traffic = trafficText(entry.protocol, servicePortsOf(entry, service));
    parts.push(
      service.some((n) => n.initiator === 'peer')
        ? `inbound requests (${traffic}) from ${peers} to ENIs in the subnets`
        : `outbound requests (${traffic}) from ENIs in the subnets to ${peers}`,
    );
  }
  const returns = needs.filter((n) => n.purpose === 'return-traffic');
  if (returns.length > 0) {
    const traffic = trafficText(entry.protocol, servicePortsOf(entry, returns));
    const clients = [...new Set(returns.map((n) => n.client ?? 'default'))].sort().join(', ');
    const inbound = returns.some((n) => n.initiator === 'peer');
    if (entry.ports === undefined) {
      // Portless protocols reply on the same protocol; there is no ephemeral range to name.
      parts.push(
        inbound
          ? `replies to inbound requests (${traffic}) from ${peers}`
          : `replies from ${peers} to outbound requests (${traffic})`,
      );
    } else {
      const range = formatPortRange(entry.ports);
      parts.push(
        inbound
          ? `replies to inbound requests (${traffic}) from ${peers}, sent to the clients' ephemeral ports ${range} (${clients} clients)`
          : `replies from ${peers} to outbound requests (${traffic}), arriving on the ENIs' ephemeral ports ${range} (${clients} clients)`,
      );
    }
  }
  let reason = `allows ${parts.join('; and ')}; ${plural(entry.connections, 'connection')} observed`;
  if (returns.length > 0) reason += '; NACLs are stateless, so replies need their own rule';
  if (needs.some((n) => publicNeeds.has(n.id))) {
    reason += `; a public service (peers from many unrelated public networks): open to the world, never narrowed to the peers of one week`;
  }
  if (entry.basis === 'compacted') {
    reason += `; merged to fit the ${quota}-rule quota, admitting ${entry.addedAddresses} more addresses (ports × addresses for widened ports)`;
  } else if (entry.basis === 'summarised-/24') {
    reason += `; peers summarised to ${formatCidr((entry.peer as { readonly cidr: Cidr }).cidr)}`;
  }
  return reason;
}

/** Sensitive ports × addresses an entry admits. */
function sensitiveExposure(entry: RecommendedEntry, sensitivePorts: readonly number[]): bigint {
  const { ports } = entry;
  if (ports === undefined) return 0n;
  let count = 0;
  for (const port of sensitivePorts) if (port >= ports.from && port <= ports.to) count++;
  return BigInt(count) * entry.addressCount;
}

/**
 * Compacts one direction by fewest-added-addresses merges (NACL rules have no narrower rule to
 * stay inside, so any merge is legal), taking merges that open no sensitive port
 * (config.sensitivePorts) to more addresses first, whatever their cost: with IPv4 and IPv6 rules sharing one quota, IPv6
 * merges cost more addresses than any IPv4 one, and without this the cheapest merge could open
 * SSH to the world to keep a few IPv6 clients apart.
 */
function compactNacl(
  entries: readonly RecommendedEntry[],
  quota: number,
  sensitivePorts: readonly number[],
): RecommendedEntry[] {
  const compacted = compactToQuota(entries, quota, {
    weightOf: () => 1,
    withinSourceRule: () => true,
    surchargeOf: (merged, parts) => {
      let widened = sensitiveExposure(merged, sensitivePorts);
      for (const part of parts) widened -= sensitiveExposure(part, sensitivePorts);
      return widened > 0n ? widened : 0n;
    },
  });
  return dropContainedEntries(compacted.entries);
}

/**
 * Entries of one protocol with their ports widened to the span of all of them, so that peer
 * merges can join entries whose ports and peers both differ.
 */
function spanPorts(entries: readonly RecommendedEntry[], protocol: number): RecommendedEntry[] {
  const span = { from: ALL_PORTS.to, to: ALL_PORTS.from };
  for (const e of entries) {
    if (e.protocol !== protocol || e.ports === undefined) continue;
    span.from = Math.min(span.from, e.ports.from);
    span.to = Math.max(span.to, e.ports.to);
  }
  return entries.map((e) => {
    if (e.protocol !== protocol || e.ports === undefined) return e;
    const addedPorts = BigInt(span.to - span.from - (e.ports.to - e.ports.from));
    if (addedPorts === 0n) return e;
    return {
      ...e,
      ports: span,
      basis: 'compacted',
      addedAddresses: e.addedAddresses + addedPorts * e.addressCount,
    };
  });
}

/**
 * Compacts one direction to the quota. When the two merge kinds are stuck (entries
 * differing in both ports and peer), the ports of the protocol with most entries are widened to
 * their span and compaction runs again; only entries of different protocols or IP families can
 * stay over.
 */
function fitToQuota(
  entries: readonly RecommendedEntry[],
  quota: number,
  sensitivePorts: readonly number[],
): { entries: RecommendedEntry[]; over: number } {
  let current = compactNacl(entries, quota, sensitivePorts);
  const spanned = new Set<number>();
  for (let round = 0; current.length > quota && round < 256; round++) {
    const counts = new Map<number, number>();
    for (const e of current) {
      if (e.ports !== undefined && !spanned.has(e.protocol))
        counts.set(e.protocol, (counts.get(e.protocol) ?? 0) + 1);
    }
    const widest = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
    if (widest === undefined || widest[1] < 2) break;
    spanned.add(widest[0]);
    current = compactNacl(mergeEntriesExactly(spanPorts(current, widest[0])), quota, sensitivePorts);
  }
  return { entries: current.sort(compareRecommendedEntries), over: Math.max(0, current.length - quota) };
}

function defaultDeny(acl: NetworkAcl, direction: NaclDirection): NaclRecommendation {
  return {
    naclId: acl.id,
    subnetIds: acl.subnetIds,
    direction,
    ruleNumber: DEFAULT_RULE_NUMBER,
    protocol: '-1',
    cidr: '0.0.0.0/0',
    action: 'deny',
    purpose: 'default-deny',
    reason:
      `rule '*': ${direction} traffic no numbered rule allows is denied; rules are evaluated lowest number ` +
      'first and the default rule (0.0.0.0/0, and ::/0 when the VPC has IPv6) last; it cannot be changed',
  };
}

/**
 * Recommends, per network ACL with observed traffic, the allow rules that traffic needs, both ways
 * (NACLs are stateless): an inbound connection to an ENI in the NACL's subnets needs an inbound
 * rule on the service port and an outbound rule to the client's ephemeral range (by the client's
 * resource type, config.ephemeralRanges); an outbound connection needs an outbound rule on the
 * service port and an inbound rule on the local ENI's ephemeral range. Traffic between ENIs of
 * one subnet is skipped. Peers are summarised like SG recommendations; each direction (IPv4 and
 * IPv6 rules together) is compacted to config.naclRuleQuota (the last rule's reason says when it is still
 * over); rule numbers start at config.naclFirstRuleNumber and step by config.naclRuleStep, unique
 * per NACL and direction; a final 'default-deny' entry per direction describes rule '*'.
 *
 * @example
 * recommendNacls(inventory, matched, { ruleIndex, resourceTypeOfEni, resourceTypeOfAddress }, DEFAULT_CONFIG)
 * // [{ naclId: 'acl-1', direction: 'inbound', ruleNumber: 100, protocol: '6', fromPort: 443, toPort: 443, … }, …]
 */
export function recommendNacls(
  inventory: Inventory,
  matched: readonly MatchedConnection[],
  context: NaclContext,
  config: AnalysisConfig,
): NaclRecommendation[] {
  const needsByNacl = collectNeeds(crossingsOf(inventory, matched, context), config);
  const result: NaclRecommendation[] = [];
  const acls = [...inventory.networkAcls].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const acl of acls) {
    const needs = needsByNacl.get(acl.id);
    if (needs === undefined) continue;
    const needById = new Map(needs.map((need) => [need.id, need]));
    const publicNeeds = publicFamiliesOf(needs, config);
    for (const direction of ['inbound', 'outbound'] as const) {
      const exact = dropContainedEntries(
        mergeEntriesExactly(
          needs
            .filter((n) => n.direction === direction)
            .flatMap((n) => needEntries(n, config, publicNeeds.get(n.id))),
        ),
      );
      // The quota counts IPv4 and IPv6 rules of a direction together here: never more than AWS allows.
      const { entries, over } = fitToQuota(exact, config.naclRuleQuota, config.sensitivePorts);
      const rules = entries.map((entry, i): NaclRecommendation => {
        const entryNeeds = entry.sourceRuleIds.flatMap((id) => {
          const need = needById.get(id);
          return need === undefined ? [] : [need];
        });
        return {
          naclId: acl.id,
          subnetIds: acl.subnetIds,
          direction,
          ruleNumber: config.naclFirstRuleNumber + i * config.naclRuleStep,
          protocol: String(entry.protocol),
          ...(entry.ports === undefined ? {} : { fromPort: entry.ports.from, toPort: entry.ports.to }),
          cidr: formatCidr((entry.peer as { readonly cidr: Cidr }).cidr),
          action: 'allow',
          purpose: entryNeeds.some((n) => n.purpose === 'service') ? 'service' : 'return-traffic',
          reason: entryReason(entry, entryNeeds, config.naclRuleQuota, publicNeeds),
        };
      });
      const last = rules[rules.length - 1];
      if (over > 0 && last !== undefined) {
        rules[rules.length - 1] = {
          ...last,
          reason: `${last.reason}; still ${plural(over, 'rule')} over the quota of ${config.naclRuleQuota} per direction: the remaining entries differ in protocol or IP family, so no merge can join them`,
        };
      }
      result.push(...rules, defaultDeny(acl, direction));
    }
  }
  return result;
}
