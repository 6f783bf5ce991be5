/**
 * Connection folding: turns flow aggregates into connections seen from one ENI, deciding who
 * initiated each one (design semantics 1). The flow engine already pre-folded the rows one record
 * decides (tcp-flags, a well-known port); the core decides the rest with what only it knows: the
 * resource type behind each address (ephemeral ranges), the ENI's rules (which side listens) and
 * how many counterpart ports a port meets on the ENI. Replies never become connections: a reply
 * lands in its request's row, and every row yields at most one connection, keyed by service port.
 */
import type { AnalysisConfig } from '../config';
import type { Connection, InitiatorEvidence } from '../model/analysis';
import type { FlowAggregate, FlowAggregateRows } from '../model/flow';
import type { ResourceType } from '../model/inventory';
import { canonicalIp } from '../net/ip';
import type { RuleIndex } from '../rules/rule-index';
import { AddressSides, type RowSides } from './folding/address-sides';
import { ConnectionTally } from './folding/connection-tally';
import { CounterpartPorts } from './folding/counterpart-ports';
import { EphemeralPorts } from './folding/ephemeral-ports';
import { listeningDirection } from './folding/listening';
import { type PortlessPair, PortlessPairs, portlessDirection } from './folding/portless-pairs';

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
   * The ACCEPT rows among `transit`, by ENI: traffic the ENI's rules may have admitted (an
   * appliance forwarding it, its packet-level addresses read) but the fold could not attribute.
   */
  readonly passThrough: ReadonlyMap<string, number>;
  /**
   * Rows decided only by the last-resort guess: undecided rows settled by the lower port, and
   * portless pairs seen both ways that the rules do not settle.
   */
  readonly ambiguous: number;
  /**
   * The AWS service AWS named for an address (pkt-dst-aws-service / pkt-src-aws-service, carried
   * by the rows as `serverService`), by canonical address: what the egress view groups by first.
   * Empty when no flow log's format has those fields.
   */
  readonly awsServices: ReadonlyMap<string, string>;
}

/** An undecided row with both ports, its sides resolved to local and peer. */
interface UndecidedRow extends RowSides {
  readonly aggregate: FlowAggregate;
  readonly localPort: number;
  readonly peerPort: number;
}

/** One fold under way: its lookups, the evidence gathered so far and what it produced. */
interface Folding {
  readonly ruleIndex: FoldRuleIndex;
  readonly sides: AddressSides;
  readonly ephemeral: EphemeralPorts;
  readonly counterparts: CounterpartPorts;
  readonly tally: ConnectionTally;
  readonly portless: PortlessPairs;
  readonly awsServices: Map<string, string>;
  readonly passThrough: Map<string, number>;
  transit: number;
  ambiguous: number;
}

/** Records the service AWS named for a row's server address; of two names, the greater (as the engines' max). */
function noteService(services: Map<string, string>, aggregate: FlowAggregate): void {
  const { serverAddr, serverService } = aggregate;
  if (serverService === undefined) return;
  const addr = serverAddr.includes(':') ? (canonicalIp(serverAddr) ?? serverAddr) : serverAddr;
  const known = services.get(addr);
  if (known === undefined || serverService > known) services.set(addr, serverService);
}

/** An undecided row with both ports, seen from its ENI. */
function undecidedRow(
  aggregate: FlowAggregate,
  sides: RowSides,
  serverPort: number,
  clientPort: number,
): UndecidedRow {
  const { serverIsLocal } = sides;
  return {
    aggregate,
    ...sides,
    localPort: serverIsLocal ? serverPort : clientPort,
    peerPort: serverIsLocal ? clientPort : serverPort,
  };
}

/**
 * Pass 1 for one row: resolve its sides, pool it with its portless pair, hand it to `undecided`
 * (for the passes that decide it with the core's evidence) when the engine left it undecided, or
 * fold it as decided (by the engine's flags, a well-known port or the fold plan's ephemeral
 * ranges) and count its client ports as counterpart evidence.
 */
