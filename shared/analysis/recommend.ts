/**
 * Least-privilege recommendations: per SG and direction, the smallest rule set that admits every
 * observed ACCEPT connection the SG admitted, never wider than the rule that admitted it.
 *
 * Each connection is worked out under the narrowest rule of the SG that admitted it (its "home"
 * rule): peers become single addresses, or the /24 (/64) when enough of them share one (clipped
 * to the rule), or the SG whose ENIs they exactly are; ports stay single below 1024 and become
 * the seed's port group when enough of its ports are used (clipped to the rule). Entries then
 * merge exactly (CIDR unions, adjacent port ranges), entries inside others are dropped, and the
 * set is compacted to the rule quota per IP family.
 */
import type { AnalysisConfig } from '../config';
import type { MatchedConnection, QuotaReport, Recommendation, RecommendationBasis } from '../model/analysis';
import {
  DIRECTIONS,
  type Direction,
  type Inventory,
  IP_FAMILIES,
  type IpFamily,
  type RuleEntry,
  type RulePeer,
} from '../model/inventory';
import {
  type Cidr,
  cidrContains,
  cidrContainsIp,
  cidrFirst,
  cidrLast,
  cidrSize,
  familyBits,
  formatCidr,
  formatIp,
  type IpAddress,
  type IpInterval,
  mergeCidrs,
  mergeIntervals,
  parseIp,
  supernetOf,
  tryParseCidr,
} from '../net/ip';
import { ALL_PORTS, intersectRanges, type PortRange, rangeContainsRange } from '../net/ports';
import { isIcmp, protocolHasPorts, protocolName } from '../net/protocol';
import type { RuleIndex } from '../rules/rule-index';
import { compactToQuota } from './compact';
import { dropContainedEntries, mergeEntriesExactly } from './exact-merge';
import { isWorldOpenServicePort, publicNetworks, publicServiceReason } from './public-service';
import {
  combineEntries,
  compareRecommendedEntries,
  type EntryPeer,
  entryPeerKey,
  entryTrafficKey,
  type IcmpTypeCode,
  icmpWithin,
  portCount,
  type RecommendedEntry,
  strongestBasis,
} from './recommended-entry';

/** What recommendations read besides the inventory and the matched connections. */
export interface RecommendContext {
  readonly ruleIndex: Pick<
    RuleIndex,
    'ruleById' | 'sgById' | 'peerCidrs' | 'enisOfSg' | 'eniAddresses' | 'eniByAddress'
  >;
  /** SGs to recommend for; all when absent. */
  readonly sgIds?: readonly string[] | ReadonlySet<string>;
  /**
   * Rules whose exposure is the service's purpose by design (world-open 80/443 on load balancers,
   * API Gateway and endpoints): recommended as written, never narrowed to the clients that
   * happened to visit this week. World-open service ports that many unrelated public networks
   * use are found from the traffic, on any resource type (config.publicServiceMinNetworks).
   */
  readonly publicServiceRules?: ReadonlySet<string>;
}

export interface RuleRecommendations {
  /** Sorted by SG, direction, family, protocol, ports, peer. */
  readonly recommendations: Recommendation[];
  readonly quota: QuotaReport[];
  /** Used rule entries whose recommended entries admit strictly less than the rule. */
  readonly narrowable: Set<string>;
  /** Rules kept world-open as public services, with why (shared/analysis/public-service.ts). */
  readonly publicServices: Map<string, string>;
}

/** A rule entry resolved to what it admits. */
interface RuleSpace {
  readonly rule: RuleEntry;
  readonly protocol: number | 'all';
  /** tcp/udp rules: the port range. */
  readonly ports?: PortRange;
  /** icmp/icmpv6 rules naming one type. */
  readonly icmp?: IcmpTypeCode;
  /** The peer's addresses as sorted disjoint intervals. */
  readonly addresses: readonly IpInterval[];
  /** Addresses × ports × protocols: orders rules from narrowest to widest. */
  readonly size: bigint;
}

/** Observed traffic of one (home rule, protocol): one row per (port, peer address). */
interface Bucket {
  readonly sgId: string;
  readonly direction: Direction;
  readonly home: RuleSpace;
  readonly protocol: number;
  readonly observations: Map<string, Observation>;
}

interface Observation {
  readonly port: number | null;
  readonly ip: IpAddress;
  readonly addr: string;
  connections: number;
  /** Every rule of the SG that admitted the traffic (the home rule included). */
  readonly admitters: Set<string>;
}

function intervalSize(intervals: readonly IpInterval[]): bigint {
  return intervals.reduce((sum, interval) => sum + interval.last - interval.first + 1n, 0n);
}

/** Whether every address of `needed` lies in `have` (both sorted, disjoint: mergeIntervals output). */
function intervalsCover(have: readonly IpInterval[], needed: readonly IpInterval[]): boolean {
  let i = 0;
  for (const need of needed) {
    while (
      i < have.length &&
      ((have[i] as IpInterval).family !== need.family
        ? (have[i] as IpInterval).family === 'ipv4'
        : (have[i] as IpInterval).last < need.first)
    ) {
      i++;
    }
    const h = have[i];
    if (h === undefined || h.family !== need.family || h.first > need.first || h.last < need.last)
      return false;
  }
  return true;
}

