/**
 * Rule usage: which rule entries admit each folded connection (design semantics 2), what each
 * rule carried in the window, and whether that makes it used, unused or unknown (semantics 3).
 * Absence of traffic is evidence of disuse only where flow logs could have seen it: every ENI
 * carrying the SG covered by ACCEPT/ALL logs for the whole window, and the rule admitting no
 * traffic that flow logs never record (Amazon DNS, instance metadata, time sync, DHCP).
 */
import type {
  Connection,
  CoverageStatus,
  EniCoverage,
  MatchedConnection,
  PeerUsage,
  PortUsage,
  RuleStatus,
  RuleUsage,
  RuleVerdict,
} from '../model/analysis';
import type { TimeWindow } from '../model/flow';
import type { Inventory, RuleEntry, SecurityGroup } from '../model/inventory';
import { cidrContainsIp, type IpAddress, parseIpOrThrow, tryParseCidr } from '../net/ip';
import { PROTOCOL_TCP, PROTOCOL_UDP } from '../net/protocol';
import type { RuleIndex } from '../rules/rule-index';

/** The parts of the rule index matching reads. */
export type MatchRuleIndex = Pick<RuleIndex, 'matching'>;

/**
 * Attaches to each connection the rule entries (of every SG on its ENI, in its direction) that
 * admit it. REJECT connections get none: they are evidence of blocked attempts, not of use.
 *
 * @example
 * matchConnections([inbound443], ruleIndex)[0].ruleIds // ['sg-1/ingress/tcp/443-443/0.0.0.0/0', 'sg-2/ingress/tcp/0-65535/10.0.0.0/8']
 */
export function matchConnections(
  connections: readonly Connection[],
  ruleIndex: MatchRuleIndex,
): MatchedConnection[] {
  // Connections of one ENI, port and kind of peer are admitted by the same rules: one shared list
  // per distinct set, not one per connection (a million clients of one service share one).
  const lists = new Map<string, readonly string[]>();
  const shared = (ids: string[]): readonly string[] => {
    const key = ids.join('\n');
    let list = lists.get(key);
    if (list === undefined) {
      list = Object.freeze(ids);
      lists.set(key, list);
    }
    return list;
  };
  return connections.map((connection) => {
    if (connection.action !== 'ACCEPT') return matched(connection, NO_RULE_IDS);
    const direction = connection.direction === 'inbound' ? 'ingress' : 'egress';
    const rules = ruleIndex.matching(
      connection.eniId,
      direction,
      connection.protocol,
      connection.port,
      connection.peerAddr,
    );
    return matched(connection, rules.length === 0 ? NO_RULE_IDS : shared(rules.map((rule) => rule.id)));
  });
}

/** The rule ids of a connection no rule admits: one shared empty list, not one per connection. */
const NO_RULE_IDS: readonly string[] = Object.freeze([]);

/**
 * A matched connection, every field written out: one object shape whose fields all sit in the
 * object (a spread copy plus one more field puts it in a separate property array), for what is
 * one object per peer and service port, kept for the whole audit.
 */
function matched(c: Connection, ruleIds: readonly string[]): MatchedConnection {
  return {
    eniId: c.eniId,
    direction: c.direction,
    action: c.action,
    protocol: c.protocol,
    port: c.port,
    localAddr: c.localAddr,
    peerAddr: c.peerAddr,
    evidence: c.evidence,
    connections: c.connections,
    records: c.records,
    packets: c.packets,
    bytes: c.bytes,
    firstSeen: c.firstSeen,
    lastSeen: c.lastSeen,
    ...(c.requestRecords === undefined ? {} : { requestRecords: c.requestRecords }),
    ruleIds,
  };
}

/**
 * ACCEPT connections no rule admits: a stale inventory (rules changed in the window), a
 * misattributed direction, or a path the SG does not filter. The pipeline reports the count as a
 * warning.
 *
 * @example countUnadmittedAccepts(matchConnections(connections, ruleIndex)) // 0
 */
export function countUnadmittedAccepts(matched: readonly MatchedConnection[]): number {
  let count = 0;
  for (const connection of matched) {
    if (connection.action === 'ACCEPT' && connection.ruleIds.length === 0) count++;
  }
  return count;
}

