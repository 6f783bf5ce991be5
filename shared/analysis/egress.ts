/**
 * Where traffic goes: the accepted outbound connections of the audited SGs' ENIs to destinations
 * outside the inventory's VPCs and ENIs (the AWS guidance's "top external destinations" before
 * anyone tightens egress), per SG — the SGs whose egress rules admitted each connection.
 *
 * Destinations are grouped by AWS service where the flow log names one (`pkt-dst-aws-service`:
 * `AWS S3`, kept apart by what a rule would name: the managed prefix list holding the address, else
 * its network) or the export does (an AWS-managed prefix list holding the address:
 * `com.amazonaws.ap-northeast-2.s3`), otherwise by network (the /24 or /64 of the summarising
 * prefixes). Given an allow-list, each group is expected or not; without one
 * nothing was reviewed, and the report says `unreviewed`, never `no`. Flow logs carry addresses,
 * not names: a CDN or a SaaS behind shared addresses shows as its networks.
 */
import type { AnalysisConfig } from '../config';
import type { EniCoverage, MatchedConnection } from '../model/analysis';
import type { EgressDestination, EgressExpectation, EgressReport } from '../model/egress';
import type { Inventory, NetworkInterface, PrefixList } from '../model/inventory';
import { AddressSet } from '../net/address-set';
import { type Cidr, formatCidr, type IpAddress, parseIp, supernetOf, tryParseCidr } from '../net/ip';
import { protocolHasPorts, protocolName } from '../net/protocol';
import type { RuleIndex } from '../rules/rule-index';
import type { EgressAllowList, EgressAllowMatcher } from '../suppressions/egress-allowlist';
import { isPrivateIp, vpcSpace } from './address-space';

/** What the egress review reads besides the connections. */
export interface EgressContext {
  readonly inventory: Inventory;
  readonly ruleIndex: Pick<RuleIndex, 'eniByAddress' | 'eniById' | 'ruleById'>;
  readonly coverage: ReadonlyMap<string, EniCoverage>;
  /** Audited SGs: destinations are listed per audited SG only. */
  readonly sgIds: ReadonlySet<string>;
  readonly config: AnalysisConfig;
  /**
   * The AWS service the flow logs named for an address (pkt-dst-aws-service, by canonical
   * address), read before the prefix lists; absent or empty when no format carries it.
   */
  readonly awsServices?: ReadonlyMap<string, string>;
  /** The allow-list matcher, when an allow-list was given. */
  readonly allowList?: EgressAllowMatcher;
}

export interface EgressAnalysis {
  readonly report: EgressReport;
  /** Every destination group, before the per-SG limit (findings are drawn from all of them). */
  readonly destinations: readonly EgressDestination[];
}

/** Web ports: the bulk of ordinary egress, left out of the admin-port view. */
const WEB_PORTS: ReadonlySet<number> = new Set([80, 443]);
/** The seed guidance's admin view: destination ports below this. */
const ADMIN_PORT_LIMIT = 1024;
const TOP_ADDRESSES = 5;

/** An AWS-managed prefix list, compiled for membership tests. */
interface ServiceList {
  readonly list: PrefixList;
  readonly service: string;
  readonly addresses: AddressSet;
}

/** Where a destination address belongs: an AWS service list, else a network. */
interface DestinationGroup {
  readonly destination: string;
  readonly kind: EgressDestination['kind'];
  readonly peer: string;
  readonly service?: string;
  readonly prefixListIds: readonly string[];
}

/**
 * Whether a prefix list is AWS-managed: owned by AWS, or named `com.amazonaws.…`.
 *
 * @example isAwsManaged({ name: 'com.amazonaws.ap-northeast-2.s3', … }) // true
 */
export function isAwsManaged(list: Pick<PrefixList, 'name' | 'ownerId'>): boolean {
  return list.ownerId === 'AWS' || list.name.startsWith('com.amazonaws.');
}

/** `com.amazonaws.ap-northeast-2.s3` → `s3`; `com.amazonaws.global.cloudfront.origin-facing` → `cloudfront.origin-facing`. */
function serviceOfList(name: string): string {
  const parts = name.split('.');
  return parts.length > 3 && parts[0] === 'com' && parts[1] === 'amazonaws'
    ? parts.slice(3).join('.').toLowerCase()
    : name.toLowerCase();
}

class Destinations {
  private readonly serviceLists: readonly ServiceList[];
  private readonly allLists: readonly { readonly id: string; readonly addresses: AddressSet }[];
  private readonly internal: AddressSet;
  private readonly groups = new Map<string, DestinationGroup>();