function smaller(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** The names AWS gives the prefix lists of its services' public ranges. */
const AWS_SERVICE_LIST = /^com\.amazonaws\.[a-z0-9-]+\.[a-z0-9.-]+$/;

/** Resolves rules, SG and prefix-list peers once per run. */
class Resolver {
  private readonly spaces = new Map<string, RuleSpace>();
  private readonly peerCidrs = new Map<string, Cidr[]>();
  private readonly peerIntervals = new Map<string, IpInterval[]>();
  private readonly prefixLists: ReadonlyMap<string, { family: IpFamily; maxEntries: number }>;
  private eniAddressSet: ReadonlySet<string> | undefined;
  /** AWS-managed prefix lists of AWS services (com.amazonaws.<region>.<service>), parsed once. */
  private serviceLists: readonly { id: string; name: string; cidrs: readonly Cidr[] }[] | undefined;

  constructor(
    private readonly inventory: Inventory,
    private readonly ruleIndex: RecommendContext['ruleIndex'],
  ) {
    this.prefixLists = new Map(
      inventory.prefixLists.map((list) => [
        list.id,
        { family: list.addressFamily, maxEntries: list.maxEntries },
      ]),
    );
  }

  space(rule: RuleEntry): RuleSpace {
    let space = this.spaces.get(rule.id);
    if (space !== undefined) return space;
    const protocol = rule.protocolNumber;
    const addresses = mergeIntervals(this.ruleIndex.peerCidrs(rule));
    let ports: PortRange | undefined;
    let icmp: IcmpTypeCode | undefined;
    let trafficSize: bigint;
    if (protocol === 'all') {
      trafficSize = 65536n * 256n;
    } else if (protocolHasPorts(protocol)) {
      // As in matching: missing or out-of-range bounds admit every port.
      const from = rule.fromPort ?? -1;
      const to = rule.toPort ?? -1;
      ports = from >= 0 && to >= from && to <= ALL_PORTS.to ? { from, to } : ALL_PORTS;
      trafficSize = portCount(ports);
    } else if (isIcmp(protocol) && rule.fromPort !== undefined && rule.fromPort !== -1) {
      icmp = { type: rule.fromPort, code: rule.toPort ?? -1 };
      trafficSize = 1n;
    } else {
      trafficSize = isIcmp(protocol) ? 256n : 1n;
    }
    space = {
      rule,
      protocol,
      ...(ports === undefined ? {} : { ports }),
      ...(icmp === undefined ? {} : { icmp }),
      addresses,
      size: intervalSize(addresses) * trafficSize,
    };
    this.spaces.set(rule.id, space);
    return space;
  }

  /** Whether a canonical address is a private address of an ENI in the inventory. */
  isEniAddress(addr: string): boolean {
    if (this.eniAddressSet === undefined) {
      const set = new Set<string>();
      for (const eni of this.inventory.networkInterfaces) {
        for (const address of this.ruleIndex.eniAddresses(eni.id)) set.add(address);
      }
      this.eniAddressSet = set;
    }
    return this.eniAddressSet.has(addr);
  }

  spaceById(ruleId: string): RuleSpace | undefined {
    const rule = this.ruleIndex.ruleById(ruleId);
    return rule === undefined ? undefined : this.space(rule);
  }

  /** The CIDRs an entry's peer stands for (SG references and prefix lists resolved, merged). */
  cidrsOf(peer: EntryPeer): readonly Cidr[] {
    if (peer.kind === 'cidr') return [peer.cidr];
    const key = entryPeerKey(peer);
    let cidrs = this.peerCidrs.get(key);
    if (cidrs === undefined) {
      const rulePeer: RulePeer =
        peer.kind === 'sg'
          ? { kind: 'sg', groupId: peer.groupId }
          : { kind: 'prefix-list', prefixListId: peer.prefixListId };
      // peerCidrs resolves a peer through a rule; a bare carrier rule is enough for that.
      const carrier: RuleEntry = {
        id: key,
        sgId: '',
        direction: 'ingress',
        protocol: '-1',
        protocolNumber: 'all',
        peer: rulePeer,
      };
      cidrs = mergeCidrs(this.ruleIndex.peerCidrs(carrier));
      this.peerCidrs.set(key, cidrs);
    }
    return cidrs;
  }

  /** The addresses an entry's peer stands for, as sorted disjoint intervals. */
  addressesOf(peer: EntryPeer): readonly IpInterval[] {
    if (peer.kind === 'cidr') {
      return [{ family: peer.cidr.family, first: cidrFirst(peer.cidr), last: cidrLast(peer.cidr) }];
    }
    const key = entryPeerKey(peer);
    let intervals = this.peerIntervals.get(key);
    if (intervals === undefined) {
      intervals = mergeIntervals(this.cidrsOf(peer));
      this.peerIntervals.set(key, intervals);
    }
    return intervals;
  }

  addressCount(peer: EntryPeer): bigint {
    return peer.kind === 'cidr' ? cidrSize(peer.cidr) : intervalSize(this.addressesOf(peer));
  }

  prefixList(id: string): { family: IpFamily; maxEntries: number } | undefined {
    return this.prefixLists.get(id);
  }

  /**
   * The AWS service prefix list (`com.amazonaws.<region>.<service>`) holding the address, when one
   * does and every entry of it lies within `within` (a recommendation is never wider than its rule).
   */
  serviceListOf(ip: IpAddress, within: Cidr | undefined): { id: string; name: string } | undefined {
    if (within === undefined) return undefined;
    this.serviceLists ??= this.inventory.prefixLists
      .filter((list) => AWS_SERVICE_LIST.test(list.name))
      .map((list) => ({
        id: list.id,
        name: list.name,
        cidrs: list.entries.flatMap((e) => {
          const cidr = tryParseCidr(e.cidr);
          return cidr === undefined ? [] : [cidr];
        }),
      }));
    return this.serviceLists.find(
      (list) =>
        list.cidrs.some((c) => c.family === ip.family && cidrContainsIp(c, ip)) &&
        list.cidrs.every((c) => cidrContains(within, c)),
    );
  }

  /** Whether the entry admits nothing the rule does not. */
  entryWithin(entry: RecommendedEntry, space: RuleSpace): boolean {
    if (space.protocol !== 'all') {
      if (space.protocol !== entry.protocol) return false;
      if (
        space.ports !== undefined &&
        (entry.ports === undefined || !rangeContainsRange(space.ports, entry.ports))
      ) {
        return false;
      }
      if (space.icmp !== undefined && !icmpWithin(entry.icmp, space.icmp)) return false;
    }
    return intervalsCover(space.addresses, this.addressesOf(entry.peer));
  }

  withinSourceRule(entry: RecommendedEntry): boolean {
    return entry.sourceRuleIds.some((id) => {
      const space = this.spaceById(id);
      return space !== undefined && this.entryWithin(entry, space);
    });
  }

  /** Quota weight of an entry in one family: prefix lists weigh MaxEntries, SG references count in both. */
  weight(entry: Pick<RecommendedEntry, 'peer' | 'family'>, family: IpFamily): number {
    switch (entry.peer.kind) {
      case 'cidr':
        return entry.peer.cidr.family === family ? 1 : 0;
      case 'sg':
        return 1;
      case 'prefix-list': {
        const list = this.prefixList(entry.peer.prefixListId);
        return (list?.family ?? entry.family) === family ? (list?.maxEntries ?? 1) : 0;
      }
    }
  }

  /** Quota weight of a rule entry as it stands today. */
  ruleWeight(rule: RuleEntry, family: IpFamily): number {
    switch (rule.peer.kind) {
      case 'cidr':
        return rule.peer.family === family ? 1 : 0;
      case 'sg':
        return 1;
      case 'prefix-list': {
        // An unknown list counts once, against IPv4.
        const list = this.prefixList(rule.peer.prefixListId);
        return (list?.family ?? 'ipv4') === family ? (list?.maxEntries ?? 1) : 0;
      }
    }
  }
}

/** Addresses of one /N block among the peers being summarised, and what they map to. */
interface PeerBlock {
  count: number;
  /** Resolved on first use (see {@link blockSummary}). */
  summary: Cidr | 'hosts' | 'clipped' | undefined;
}

/**
 * Summaries of distinct addresses, in input order: each address whose /N
 * (config.summarisePrefixV4 / V6) holds at least config.summariseMinIps of them maps to that /N,
 * clipped to `within` (when the rule's CIDR is narrower than the /N, the rule's CIDR itself);
 * every other address to its /32 or /128. Addresses of one summary share one Cidr object. Blocks
 * are counted by a number (IPv4) or bigint (IPv6) key and each address's block is found once,
 * so no CIDR text is formatted: NACL recommendations call this once per need on 1M connections.
 *
 * @throws InvalidValueError when a summarise prefix does not fit the family of a given address.
 * @example summariseDistinctPeers(['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(parseIpOrThrow), DEFAULT_CONFIG)[0] // 10.0.0.0/24
 */
export function summariseDistinctPeers(
  ips: readonly IpAddress[],
  config: Pick<AnalysisConfig, 'summariseMinIps' | 'summarisePrefixV4' | 'summarisePrefixV6'>,
  within?: Cidr,
): Cidr[] {
  const v4Size = 2 ** (32 - config.summarisePrefixV4);
  const v6Shift = Number.isInteger(config.summarisePrefixV6) ? BigInt(128 - config.summarisePrefixV6) : 0n;
  const checked = { ipv4: false, ipv6: false };
  const blocks = new Map<number | bigint, PeerBlock>();
  const blockOfIp: PeerBlock[] = new Array(ips.length);
  for (let i = 0; i < ips.length; i++) {
    const ip = ips[i] as IpAddress;
    if (!checked[ip.family]) {
      // The prefix is checked as supernetOf checks it, once per family present.
      supernetOf(
        { family: ip.family, network: ip.value, prefix: familyBits(ip.family) },
        prefixOf(ip.family, config),
      );
      checked[ip.family] = true;
    }
    // Number keys (IPv4) and bigint keys (IPv6) never collide in a Map.
    const key = ip.family === 'ipv4' ? Math.floor(Number(ip.value) / v4Size) : ip.value >> v6Shift;
    let block = blocks.get(key);
    if (block === undefined) {
      block = { count: 0, summary: undefined };
      blocks.set(key, block);
    }
    block.count++;
    blockOfIp[i] = block;
  }
  const summaries: Cidr[] = new Array(ips.length);
  for (let i = 0; i < ips.length; i++) {
    const ip = ips[i] as IpAddress;
    const block = blockOfIp[i] as PeerBlock;
    if (block.summary === undefined) block.summary = blockSummary(ip, block.count, config, within);
    if (typeof block.summary === 'object') {
      summaries[i] = block.summary;
      continue;
    }
    const host: Cidr = { family: ip.family, network: ip.value, prefix: familyBits(ip.family) };
    // 'clipped': the rule is narrower than the block, so the rule's own CIDR is the summary.
    summaries[i] =
      block.summary === 'clipped' && within !== undefined && cidrContains(within, host) ? within : host;
  }
  return summaries;
}

/**
 * What the addresses of one block map to: the block itself, each its own CIDR ('hosts': too few
 * of them), or `within` or its own CIDR ('clipped': `within` is narrower than the block).
 */
function blockSummary(
  ip: IpAddress,
  count: number,
  config: Pick<AnalysisConfig, 'summariseMinIps' | 'summarisePrefixV4' | 'summarisePrefixV6'>,
  within: Cidr | undefined,
): PeerBlock['summary'] {
  if (count < config.summariseMinIps) return 'hosts';
  const host: Cidr = { family: ip.family, network: ip.value, prefix: familyBits(ip.family) };
  const block = supernetOf(host, prefixOf(ip.family, config));
  return within !== undefined && within.family === block.family && !cidrContains(within, block)
    ? 'clipped'
    : block;
}

function prefixOf(
  family: IpFamily,
  config: Pick<AnalysisConfig, 'summarisePrefixV4' | 'summarisePrefixV6'>,
): number {
  return family === 'ipv4' ? config.summarisePrefixV4 : config.summarisePrefixV6;
}

/**
 * Peers after summarisation ({@link summariseDistinctPeers}), keyed by canonical address text;
 * repeated addresses count once.
 *
 * @example summarisePeers([a, b, c].map(parseIpOrThrow), DEFAULT_CONFIG) // three keys → 10.0.0.0/24
 */
export function summarisePeers(
  ips: readonly IpAddress[],
  config: Pick<AnalysisConfig, 'summariseMinIps' | 'summarisePrefixV4' | 'summarisePrefixV6'>,
  within?: Cidr,
): Map<string, Cidr> {
  const distinct = new Map<string, IpAddress>();
  for (const ip of ips) distinct.set(formatIp(ip.family, ip.value), ip);
  const summaries = summariseDistinctPeers([...distinct.values()], config, within);
  const peers = new Map<string, Cidr>();
  let i = 0;
  for (const addr of distinct.keys()) peers.set(addr, summaries[i++] as Cidr);
  return peers;
}

/**
 * Ports after grouping: every port of a config.portGroups group (clipped to ports ≥
 * config.portGroupMinPort and to `within`) with at least config.portGroupMinPorts used ports maps
 * to that clipped group; every other port to itself.
 *
 * @example groupPorts([443, ...tenPortsAbove20000], DEFAULT_CONFIG, ALL_PORTS).get(20001) // { from: 20001, to: 30000 }
 */
export function groupPorts(
  ports: Iterable<number>,
  config: Pick<AnalysisConfig, 'portGroupMinPort' | 'portGroups' | 'portGroupMinPorts'>,
  within: PortRange,
): Map<number, { range: PortRange; grouped: boolean }> {
  const used = [...new Set(ports)].sort((a, b) => a - b);
  const grouped: PortRange[] = [];
  const eligible: PortRange = { from: Math.max(config.portGroupMinPort, 0), to: ALL_PORTS.to };
  for (const group of config.portGroups) {
    const clipped = intersectRanges(intersectRanges([group], [eligible]), [within])[0];
    if (clipped === undefined) continue;
    const count = countInRange(used, clipped);
    if (count >= config.portGroupMinPorts) grouped.push(clipped);
  }
  const result = new Map<number, { range: PortRange; grouped: boolean }>();
  for (const port of used) {
    const range = grouped.find((g) => g.from <= port && port <= g.to);
    result.set(
      port,
      range === undefined ? { range: { from: port, to: port }, grouped: false } : { range, grouped: true },
    );
  }
  return result;
}

/** Number of values of a sorted list inside the range (binary search). */
function countInRange(sorted: readonly number[], range: PortRange): number {
  const lowerBound = (value: number): number => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((sorted[mid] as number) < value) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  return lowerBound(range.to + 1) - lowerBound(range.from);
}

/**
 * The seed's text line of a recommended entry: `- allow tcp port 443 from 203.0.113.10`,
 * `- allow tcp ports 20000-30000 from 10.0.0.0/24`, `- allow icmp from …`, `- allow protocol 50
 * from …`, `- allow all traffic from …`; egress says `to`. A /32 or /128 peer shows as the bare
 * address.
 *
 * @example recommendationText('egress', 6, { from: 443, to: 443 }, undefined, 'pl-1') // '- allow tcp port 443 to pl-1'
 */
export function recommendationText(
  direction: Direction,
  protocol: number | 'all',
  ports: PortRange | undefined,
  icmp: IcmpTypeCode | undefined,
  peer: string,
): string {
  const word = direction === 'ingress' ? 'from' : 'to';
  let what: string;
  if (protocol === 'all') {
    what = 'all traffic';
  } else if (protocolHasPorts(protocol)) {
    const name = protocolName(protocol);
    if (ports === undefined) what = `${name} all ports`;
    else
      what =
        ports.from === ports.to ? `${name} port ${ports.from}` : `${name} ports ${ports.from}-${ports.to}`;
  } else if (isIcmp(protocol)) {
    const type =
      icmp === undefined ? '' : ` type ${icmp.type}${icmp.code === -1 ? '' : ` code ${icmp.code}`}`;
    what = `${protocolName(protocol)}${type}`;
  } else {
    what = `protocol ${protocol}`;
  }
  return `- allow ${what} ${word} ${peer}`;
}

function peerDisplay(peer: EntryPeer): string {
  switch (peer.kind) {
    case 'cidr':
      return peer.cidr.prefix === familyBits(peer.cidr.family)
        ? formatIp(peer.cidr.family, peer.cidr.network)
        : formatCidr(peer.cidr);
    case 'sg':
      return peer.groupId;
    case 'prefix-list':
      return peer.prefixListId;
  }
}

function peerValue(peer: EntryPeer): string {
  return peer.kind === 'cidr' ? formatCidr(peer.cidr) : peerDisplay(peer);
}

/** Puts every connection under the narrowest admitting rule of each SG in scope. */
function collectBuckets(
  matched: readonly MatchedConnection[],
  resolver: Resolver,
  ruleIndex: RecommendContext['ruleIndex'],
  scope: ReadonlySet<string> | undefined,
): Map<string, Bucket> {
  const buckets = new Map<string, Bucket>();
  const bySg = new Map<string, RuleSpace[]>();
  for (const connection of matched) {
    if (connection.action !== 'ACCEPT' || connection.ruleIds.length === 0) continue;
    const direction: Direction = connection.direction === 'inbound' ? 'ingress' : 'egress';
    const ip = parseIp(connection.peerAddr);
    if (ip === undefined) continue;
    bySg.clear();
    for (const id of connection.ruleIds) {
      const rule = ruleIndex.ruleById(id);
      if (
        rule === undefined ||
        rule.direction !== direction ||
        (scope !== undefined && !scope.has(rule.sgId))
      )
        continue;
      const spaces = bySg.get(rule.sgId);
      if (spaces === undefined) bySg.set(rule.sgId, [resolver.space(rule)]);
      else spaces.push(resolver.space(rule));
    }
    const addr = formatIp(ip.family, ip.value);
    for (const [sgId, spaces] of bySg) {
      let home = spaces[0] as RuleSpace;
      for (const space of spaces) {
        if (space.size < home.size || (space.size === home.size && space.rule.id < home.rule.id))
          home = space;
      }
      const key = `${home.rule.id}\u0000${connection.protocol}`;
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        bucket = { sgId, direction, home, protocol: connection.protocol, observations: new Map() };
        buckets.set(key, bucket);
      }
      const observationKey = `${connection.port}|${addr}`;
      let observation = bucket.observations.get(observationKey);
      if (observation === undefined) {
        observation = { port: connection.port, ip, addr, connections: 0, admitters: new Set() };
        bucket.observations.set(observationKey, observation);
      }
      observation.connections += connection.connections;
      for (const space of spaces) observation.admitters.add(space.rule.id);
    }
  }
  return buckets;
}