function foldRow(folding: Folding, aggregate: FlowAggregate, undecided: (row: UndecidedRow) => void): void {
  noteService(folding.awsServices, aggregate);
  const sides = folding.sides.of(aggregate);
  if (sides === undefined) {
    folding.transit++;
    if (aggregate.action === 'ACCEPT') {
      folding.passThrough.set(aggregate.eniId, (folding.passThrough.get(aggregate.eniId) ?? 0) + 1);
    }
    return;
  }
  const { eniId, serverPort, clientPort, protocol, action } = aggregate;
  const { serverIsLocal, localAddr, peerAddr } = sides;
  if (serverPort === null) {
    folding.portless.add(aggregate, sides);
    return;
  }
  if (aggregate.evidence === 'undecided' && clientPort !== null) {
    undecided(undecidedRow(aggregate, sides, serverPort, clientPort));
    return;
  }
  // Decided by the engine (flags, a well-known port, or the fold plan's ephemeral ranges, whose
  // rows count each distinct client port as one connection, as pass 2 would); an undecided row
  // without its client port keeps the engine's guess.
  let evidence: InitiatorEvidence;
  if (aggregate.evidence === 'undecided') {
    evidence = 'lower-port';
    folding.ambiguous++;
  } else {
    evidence = aggregate.evidence;
  }
  const connections =
    action === 'REJECT'
      ? rejectedAttempts(aggregate)
      : aggregate.synRecords > 0
        ? aggregate.synRecords
        : Math.max(1, aggregate.distinctClientPorts);
  if (action === 'ACCEPT') {
    const side = serverIsLocal ? 'local' : 'peer';
    folding.counterparts.addDecided(
      eniId,
      protocol,
      side,
      serverPort,
      Math.max(1, aggregate.distinctClientPorts),
    );
  }
  folding.tally.add({
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
    requestRecords: aggregate.requestRecords,
  });
}

/**
 * The attempts a refused row stands for: a client whose SYN goes unanswered retries it from the
 * same port (Linux after 1, 3, 7, 15 … s, often into the next capture interval), so each distinct
 * client port is one attempt however many SYN records it left.
 */
function rejectedAttempts(aggregate: FlowAggregate): number {
  const ports = Math.max(1, aggregate.distinctClientPorts);
  return aggregate.synRecords > 0 ? Math.min(aggregate.synRecords, ports) : ports;
}

/** Folds an undecided row once its service side is known: one connection on the service port. */
function foldSettledRow(
  folding: Folding,
  row: UndecidedRow,
  serviceIsLocal: boolean,
  evidence: InitiatorEvidence,
): void {
  const { aggregate } = row;
  folding.tally.add({
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
    // The engine's tentative client was the service when the core turns the row around.
    requestRecords:
      serviceIsLocal === row.serverIsLocal
        ? aggregate.requestRecords
        : aggregate.records - aggregate.requestRecords,
  });
}

/**
 * Pass 2 for one undecided row with both ports: ephemeral ranges, then the ENI's rules. Returns
 * true when they settle it (folded); otherwise counts its ports as counterpart evidence and
 * returns false (pass 3 settles it once every row's evidence is in).
 */
function settleByPortsAndRules(folding: Folding, row: UndecidedRow): boolean {
  const decision = portsAndRulesDecision(folding, row);
  const { aggregate, localPort, peerPort } = row;
  const { eniId, protocol, action } = aggregate;
  if (decision === undefined) {
    if (action === 'ACCEPT') {
      folding.counterparts.addUndecided(eniId, protocol, 'local', localPort, peerPort);
      folding.counterparts.addUndecided(eniId, protocol, 'peer', peerPort, localPort);
    }
    return false;
  }
  if (action === 'ACCEPT') {
    const side = decision.local ? 'local' : 'peer';
    folding.counterparts.addDecided(eniId, protocol, side, decision.local ? localPort : peerPort, 1);
  }
  foldSettledRow(folding, row, decision.local, decision.evidence);
  return true;
}