  constructor(private readonly context: EgressContext) {
    const compile = (list: PrefixList) =>
      AddressSet.of(list.entries.flatMap((e) => tryParseCidr(e.cidr) ?? []));
    this.allLists = context.inventory.prefixLists.map((list) => ({ id: list.id, addresses: compile(list) }));
    this.serviceLists = context.inventory.prefixLists
      .filter(isAwsManaged)
      .map((list) => ({ list, service: serviceOfList(list.name), addresses: compile(list) }));
    this.internal = vpcSpace(context.inventory.vpcs);
  }

  /** Whether an address is outside the inventory: no ENI holds it and no VPC contains it. */
  isExternal(addr: string, ip: IpAddress): boolean {
    return this.context.ruleIndex.eniByAddress(addr) === undefined && !this.internal.has(ip);
  }

  groupOf(addr: string, ip: IpAddress): DestinationGroup {
    let group = this.groups.get(addr);
    if (group !== undefined) return group;
    const prefixListIds = this.allLists.filter((l) => l.addresses.has(ip)).map((l) => l.id);
    const service = this.serviceLists.find((s) => s.addresses.has(ip));
    const named = this.context.awsServices?.get(addr);
    if (named !== undefined) {
      // The service AWS named in the flow log; a rule would name its prefix list, else the network.
      group = {
        destination: `AWS ${named}`,
        kind: 'aws-service',
        peer: service?.list.id ?? this.networkOf(ip),
        service: named,
        prefixListIds,
      };
    } else if (service !== undefined) {
      group = {
        destination: service.list.name,
        kind: 'aws-service',
        peer: service.list.id,
        service: service.service,
        prefixListIds,
      };
    } else {
      const network = this.networkOf(ip);
      group = { destination: network, kind: 'network', peer: network, prefixListIds };
    }
    this.groups.set(addr, group);
    return group;
  }

  /** The summarising network of an address: its /24 or /64 by default. */
  private networkOf(ip: IpAddress): string {
    const { config } = this.context;
    const prefix = ip.family === 'ipv4' ? config.summarisePrefixV4 : config.summarisePrefixV6;
    const host: Cidr = { family: ip.family, network: ip.value, prefix: ip.family === 'ipv4' ? 32 : 128 };
    return formatCidr(supernetOf(host, prefix));
  }
}

/** A destination group while connections add to it. */
interface Accumulator {
  readonly sgId: string;
  readonly group: DestinationGroup;
  readonly public: boolean;
  readonly protocol: number;
  readonly port: number | null;
  readonly expected: EgressExpectation;
  readonly allowListId?: string;
  connections: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  readonly addresses: Map<string, number>;
}

/** The audited SGs whose egress rules admitted the connection (all the ENI's audited SGs when none is named). */
function sgsOf(connection: MatchedConnection, eni: NetworkInterface, context: EgressContext): string[] {
  const admitting = new Set<string>();
  for (const ruleId of connection.ruleIds) {
    const sgId = context.ruleIndex.ruleById(ruleId)?.sgId;
    if (sgId !== undefined && context.sgIds.has(sgId)) admitting.add(sgId);
  }
  if (admitting.size > 0) return [...admitting];
  return eni.sgIds.filter((id) => context.sgIds.has(id));
}

function isAdminPort(isPublic: boolean, protocol: number, port: number | null): boolean {
  return (
    isPublic && port !== null && protocolHasPorts(protocol) && port < ADMIN_PORT_LIMIT && !WEB_PORTS.has(port)
  );
}

function toDestination(a: Accumulator): EgressDestination {
  const top = [...a.addresses].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  return {
    sgId: a.sgId,
    destination: a.group.destination,
    kind: a.group.kind,
    peer: a.group.peer,
    ...(a.group.service !== undefined ? { service: a.group.service } : {}),
    public: a.public,
    protocol: protocolName(a.protocol),
    port: a.port,
    connections: a.connections,
    bytes: a.bytes,
    addresses: a.addresses.size,
    topAddresses: top.slice(0, TOP_ADDRESSES).map(([addr]) => addr),
    firstSeen: a.firstSeen,
    lastSeen: a.lastSeen,
    expected: a.expected,
    ...(a.allowListId !== undefined ? { allowListId: a.allowListId } : {}),
    adminPort: isAdminPort(a.public, a.protocol, a.port),
  };
}

const EXPECTATION_RANK: Readonly<Record<EgressExpectation, number>> = { no: 0, unreviewed: 1, yes: 2 };

