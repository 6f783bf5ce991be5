/**
 * Connection folding: turns flow aggregates into connections seen from one ENI, deciding who
 * initiated each one (design semantics 1). The flow engine already pre-folded the rows one record
 * decides (tcp-flags, a well-known port); the core decides the rest with what only it knows: the
 * resource type behind each address (ephemeral ranges), the ENI's rules (which side listens) and
 * how many counterpart ports a port meets on the ENI. Replies never become connections: a reply
 * lands in its request's row, and every row yields at most one connection, keyed by service port.
 */
import type { AnalysisConfig, PortGroup } from '../config';
import type { Connection, InitiatorEvidence } from '../model/analysis';
import type { FlowAction, FlowAggregate } from '../model/flow';
import type { NetworkInterface, ResourceType, RuleEntry } from '../model/inventory';
import { canonicalIp } from '../net/ip';
import { rangesContain } from '../net/ports';
import type { RuleIndex } from '../rules/rule-index';
import { ephemeralRangesOf } from './fold-plan';

/** The parts of the rule index folding reads. */
export type FoldRuleIndex = Pick<RuleIndex, 'eniAddresses' | 'eniByAddress' | 'matching'>;

/** What folding needs beyond the aggregates: the ENIs' addresses and rules, and resource types. */
export interface FoldContext {
  readonly ruleIndex: FoldRuleIndex;
  /** The resource type behind an ENI (ephemeral range of its client ports); undefined when unknown. */
  resourceTypeOfEni(eniId: string): ResourceType | undefined;
}

export interface FoldResult {
  readonly connections: Connection[];
  /**
   * Rows whose addresses both belong to someone other than the row's ENI: traffic passing
   * through (NAT gateway, transit gateway, appliances) or addresses missing from the inventory
   * (secondary or pod addresses). No rule of the ENI decides them, so they are skipped.
   */
  readonly transit: number;
  /**
   * Rows decided only by the last-resort guess: undecided rows settled by the lower port, and
   * portless pairs seen both ways that the rules do not settle.
   */
  readonly ambiguous: number;
}

/** Strongest first: a merged connection keeps the strongest evidence among its rows. */
const EVIDENCE_RANK: Readonly<Record<InitiatorEvidence, number>> = {
  flags: 0,
  'well-known': 1,
  'peer-ephemeral': 2,
  listening: 3,
  'counterpart-ports': 4,
  portless: 5,
  'lower-port': 6,
};

type Direction = Connection['direction'];

interface ConnectionAccumulator {
  eniId: string;
  direction: Direction;
  action: FlowAction;
  protocol: number;
  port: number | null;
  localAddr: string;
  peerAddr: string;
  evidence: InitiatorEvidence;
  connections: number;
  records: number;
  packets: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
}

/** An undecided row with both ports, its sides resolved to local and peer. */
interface UndecidedRow {
  readonly aggregate: FlowAggregate;
  readonly serverIsLocal: boolean;
  readonly localAddr: string;
  readonly peerAddr: string;
  readonly localPort: number;
  readonly peerPort: number;
}

/** Both rows (A→B and B→A) of a portless exchange between the ENI and one peer. */
interface PortlessPair {
  readonly eniId: string;
  readonly action: FlowAction;
  readonly protocol: number;
  readonly localAddr: string;
  readonly peerAddr: string;
  /** Records the ENI sent (rows whose client is the local address). */
  sent: number;
  /** Records the ENI received. */
  received: number;
  firstSent: number;
  firstReceived: number;
  records: number;
  packets: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
}

type Side = 'local' | 'peer';

interface CounterpartEntry {
  /** Distinct counterpart ports of undecided rows, kept only up to the threshold. */
  distinct?: Set<number>;
  /** Client ports of rows already decided to have their service on this side. */
  decided: number;
}

/**
 * Counterpart-port evidence per (ENI, protocol, side, port). Rows already decided (by the engine,
 * by ephemeral ranges or by rules) add their client-port count to the service side; rows still
 * undecided add each side's port as a distinct counterpart of the other. Distinct sets stop at
 * the threshold, so memory stays bounded by rows × threshold.
 */
class CounterpartPorts {
  private readonly byEni = new Map<string, Map<number, CounterpartEntry>>();

  constructor(private readonly threshold: number) {}

