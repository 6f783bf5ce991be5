/**
 * What the rules refused: REJECT connections folded like accepted ones (initiator, service port,
 * peer; replies never count as attempts), per ENI and SG, each read as one of three classes
 * (shared/analysis/rejected.ts).
 */
import type { Direction } from './inventory';

/**
 * How a rejected connection reads (rejected.csv `class`):
 * - `missing-rule`: repeated attempts from an internal peer to a port that is served to others,
 *   or that another SG on a sibling ENI admits — probably a rule someone forgot;
 * - `probe`: blocked attempts with no sign of a missing rule (internet scans, ports nobody
 *   serves) — evidence that the SG does its job, no rule suggested;
 * - `nacl`: the ENI's SGs admit it, so the subnet's network ACL refused it (also: a refused reply
 *   of an accepted connection, which only a stateless NACL refuses).
 */
export const REJECTED_CLASSES = ['missing-rule', 'nacl', 'probe'] as const;
export type RejectedClass = (typeof REJECTED_CLASSES)[number];

/**
 * Where the peer of a rejected connection sits: the ENI's own VPC, another VPC or ENI of the
 * inventory, a private address outside it (a peered VPC of another account, on-premises behind a
 * transit gateway or VPN), or the internet.
 */
export const PEER_ORIGINS = ['vpc', 'account', 'private', 'internet'] as const;
export type PeerOrigin = (typeof PEER_ORIGINS)[number];

/** Why a suggested rule is thought to be missing. */
export const SUGGESTION_BASES = ['served-to-others', 'sibling-sg'] as const;
export type SuggestionBasis = (typeof SUGGESTION_BASES)[number];

/**
 * The rule that would admit a `missing-rule` connection: a suggestion to review, never part of a
 * recommendation or a plan without someone's approval (blocked traffic may be unwanted traffic).
 */
export interface SuggestedRule {
  /** The SG the rule would go on. */
  readonly sgId: string;
  readonly direction: Direction;
  /** AWS IpProtocol: tcp, udp, icmp, icmpv6 or a number. */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** The peer's address as a /32 (/128). */
  readonly peer: string;
  /** SGs that carry the peer's address (an SG reference may be the better rule), when known. */
  readonly peerSgIds: readonly string[];
  readonly basis: SuggestionBasis;
  /** The seed's line (a suggestion to review, whatever it says): `- allow tcp port 5432 from 10.0.10.120`. */
  readonly text: string;
  readonly why: string;
}

/** The network ACL entry that refused a connection (or would refuse it too). */
export interface NaclBlock {
  readonly naclId: string;
  readonly direction: 'inbound' | 'outbound';
  /** The refusing entry's number (32767: the default `*` rule); absent when no entry refuses it. */
  readonly ruleNumber?: number;
  /** The entry as text: `rule 32767 (*): deny all traffic from 0.0.0.0/0`, or why none is named. */
  readonly text: string;
}

/** One rejected connection group: one ENI, direction, protocol, service port and peer. */
export interface RejectedConnection {
  readonly eniId: string;
  /** The SGs on the ENI (they refused it together, or admitted it for class `nacl`). */
  readonly sgIds: readonly string[];
  readonly vpcId: string;
  /** ingress: the peer initiated (an inbound rule would admit it); egress: the ENI initiated. */
  readonly direction: Direction;
  /** AWS IpProtocol: tcp, udp, icmp, icmpv6 or a number. */
  readonly protocol: string;
  /** The service port; null for protocols without ports. */
  readonly port: number | null;
  /** The peer's address. */
  readonly peer: string;
  readonly origin: PeerOrigin;
  /** Attempts: client ports refused (SYN retries of one attempt count once). */
  readonly connections: number;
  readonly records: number;
  readonly packets: number;
  /** Epoch seconds. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly class: RejectedClass;
  readonly reason: string;
  /** Only refused replies of accepted connections (return traffic a NACL refused). */
  readonly replyOnly?: boolean;
  /**
   * The peer's refused attempt on a port of the ENI that the fold did not keep: ephemeral ranges
   * alone made the ENI the client (an ELB or NAT ENI's own ports are all "ephemeral"), yet the
   * refused packets came from the peer, and security groups refuse attempts, not replies. `port`
   * is null then.
   */
  readonly servicePortUnknown?: boolean;
  /** Class `missing-rule`: the rule that would admit it, to review. */
  readonly suggestion?: SuggestedRule;
  /** Class `nacl`: the entry that refused it; other classes: set when the NACL would refuse it too. */
  readonly nacl?: NaclBlock;
  /** Class `nacl`: the rule entries of the ENI's SGs that admit it. */
  readonly admittedBy?: readonly string[];
}

/** A rejected group without its reason: what findings read (the report's rows carry the reason). */
export type RejectedFacts = Omit<RejectedConnection, 'reason'>;

/** A source of blocked probes, with what it tried. */
export interface ProbeSource {
  readonly addr: string;
  readonly origin: PeerOrigin;
  readonly connections: number;
  /** Distinct (protocol, port) pairs it tried. */
  readonly ports: number;
  /** Distinct ENIs it tried. */
  readonly enis: number;
}

/** A port blocked probes tried. */
export interface ProbedPort {
  readonly protocol: string;
  readonly port: number | null;
  readonly connections: number;
  /** Distinct sources that tried it. */
  readonly sources: number;
}

/** report.json `rejected`: what the rules refused in the window. */
export interface RejectedReport {
  /** Attempts refused on the audited ENIs (every class). */
  readonly connections: number;
  readonly byClass: Readonly<Record<RejectedClass, number>>;
  /** Rejected connection groups, worst class first (missing-rule, nacl, probe), then most attempts. */
  readonly rows: readonly RejectedConnection[];
  /** Probe groups left out of `rows` (the fewest attempts first) to keep the report bounded; counted above. */
  readonly omittedRows: number;
  readonly topSources: readonly ProbeSource[];
  readonly topPorts: readonly ProbedPort[];
  /**
   * Audited ENIs whose flow logs record no REJECT (ACCEPT-only logs, or none): what was refused
   * there is not seen, which is not evidence that nothing was.
   */
  readonly unrecordedEnis: readonly string[];
  /** Refused replies no NACL explains (e.g. a reply after its connection's tracking expired): not attempts. */
  readonly unexplainedReplies: number;
}