/**
 * SGs whose ENIs' private addresses are all among the observed peers (at least two ENIs, all in
 * the VPC of the SG being narrowed, none with delegated prefixes an SG reference would also
 * admit), largest first; each maps to the addresses it stands for. Peers the SGs do not cover
 * stay addresses. When the peers are exactly one SG's ENIs, that SG is the whole answer.
 */
function groupsAmongPeers(
  observed: ReadonlySet<string>,
  vpcId: string | undefined,
  resolver: Resolver,
  ruleIndex: RecommendContext['ruleIndex'],
): Map<string, ReadonlySet<string>> {
  const groups = new Map<string, ReadonlySet<string>>();
  if (observed.size < 2 || vpcId === undefined) return groups;
  const candidates = new Set<string>();
  for (const addr of observed) {
    // Most peers are no ENI address: a set lookup spares the index lookup.
    if (!resolver.isEniAddress(addr)) continue;
    for (const sgId of ruleIndex.eniByAddress(addr)?.sgIds ?? []) candidates.add(sgId);
  }
  const remaining = new Set(observed);
  const ordered = [...candidates]
    .map((sgId) => ({ sgId, enis: ruleIndex.enisOfSg(sgId) }))
    .sort((a, b) => b.enis.length - a.enis.length || (a.sgId < b.sgId ? -1 : a.sgId > b.sgId ? 1 : 0));
  for (const { sgId, enis } of ordered) {
    if (enis.length < 2 || enis.length > remaining.size) continue;
    const eligible = enis.every(
      (e) => e.vpcId === vpcId && (e.ipv4Prefixes?.length ?? 0) === 0 && (e.ipv6Prefixes?.length ?? 0) === 0,
    );
    if (!eligible) continue;
    const addresses = new Set<string>();
    for (const e of enis) for (const addr of ruleIndex.eniAddresses(e.id)) addresses.add(addr);
    if (![...addresses].every((addr) => remaining.has(addr))) continue;
    groups.set(sgId, addresses);
    for (const addr of addresses) remaining.delete(addr);
  }
  return groups;
}