  private entry(eniId: string, protocol: number, side: Side, port: number): CounterpartEntry {
    let entries = this.byEni.get(eniId);
    if (entries === undefined) {
      entries = new Map();
      this.byEni.set(eniId, entries);
    }
    const key = counterpartKey(protocol, side, port);
    let entry = entries.get(key);
    if (entry === undefined) {
      entry = { decided: 0 };
      entries.set(key, entry);
    }
    return entry;
  }

  addDecided(eniId: string, protocol: number, side: Side, port: number, clientPorts: number): void {
    this.entry(eniId, protocol, side, port).decided += clientPorts;
  }

  addUndecided(eniId: string, protocol: number, side: Side, port: number, counterpartPort: number): void {
    const entry = this.entry(eniId, protocol, side, port);
    if (entry.distinct === undefined) entry.distinct = new Set<number>();
    if (entry.distinct.size < this.threshold) entry.distinct.add(counterpartPort);
  }

  isService(eniId: string, protocol: number, side: Side, port: number): boolean {
    const entry = this.byEni.get(eniId)?.get(counterpartKey(protocol, side, port));
    if (entry === undefined) return false;
    return (entry.distinct?.size ?? 0) + entry.decided >= this.threshold;
  }
}

const NO_ADDRESSES: ReadonlySet<string> = new Set<string>();

/** A number unique per (protocol, side, port): protocols are 0..255, ports 0..65535. */
function counterpartKey(protocol: number, side: Side, port: number): number {
  return (protocol * 2 + (side === 'local' ? 0 : 1)) * 65536 + port;
}

/**
 * Whether a rule admitting one orientation says specifically that this side listens: it names
 * the protocol and its port range leaves out the other side's port. An allow-all (or a 0-65535
 * range) admits both orientations and so says nothing about who listens.
 */
function namesService(rule: RuleEntry, counterpartPort: number | null): boolean {
  if (rule.protocolNumber === 'all') return false;
  if (counterpartPort === null) return true;
  if (rule.fromPort === undefined || rule.toPort === undefined) return false;
  return counterpartPort < rule.fromPort || counterpartPort > rule.toPort;
}

/** How much a rule admits, for comparing two rules of one connection: ports, then protocols. */
function ruleWidth(rule: RuleEntry): number {
  if (rule.protocolNumber === 'all') return Number.MAX_SAFE_INTEGER;
  if (rule.fromPort === undefined || rule.toPort === undefined) return 65536;
  // icmp type/code -1 means every type: as wide as the protocol.
  if (rule.fromPort < 0 || rule.toPort < 0) return 65536;
  return rule.toPort - rule.fromPort + 1;
}

/**
 * Folds flow aggregates into connections seen from each row's ENI.
 *
 * The local side of a row is the address that belongs to the row's ENI (its private IPv4/IPv6
 * addresses from the rule index, or any address the index attributes to it, e.g. a delegated
 * prefix); rows where neither side does are counted in `transit` and skipped.
 * - Decided rows (`flags`, `well-known`): local server → inbound from the client; local client →
 *   outbound to the server. Connections = SYN records, else distinct client ports (at least 1).
 * - Undecided rows with both ports, in order: `peer-ephemeral` (exactly one side's port lies in
 *   that side's ephemeral range, by resource type — the other side is the service); `listening`
 *   (exactly one orientation is admitted by the ENI's rules; when both are, the one a rule names
 *   specifically; for REJECT rows the one the rules do NOT admit, since the SG refused it);
 *   `counterpart-ports` (exactly one of the two ports meets at least `counterpartMinPorts`
 *   counterpart ports on the ENI, across peers, in ACCEPT rows: client ports of rows already
 *   decided for it, plus distinct ports of rows still undecided); `lower-port` (last resort,
 *   counted in `ambiguous`). Each such row is one connection.
 * - Portless rows (no server port) of both directions merge into one connection per (ENI, action,
 *   protocol, peer): the rules decide (`listening`) as above, else the side that sent more
 *   records, then the one that sent first (`portless`); a full tie reads as inbound, so the
 *   ingress rule that might carry it is not reported unused.
 * Rows ending as the same (ENI, direction, action, protocol, port, local, peer) merge, summing
 * counters and keeping the strongest evidence. O(rows): a few passes over hash maps, no sorting.
 *
 * @example
 * const { connections } = foldConnections(aggregates, { ruleIndex, resourceTypeOfEni: (id) => types.get(id) }, DEFAULT_CONFIG);
 * // [{ eniId: 'eni-1', direction: 'inbound', protocol: 6, port: 443, peerAddr: '203.0.113.10', evidence: 'flags', … }]
 */
