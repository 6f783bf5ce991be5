/**
 * Where traffic goes: accepted outbound connections to destinations outside the inventory's VPCs,
 * per SG, grouped by AWS service or by network, and held against an allow-list of expected
 * destinations (shared/analysis/egress.ts).
 */

/** Whether a destination is on the allow-list: `unreviewed` when no allow-list was given. */
export const EGRESS_EXPECTATIONS = ['yes', 'no', 'unreviewed'] as const;
export type EgressExpectation = (typeof EGRESS_EXPECTATIONS)[number];

/** How a destination was grouped: an AWS service (named by the flow log, a prefix list or a published range), or a network. */
export const EGRESS_DESTINATION_KINDS = ['aws-service', 'network'] as const;
export type EgressDestinationKind = (typeof EGRESS_DESTINATION_KINDS)[number];

/** One external destination group of one SG, protocol and port. */
export interface EgressDestination {
  readonly sgId: string;
  /**
   * What the destination is: an AWS service (`AWS S3` as the flow log's pkt-dst-aws-service names
   * it, `com.amazonaws.ap-northeast-2.s3`, `AWS EC2 ap-northeast-2`) or a network
   * (`211.115.106.0/24`, `2001:db8:1::/64`).
   */
  readonly destination: string;
  readonly kind: EgressDestinationKind;
  /** What a rule would name: the network's CIDR, the prefix list (pl-…) or the published range. */
  readonly peer: string;
  /** The AWS service name, for `aws-service` groups (`s3` of a prefix list, `S3` as a flow log names it). */
  readonly service?: string;
  /** Outside private address space (the internet), as opposed to on-premises or a peered network. */
  readonly public: boolean;
  /** AWS IpProtocol: tcp, udp, icmp, icmpv6 or a number. */
  readonly protocol: string;
  readonly port: number | null;
  readonly connections: number;
  /** Both directions of the connections, as flow logs count them. */
  readonly bytes: number;
  /** Distinct destination addresses in the group. */
  readonly addresses: number;
  /** The busiest addresses of the group (at most 5). */
  readonly topAddresses: readonly string[];
  /** Epoch seconds. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly expected: EgressExpectation;
  /** The allow-list entry that expects it. */
  readonly allowListId?: string;
  /** An admin port (below 1024, not web) to the internet: the seed guidance's outbound admin view. */
  readonly adminPort: boolean;
}

/** The allow-list the run applied. */
export interface EgressAllowListSummary {
  readonly file: string;
  readonly entries: number;
  /** Ids of entries past their expiry date: their destinations count as unexpected again. */
  readonly expired: readonly string[];
  /** Ids of active entries that matched no destination. */
  readonly unused: readonly string[];
}

/** report.json `egress`: where accepted outbound traffic went outside the inventory's VPCs. */
export interface EgressReport {
  /** External outbound connections of the audited SGs' ENIs. */
  readonly connections: number;
  readonly bytes: number;
  /** Destination groups of every SG: unexpected first, then the most connections (at most egressDestinationsPerSg per SG). */
  readonly destinations: readonly EgressDestination[];
  /** Destination groups not on the allow-list (0 without one: nothing was reviewed). */
  readonly unexpected: number;
  /** Destination groups left out of `destinations` (the least used of each SG) to keep the report bounded. */
  readonly omittedRows: number;
  readonly allowList?: EgressAllowListSummary;
  /**
   * Audited ENIs whose ACCEPT coverage is not full: some of their outbound traffic is unseen, so
   * the destinations here are a lower bound.
   */
  readonly incompleteEnis: readonly string[];
}