interface PeerUnit {
  readonly peer: EntryPeer;
  readonly basis: 'observed' | 'summarised-/24' | 'sg-reference' | 'aws-prefix-list';
}

/**
 * Peers of one port unit of a CIDR rule: SG references where whole SGs were peers, then (egress)
 * the AWS service prefix list holding an address (an S3 or DynamoDB address seen this week is
 * another one next week), then /24 (/64) summaries clipped to the rule, then single addresses.
 */
function cidrPeerUnits(
  observations: readonly Observation[],
  ruleCidr: Cidr | undefined,
  vpcId: string | undefined,
  resolver: Resolver,
  ruleIndex: RecommendContext['ruleIndex'],
  config: AnalysisConfig,
  direction: Direction,
): Map<string, PeerUnit> {
  const units = new Map<string, PeerUnit>();
  const groups = groupsAmongPeers(new Set(observations.map((o) => o.addr)), vpcId, resolver, ruleIndex);
  for (const [groupId, addresses] of groups) {
    const unit: PeerUnit = { peer: { kind: 'sg', groupId }, basis: 'sg-reference' };
    for (const addr of addresses) units.set(addr, unit);
  }
  if (direction === 'egress') {
    for (const o of observations) {
      if (units.has(o.addr)) continue;
      const list = resolver.serviceListOf(o.ip, ruleCidr);
      if (list !== undefined)
        units.set(o.addr, { peer: { kind: 'prefix-list', prefixListId: list.id }, basis: 'aws-prefix-list' });
    }
  }
  const rest = observations.filter((o) => !units.has(o.addr));
  for (const [addr, cidr] of summarisePeers(
    rest.map((o) => o.ip),
    config,
    ruleCidr,
  )) {
    const summarised = cidr.prefix < familyBits(cidr.family);
    units.set(addr, { peer: { kind: 'cidr', cidr }, basis: summarised ? 'summarised-/24' : 'observed' });
  }
  return units;
}