/** What ephemeral ranges, then the ENI's rules, decide for an undecided row; undefined: neither. */
function portsAndRulesDecision(
  folding: Folding,
  row: UndecidedRow,
): { local: boolean; evidence: InitiatorEvidence } | undefined {
  const { aggregate, localPort, peerPort, peerAddr } = row;
  const { eniId, protocol, action } = aggregate;
  const byRanges = folding.ephemeral.serviceIsLocal(eniId, localPort, peerAddr, peerPort);
  if (byRanges !== undefined) return { local: byRanges, evidence: 'peer-ephemeral' };
  const direction = listeningDirection(folding.ruleIndex, {
    eniId,
    action,
    protocol,
    localPort,
    peerPort,
    peerAddr,
  });
  return direction === undefined ? undefined : { local: direction === 'inbound', evidence: 'listening' };
}

/**
 * For a refused row whose records all travelled one way, whether its service is local: security
 * groups refuse attempts, never replies, so the side whose packets were refused initiated.
 * Undefined for accepted rows and rows with packets both ways.
 */
function refusedSenderDecides(row: UndecidedRow): boolean | undefined {
  const { action, records, requestRecords } = row.aggregate;
  if (action !== 'REJECT' || (requestRecords !== 0 && requestRecords !== records)) return undefined;
  // The engine's tentative client sent every record, or its tentative server did.
  const initiatorIsLocal = requestRecords === records ? !row.serverIsLocal : row.serverIsLocal;
  return !initiatorIsLocal;
}

/**
 * Pass 3 for one row pass 2 left: refused packets' sender, counterpart-port evidence, then the
 * lower port.
 */
function settleByCounterpartsOrLowerPort(folding: Folding, row: UndecidedRow): void {
  const refused = refusedSenderDecides(row);
  if (refused !== undefined) {
    foldSettledRow(folding, row, refused, 'refused-packets');
    return;
  }
  const { eniId, protocol } = row.aggregate;
  const localIsService = folding.counterparts.isService(eniId, protocol, 'local', row.localPort);
  const peerIsService = folding.counterparts.isService(eniId, protocol, 'peer', row.peerPort);
  if (localIsService !== peerIsService) {
    foldSettledRow(folding, row, localIsService, 'counterpart-ports');
    return;
  }
  folding.ambiguous++;
  // Equal ports (123↔123, 500↔500) keep the engine's tentative orientation.
  const lowerIsLocal = row.localPort === row.peerPort ? row.serverIsLocal : row.localPort < row.peerPort;
  foldSettledRow(folding, row, lowerIsLocal, 'lower-port');
}

/** Pass 4 for one portless pair: the rules decide, else who sent more, then first. */
function foldPortlessPair(folding: Folding, pair: PortlessPair): void {
  const query = {
    eniId: pair.eniId,
    action: pair.action,
    protocol: pair.protocol,
    localPort: null,
    peerPort: null,
    peerAddr: pair.peerAddr,
  };
  let direction = listeningDirection(folding.ruleIndex, query);
  let evidence: InitiatorEvidence = 'listening';
  if (direction === undefined) {
    evidence = 'portless';
    direction = portlessDirection(pair);
    if (pair.sent > 0 && pair.received > 0) folding.ambiguous++;
  }
  folding.tally.add({
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
    requestRecords: direction === 'outbound' ? pair.sent : pair.received,
  });
}

/**
 * Folds flow aggregates into connections seen from each row's ENI.
 *
 * The local side of a row is the address that belongs to the row's ENI (its private IPv4/IPv6
 * addresses from the rule index, or any address the index attributes to it, e.g. a delegated
 * prefix); rows where neither side does are counted in `transit` and skipped.
 * - Decided rows (`flags`, `well-known`): local server → inbound from the client; local client →
 *   outbound to the server. Connections = SYN records, else distinct client ports (at least 1);
 *   for REJECT rows at most the distinct client ports, since a refused SYN is retried from its port.
 * - Undecided rows with both ports, in order: `peer-ephemeral` (exactly one side's port lies in
 *   that side's ephemeral range, by resource type — the other side is the service); `listening`
 *   (exactly one orientation is admitted by the ENI's rules; when both are, the one a rule names
 *   specifically; for REJECT rows the one the rules do NOT admit, since the SG refused it);
 *   `refused-packets` (a REJECT row whose records all travelled one way: their sender initiated,
 *   since security groups refuse attempts, never replies); `counterpart-ports` (exactly one of the
 *   two ports meets at least `counterpartMinPorts`
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
  const folding = newFolding(context, config);
  const undecided: UndecidedRow[] = [];
  for (const aggregate of aggregates) foldRow(folding, aggregate, (row) => undecided.push(row));
  const unsettled = undecided.filter((row) => !settleByPortsAndRules(folding, row));
  for (const row of unsettled) settleByCounterpartsOrLowerPort(folding, row);
  return finish(folding);
}

/** Which streamed rows {@link foldConnectionRows} folds. */
export interface FoldRowsOptions {
  /** Rows to fold; asked of each row on each read, so it must answer alike. @default every row */
  readonly keep?: (aggregate: FlowAggregate) => boolean;
  /** Told of each row `keep` refuses, on the first read only. */
  readonly skipped?: (aggregate: FlowAggregate) => void;
}

