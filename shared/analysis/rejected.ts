/**
 * What the rules refused: the REJECT connections of the one fold (initiator, service port and
 * peer decided like accepted ones; a refused SYN's retries are one attempt), per ENI and SG, each
 * read as one of three classes (model/rejected.ts):
 *
 * - `nacl` when the ENI's SGs admit the connection: something else refused it, the subnet's
 *   network ACL — whose refusing entry is named. A refused reply of an accepted connection is
 *   `nacl` too: SGs are stateful and never refuse a reply, a NACL does.
 * - `missing-rule` when an internal initiator (the ENI itself for outbound attempts; a peer in the
 *   VPC, another VPC of the account, a known SG's ENIs or private space for inbound ones) tried at
 *   least `rejectedMinAttempts` times, and the port is served to others (accepted from other
 *   peers in the window) or another SG on a sibling ENI admits it. The rule that would admit it is
 *   a suggestion to review, never part of the recommendations.
 * - `probe` otherwise: attempts from the internet, one-offs, ports nobody serves. Counted, top
 *   sources and ports listed, no rule suggested.
 *
 * Only ENIs whose flow logs record REJECT show what was refused; the others are listed, since
 * their silence says nothing.
 */
import type { AnalysisConfig } from '../config';
import { FirstInOrder, firstInOrder } from '../first-in-order';
import type { Connection, EniCoverage } from '../model/analysis';
import type { Direction, Inventory, NetworkAcl, NetworkInterface, ResourceRef } from '../model/inventory';
import type {
  NaclBlock,
  PeerOrigin,
  ProbedPort,
  ProbeSource,
  RejectedClass,
  RejectedConnection,
  RejectedFacts,
  RejectedReport,
  SuggestedRule,
} from '../model/rejected';
import { REJECTED_CLASSES } from '../model/rejected';
import type { AddressSet } from '../net/address-set';
import { type IpAddress, ipv4Number, parseIp } from '../net/ip';
import { normalizeRanges, type PortRange } from '../net/ports';
import { protocolHasPorts, protocolName } from '../net/protocol';
import { formatQuantity } from '../render/format';
import type { RuleIndex } from '../rules/rule-index';
import { isPrivateIp, vpcSpace } from './address-space';
import { ephemeralRangesOf } from './fold-plan';
import { DEFAULT_NACL_RULE, decideNacl, naclEntryText, naclOfSubnet } from './nacl-evaluation';
import { recommendationText } from './recommend';

/** What the rejected analysis reads besides the connections. */
export interface RejectedContext {
  readonly inventory: Inventory;
  readonly ruleIndex: Pick<RuleIndex, 'matching' | 'eniByAddress' | 'eniByIp' | 'eniById'>;
  readonly resources: ReadonlyMap<string, ResourceRef>;
  readonly coverage: ReadonlyMap<string, EniCoverage>;
  /** ENIs carrying an audited SG: only their refusals are reported. */
  readonly eniIds: ReadonlySet<string>;
  readonly config: AnalysisConfig;
}

/** A rule entry whose admitted connections a NACL refused, with how many and by which entry. */
export interface BlockedRule {
  readonly connections: number;
  readonly nacl: string;
}

export interface RejectedAnalysis {
  readonly report: RejectedReport;
  /**
   * Every missing-rule and NACL group (findings are drawn from all of them), in the report's order
   * (a finding names the first group of its suggestion, so their order must not follow the
   * engine's), without reasons. Probe groups are not kept: their findings are sums, handed to
   * `onProbe` as the groups are read.
   */
  readonly rows: readonly RejectedFacts[];
  /** Rule entries admitting connections the NACL refused (class `nacl`, not replies), by rule id. */
  readonly blockedRules: ReadonlyMap<string, BlockedRule>;
}

const TOP_LISTED = 10;
const CLASS_RANK: Readonly<Record<RejectedClass, number>> = { 'missing-rule': 0, nacl: 1, probe: 2 };

/** One rejected group while it is assembled: connections of one ENI, direction, protocol, port and peer. */
interface Group {
  readonly eni: NetworkInterface;
  readonly direction: Direction;
  readonly protocol: number;
  readonly port: number | null;
  readonly peer: string;
  readonly localAddr: string;
  readonly replyOnly: boolean;
  readonly servicePortUnknown: boolean;
  /** Index of the group's first connection: the groups' order of first appearance. */
  readonly order: number;
  connections: number;
  records: number;
  packets: number;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Who is served on what: the two lowest clients per (service, protocol, port) — enough to tell
 * "others", and the same two whatever order the engine returned its rows in.
 */
class ServedPorts {
  private readonly clients = new Map<string, string[]>();