/** What rule usage reads besides the inventory and the matched connections. */
export interface RuleUsageContext {
  readonly ruleIndex: Pick<RuleIndex, 'peerCidrs'>;
  /** Coverage per ENI id; an ENI absent from it counts as 'none'. */
  readonly coverage: ReadonlyMap<string, EniCoverage>;
  readonly window: TimeWindow;
  /** SGs in scope; all when absent. */
  readonly sgIds?: readonly string[] | ReadonlySet<string>;
}

const TOP_PEERS = 10;
const MAX_PORTS = 200;
const LISTED_ENIS = 5;

interface Counter {
  connections: number;
  bytes: number;
}

interface UsageAccumulator {
  connections: number;
  records: number;
  packets: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  readonly peers: Map<string, Counter>;
  readonly ports: Map<string, Counter & { readonly protocol: number; readonly port: number | null }>;
}

/** Traffic flow logs never record, that a rule may nevertheless carry. */
interface UnloggedService {
  readonly label: string;
  readonly protocols: readonly number[];
  readonly fromPort: number;
  readonly toPort: number;
  /** Fixed addresses of the service. */
  readonly addresses: readonly IpAddress[];
  /** Offsets from the base of each VPC IPv4 CIDR (the resolver at +2, the router at +1). */
  readonly vpcOffsets: readonly bigint[];
}

const UNLOGGED_SERVICES: readonly UnloggedService[] = [
  {
    label: 'DNS to the VPC resolver',
    protocols: [PROTOCOL_UDP, PROTOCOL_TCP],
    fromPort: 53,
    toPort: 53,
    addresses: ['169.254.169.253', 'fd00:ec2::253'].map((text) => parseIpOrThrow(text)),
    vpcOffsets: [2n],
  },
  {
    label: 'instance metadata',
    protocols: [PROTOCOL_TCP],
    fromPort: 80,
    toPort: 80,
    addresses: ['169.254.169.254', 'fd00:ec2::254'].map((text) => parseIpOrThrow(text)),
    vpcOffsets: [],
  },
  {
    label: 'time sync',
    protocols: [PROTOCOL_UDP],
    fromPort: 123,
    toPort: 123,
    addresses: ['169.254.169.123', 'fd00:ec2::123'].map((text) => parseIpOrThrow(text)),
    vpcOffsets: [],
  },
  {
    // DHCP goes to the broadcast address and the VPC router (base + 1).
    label: 'DHCP',
    protocols: [PROTOCOL_UDP],
    fromPort: 67,
    toPort: 68,
    addresses: [parseIpOrThrow('255.255.255.255')],
    vpcOffsets: [1n],
  },
];

const COVERAGE_STRENGTH: Readonly<Record<CoverageStatus, number>> = {
  none: 0,
  'reject-only': 1,
  partial: 2,
  full: 3,
};

function newAccumulator(): UsageAccumulator {
  return {
    connections: 0,
    records: 0,
    packets: 0,
    bytes: 0,
    firstSeen: Number.POSITIVE_INFINITY,
    lastSeen: Number.NEGATIVE_INFINITY,
    peers: new Map(),
    ports: new Map(),
  };
}