/** Unexpected first, then the busiest: the order of the report's list (each SG keeps its busiest). */
function compareDestinations(a: EgressDestination, b: EgressDestination): number {
  return (
    EXPECTATION_RANK[a.expected] - EXPECTATION_RANK[b.expected] ||
    b.connections - a.connections ||
    a.sgId.localeCompare(b.sgId) ||
    b.bytes - a.bytes ||
    a.destination.localeCompare(b.destination) ||
    (a.port ?? -1) - (b.port ?? -1) ||
    a.protocol.localeCompare(b.protocol) ||
    (a.allowListId ?? '').localeCompare(b.allowListId ?? '')
  );
}

function allowListSummary(list: EgressAllowList, matcher: EgressAllowMatcher): EgressReport['allowList'] {
  return {
    file: list.file,
    entries: list.entries.length,
    expired: matcher.expired().map((e) => e.id),
    unused: matcher.unused().map((e) => e.id),
  };
}

/**
 * Reviews the external destinations of accepted outbound connections, per audited SG.
 *
 * @example
 * const { report } = reviewEgress(matched, { inventory, ruleIndex, coverage, sgIds, config, allowList: new EgressAllowMatcher(list, now) });
 * report.destinations[0] // { sgId: 'sg-app', destination: '45.139.122.0/24', protocol: 'tcp', port: 443, expected: 'no', … }
 */
export function reviewEgress(
  connections: readonly MatchedConnection[],
  context: EgressContext,
): EgressAnalysis {
  const destinations = new Destinations(context);
  const accumulators = new Map<string, Accumulator>();
  let total = 0;
  let bytes = 0;
  for (const c of connections) {
    if (c.action !== 'ACCEPT' || c.direction !== 'outbound') continue;
    const eni = context.ruleIndex.eniById(c.eniId);
    const ip = parseIp(c.peerAddr);
    if (eni === undefined || ip === undefined || !destinations.isExternal(c.peerAddr, ip)) continue;
    const sgIds = sgsOf(c, eni, context);
    if (sgIds.length === 0) continue;
    total += c.connections;
    bytes += c.bytes;
    const group = destinations.groupOf(c.peerAddr, ip);
    const isPublic = !isPrivateIp(ip);
    for (const sgId of sgIds) {
      const entry = context.allowList?.match({
        sgId,
        vpcId: eni.vpcId,
        protocol: c.protocol,
        port: c.port,
        addr: ip,
        prefixListIds: group.prefixListIds,
        ...(group.service !== undefined ? { service: group.service.toLowerCase() } : {}),
      });
      const expected: EgressExpectation =
        context.allowList === undefined ? 'unreviewed' : entry !== undefined ? 'yes' : 'no';
      // The peer too: one service AWS named may span networks a rule names apart.
      const key = `${sgId}|${group.destination}|${group.peer}|${c.protocol}|${c.port}|${expected}|${entry?.id ?? ''}`;
      let acc = accumulators.get(key);
      if (acc === undefined) {
        acc = {
          sgId,
          group,
          public: isPublic,
          protocol: c.protocol,
          port: c.port,
          expected,
          ...(entry !== undefined ? { allowListId: entry.id } : {}),
          connections: 0,
          bytes: 0,
          firstSeen: c.firstSeen,
          lastSeen: c.lastSeen,
          addresses: new Map(),
        };
        accumulators.set(key, acc);
      }
      acc.connections += c.connections;
      acc.bytes += c.bytes;
      acc.firstSeen = Math.min(acc.firstSeen, c.firstSeen);
      acc.lastSeen = Math.max(acc.lastSeen, c.lastSeen);
      acc.addresses.set(c.peerAddr, (acc.addresses.get(c.peerAddr) ?? 0) + c.connections);
    }
  }
  const all = [...accumulators.values()].map(toDestination).sort(compareDestinations);
  // Each SG keeps its unexpected destinations first, then its busiest, up to the limit.
  const listed: EgressDestination[] = [];
  const perSg = new Map<string, number>();
  for (const d of all) {
    const n = perSg.get(d.sgId) ?? 0;
    if (n >= context.config.egressDestinationsPerSg) continue;
    perSg.set(d.sgId, n + 1);
    listed.push(d);
  }
  const incompleteEnis = context.inventory.networkInterfaces
    .filter((eni) => eni.sgIds.some((id) => context.sgIds.has(id)))
    .filter((eni) => context.coverage.get(eni.id)?.status !== 'full')
    .map((eni) => eni.id)
    .sort();
  const matcher = context.allowList;
  return {
    report: {
      connections: total,
      bytes,
      destinations: listed,
      unexpected: all.filter((d) => d.expected === 'no').length,
      omittedRows: all.length - listed.length,
      ...(matcher !== undefined ? { allowList: allowListSummary(matcher.list, matcher) } : {}),
      incompleteEnis,
    },
    destinations: all,
  };
}