  add(service: string, protocol: number, port: number | null, client: string): void {
    const key = `${service}|${protocol}|${port}`;
    const list = this.clients.get(key);
    if (list === undefined) {
      this.clients.set(key, [client]);
      return;
    }
    if (list.includes(client)) return;
    list.push(client);
    list.sort();
    if (list.length > 2) list.pop();
  }

  /** A client other than `except`, when the service served one. */
  otherClient(service: string, protocol: number, port: number | null, except: string): string | undefined {
    return this.clients.get(`${service}|${protocol}|${port}`)?.find((client) => client !== except);
  }
}

/** The lookups one analysis builds once. */
class Lookups {
  readonly served = new ServedPorts();
  private readonly vpcSpace = new Map<string, AddressSet>();
  private readonly accountSpace: AddressSet;
  private readonly siblingsByEni = new Map<string, readonly NetworkInterface[]>();
  /** ENIs by VPC and resource type: the candidates of a sibling, indexed once. */
  private readonly byRole = new Map<string, NetworkInterface[]>();
  private readonly naclBySubnet = new Map<string, NetworkAcl | undefined>();

  constructor(private readonly context: RejectedContext) {
    for (const vpc of context.inventory.vpcs) this.vpcSpace.set(vpc.id, vpcSpace([vpc]));
    this.accountSpace = vpcSpace(context.inventory.vpcs);
    for (const eni of context.inventory.networkInterfaces) {
      const key = this.roleKey(eni);
      if (key === undefined) continue;
      const list = this.byRole.get(key);
      if (list === undefined) this.byRole.set(key, [eni]);
      else list.push(eni);
    }
  }

  private roleKey(eni: NetworkInterface): string | undefined {
    const type = this.resourceOf(eni.id)?.type;
    return type === undefined ? undefined : `${eni.vpcId}|${type}`;
  }

  /** The NACL guarding the ENI's subnet, looked up once per subnet. */
  naclOf(eni: NetworkInterface): NetworkAcl | undefined {
    if (!this.naclBySubnet.has(eni.subnetId)) {
      this.naclBySubnet.set(eni.subnetId, naclOfSubnet(this.context.inventory.networkAcls, eni));
    }
    return this.naclBySubnet.get(eni.subnetId);
  }

  /** Where a peer (its address parsed once per group: a week of scanners is millions of peers) sits. */
  origin(ip: IpAddress | undefined, eni: NetworkInterface): PeerOrigin {
    if (ip === undefined) return 'internet';
    const owner = this.context.ruleIndex.eniByIp(ip);
    if (owner !== undefined) return owner.vpcId === eni.vpcId ? 'vpc' : 'account';
    if (this.vpcSpace.get(eni.vpcId)?.has(ip)) return 'vpc';
    if (this.accountSpace.has(ip)) return 'account';
    return isPrivateIp(ip) ? 'private' : 'internet';
  }

  resourceOf(eniId: string): ResourceRef | undefined {
    return this.context.resources.get(eniId);
  }

