/**
 * The `listening` evidence: which orientation of a row the ENI's rules admit. An accepted row is
 * the orientation the rules admit (a specific rule over a catch-all when both are); a rejected
 * row is the one they refuse, since the SG refused it.
 */
import type { Connection } from '../../model/analysis';
import type { FlowAction } from '../../model/flow';
import type { RuleEntry } from '../../model/inventory';
import type { RuleIndex } from '../../rules/rule-index';

/** One row seen from its ENI: the ports are null for portless protocols. */
export interface ListeningQuery {
  readonly eniId: string;
  readonly action: FlowAction;
  readonly protocol: number;
  readonly localPort: number | null;
  readonly peerPort: number | null;
  readonly peerAddr: string;
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
 * The orientation the ENI's rules decide for a row ('inbound': the peer initiated), or undefined
 * when they do not: both or neither orientation admitted (refused, for a REJECT), and no rule
 * narrower than the other's names the service.
 *
 * @example
 * listeningDirection(ruleIndex, { eniId: 'eni-1', action: 'ACCEPT', protocol: 17, localPort: 500, peerPort: 500, peerAddr: '198.51.100.7' })
 * // 'inbound' when an ingress 'udp 500' rule faces only an egress allow-all
 */
export function listeningDirection(
  ruleIndex: Pick<RuleIndex, 'matching'>,
  query: ListeningQuery,
): Connection['direction'] | undefined {
  const { eniId, action, protocol, localPort, peerPort, peerAddr } = query;
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
}
