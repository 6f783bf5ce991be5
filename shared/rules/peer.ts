/**
 * The words for a rule's peer: the text reports and rule ids use.
 */
import type { Direction, IpFamily, RuleEntry, RulePeer } from '../model/inventory';

/**
 * The peer as written in the rule: the CIDR text, the referenced group id, or the prefix-list id.
 *
 * @example peerText({ kind: 'sg', groupId: 'sg-0a1b' }) // 'sg-0a1b'
 */
export function peerText(peer: RulePeer): string {
  switch (peer.kind) {
    case 'cidr':
      return peer.cidr;
    case 'sg':
      return peer.groupId;
    case 'prefix-list':
      return peer.prefixListId;
  }
}

/**
 * The IP family of a CIDR peer; undefined for SG references and prefix lists, whose family
 * depends on what they resolve to.
 *
 * @example peerFamily({ kind: 'cidr', cidr: '::/0', family: 'ipv6' }) // 'ipv6'
 */
export function peerFamily(peer: RulePeer): IpFamily | undefined {
  return peer.kind === 'cidr' ? peer.family : undefined;
}

/** A rule's traffic as reports and findings write it: the peer as text, absent ports left out. */
export interface RuleTrafficText {
  readonly direction: Direction;
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer: string;
}

/**
 * What a rule admits, in the fields (and order) of the report's rules and findings.
 *
 * @example ruleTrafficText(rule) // { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }
 */
export function ruleTrafficText(rule: RuleEntry): RuleTrafficText {
  return {
    direction: rule.direction,
    protocol: rule.protocol,
    ...(rule.fromPort !== undefined ? { fromPort: rule.fromPort } : {}),
    ...(rule.toPort !== undefined ? { toPort: rule.toPort } : {}),
    peer: peerText(rule.peer),
  };
}