/**
 * The recommended entries of one bucket, before merging across buckets. Peers are worked out per
 * port unit (a single port or a grouped range), so a /24 or SG reference only joins peers of
 * the same service.
 */
function bucketEntries(
  bucket: Bucket,
  resolver: Resolver,
  ruleIndex: RecommendContext['ruleIndex'],
  config: AnalysisConfig,
): RecommendedEntry[] {
  const { home, protocol } = bucket;
  const observations = [...bucket.observations.values()];
  const withPorts = protocolHasPorts(protocol);
  const rulePorts = home.ports ?? ALL_PORTS;
  const portUnits = withPorts
    ? groupPorts(
        observations.flatMap((o) => (o.port === null ? [] : [o.port])),
        config,
        rulePorts,
      )
    : new Map<number, { range: PortRange; grouped: boolean }>();
  const icmp = home.protocol === protocol ? home.icmp : undefined;
  const unitOf = (o: Observation): { ports?: PortRange; grouped: boolean } => {
    if (!withPorts) return { grouped: false };
    const unit = o.port === null ? undefined : portUnits.get(o.port);
    return unit === undefined
      ? { ports: rulePorts, grouped: false }
      : { ports: unit.range, grouped: unit.grouped };
  };

  const rulePeer = home.rule.peer;
  const byPorts = new Map<string, Observation[]>();
  for (const o of observations) {
    const ports = unitOf(o).ports;
    const key = ports === undefined ? '' : `${ports.from}-${ports.to}`;
    const list = byPorts.get(key);
    if (list === undefined) byPorts.set(key, [o]);
    else list.push(o);
  }
  const peerUnits = new Map<Observation, PeerUnit>();
  for (const group of byPorts.values()) {
    if (rulePeer.kind === 'cidr') {
      const units = cidrPeerUnits(
        group,
        ruleIndex.peerCidrs(home.rule)[0],
        ruleIndex.sgById(bucket.sgId)?.vpcId,
        resolver,
        ruleIndex,
        config,
        bucket.direction,
      );
      for (const o of group) peerUnits.set(o, units.get(o.addr) as PeerUnit);
    } else {
      // SG-reference rules stay SG references, prefix-list rules stay the prefix list.
      const peer: EntryPeer =
        rulePeer.kind === 'sg'
          ? { kind: 'sg', groupId: rulePeer.groupId }
          : { kind: 'prefix-list', prefixListId: rulePeer.prefixListId };
      for (const o of group) peerUnits.set(o, { peer, basis: 'observed' });
    }
  }

  const parts = new Map<string, RecommendedEntry[]>();
  for (const observation of observations) {
    const { peer, basis: peerBasis } = peerUnits.get(observation) as PeerUnit;
    const { ports, grouped } = unitOf(observation);
    const basis: RecommendationBasis = peerBasis === 'observed' && grouped ? 'port-group' : peerBasis;
    const part: RecommendedEntry = {
      family: entryFamily(peer, observation.ip.family, resolver),
      protocol,
      ...(ports === undefined ? {} : { ports }),
      ...(icmp === undefined ? {} : { icmp }),
      peer,
      addressCount: resolver.addressCount(peer),
      connections: observation.connections,
      peerAddrs: new Set([observation.addr]),
      sourceRuleIds: [...observation.admitters].sort(),
      basis,
      addedAddresses: 0n,
    };
    const key = `${entryTrafficKey(part)}|${entryPeerKey(peer)}`;
    const list = parts.get(key);
    if (list === undefined) parts.set(key, [part]);
    else list.push(part);
  }
  return [...parts.values()].map((list) =>
    combineEntries(list, list[0] as RecommendedEntry, strongestBasis(list), 0n),
  );
}