function listEnis(eniIds: readonly string[]): string {
  const shown = eniIds.slice(0, LISTED_ENIS).join(', ');
  return eniIds.length > LISTED_ENIS ? `${shown} and ${eniIds.length - LISTED_ENIS} more` : shown;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** What the coverage of an SG's ENIs says about disuse, computed once per SG. */
interface SgCoverage {
  readonly summary: CoverageStatus | 'no-enis';
  /** Why absence of traffic is not evidence of disuse; empty when every ENI is fully covered. */
  readonly gaps: readonly string[];
  readonly eniCount: number;
}

function summariseCoverage(
  eniIds: readonly string[],
  coverage: ReadonlyMap<string, EniCoverage>,
): SgCoverage {
  if (eniIds.length === 0) {
    return { summary: 'no-enis', gaps: ['not attached to any network interface'], eniCount: 0 };
  }
  let summary: CoverageStatus = 'full';
  const uncovered: string[] = [];
  const rejectOnly: string[] = [];
  const partialByReason = new Map<string, string[]>();
  for (const eniId of eniIds) {
    const eniCoverage = coverage.get(eniId);
    const status = eniCoverage?.status ?? 'none';
    if (COVERAGE_STRENGTH[status] < COVERAGE_STRENGTH[summary]) summary = status;
    if (status === 'none') uncovered.push(eniId);
    else if (status === 'reject-only') rejectOnly.push(eniId);
    else if (status === 'partial') {
      const reason = eniCoverage?.reasons.join('; ') || 'flow logs cover only part of the window';
      const enis = partialByReason.get(reason) ?? [];
      enis.push(eniId);
      partialByReason.set(reason, enis);
    }
  }
  const gaps: string[] = [];
  if (uncovered.length > 0) {
    gaps.push(
      `${uncovered.length} of ${plural(eniIds.length, 'ENI')} ${uncovered.length === 1 ? 'has' : 'have'} no flow-log coverage: ${listEnis(uncovered)}`,
    );
  }
  if (rejectOnly.length > 0) gaps.push(`only REJECT records are logged for ${listEnis(rejectOnly)}`);
  for (const [reason, enis] of partialByReason) gaps.push(`${reason} (${listEnis(enis)})`);
  return { summary, gaps, eniCount: eniIds.length };
}

function admitsProtocolAndPorts(rule: RuleEntry, service: UnloggedService): boolean {
  if (rule.protocolNumber === 'all') return true;
  if (!service.protocols.includes(rule.protocolNumber)) return false;
  if (rule.fromPort === undefined || rule.toPort === undefined) return true;
  return rule.fromPort <= service.toPort && service.fromPort <= rule.toPort;
}

/**
 * The never-logged services an egress rule admits. Only egress: these are requests the ENI makes.
 */
function unloggedServicesAdmitted(
  rule: RuleEntry,
  vpcBases: readonly bigint[],
  ruleIndex: Pick<RuleIndex, 'peerCidrs'>,
): string[] {
  if (rule.direction !== 'egress') return [];
  const candidates = UNLOGGED_SERVICES.filter((service) => admitsProtocolAndPorts(rule, service));
  if (candidates.length === 0) return [];
  const peerCidrs = ruleIndex.peerCidrs(rule);
  const labels: string[] = [];
  for (const service of candidates) {
    const addresses: IpAddress[] = [...service.addresses];
    for (const base of vpcBases) {
      for (const offset of service.vpcOffsets) addresses.push({ family: 'ipv4', value: base + offset });
    }
    if (peerCidrs.some((cidr) => addresses.some((address) => cidrContainsIp(cidr, address)))) {
      labels.push(service.label);
    }
  }
  return labels;
}

function verdictOf(status: RuleStatus): RuleVerdict {
  if (status === 'used') return 'keep';
  if (status === 'unused') return 'remove';
  return 'review';
}

function usedText(connections: number, distinctPeers: number): string {
  return `${plural(connections, 'connection')} from ${plural(distinctPeers, 'peer')} in the window`;
}

function verdictReasonOf(status: RuleStatus, statusReason: string): string {
  if (status === 'used') return `used: ${statusReason}`;
  if (status === 'unused') return `unused: ${statusReason}`;
  return `usage unknown: ${statusReason}`;
}

function byUse(a: Counter, b: Counter): number {
  return b.connections - a.connections || b.bytes - a.bytes;
}

/** Sums every matched connection overlapping the window onto each in-scope rule that admits it. */
function accumulateUsage(
  matched: readonly MatchedConnection[],
  window: TimeWindow,
  accumulators: ReadonlyMap<string, UsageAccumulator>,
): void {
  for (const connection of matched) {
    if (connection.ruleIds.length === 0) continue;
    if (connection.lastSeen < window.start || connection.firstSeen > window.end) continue;
    for (const ruleId of connection.ruleIds) {
      const accumulator = accumulators.get(ruleId);
      if (accumulator === undefined) continue;
      accumulator.connections += connection.connections;
      accumulator.records += connection.records;
      accumulator.packets += connection.packets;
      accumulator.bytes += connection.bytes;
      accumulator.firstSeen = Math.min(accumulator.firstSeen, connection.firstSeen);
      accumulator.lastSeen = Math.max(accumulator.lastSeen, connection.lastSeen);
      const peer = accumulator.peers.get(connection.peerAddr);
      if (peer === undefined) {
        accumulator.peers.set(connection.peerAddr, {
          connections: connection.connections,
          bytes: connection.bytes,
        });
      } else {
        peer.connections += connection.connections;
        peer.bytes += connection.bytes;
      }
      const portKey = `${connection.protocol}|${connection.port}`;
      const port = accumulator.ports.get(portKey);
      if (port === undefined) {
        accumulator.ports.set(portKey, {
          protocol: connection.protocol,
          port: connection.port,
          connections: connection.connections,
          bytes: connection.bytes,
        });
      } else {
        port.connections += connection.connections;
        port.bytes += connection.bytes;
      }
    }
  }
}

/**
 * Why a rule without matching connections may still carry traffic: its peer resolves to no
 * address here (an SG of another account or peered VPC, an SG whose ENIs are absent, a prefix
 * list missing from the inventory), or it admits traffic flow logs never record.
 */
function hiddenTrafficReasons(
  rule: RuleEntry,
  vpcBases: readonly bigint[],
  ruleIndex: Pick<RuleIndex, 'peerCidrs'>,
): string[] {
  const reasons: string[] = [];
  if (rule.peer.kind !== 'cidr' && ruleIndex.peerCidrs(rule).length === 0) {
    reasons.push(
      rule.peer.kind === 'sg'
        ? `its peer ${rule.peer.groupId} has no network interface in the inventory (another account, a peered VPC, or ENIs created on demand)`
        : `its prefix list ${rule.peer.prefixListId} is not in the inventory`,
    );
  }
  const unlogged = unloggedServicesAdmitted(rule, vpcBases, ruleIndex);
  if (unlogged.length > 0) reasons.push(`may carry traffic flow logs never record: ${unlogged.join(', ')}`);
  return reasons;
}

function topPeers(accumulator: UsageAccumulator): PeerUsage[] {
  return [...accumulator.peers]
    .map(([addr, counter]): PeerUsage => ({ addr, connections: counter.connections, bytes: counter.bytes }))
    .sort((a, b) => byUse(a, b) || (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0))
    .slice(0, TOP_PEERS);
}

function topPorts(accumulator: UsageAccumulator): PortUsage[] {
  return [...accumulator.ports.values()]
    .map(
      (counter): PortUsage => ({
        protocol: counter.protocol,
        port: counter.port,
        connections: counter.connections,
        bytes: counter.bytes,
      }),
    )
    .sort((a, b) => byUse(a, b) || a.protocol - b.protocol || (a.port ?? -1) - (b.port ?? -1))
    .slice(0, MAX_PORTS);
}

/**
 * Usage, status and a first verdict (from the status alone) of every rule entry of every SG in
 * scope. Each connection counts on every rule that admits it (across the ENI's SGs), so overlapping
 * rules are all used. Status: used = at least one matching connection overlapping the window;
 * unused = none, every ENI carrying the SG fully covered, and nothing suggests traffic the logs
 * cannot show (an unresolved peer, never-logged services such as the DNS resolver); unknown
 * otherwise, with the reason.
 *
 * @example
 * const usage = computeRuleUsage(inventory, matched, { ruleIndex, coverage, window });
 * usage.get('sg-1/ingress/tcp/22-22/0.0.0.0/0')?.status // 'unused'
 */
export function computeRuleUsage(
  inventory: Inventory,
  matched: readonly MatchedConnection[],
  context: RuleUsageContext,
): Map<string, RuleUsage> {
  const { window, coverage, ruleIndex } = context;
  const scope = context.sgIds === undefined ? undefined : new Set(context.sgIds);
  const groups: SecurityGroup[] = inventory.securityGroups.filter(
    (sg) => scope === undefined || scope.has(sg.id),
  );

  const accumulators = new Map<string, UsageAccumulator>();
  for (const sg of groups) {
    for (const rule of sg.rules) accumulators.set(rule.id, newAccumulator());
  }
  accumulateUsage(matched, window, accumulators);

  const eniIdsBySg = new Map<string, string[]>();
  for (const eni of inventory.networkInterfaces) {
    for (const sgId of new Set(eni.sgIds)) {
      const eniIds = eniIdsBySg.get(sgId) ?? [];
      eniIds.push(eni.id);
      eniIdsBySg.set(sgId, eniIds);
    }
  }
  const vpcBases = new Map<string, bigint[]>();
  for (const vpc of inventory.vpcs) {
    const bases: bigint[] = [];
    for (const text of vpc.cidrs) {
      const cidr = tryParseCidr(text);
      if (cidr?.family === 'ipv4') bases.push(cidr.network);
    }
    vpcBases.set(vpc.id, bases);
  }

  const usage = new Map<string, RuleUsage>();
  for (const sg of groups) {
    const sgCoverage = summariseCoverage(eniIdsBySg.get(sg.id) ?? [], coverage);
    for (const rule of sg.rules) {
      const accumulator = accumulators.get(rule.id) ?? newAccumulator();
      const distinctPeers = accumulator.peers.size;
      let status: RuleStatus;
      let statusReason: string;
      if (accumulator.connections > 0) {
        status = 'used';
        statusReason = usedText(accumulator.connections, distinctPeers);
      } else {
        const reasons =
          sgCoverage.summary === 'no-enis'
            ? [...sgCoverage.gaps]
            : [...sgCoverage.gaps, ...hiddenTrafficReasons(rule, vpcBases.get(sg.vpcId) ?? [], ruleIndex)];
        if (reasons.length > 0) {
          status = 'unknown';
          statusReason = reasons.join('; ');
        } else {
          status = 'unused';
          const covered = sgCoverage.eniCount === 1 ? 'its ENI' : `all ${sgCoverage.eniCount} ENIs`;
          statusReason = `no connection in the window, and flow logs covered ${covered} for the whole window`;
        }
      }
      const used = status === 'used';
      usage.set(rule.id, {
        ruleId: rule.id,
        sgId: sg.id,
        status,
        statusReason,
        verdict: verdictOf(status),
        verdictReason: verdictReasonOf(status, statusReason),
        connections: accumulator.connections,
        records: accumulator.records,
        packets: accumulator.packets,
        bytes: accumulator.bytes,
        distinctPeers,
        ...(used ? { firstSeen: accumulator.firstSeen, lastSeen: accumulator.lastSeen } : {}),
        coverage: sgCoverage.summary,
        topPeers: topPeers(accumulator),
        ports: topPorts(accumulator),
      });
    }
  }
  return usage;
}

/**
 * Final verdicts: used rules a narrower recommendation covers → 'narrow', used public services →
 * 'keep' saying so ("keep: public service (…)"), other used → 'keep', unused → 'remove', unknown →
 * 'review'. Returns new objects; the input is not changed.
 *
 * @example assignVerdicts(usage, new Set(['sg-1/ingress/tcp/0-65535/10.0.0.0/8'])).get('sg-1/ingress/tcp/0-65535/10.0.0.0/8')?.verdict // 'narrow'
 */
export function assignVerdicts(
  usage: ReadonlyMap<string, RuleUsage>,
  narrowable: ReadonlySet<string>,
  publicServices: ReadonlyMap<string, string> = new Map(),
): Map<string, RuleUsage> {
  const result = new Map<string, RuleUsage>();
  for (const [ruleId, entry] of usage) {
    let verdict: RuleVerdict;
    let verdictReason: string;
    const service = publicServices.get(ruleId);
    if (entry.status === 'used' && service !== undefined) {
      verdict = 'keep';
      verdictReason = `keep: public service (${service}), never narrowed to the peers of one week; used: ${entry.statusReason}`;
    } else if (entry.status === 'used' && narrowable.has(ruleId) && entry.coverage !== 'full') {
      // Traffic on the unproven days is unknown: narrowing to what was seen could cut it.
      verdict = 'review';
      verdictReason = `used (${entry.statusReason}) and wider than the traffic seen, but not every ENI's delivery is proven for the whole window (coverage ${entry.coverage}): keep it as written until it is`;
    } else if (entry.status === 'used' && narrowable.has(ruleId)) {
      verdict = 'narrow';
      verdictReason = `used, but wider than its traffic: ${entry.statusReason}; narrower rules admit all of it`;
    } else {
      verdict = verdictOf(entry.status);
      verdictReason = verdictReasonOf(entry.status, entry.statusReason);
    }
    result.set(ruleId, { ...entry, verdict, verdictReason });
  }
  return result;
}