  /** ENIs in the same role: same VPC and resource type, sharing an SG or the resource. */
  siblings(eni: NetworkInterface): readonly NetworkInterface[] {
    let siblings = this.siblingsByEni.get(eni.id);
    if (siblings === undefined) {
      const own = this.resourceOf(eni.id);
      const key = this.roleKey(eni);
      siblings = (key === undefined ? [] : (this.byRole.get(key) ?? [])).filter(
        (other) =>
          other.id !== eni.id &&
          (this.resourceOf(other.id)?.id === own?.id || other.sgIds.some((id) => eni.sgIds.includes(id))),
      );
      this.siblingsByEni.set(eni.id, siblings);
    }
    return siblings;
  }
}

function hostCidrText(addr: string): string {
  return addr.includes(':') ? `${addr}/128` : `${addr}/32`;
}

const ORIGIN_WORDS: Readonly<Record<PeerOrigin, string>> = {
  vpc: 'inside the VPC',
  account: 'another VPC of the account',
  private: 'private address space outside the account (peering, transit gateway, on-premises)',
  internet: 'the internet',
};

function trafficWords(protocol: number, port: number | null): string {
  const name = protocolName(protocol);
  if (port !== null) return `${name}/${port}`;
  return protocolHasPorts(protocol) ? `${name} (a port the fold did not keep)` : name;
}

/** A connection's direction and kind in its group key, in 3 bits. */
const INBOUND = 1;
const REPLY_ONLY = 2;
const PORT_UNKNOWN = 4;

/**
 * Merges the REJECT connections of one ENI, direction, protocol, port and peer (local addresses
 * apart). The connections are found by sorting their indices by that key, held as two numbers per
 * connection in typed arrays (the peer as its IPv4 value, compared as text only when it is not
 * one; ENI, protocol, port and kind packed in the other): no object or key string per connection,
 * where a map of groups would hold every group at once (a week of scanners is millions). Each
 * group is built when its run of connections is read and let go after; it carries the index of
 * its first connection (`order`), which stands in for the order the groups first appeared in
 * wherever that decides a tie or a first value.
 */
function* groupsOf(connections: readonly Connection[], context: RejectedContext): Generator<Group> {
  let picked = 0;
  for (const c of connections) {
    if (c.action === 'REJECT' && context.eniIds.has(c.eniId)) picked++;
  }
  // Per picked connection, in input order: its index in `connections` and its two key numbers.
  const at = new Uint32Array(picked);
  /** The peer's IPv4 value, or -1 when it is not IPv4 (its text decides then). */
  const peers = new Float64Array(picked);
  /** ((ENI ordinal × 256 + protocol) × 2^17 + port + 1) × 8 + kind: exact in a double. */
  const rests = new Float64Array(picked);
  const eniOrdinals = new Map<string, number>();
  let n = 0;
  for (let i = 0; i < connections.length; i++) {
    const c = connections[i] as Connection;
    if (c.action !== 'REJECT' || !context.eniIds.has(c.eniId)) continue;
    // No request record: only the "replies" were refused. That reads as return traffic a NACL
    // refused when the packets decided the orientation; when ephemeral ranges alone did, the
    // refused packets are the peer's attempt, on a port of the ENI the fold did not keep.
    const backwards = c.requestRecords === 0;
    const servicePortUnknown = backwards && c.evidence === 'peer-ephemeral';
    const replyOnly = backwards && !servicePortUnknown;
    const inbound = (c.direction === 'inbound') !== servicePortUnknown;
    const kind =
      (inbound ? INBOUND : 0) | (replyOnly ? REPLY_ONLY : 0) | (servicePortUnknown ? PORT_UNKNOWN : 0);
    const port = servicePortUnknown || c.port === null ? -1 : c.port;
    let eni = eniOrdinals.get(c.eniId);
    if (eni === undefined) {
      eni = eniOrdinals.size;
      eniOrdinals.set(c.eniId, eni);
    }
    at[n] = i;
    peers[n] = ipv4Number(c.peerAddr) ?? -1;
    rests[n] = ((eni * 256 + c.protocol) * 131_072 + port + 1) * 8 + kind;
    n++;
  }
  const peerOf = (p: number): string => (connections[at[p] as number] as Connection).peerAddr;
  const samePeer = (a: number, b: number): boolean =>
    peers[a] === peers[b] && (peers[a] !== -1 || peerOf(a) === peerOf(b));
  // Positions sorted by key; equal keys keep input order, so a run starts with its first connection.
  const indices = new Uint32Array(n);
  for (let p = 0; p < n; p++) indices[p] = p;
  indices.sort((a, b) => {
    const pa = peers[a] as number;
    const pb = peers[b] as number;
    if (pa !== pb) return pa - pb;
    if (pa === -1) {
      const x = peerOf(a);
      const y = peerOf(b);
      if (x !== y) return x < y ? -1 : 1;
    }
    return (rests[a] as number) - (rests[b] as number) || a - b;
  });
  let run = 0;
  while (run < n) {
    const first = indices[run] as number;
    let end = run + 1;
    while (end < n) {
      const next = indices[end] as number;
      if (rests[first] !== rests[next] || !samePeer(first, next)) break;
      end++;
    }
    const group = groupOfRun(connections, at, indices, run, end, (rests[first] as number) % 8, context);
    run = end;
    if (group !== undefined) yield group;
  }
}

/**
 * The group of the connections at positions `indices[from..to)` (one key, positions ascending;
 * `at` maps a position to its connection), or undefined for an ENI not in the inventory.
 */
function groupOfRun(
  connections: readonly Connection[],
  at: Uint32Array,
  indices: Uint32Array,
  from: number,
  to: number,
  kind: number,
  context: RejectedContext,
): Group | undefined {
  const index = at[indices[from] as number] as number;
  const c = connections[index] as Connection;
  const eni = context.ruleIndex.eniById(c.eniId);
  if (eni === undefined) return undefined;
  const servicePortUnknown = (kind & PORT_UNKNOWN) !== 0;
  const group: Group = {
    eni,
    direction: (kind & INBOUND) !== 0 ? 'ingress' : 'egress',
    protocol: c.protocol,
    port: servicePortUnknown ? null : c.port,
    peer: c.peerAddr,
    localAddr: c.localAddr,
    replyOnly: (kind & REPLY_ONLY) !== 0,
    servicePortUnknown,
    order: index,
    connections: c.connections,
    records: c.records,
    packets: c.packets,
    firstSeen: c.firstSeen,
    lastSeen: c.lastSeen,
  };
  for (let k = from + 1; k < to; k++) {
    const other = connections[at[indices[k] as number] as number] as Connection;
    group.connections += other.connections;
    group.records += other.records;
    group.packets += other.packets;
    group.firstSeen = Math.min(group.firstSeen, other.firstSeen);
    group.lastSeen = Math.max(group.lastSeen, other.lastSeen);
  }
  return group;
}

/** The NACL's word on the attempt (or, for a refused reply, on the reply), or undefined when there is no NACL to ask. */
function naclVerdict(
  group: Group,
  ip: IpAddress | undefined,
  context: RejectedContext,
  lookups: Lookups,
): NaclBlock | undefined {
  const acl = lookups.naclOf(group.eni);
  // Without the service port the NACL's answer would be a guess.
  if (acl === undefined || ip === undefined || group.servicePortUnknown) return undefined;
  const owner = context.ruleIndex.eniByIp(ip);
  const attemptDirection = group.direction === 'ingress' ? 'inbound' : 'outbound';
  if (owner !== undefined && owner.subnetId === group.eni.subnetId) {
    return {
      naclId: acl.id,
      direction: attemptDirection,
      text: `${acl.id} is not crossed: ${group.peer} sits in the same subnet`,
    };
  }
  let direction: 'inbound' | 'outbound' = attemptDirection;
  let ports: PortRange | null = group.port === null ? null : { from: group.port, to: group.port };
  if (group.replyOnly) {
    // The reply travels the other way, to the client's ephemeral port.
    direction = attemptDirection === 'inbound' ? 'outbound' : 'inbound';
    const clientType =
      group.direction === 'ingress'
        ? owner === undefined
          ? undefined
          : lookups.resourceOf(owner.id)?.type
        : lookups.resourceOf(group.eni.id)?.type;
    const ranges = normalizeRanges(ephemeralRangesOf(clientType, context.config));
    const first = ranges[0];
    const last = ranges[ranges.length - 1];
    ports =
      group.port === null || !protocolHasPorts(group.protocol) || first === undefined || last === undefined
        ? null
        : { from: first.from, to: last.to };
  }
  const decision = decideNacl(acl, { direction, protocol: group.protocol, ports, addr: ip });
  if (decision.action === 'allow') {
    return {
      naclId: acl.id,
      direction,
      text: `${acl.id} ${direction} admits it (${decision.entry ? naclEntryText(decision.entry) : 'no entry'})`,
    };
  }
  return {
    naclId: acl.id,
    direction,
    ruleNumber: decision.entry?.ruleNumber ?? DEFAULT_NACL_RULE,
    text: `${acl.id} ${direction} ${decision.entry ? naclEntryText(decision.entry) : `rule ${DEFAULT_NACL_RULE} (*): deny (no entry matches)`}`,
  };
}

/** Whether a NACL block names a refusing entry. */
function refuses(block: NaclBlock | undefined): block is NaclBlock & { ruleNumber: number } {
  return block?.ruleNumber !== undefined;
}

interface Verdict {
  readonly class: RejectedClass;
  /** Probes' reasons are worded only for the rows the report keeps (scans are millions of rows). */
  readonly reason: string | ProbeWording;
  readonly suggestion?: SuggestedRule;
  readonly nacl?: NaclBlock;
  readonly admittedBy?: readonly string[];
}

/** A refused reply: a NACL's doing when it refuses the reply's port, else not an attempt at all. */
function replyVerdict(group: Group, nacl: NaclBlock | undefined): Verdict | undefined {
  if (!refuses(nacl)) return undefined;
  return {
    class: 'nacl',
    reason: `the replies of ${formatQuantity(group.connections, 'accepted connection', 'accepted connections')} ${group.direction === 'ingress' ? 'from' : 'to'} ${group.peer} on ${trafficWords(group.protocol, group.port)} were refused by ${nacl.text}: security groups never refuse a reply, and a stateless NACL needs its own rule for return traffic to the client's ephemeral ports`,
    nacl,
  };
}

/** Why a refused attempt reads as a missing rule, or undefined when nothing says so. */
function missingRule(group: Group, context: RejectedContext, lookups: Lookups): SuggestedRule | undefined {
  const { eni, direction, protocol, port, peer, localAddr } = group;
  const service = direction === 'ingress' ? `eni:${eni.id}` : peer;
  const self = direction === 'ingress' ? peer : localAddr;
  const other = lookups.served.otherClient(service, protocol, port, self);
  let basis: SuggestedRule['basis'] | undefined;
  let sgId = eni.sgIds[0];
  let why = '';
  if (other !== undefined) {
    basis = 'served-to-others';
    if (direction === 'ingress') {
      // The rule that admits the others names the SG the missing peer belongs on.
      const admitting = context.ruleIndex.matching(eni.id, 'ingress', protocol, port, other)[0];
      if (admitting !== undefined) sgId = admitting.sgId;
      why = `${eni.id} serves ${trafficWords(protocol, port)} to other peers in the window (e.g. ${other})`;
    } else {
      why = `${peer} serves ${trafficWords(protocol, port)} to other clients in the window (e.g. ${other})`;
    }
  } else {
    for (const sibling of lookups.siblings(eni)) {
      const rule = context.ruleIndex
        .matching(sibling.id, direction, protocol, port, peer)
        .find((r) => !eni.sgIds.includes(r.sgId));
      if (rule === undefined) continue;
      basis = 'sibling-sg';
      why = `sibling ${sibling.id} (same ${lookups.resourceOf(eni.id)?.type ?? 'resource'}) admits it through ${rule.sgId}, which ${eni.id} does not carry`;
      break;
    }
  }
  if (basis === undefined || sgId === undefined) return undefined;
  const ports = port === null || !protocolHasPorts(protocol) ? undefined : { from: port, to: port };
  const owner = context.ruleIndex.eniByAddress(peer);
  return {
    sgId,
    direction,
    protocol: protocolName(protocol),
    ...(ports !== undefined ? { fromPort: ports.from, toPort: ports.to } : {}),
    peer: hostCidrText(peer),
    peerSgIds: owner?.sgIds ?? [],
    basis,
    text: recommendationText(direction, protocol, ports, undefined, peer),
    why,
  };
}

/** The class of a refused attempt (not a reply), with its reason and what goes with it. */
function attemptVerdict(
  group: Group,
  nacl: NaclBlock | undefined,
  origin: PeerOrigin,
  context: RejectedContext,
  lookups: Lookups,
): Verdict {
  const { eni, direction, protocol, port, peer } = group;
  const admitting = group.servicePortUnknown
    ? []
    : context.ruleIndex.matching(eni.id, direction, protocol, port, peer);
  if (admitting.length > 0) {
    const byNacl = refuses(nacl)
      ? `but ${nacl.text} refused it: the NACL and the SGs disagree (fix the NACL, or narrow the SG if the traffic is unwanted)`
      : `yet it was refused${nacl ? ` (${nacl.text})` : ' and no NACL of the subnet is in the inventory'}: the subnet's NACL, or rules that changed during the window`;
    return {
      class: 'nacl',
      reason: `${formatQuantity(group.connections, 'attempt', 'attempts')} ${direction === 'ingress' ? 'from' : 'to'} ${peer} on ${trafficWords(protocol, port)}: the SGs admit it (${admitting.map((r) => r.id).join(', ')}), ${byNacl}`,
      ...(nacl ? { nacl } : {}),
      admittedBy: admitting.map((r) => r.id),
    };
  }
  const naclPart = refuses(nacl) ? { nacl } : {};
  if (direction === 'ingress' && origin === 'internet') {
    return { class: 'probe', reason: probeWording('internet', protocol), ...naclPart };
  }
  if (group.servicePortUnknown || group.connections < context.config.rejectedMinAttempts) {
    const tag = group.servicePortUnknown ? 'port-unknown' : 'few-attempts';
    return { class: 'probe', reason: probeWording(tag, protocol), ...naclPart };
  }
  const suggestion = missingRule(group, context, lookups);
  if (suggestion === undefined) {
    return { class: 'probe', reason: probeWording('unserved', protocol), ...naclPart };
  }
  const also = refuses(nacl) ? `; ${nacl.text} would refuse it too (it needs a NACL entry as well)` : '';
  return {
    class: 'missing-rule',
    reason: `${whoWords(direction, group.connections, eni.id, peer, origin)} on ${trafficWords(protocol, port)}, refused by ${eni.sgIds.join(', ')}: ${suggestion.why}, so a rule is probably missing${also}`,
    suggestion,
    ...naclPart,
  };
}

/** Who tried what, for a refused attempt that is not blocked probing from the internet. */
function whoWords(
  direction: Direction,
  connections: number,
  eniId: string,
  peer: string,
  origin: PeerOrigin,
): string {
  const attempts = formatQuantity(connections, 'attempt', 'attempts');
  return direction === 'ingress'
    ? `${attempts} from ${peer} (${ORIGIN_WORDS[origin]})`
    : `${attempts} by ${eniId} to ${peer} (${ORIGIN_WORDS[origin]})`;
}

/**
 * How a probe's reason reads, worded only once the report keeps its row ({@link probeReason}):
 * a week of scanners is millions of probe rows, and the findings read none of their reasons.
 * One shared object per kind and protocol, so a row carries no words of its own until then.
 */
interface ProbeWording {
  /** internet: blocked probing; port-unknown, few-attempts: too little to judge; unserved: nobody serves it. */
  readonly probe: 'internet' | 'port-unknown' | 'few-attempts' | 'unserved';
  readonly protocol: number;
}

const WORDINGS = new Map<string, ProbeWording>();

function probeWording(probe: ProbeWording['probe'], protocol: number): ProbeWording {
  const key = `${probe}|${protocol}`;
  let wording = WORDINGS.get(key);
  if (wording === undefined) {
    wording = { probe, protocol };
    WORDINGS.set(key, wording);
  }
  return wording;
}

/** The reason of a probe row, from the row and its wording. */
function probeReason(row: RejectedFacts, wording: ProbeWording, config: AnalysisConfig): string {
  const traffic = trafficWords(wording.protocol, row.port);
  const sgs = row.sgIds.join(', ');
  const also = row.nacl ? `; ${row.nacl.text} would refuse it too` : '';
  if (wording.probe === 'internet') {
    return `${formatQuantity(row.connections, 'attempt', 'attempts')} from ${row.peer} (the internet) on ${traffic}, refused by ${sgs}: blocked probing, the SG doing its job${also}`;
  }
  const who = whoWords(row.direction, row.connections, row.eniId, row.peer, row.origin);
  if (wording.probe === 'unserved') {
    const nobody =
      row.direction === 'ingress'
        ? `${row.eniId} serves ${traffic} to no one in the window and no sibling admits it`
        : `no ENI reached ${row.peer} on ${traffic} in the window and no sibling admits it`;
    return `${who} on ${traffic}, refused by ${sgs}: ${nobody} (scanning, a stale client or egress restriction at work)${also}`;
  }
  const why =
    wording.probe === 'port-unknown'
      ? 'without the port no rule can be judged missing'
      : `fewer than the ${config.rejectedMinAttempts} attempts that read as a missing rule`;
  return `${who} on ${traffic}, refused by ${sgs}: ${why}${also}`;
}

/** Audited ENIs whose flow logs record no REJECT (ACCEPT-only, or none at all). */
function unrecordedEnis(context: RejectedContext): string[] {
  const rejectLogs = new Set(
    context.inventory.flowLogs.filter((log) => log.trafficType !== 'ACCEPT').map((log) => log.id),
  );
  return [...context.eniIds]
    .filter((eniId) => !(context.coverage.get(eniId)?.flowLogIds ?? []).some((id) => rejectLogs.has(id)))
    .sort();
}

/** A probe source while its groups stream in: one port and ENI inline, sets only past the first. */
interface SourceSum {
  readonly addr: string;
  /** Where the source sits, as its first group (lowest `order`) says. */
  origin: PeerOrigin;
  order: number;
  connections: number;
  readonly port: string;
  readonly eni: string;
  ports?: Set<string>;
  enis?: Set<string>;
}

/** The busiest first, then by address: the order of the top sources. */
function compareSources(a: SourceSum, b: SourceSum): number {
  return b.connections - a.connections || a.addr.localeCompare(b.addr);
}

/**
 * The top probe sources and ports, summed as the probe groups stream in. The groups come a peer
 * at a time (groupsOf's order: peers that are not IPv4 by text, then IPv4 peers by value), so a
 * source is complete when the next one starts: it is then offered to the top list and let go,
 * and a port counts a source once, on the source's first group on it. Nothing is held per source
 * (a week of scanners is a million of them); a peer out of that order is an error, never a
 * source counted twice.
 */
class ProbeLists {
  private current: SourceSum | undefined;
  /** The current source's peer as groupsOf orders it: its IPv4 value, or -1 and its text. */
  private currentKey = Number.NEGATIVE_INFINITY;
  private readonly top = new FirstInOrder<SourceSum>(TOP_LISTED, compareSources);
  private readonly ports = new Map<
    string,
    { protocol: string; port: number | null; connections: number; sources: number }
  >();