export function foldConnections(
  aggregates: readonly FlowAggregate[],
  context: FoldContext,
  config: AnalysisConfig,
): FoldResult {
  const { ruleIndex } = context;
  const merged = new Map<string, ConnectionAccumulator>();
  const counterparts = new CounterpartPorts(Math.max(1, config.counterpartMinPorts));
  const undecided: UndecidedRow[] = [];
  const portless = new Map<string, PortlessPair>();
  let transit = 0;
  let ambiguous = 0;

  const canonicalCache = new Map<string, string>();
  const canonical = (addr: string): string => {
    // Flow logs write IPv4 as a canonical dotted quad; only IPv6 text has several spellings.
    if (!addr.includes(':')) return addr;
    let text = canonicalCache.get(addr);
    if (text === undefined) {
      text = canonicalIp(addr) ?? addr;
      canonicalCache.set(addr, text);
    }
    return text;
  };

  const addressesByEni = new Map<string, ReadonlySet<string>>();
  const addressesOf = (eniId: string): ReadonlySet<string> => {
    let addresses = addressesByEni.get(eniId);
    if (addresses === undefined) {
      addresses = ruleIndex.eniAddresses(eniId) ?? NO_ADDRESSES;
      addressesByEni.set(eniId, addresses);
    }
    return addresses;
  };

  const eniCache = new Map<string, NetworkInterface | undefined>();
  const eniOwning = (addr: string): NetworkInterface | undefined => {
    if (eniCache.has(addr)) return eniCache.get(addr);
    const eni = ruleIndex.eniByAddress(addr);
    eniCache.set(addr, eni);
    return eni;
  };

  const rangesOfType = (type: ResourceType | undefined): readonly PortGroup[] =>
    ephemeralRangesOf(type, config);
  const localRangesCache = new Map<string, readonly PortGroup[]>();
  const localEphemeral = (eniId: string): readonly PortGroup[] => {
    let ranges = localRangesCache.get(eniId);
    if (ranges === undefined) {
      ranges = rangesOfType(context.resourceTypeOfEni(eniId));
      localRangesCache.set(eniId, ranges);
    }
    return ranges;
  };
  const peerEphemeral = (peerAddr: string): readonly PortGroup[] => {
    const eni = eniOwning(peerAddr);
    // An address outside the inventory (the internet, a peered account) uses the default range.
    return eni === undefined ? rangesOfType(undefined) : localEphemeral(eni.id);
  };

  /** The orientation the rules decide, or undefined when they do not. */
  const listening = (
    eniId: string,
    action: FlowAction,
    protocol: number,
    localPort: number | null,
    peerPort: number | null,
    peerAddr: string,
  ): Direction | undefined => {
    const ingress = ruleIndex.matching(eniId, 'ingress', protocol, localPort, peerAddr);
    const egress = ruleIndex.matching(eniId, 'egress', protocol, peerPort, peerAddr);
    const inboundAdmitted = ingress.length > 0;
    const outboundAdmitted = egress.length > 0;
    if (action === 'REJECT') {
      // The SG refused it, so it is the orientation the rules do not admit (unless a NACL did).
      if (inboundAdmitted === outboundAdmitted) return undefined;
      return inboundAdmitted ? 'outbound' : 'inbound';
    }
    if (inboundAdmitted !== outboundAdmitted) return inboundAdmitted ? 'inbound' : 'outbound';
    if (!inboundAdmitted) return undefined;
    const inboundNamed = ingress.some((rule) => namesService(rule, peerPort));
    const outboundNamed = egress.some((rule) => namesService(rule, localPort));
    if (inboundNamed !== outboundNamed) return inboundNamed ? 'inbound' : 'outbound';
    // Both or neither name it (e.g. IKE udp 500 <-> 500): the narrower admitting rule is the
    // listener's — an ingress 'udp 500' says more than an egress allow-all.
    const inboundWidth = Math.min(...ingress.map(ruleWidth));
    const outboundWidth = Math.min(...egress.map(ruleWidth));
    // A rule over all ports (0-65535 or 1-65535) says nothing about who listens.
    if (inboundWidth === outboundWidth || Math.min(inboundWidth, outboundWidth) >= 65535) return undefined;
    return inboundWidth < outboundWidth ? 'inbound' : 'outbound';
  };

  /** Takes ownership of `row`: a fresh object that becomes the accumulator of its key. */
  const add = (row: ConnectionAccumulator): void => {
    const key = `${row.eniId}|${row.direction}|${row.action}|${row.protocol}|${row.port}|${row.localAddr}|${row.peerAddr}`;
    const existing = merged.get(key);
    if (existing === undefined) {
      merged.set(key, row);
      return;
    }
    existing.connections += row.connections;
    existing.records += row.records;
    existing.packets += row.packets;
    existing.bytes += row.bytes;
    if (row.firstSeen < existing.firstSeen) existing.firstSeen = row.firstSeen;
    if (row.lastSeen > existing.lastSeen) existing.lastSeen = row.lastSeen;
    if (EVIDENCE_RANK[row.evidence] < EVIDENCE_RANK[existing.evidence]) existing.evidence = row.evidence;
  };

  // Pass 1: resolve sides, fold decided rows, collect their counterpart-port evidence.
  for (const aggregate of aggregates) {
    const { eniId } = aggregate;
    const clientAddr = canonical(aggregate.clientAddr);
    const serverAddr = canonical(aggregate.serverAddr);
    const addresses = addressesOf(eniId);
    let serverIsLocal = addresses.has(serverAddr);
    let clientIsLocal = !serverIsLocal && addresses.has(clientAddr);
    if (!serverIsLocal && !clientIsLocal) {
      serverIsLocal = eniOwning(serverAddr)?.id === eniId;
      clientIsLocal = !serverIsLocal && eniOwning(clientAddr)?.id === eniId;
    }
    if (!serverIsLocal && !clientIsLocal) {
      transit++;
      continue;
    }
    const localAddr = serverIsLocal ? serverAddr : clientAddr;
    const peerAddr = serverIsLocal ? clientAddr : serverAddr;
    const { serverPort, clientPort, protocol, action } = aggregate;

    if (serverPort === null) {
      const key = `${eniId}|${action}|${protocol}|${localAddr}|${peerAddr}`;
      let pair = portless.get(key);
      if (pair === undefined) {
        pair = {
          eniId,
          action,
          protocol,
          localAddr,
          peerAddr,
          sent: 0,
          received: 0,
          firstSent: Number.POSITIVE_INFINITY,
          firstReceived: Number.POSITIVE_INFINITY,
          records: 0,
          packets: 0,
          bytes: 0,
          firstSeen: aggregate.firstSeen,
          lastSeen: aggregate.lastSeen,
        };
        portless.set(key, pair);
      }
      // Request records travel client → server; any others travel back.
      const fromClient = aggregate.requestRecords;
      const fromServer = Math.max(0, aggregate.records - aggregate.requestRecords);
      if (clientIsLocal) {
        pair.sent += fromClient;
        pair.received += fromServer;
        pair.firstSent = Math.min(pair.firstSent, aggregate.firstSeen);
      } else {
        pair.received += fromClient;
        pair.sent += fromServer;
        pair.firstReceived = Math.min(pair.firstReceived, aggregate.firstSeen);
      }
      pair.records += aggregate.records;
      pair.packets += aggregate.packets;
      pair.bytes += aggregate.bytes;
      pair.firstSeen = Math.min(pair.firstSeen, aggregate.firstSeen);
      pair.lastSeen = Math.max(pair.lastSeen, aggregate.lastSeen);
      continue;
    }

    if (aggregate.evidence === 'undecided' && clientPort !== null) {
      const localPort = serverIsLocal ? serverPort : clientPort;
      const peerPort = serverIsLocal ? clientPort : serverPort;
      undecided.push({ aggregate, serverIsLocal, localAddr, peerAddr, localPort, peerPort });
      continue;
    }

    // Decided by the engine (flags, a well-known port, or the fold plan's ephemeral ranges, whose
    // rows count each distinct client port as one connection, as pass 2 would); an undecided row
    // without its client port keeps the engine's guess.
    let evidence: InitiatorEvidence;
    if (aggregate.evidence === 'undecided') {
      evidence = 'lower-port';
      ambiguous++;
    } else {
      evidence = aggregate.evidence;
    }
    const connections =
      aggregate.synRecords > 0 ? aggregate.synRecords : Math.max(1, aggregate.distinctClientPorts);
    if (action === 'ACCEPT') {
      const side = serverIsLocal ? 'local' : 'peer';
      counterparts.addDecided(eniId, protocol, side, serverPort, Math.max(1, aggregate.distinctClientPorts));
    }
    add({
      eniId,
      direction: serverIsLocal ? 'inbound' : 'outbound',
      action,
      protocol,
      port: serverPort,
      localAddr,
      peerAddr,
      evidence,
      connections,
      records: aggregate.records,
      packets: aggregate.packets,
      bytes: aggregate.bytes,
      firstSeen: aggregate.firstSeen,
      lastSeen: aggregate.lastSeen,
    });
  }

  const addUndecided = (row: UndecidedRow, serviceIsLocal: boolean, evidence: InitiatorEvidence): void => {
    const { aggregate } = row;
    add({
      eniId: aggregate.eniId,
      direction: serviceIsLocal ? 'inbound' : 'outbound',
      action: aggregate.action,
      protocol: aggregate.protocol,
      port: serviceIsLocal ? row.localPort : row.peerPort,
      localAddr: row.localAddr,
      peerAddr: row.peerAddr,
      evidence,
      connections: 1,
      records: aggregate.records,
      packets: aggregate.packets,
      bytes: aggregate.bytes,
      firstSeen: aggregate.firstSeen,
      lastSeen: aggregate.lastSeen,
    });
  };

  // Pass 2: undecided rows with both ports — ephemeral ranges, then the ENI's rules.
  const unsettled: UndecidedRow[] = [];
  for (const row of undecided) {
    const { aggregate, localPort, peerPort, peerAddr } = row;
    const { eniId, protocol, action } = aggregate;
    let serviceIsLocal: boolean | undefined;
    let evidence: InitiatorEvidence = 'peer-ephemeral';
    const localIsEphemeral = rangesContain(localEphemeral(eniId), localPort);
    const peerIsEphemeral = rangesContain(peerEphemeral(peerAddr), peerPort);
    if (localIsEphemeral !== peerIsEphemeral) {
      serviceIsLocal = peerIsEphemeral;
    } else {
      const direction = listening(eniId, action, protocol, localPort, peerPort, peerAddr);
      if (direction !== undefined) {
        serviceIsLocal = direction === 'inbound';
        evidence = 'listening';
      }
    }
    if (serviceIsLocal === undefined) {
      unsettled.push(row);
      if (action === 'ACCEPT') {
        counterparts.addUndecided(eniId, protocol, 'local', localPort, peerPort);
        counterparts.addUndecided(eniId, protocol, 'peer', peerPort, localPort);
      }
      continue;
    }
    if (action === 'ACCEPT') {
      const side = serviceIsLocal ? 'local' : 'peer';
      counterparts.addDecided(eniId, protocol, side, serviceIsLocal ? localPort : peerPort, 1);
    }
    addUndecided(row, serviceIsLocal, evidence);
  }

  // Pass 3: what remains — counterpart-port evidence, then the lower port.
  for (const row of unsettled) {
    const { eniId, protocol } = row.aggregate;
    const localIsService = counterparts.isService(eniId, protocol, 'local', row.localPort);
    const peerIsService = counterparts.isService(eniId, protocol, 'peer', row.peerPort);
    if (localIsService !== peerIsService) {
      addUndecided(row, localIsService, 'counterpart-ports');
      continue;
    }
    ambiguous++;
    // Equal ports (123↔123, 500↔500) keep the engine's tentative orientation.
    const lowerIsLocal = row.localPort === row.peerPort ? row.serverIsLocal : row.localPort < row.peerPort;
    addUndecided(row, lowerIsLocal, 'lower-port');
  }

  // Pass 4: portless pairs.
  for (const pair of portless.values()) {
    let direction = listening(pair.eniId, pair.action, pair.protocol, null, null, pair.peerAddr);
    let evidence: InitiatorEvidence = 'listening';
    if (direction === undefined) {
      evidence = 'portless';
      if (pair.sent !== pair.received) {
        direction = pair.sent > pair.received ? 'outbound' : 'inbound';
      } else {
        direction = pair.firstSent < pair.firstReceived ? 'outbound' : 'inbound';
      }
      if (pair.sent > 0 && pair.received > 0) ambiguous++;
    }
    add({
      eniId: pair.eniId,
      direction,
      action: pair.action,
      protocol: pair.protocol,
      port: null,
      localAddr: pair.localAddr,
      peerAddr: pair.peerAddr,
      evidence,
      connections: 1,
      records: pair.records,
      packets: pair.packets,
      bytes: pair.bytes,
      firstSeen: pair.firstSeen,
      lastSeen: pair.lastSeen,
    });
  }

  return { connections: [...merged.values()], transit, ambiguous };
}