/** One entry equal to the bucket's home rule, carrying all the traffic it admitted. */
function asWrittenEntries(
  bucket: Bucket,
  resolver: Resolver,
  ruleIndex: RecommendContext['ruleIndex'],
): RecommendedEntry[] {
  const { home, protocol } = bucket;
  const cidr = home.rule.peer.kind === 'cidr' ? ruleIndex.peerCidrs(home.rule)[0] : undefined;
  if (cidr === undefined) return [];
  const observations = [...bucket.observations.values()];
  const peer: EntryPeer = { kind: 'cidr', cidr };
  const admitters = new Set<string>();
  for (const o of observations) for (const id of o.admitters) admitters.add(id);
  return [
    {
      family: cidr.family,
      protocol,
      ...(protocolHasPorts(protocol) ? { ports: home.ports ?? ALL_PORTS } : {}),
      peer,
      addressCount: resolver.addressCount(peer),
      connections: observations.reduce((sum, o) => sum + o.connections, 0),
      peerAddrs: new Set(observations.map((o) => o.addr)),
      sourceRuleIds: [...admitters].sort(),
      basis: 'observed',
      addedAddresses: 0n,
    },
  ];
}

function entryFamily(peer: EntryPeer, observed: IpFamily, resolver: Resolver): IpFamily {
  if (peer.kind === 'cidr') return peer.cidr.family;
  if (peer.kind === 'prefix-list') return resolver.prefixList(peer.prefixListId)?.family ?? observed;
  return observed;
}