  add(row: RejectedFacts, order: number): void {
    const portKey = `${row.protocol}/${row.port}`;
    let source = this.current;
    let newPort: boolean;
    if (source !== undefined && source.addr === row.peer) {
      source.connections += row.connections;
      if (order < source.order) {
        source.origin = row.origin;
        source.order = order;
      }
      newPort = portKey !== source.port && !(source.ports?.has(portKey) ?? false);
      if (source.ports !== undefined) source.ports.add(portKey);
      else if (newPort) source.ports = new Set([source.port, portKey]);
      if (source.enis !== undefined) source.enis.add(row.eniId);
      else if (row.eniId !== source.eni) source.enis = new Set([source.eni, row.eniId]);
    } else {
      this.follow(row.peer, source?.addr);
      if (source !== undefined) this.top.offer(source);
      source = {
        addr: row.peer,
        origin: row.origin,
        order,
        connections: row.connections,
        port: portKey,
        eni: row.eniId,
      };
      this.current = source;
      newPort = true;
    }
    let probed = this.ports.get(portKey);
    if (probed === undefined) {
      probed = { protocol: row.protocol, port: row.port, connections: 0, sources: 0 };
      this.ports.set(portKey, probed);
    }
    probed.connections += row.connections;
    if (newPort) probed.sources++;
  }