/** A fold of streamed rows: the result, and how many rows it folded. */
export interface StreamedFoldResult extends FoldResult {
  readonly rows: number;
}

/**
 * {@link foldConnections} over rows a source streams instead of holding: the same connections
 * (in another order), transit and ambiguity counts, with memory bounded by what the fold keeps —
 * one entry per connection key, portless pair and counterpart port — whatever the number of rows.
 * The rows are read twice: every row first (passes 1 and 2 per row), then the undecided rows
 * again, for the counterpart-port evidence that only the whole first read completes (pass 3).
 *
 * @example
 * const { connections } = await foldConnectionRows(result.rows, { ruleIndex, resourceTypeOfEni }, DEFAULT_CONFIG);
 */
export async function foldConnectionRows(
  rows: FlowAggregateRows,
  context: FoldContext,
  config: AnalysisConfig,
  options: FoldRowsOptions = {},
): Promise<StreamedFoldResult> {
  const folding = newFolding(context, config);
  const keep = options.keep ?? (() => true);
  let count = 0;
  let unsettled = 0;
  for await (const chunk of rows.read()) {
    for (const aggregate of chunk) {
      if (!keep(aggregate)) {
        options.skipped?.(aggregate);
        continue;
      }
      count++;
      foldRow(folding, aggregate, (row) => {
        if (!settleByPortsAndRules(folding, row)) unsettled++;
      });
    }
  }
  if (unsettled > 0) {
    // Pass 3 with the whole evidence: the rows pass 2 left, found again as they were found then.
    const { sides } = folding;
    for await (const chunk of rows.read({ undecidedOnly: true })) {
      for (const aggregate of chunk) {
        const { serverPort, clientPort } = aggregate;
        if (aggregate.evidence !== 'undecided' || serverPort === null || clientPort === null) continue;
        if (!keep(aggregate)) continue;
        const found = sides.of(aggregate);
        if (found === undefined) continue;
        const row = undecidedRow(aggregate, found, serverPort, clientPort);
        if (portsAndRulesDecision(folding, row) === undefined) settleByCounterpartsOrLowerPort(folding, row);
      }
    }
  }
  return { ...finish(folding), rows: count };
}

function newFolding(context: FoldContext, config: AnalysisConfig): Folding {
  const { ruleIndex } = context;
  const sides = new AddressSides(ruleIndex);
  return {
    ruleIndex,
    sides,
    ephemeral: new EphemeralPorts(sides, (eniId) => context.resourceTypeOfEni(eniId), config),
    counterparts: new CounterpartPorts(Math.max(1, config.counterpartMinPorts)),
    tally: new ConnectionTally(),
    portless: new PortlessPairs(),
    awsServices: new Map(),
    passThrough: new Map(),
    transit: 0,
    ambiguous: 0,
  };
}

/** Pass 4 (portless pairs) and the result. */
function finish(folding: Folding): FoldResult {
  for (const pair of folding.portless.values()) foldPortlessPair(folding, pair);
  return {
    connections: folding.tally.connections(),
    transit: folding.transit,
    passThrough: folding.passThrough,
    ambiguous: folding.ambiguous,
    awsServices: folding.awsServices,
  };
}