/** Sets the exposure of uncompacted CIDR entries: addresses the entry admits that were not observed. */
function withExposure(entry: RecommendedEntry): RecommendedEntry {
  if (entry.peer.kind !== 'cidr') return entry;
  return { ...entry, addedAddresses: entry.addressCount - BigInt(entry.peerAddrs.size) };
}

/** An SG reference counts in both families; it is reported under IPv4 unless only IPv6 peers used it. */
function recommendationFamily(entry: RecommendedEntry): IpFamily {
  if (entry.peer.kind !== 'sg') return entry.family;
  for (const addr of entry.peerAddrs) if (!addr.includes(':')) return 'ipv4';
  return 'ipv6';
}

function toRecommendation(
  sgId: string,
  direction: Direction,
  entry: RecommendedEntry,
  listNames: ReadonlyMap<string, string>,
): Recommendation {
  const portFields =
    entry.ports !== undefined
      ? { fromPort: entry.ports.from, toPort: entry.ports.to }
      : entry.icmp !== undefined
        ? { fromPort: entry.icmp.type, toPort: entry.icmp.code }
        : {};
  return {
    sgId,
    direction,
    family: recommendationFamily(entry),
    protocol: protocolName(entry.protocol),
    ...portFields,
    peer: peerValue(entry.peer),
    connections: entry.connections,
    distinctPeers: entry.peerAddrs.size,
    basis: entry.basis,
    text:
      recommendationText(direction, entry.protocol, entry.ports, entry.icmp, peerDisplay(entry.peer)) +
      (entry.basis === 'aws-prefix-list' && entry.peer.kind === 'prefix-list'
        ? ` (${listNames.get(entry.peer.prefixListId) ?? 'AWS service ranges'})`
        : ''),
    sourceRuleIds: entry.sourceRuleIds,
    ...(entry.addedAddresses > 0n ? { addedAddresses: entry.addedAddresses.toString() } : {}),
  };
}

/** Whether the entries (those naming the rule) admit all the rule admits. */
function ruleCovered(space: RuleSpace, entries: readonly RecommendedEntry[], resolver: Resolver): boolean {
  // Recommendations are per protocol: they never admit every protocol a '-1' rule does.
  if (space.protocol === 'all') return false;
  const relevant = entries.filter(
    (e) =>
      e.protocol === space.protocol &&
      (e.icmp === undefined || (space.icmp !== undefined && icmpWithin(space.icmp, e.icmp))),
  );
  if (relevant.length === 0) return space.addresses.length === 0;
  const needed = space.addresses;
  const coveredBy = (parts: readonly RecommendedEntry[]): boolean =>
    intervalsCover(mergeIntervals(parts.flatMap((e) => resolver.cidrsOf(e.peer))), needed);
  if (space.ports === undefined) return coveredBy(relevant);

  const rulePorts = space.ports;
  const neededAddresses = intervalSize(needed);
  // Cheap bound first: the entries' combined volume must reach the rule's before an exact sweep.
  let volume = 0n;
  for (const e of relevant) {
    const overlap = e.ports === undefined ? undefined : intersectRanges([e.ports], [rulePorts])[0];
    if (overlap === undefined) continue;
    volume += portCount(overlap) * smaller(e.addressCount, neededAddresses);
  }
  if (volume < portCount(rulePorts) * neededAddresses) return false;
  const cuts = new Set<number>([rulePorts.from, rulePorts.to + 1]);
  for (const e of relevant) {
    if (e.ports === undefined) continue;
    if (e.ports.from > rulePorts.from && e.ports.from <= rulePorts.to) cuts.add(e.ports.from);
    if (e.ports.to >= rulePorts.from && e.ports.to < rulePorts.to) cuts.add(e.ports.to + 1);
  }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const segment: PortRange = { from: points[i] as number, to: (points[i + 1] as number) - 1 };
    const over = relevant.filter((e) => e.ports !== undefined && rangeContainsRange(e.ports, segment));
    if (!coveredBy(over)) return false;
  }
  return true;
}