  /** Checks that `peer` comes after `previous` in groupsOf's order (each source's groups together). */
  private follow(peer: string, previous: string | undefined): void {
    const key = ipv4Number(peer) ?? -1;
    const after =
      previous === undefined ||
      key > this.currentKey ||
      (key === -1 && this.currentKey === -1 && peer > previous);
    if (!after) {
      throw new Error(
        `probe groups out of peer order: ${peer} after ${previous} (a source would be counted twice)`,
      );
    }
    this.currentKey = key;
  }

  lists(): { sources: ProbeSource[]; ports: ProbedPort[] } {
    // The last source is not offered yet: it joins a copy of the list, so lists() changes nothing.
    const last = this.current === undefined ? [] : [this.current];
    const top = firstInOrder([...this.top.sorted(), ...last], TOP_LISTED, compareSources);
    const sources = top.map((s) => ({
      addr: s.addr,
      origin: s.origin,
      connections: s.connections,
      ports: s.ports?.size ?? 1,
      enis: s.enis?.size ?? 1,
    }));
    const ports = [...this.ports.values()]
      .map((p) => ({
        protocol: p.protocol,
        port: p.port,
        connections: p.connections,
        sources: p.sources,
      }))
      .sort(
        (a, b) =>
          b.connections - a.connections ||
          a.protocol.localeCompare(b.protocol) ||
          (a.port ?? -1) - (b.port ?? -1),
      )
      .slice(0, TOP_LISTED);
    return { sources, ports };
  }
}

/** A rejected group as analysed, its reason still to be worded when it is a probe. */
type PendingRow = RejectedFacts & { readonly reason: Verdict['reason'] };

/** A row with its group's order of first appearance, which breaks the ties of {@link compareRows}. */
interface RankedRow {
  readonly row: PendingRow;
  readonly order: number;
}

function compareRanked(a: RankedRow, b: RankedRow): number {
  return compareRows(a.row, b.row) || a.order - b.order;
}

/** A total order (the engines return rows in no particular order): class, most attempts, then keys. */
function compareRows(a: RejectedFacts, b: RejectedFacts): number {
  return (
    CLASS_RANK[a.class] - CLASS_RANK[b.class] ||
    b.connections - a.connections ||
    a.eniId.localeCompare(b.eniId) ||
    a.peer.localeCompare(b.peer) ||
    (a.port ?? -1) - (b.port ?? -1) ||
    a.direction.localeCompare(b.direction) ||
    a.protocol.localeCompare(b.protocol) ||
    Number(a.replyOnly ?? false) - Number(b.replyOnly ?? false)
  );
}

/**
 * Reads the REJECT connections of a fold: classes, suggestions, NACL entries and probe lists.
 * Each probe group goes to `onProbe` as it is read (the probe findings sum them) and is kept only
 * when the report lists it.
 *
 * @example
 * const { report } = analyseRejected(folded.connections, { inventory, ruleIndex, resources, coverage, eniIds, config });
 * report.rows[0] // { eniId: 'eni-rds', direction: 'ingress', port: 5432, peer: '10.0.10.120', class: 'missing-rule', suggestion: { text: '- allow tcp port 5432 from 10.0.10.120 (suggested: review before applying)', … }, … }
 */
export function analyseRejected(
  connections: readonly Connection[],
  context: RejectedContext,
  onProbe: (row: RejectedFacts) => void = () => undefined,
): RejectedAnalysis {
  const lookups = new Lookups(context);
  for (const c of connections) {
    if (c.action !== 'ACCEPT') continue;
    if (c.direction === 'inbound') {
      lookups.served.add(`eni:${c.eniId}`, c.protocol, c.port, c.peerAddr);
      lookups.served.add(c.localAddr, c.protocol, c.port, c.peerAddr);
    } else {
      lookups.served.add(c.peerAddr, c.protocol, c.port, c.localAddr);
    }
  }
  // Every missing-rule and NACL group is kept; probes fill the rest of rejectedRowLimit, the
  // busiest first. Probes stream through: summed, offered to a bounded heap, and let go (a week of
  // scanners is millions of groups), and only the kept ones worded.
  const settled: RankedRow[] = [];
  const busiest = new FirstInOrder<RankedRow>(context.config.rejectedRowLimit, compareRanked);
  const probeLists = new ProbeLists();
  const byClass = Object.fromEntries(REJECTED_CLASSES.map((c) => [c, 0])) as Record<RejectedClass, number>;
  let probeCount = 0;
  const blockedRules = new Map<string, { connections: number; nacl: string; order: number }>();
  let unexplainedReplies = 0;
  for (const group of groupsOf(connections, context)) {
    const ip = parseIp(group.peer);
    const origin = lookups.origin(ip, group.eni);
    const nacl = naclVerdict(group, ip, context, lookups);
    const verdict = group.replyOnly
      ? replyVerdict(group, nacl)
      : attemptVerdict(group, nacl, origin, context, lookups);
    if (verdict === undefined) {
      unexplainedReplies += group.records;
      continue;
    }
    const row: PendingRow = {
      eniId: group.eni.id,
      sgIds: group.eni.sgIds,
      vpcId: group.eni.vpcId,
      direction: group.direction,
      protocol: protocolName(group.protocol),
      port: group.port,
      peer: group.peer,
      origin,
      connections: group.connections,
      records: group.records,
      packets: group.packets,
      firstSeen: group.firstSeen,
      lastSeen: group.lastSeen,
      class: verdict.class,
      reason: verdict.reason,
      ...(group.replyOnly ? { replyOnly: true } : {}),
      ...(group.servicePortUnknown ? { servicePortUnknown: true } : {}),
      ...(verdict.suggestion ? { suggestion: verdict.suggestion } : {}),
      ...(verdict.nacl ? { nacl: verdict.nacl } : {}),
      ...(verdict.admittedBy ? { admittedBy: verdict.admittedBy } : {}),
    };
    byClass[row.class] += row.connections;
    if (row.class === 'probe') {
      probeCount++;
      probeLists.add(row, group.order);
      busiest.offer({ row, order: group.order });
      onProbe(row);
    } else {
      settled.push({ row, order: group.order });
    }
    if (verdict.class === 'nacl' && verdict.admittedBy && refuses(verdict.nacl)) {
      for (const ruleId of verdict.admittedBy) {
        const blocked = blockedRules.get(ruleId);
        if (blocked === undefined) {
          blockedRules.set(ruleId, {
            connections: group.connections,
            nacl: verdict.nacl.text,
            order: group.order,
          });
          continue;
        }
        blocked.connections += group.connections;
        // The NACL entry named is the one of the rule's first refused group.
        if (group.order < blocked.order) {
          blocked.nacl = verdict.nacl.text;
          blocked.order = group.order;
        }
      }
    }
  }
  settled.sort(compareRanked);
  const room = Math.max(0, context.config.rejectedRowLimit - settled.length);
  const kept = [...settled, ...busiest.sorted().slice(0, room)].map(
    ({ row }): RejectedConnection =>
      typeof row.reason === 'string'
        ? (row as RejectedConnection)
        : { ...row, reason: probeReason(row, row.reason, context.config) },
  );
  const probes = probeLists.lists();
  return {
    report: {
      connections: REJECTED_CLASSES.reduce((sum, c) => sum + byClass[c], 0),
      byClass,
      rows: kept,
      omittedRows: settled.length + probeCount - kept.length,
      topSources: probes.sources,
      topPorts: probes.ports,
      unrecordedEnis: unrecordedEnis(context),
      unexplainedReplies,
    },
    rows: settled.map(({ row }) => row),
    // In the order the rules' first refused groups appeared, as the rows.
    blockedRules: new Map(
      [...blockedRules]
        .sort((a, b) => a[1].order - b[1].order)
        .map(([ruleId, { connections, nacl }]) => [ruleId, { connections, nacl }]),
    ),
  };
}