/**
 * Recommends, per SG in scope and direction, the smallest rule set admitting every observed ACCEPT
 * connection the SG admitted (inbound → ingress, outbound → egress), each entry inside a rule
 * that admitted its traffic; compacts it to config.ruleQuota per IP family; reports quota use
 * and the rules whose recommendation is narrower than they are.
 *
 * @example
 * const { recommendations, quota, narrowable } = recommendRules(inventory, matched,
 *   { ruleIndex: RuleIndex.build(inventory) }, DEFAULT_CONFIG);
 */
export function recommendRules(
  inventory: Inventory,
  matched: readonly MatchedConnection[],
  context: RecommendContext,
  config: AnalysisConfig,
): RuleRecommendations {
  const { ruleIndex } = context;
  const scope = context.sgIds === undefined ? undefined : new Set(context.sgIds);
  const resolver = new Resolver(inventory, ruleIndex);
  const buckets = collectBuckets(matched, resolver, ruleIndex, scope);

  const bySgDirection = new Map<string, RecommendedEntry[]>();
  const usedRules = new Set<string>();
  const publicServices = new Map<string, string>();
  for (const bucket of buckets.values()) {
    const key = `${bucket.sgId}\u0000${bucket.direction}`;
    const service = publicServiceOf(bucket, context, config);
    if (service !== undefined) publicServices.set(bucket.home.rule.id, service);
    const entries =
      service !== undefined
        ? asWrittenEntries(bucket, resolver, ruleIndex)
        : bucketEntries(bucket, resolver, ruleIndex, config);
    for (const entry of entries) for (const id of entry.sourceRuleIds) usedRules.add(id);
    const list = bySgDirection.get(key);
    if (list === undefined) bySgDirection.set(key, entries);
    else for (const entry of entries) list.push(entry); // a rule's entries can outnumber a call's arguments
  }

  const recommendations: Recommendation[] = [];
  const quota: QuotaReport[] = [];
  const citing = new Map<string, RecommendedEntry[]>();
  const compactOptions = (family: IpFamily) => ({
    weightOf: (entry: RecommendedEntry) => resolver.weight(entry, family),
    withinSourceRule: (entry: RecommendedEntry) => resolver.withinSourceRule(entry),
  });
  const sgs = inventory.securityGroups.filter((sg) => scope === undefined || scope.has(sg.id));
  const listNames = new Map(inventory.prefixLists.map((list) => [list.id, list.name]));
  for (const sg of [...sgs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    for (const direction of DIRECTIONS) {
      const initial = dropContainedEntries(
        mergeEntriesExactly(bySgDirection.get(`${sg.id}\u0000${direction}`) ?? []),
      ).map(withExposure);
      // Compact IPv4 first, then IPv6 with the SG references as IPv4 left them (they count in both).
      const isSgRef = (e: RecommendedEntry): boolean => e.peer.kind === 'sg';
      const v4 = compactToQuota(
        initial.filter((e) => isSgRef(e) || resolver.weight(e, 'ipv4') > 0),
        config.ruleQuota,
        compactOptions('ipv4'),
      );
      const v6 = compactToQuota(
        [
          ...v4.entries.filter(isSgRef),
          ...initial.filter((e) => !isSgRef(e) && resolver.weight(e, 'ipv4') === 0),
        ],
        config.ruleQuota,
        compactOptions('ipv6'),
      );
      const final = dropContainedEntries([...v4.entries.filter((e) => !isSgRef(e)), ...v6.entries]).sort(
        compareRecommendedEntries,
      );

      const added: Record<IpFamily, bigint> = { ipv4: v4.addedAddresses, ipv6: v6.addedAddresses };
      const rules = sg.rules.filter((rule) => rule.direction === direction);
      for (const family of IP_FAMILIES) {
        const current = rules.reduce((sum, rule) => sum + resolver.ruleWeight(rule, family), 0);
        const before = initial.reduce((sum, e) => sum + resolver.weight(e, family), 0);
        const after = final.reduce((sum, e) => sum + resolver.weight(e, family), 0);
        if (current === 0 && before === 0) continue;
        quota.push({
          sgId: sg.id,
          direction,
          family,
          current,
          recommendedBeforeCompaction: before,
          recommended: after,
          limit: config.ruleQuota,
          addedAddresses: added[family].toString(),
        });
      }
      for (const entry of final) {
        recommendations.push(toRecommendation(sg.id, direction, entry, listNames));
        for (const id of entry.sourceRuleIds) {
          const list = citing.get(id);
          if (list === undefined) citing.set(id, [entry]);
          else list.push(entry);
        }
      }
    }
  }

  const narrowable = new Set<string>();
  for (const id of [...usedRules].sort()) {
    const space = resolver.spaceById(id);
    if (space !== undefined && !ruleCovered(space, citing.get(id) ?? [], resolver)) narrowable.add(id);
  }
  return { recommendations, quota, narrowable, publicServices };
}

/** Why a bucket's home rule is a public service (kept world-open), or undefined. */
function publicServiceOf(
  bucket: Bucket,
  context: RecommendContext,
  config: AnalysisConfig,
): string | undefined {
  const rule = bucket.home.rule;
  if (context.publicServiceRules?.has(rule.id)) return publicServiceReason(rule, 'by-design');
  if (!isWorldOpenServicePort(rule, config)) return undefined;
  const networks = publicNetworks([...bucket.observations.values()].map((o) => o.ip));
  return networks >= config.publicServiceMinNetworks ? publicServiceReason(rule, { networks }) : undefined;
}
