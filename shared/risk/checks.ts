/**
 * Risk checks: over-permissive rule entries in both directions, default-SG misuse, unused SGs and
 * (given rule usage) unused rules, each as a severity-graded finding with the resources behind the
 * SG and the traffic evidence on the rule.
 *
 * Severity by direction and peer reach (world = 0.0.0.0/0 or ::/0; wide = public and shorter than
 * widePublicPrefixV4/V6; public = other public; private = private CIDR, SG reference or prefix
 * list without public entries). A prefix list reaches as far as its widest entry.
 *
 * | check                       | ingress world / wide / public / private | egress world / wide / public / private |
 * |-----------------------------|-----------------------------------------|----------------------------------------|
 * | all-traffic-open (-1)       | critical / high / medium / low          | (egress-all-open) / info / – / –       |
 * | egress-all-open (-1)        | –                                       | info / – / – / –                       |
 * | all-ports-open (0|1-65535)  | critical / high / medium / low          | low / info / – / –                     |
 * | portless-protocol-open      | high / (wide-public-cidr) / – / –       | info / (wide-public-cidr) / – / –      |
 * | sensitive-port-world        | critical                                | low                                    |
 * | sensitive-port-wide-public  | – / high                                | – / info                               |
 * | world-port-range            | high                                    | low                                    |
 * | world-open-port (one port)  | medium* / – / – / –                     | –                                      |
 * | wide-public-cidr            | – / medium* / – / –                     | – / info** / – / –                     |
 * | world-open-web (80/443)     | info when every ENI is load-balancer-like, else low | –                          |
 * | world-open-icmp             | medium (all types) / low (echo, one type) / info (errors, PMTUD, ND) | –         |
 * | default-sg-in-use           | high (SG-level)                                                                  |
 * | default-sg-has-rules        | low (SG-level)                                                                   |
 * | unused-sg                   | low (SG-level)                                                                   |
 * | unused-rule                 | low (either direction)                                                           |
 *
 * \* a single non-web, non-sensitive port: info when every ENI of the SG is load-balancer-like (the
 * load balancer's listener is meant to face its clients), as for world-open-web; 80/443 alone to a
 * wide public CIDR is low, or info when the SG is load-balancer-only.
 * \*\* egress to a wide public CIDR only for port ranges and portless protocols; a single
 * non-sensitive egress port is ordinary.
 * ICMP is graded for ingress from the world only: it reaches no service, so only the world is worth
 * a word, and egress ICMP (ping out, errors back) is ordinary.
 *
 * One finding per rule per concern: all-traffic-open and all-ports-open supersede world-port-range,
 * sensitive-port-* and wide-public-cidr (their reasons name the sensitive ports they include);
 * sensitive-port-world and world-port-range may both hold for one range.
 */
import type { AnalysisConfig } from '../config';
import { InvalidValueError } from '../errors';
import type { CheckId, Finding, RuleUsage, Severity } from '../model/analysis';
import { SEVERITY_RANK } from '../model/analysis';
import type {
  Direction,
  Inventory,
  NetworkInterface,
  ResourceRef,
  ResourceType,
  RuleEntry,
  SecurityGroup,
} from '../model/inventory';
import { RESOURCE_TYPES } from '../model/inventory';
import { type Cidr, formatCidr, isPrivate, isWorld, parseCidr } from '../net/ip';
import { formatPortRange, MAX_PORT, type PortRange, rangesContain } from '../net/ports';
import { isIcmp, PROTOCOL_ICMP, PROTOCOL_ICMPV6, protocolHasPorts, protocolName } from '../net/protocol';
import { classifyEni, isLoadBalancerLike } from '../resources/classify';
import { ruleTrafficText } from '../rules/peer';
import type { RuleIndex } from '../rules/rule-index';

export interface RiskContext {
  /** The resource behind each ENI (classifyAll); ENIs missing here are classified on the fly. */
  readonly resources: ReadonlyMap<string, ResourceRef>;
  readonly ruleIndex: RuleIndex;
  readonly config: AnalysisConfig;
  /** Rule usage by rule id: enables unused-rule findings and traffic evidence. */
  readonly usage?: ReadonlyMap<string, RuleUsage>;
}

/** How far a rule's peer reaches, narrowest first. */
type PeerReach = 'private' | 'public' | 'wide-public' | 'world';
const REACH_ORDER: readonly PeerReach[] = ['private', 'public', 'wide-public', 'world'];

interface PeerAssessment {
  readonly reach: PeerReach;
  /** Words for reasons: "the world (0.0.0.0/0)", "private CIDR 10.0.0.0/8", … */
  readonly words: string;
}

/** What a rule entry admits, as far as risk is concerned. */
type RuleShape =
  | { readonly kind: 'all-traffic' }
  | { readonly kind: 'all-ports'; readonly range: PortRange }
  | { readonly kind: 'ports'; readonly range: PortRange }
  | { readonly kind: 'portless' }
  | { readonly kind: 'icmp' };

/** Facts about one SG shared by its findings. */
export interface SgFacts {
  readonly sg: SecurityGroup;
  readonly enis: readonly NetworkInterface[];
  readonly resources: Readonly<Partial<Record<ResourceType, number>>>;
  /** Every ENI is an ELB, API Gateway or endpoint ENI (false when there are no ENIs). */
  readonly loadBalancerOnly: boolean;
}

const WEB_PORTS: readonly number[] = [80, 443];
const SSH_PORT = 22;
const RDP_PORT = 3389;

/** Names for the sensitive ports people recognise at a glance. */
const PORT_NAMES: ReadonlyMap<number, string> = new Map([
  [21, 'FTP'],
  [22, 'SSH'],
  [23, 'Telnet'],
  [25, 'SMTP'],
  [445, 'SMB'],
  [1433, 'SQL Server'],
  [1521, 'Oracle'],
  [3306, 'MySQL'],
  [3389, 'RDP'],
  [5432, 'PostgreSQL'],
  [6379, 'Redis'],
  [9092, 'Kafka'],
  [9200, 'Elasticsearch'],
  [11211, 'Memcached'],
  [27017, 'MongoDB'],
]);

function portWords(ports: readonly number[], limit = 8): string {
  const named = ports.slice(0, limit).map((p) => {
    const name = PORT_NAMES.get(p);
    return name ? `${p} (${name})` : String(p);
  });
  const more = ports.length > limit ? ` and ${ports.length - limit} more` : '';
  return `${named.join(', ')}${more}`;
}

function reachOf(cidr: Cidr, config: AnalysisConfig): PeerReach {
  if (isWorld(cidr)) return 'world';
  if (isPrivate(cidr)) return 'private';
  const limit = cidr.family === 'ipv4' ? config.widePublicPrefixV4 : config.widePublicPrefixV6;
  return cidr.prefix < limit ? 'wide-public' : 'public';
}

function cidrWords(text: string, cidr: Cidr, reach: PeerReach, config: AnalysisConfig): string {
  switch (reach) {
    case 'world':
      return `the world (${text})`;
    case 'wide-public': {
      const limit = cidr.family === 'ipv4' ? config.widePublicPrefixV4 : config.widePublicPrefixV6;
      return `the very wide public CIDR ${text} (a /${cidr.prefix}, wider than /${limit})`;
    }
    case 'public':
      return `public CIDR ${text}`;
    case 'private':
      return `private CIDR ${text}`;
  }
}

function assessPeer(rule: RuleEntry, ctx: RiskContext): PeerAssessment {
  const peer = rule.peer;
  switch (peer.kind) {
    case 'cidr': {
      let cidr: Cidr;
      try {
        cidr = parseCidr(peer.cidr);
      } catch (error) {
        throw new InvalidValueError(
          `rule ${rule.id} of ${rule.sgId}: invalid peer CIDR '${peer.cidr}'`,
          { field: 'peer' },
          { cause: error },
        );
      }
      const reach = reachOf(cidr, ctx.config);
      return { reach, words: cidrWords(peer.cidr, cidr, reach, ctx.config) };
    }
    case 'sg':
      return { reach: 'private', words: `security group ${peer.groupId}` };
    case 'prefix-list': {
      // A prefix list reaches as far as its widest entry.
      let widest: { cidr: Cidr; reach: PeerReach } | undefined;
      for (const cidr of ctx.ruleIndex.peerCidrs(rule)) {
        const reach = reachOf(cidr, ctx.config);
        if (widest === undefined || REACH_ORDER.indexOf(reach) > REACH_ORDER.indexOf(widest.reach)) {
          widest = { cidr, reach };
        }
      }
      if (widest === undefined || widest.reach === 'private') {
        return { reach: 'private', words: `prefix list ${peer.prefixListId}` };
      }
      const entry = formatCidr(widest.cidr);
      return {
        reach: widest.reach,
        words: `prefix list ${peer.prefixListId}, which holds ${cidrWords(entry, widest.cidr, widest.reach, ctx.config)}`,
      };
    }
  }
}

function shapeOf(rule: RuleEntry): RuleShape {
  const protocol = rule.protocolNumber;
  if (protocol === 'all') return { kind: 'all-traffic' };
  if (isIcmp(protocol)) return { kind: 'icmp' };
  if (!protocolHasPorts(protocol)) return { kind: 'portless' };
  // A tcp/udp entry without ports admits every port (the seed's "no port info").
  const range = { from: rule.fromPort ?? 0, to: rule.toPort ?? MAX_PORT };
  if (range.from <= 1 && range.to >= MAX_PORT) return { kind: 'all-ports', range };
  return { kind: 'ports', range };
}

function sensitivePortsIn(range: PortRange, config: AnalysisConfig): number[] {
  return config.sensitivePorts.filter((port) => rangesContain([range], port));
}

function sensitiveControls(ports: readonly number[]): string[] {
  const controls = ['EC2.18', 'EC2.19'];
  if (ports.includes(SSH_PORT)) controls.push('EC2.13');
  if (ports.includes(RDP_PORT)) controls.push('EC2.14');
  return controls;
}

/** EC2.2, EC2.13, EC2.14, EC2.18, EC2.19: numeric order, as Security Hub lists them. */
function sortControls(controls: readonly string[]): string[] {
  const number = (control: string) => Number(control.replace(/^\D+/, ''));
  return [...controls].sort((a, b) => number(a) - number(b));
}

function countLabel(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

function usedPortsWords(usage: RuleUsage, limit = 5): string {
  const words = usage.ports
    .slice(0, limit)
    .map((p) =>
      p.port === null
        ? protocolName(p.protocol)
        : p.protocol === 6
          ? String(p.port)
          : `${protocolName(p.protocol)} ${p.port}`,
    );
  const more = usage.ports.length > limit ? ` (+${usage.ports.length - limit} more)` : '';
  return `${words.join(', ')}${more}`;
}

/** The traffic evidence on a rule, stated with the coverage it rests on. */
function ruleEvidence(usage: RuleUsage | undefined, eniCount: number): string {
  if (usage === undefined) return '';
  switch (usage.status) {
    case 'used': {
      const ports = usage.ports.length > 0 ? `, ports ${usedPortsWords(usage)}` : '';
      const last = usage.lastSeen !== undefined ? `; last seen ${isoSeconds(usage.lastSeen)}` : '';
      return `used: ${countLabel(usage.connections, 'connection')} from ${countLabel(usage.distinctPeers, 'peer')}${ports}${last}`;
    }
    case 'unused':
      return usage.coverage === 'full'
        ? `unused in window (all ${countLabel(eniCount, 'ENI')} fully covered)`
        : `unused in window (coverage ${usage.coverage})`;
    case 'unknown':
      return `unknown: ${usage.statusReason}`;
  }
}

function sgEvidence(sg: SecurityGroup, usage: ReadonlyMap<string, RuleUsage> | undefined): string {
  if (usage === undefined || sg.rules.length === 0) return '';
  let used = 0;
  let unused = 0;
  for (const rule of sg.rules) {
    const status = usage.get(rule.id)?.status;
    if (status === 'used') used++;
    else if (status === 'unused') unused++;
  }
  return `${used} of ${countLabel(sg.rules.length, 'rule')} used in window, ${unused} unused, ${sg.rules.length - used - unused} unknown`;
}

/** The SG's ENIs and the resources behind them (also what traffic-checks.ts reports with). */
export function sgFactsOf(sg: SecurityGroup, ctx: Pick<RiskContext, 'resources' | 'ruleIndex'>): SgFacts {
  const enis = ctx.ruleIndex.enisOfSg(sg.id);
  const counts = new Map<ResourceType, number>();
  let loadBalancerOnly = enis.length > 0;
  for (const eni of enis) {
    const type = (ctx.resources.get(eni.id) ?? classifyEni(eni)).type;
    counts.set(type, (counts.get(type) ?? 0) + 1);
    if (!isLoadBalancerLike(type)) loadBalancerOnly = false;
  }
  // Keys in RESOURCE_TYPES order so the CSV 'resources' column reads the same every run.
  const resources: Partial<Record<ResourceType, number>> = {};
  for (const type of RESOURCE_TYPES) {
    const n = counts.get(type);
    if (n !== undefined) resources[type] = n;
  }
  return { sg, enis, resources, loadBalancerOnly };
}

function resourcesWords(resources: Readonly<Partial<Record<ResourceType, number>>>): string {
  const parts = Object.entries(resources).map(([type, n]) => `${type}:${n}`);
  return parts.length > 0 ? parts.join(';') : 'no ENIs';
}

/** Collects the findings of one SG with the shared fields filled in. */
class FindingSink {
  readonly findings: Finding[] = [];

  constructor(
    private readonly facts: SgFacts,
    private readonly ctx: RiskContext,
  ) {}

  rule(
    check: CheckId,
    severity: Severity,
    rule: RuleEntry,
    reason: string,
    controls: readonly string[] = [],
  ): void {
    const { sg } = this.facts;
    const usage = this.ctx.usage?.get(rule.id);
    this.findings.push({
      id: `${check}:${rule.id}`,
      check,
      severity,
      sgId: sg.id,
      sgName: sg.name,
      vpcId: sg.vpcId,
      ruleId: rule.id,
      ...ruleTrafficText(rule),
      reason,
      resources: this.facts.resources,
      evidence: ruleEvidence(usage, this.facts.enis.length),
      controls: sortControls(controls),
      ...(usage ? { ruleStatus: usage.status } : {}),
    });
  }

  group(check: CheckId, severity: Severity, reason: string, controls: readonly string[] = []): void {
    const { sg } = this.facts;
    this.findings.push({
      id: `${check}:${sg.id}`,
      check,
      severity,
      sgId: sg.id,
      sgName: sg.name,
      vpcId: sg.vpcId,
      reason,
      resources: this.facts.resources,
      evidence: sgEvidence(sg, this.ctx.usage),
      controls: sortControls(controls),
    });
  }
}

function verb(direction: Direction): string {
  return direction === 'ingress' ? 'open to' : 'allowed out to';
}

function checkAllTraffic(sink: FindingSink, rule: RuleEntry, peer: PeerAssessment): void {
  if (rule.direction === 'egress') {
    if (peer.reach === 'world') {
      sink.rule(
        'egress-all-open',
        'info',
        rule,
        `all traffic allowed out to ${peer.words}: the AWS default egress rule, normal but it lets any process reach any destination`,
      );
    } else if (peer.reach === 'wide-public') {
      sink.rule(
        'all-traffic-open',
        'info',
        rule,
        `all traffic (every protocol and port) allowed out to ${peer.words}`,
      );
    }
    return;
  }
  const severity: Record<PeerReach, Severity> = {
    world: 'critical',
    'wide-public': 'high',
    public: 'medium',
    private: 'low',
  };
  const world = peer.reach === 'world';
  sink.rule(
    'all-traffic-open',
    severity[peer.reach],
    rule,
    `all traffic (every protocol and port) open to ${peer.words}${world ? ', including every sensitive port' : ''}`,
    world ? ['EC2.18', 'EC2.19', 'EC2.13', 'EC2.14'] : [],
  );
}

function checkAllPorts(
  sink: FindingSink,
  rule: RuleEntry,
  range: PortRange,
  peer: PeerAssessment,
  config: AnalysisConfig,
): void {
  const ingress = rule.direction === 'ingress';
  const severity: Record<PeerReach, Severity | undefined> = ingress
    ? { world: 'critical', 'wide-public': 'high', public: 'medium', private: 'low' }
    : { world: 'low', 'wide-public': 'info', public: undefined, private: undefined };
  const graded = severity[peer.reach];
  if (graded === undefined) return;
  const sensitive = sensitivePortsIn(range, config);
  const includes =
    ingress && peer.reach !== 'private' && sensitive.length > 0
      ? `, including ${countLabel(sensitive.length, 'sensitive port')} (${portWords(sensitive, 4)})`
      : '';
  sink.rule(
    'all-ports-open',
    graded,
    rule,
    `${rule.protocol} ports ${formatPortRange(range)} (every port) ${verb(rule.direction)} ${peer.words}${includes}`,
    ingress && peer.reach === 'world' ? sensitiveControls(sensitive) : [],
  );
}

function checkPortless(sink: FindingSink, rule: RuleEntry, peer: PeerAssessment): void {
  const ingress = rule.direction === 'ingress';
  const what = `protocol ${rule.protocol} (no ports: all of its traffic)`;
  if (peer.reach === 'world') {
    sink.rule(
      'portless-protocol-open',
      ingress ? 'high' : 'info',
      rule,
      `${what} ${verb(rule.direction)} ${peer.words}`,
      ingress ? ['EC2.18'] : [],
    );
  } else if (peer.reach === 'wide-public') {
    sink.rule(
      'wide-public-cidr',
      ingress ? 'medium' : 'info',
      rule,
      `${what} ${verb(rule.direction)} ${peer.words}`,
    );
  }
}

/** "sensitive tcp port 22 (SSH) open to …" or "tcp ports 20-23 open to …, including sensitive ports …". */
function sensitiveWords(
  rule: RuleEntry,
  range: PortRange,
  sensitive: readonly number[],
  peer: PeerAssessment,
): string {
  if (range.from === range.to) {
    return `sensitive ${rule.protocol} port ${portWords(sensitive)} ${verb(rule.direction)} ${peer.words}`;
  }
  const noun = sensitive.length === 1 ? 'port' : 'ports';
  return `${rule.protocol} ports ${formatPortRange(range)} ${verb(rule.direction)} ${peer.words}, including sensitive ${noun} ${portWords(sensitive)}`;
}

/**
 * The sensitive-port finding of each public reach: its check, its severity inbound and outbound,
 * and whether the inbound finding names the ports' controls.
 */
const SENSITIVE_PORT_FINDINGS = {
  world: { check: 'sensitive-port-world', ingress: 'critical', egress: 'low', controls: true },
  'wide-public': { check: 'sensitive-port-wide-public', ingress: 'high', egress: 'info', controls: false },
} as const satisfies Record<
  'world' | 'wide-public',
  { check: CheckId; ingress: Severity; egress: Severity; controls: boolean }
>;

function checkPortRange(
  sink: FindingSink,
  rule: RuleEntry,
  range: PortRange,
  peer: PeerAssessment,
  facts: SgFacts,
  config: AnalysisConfig,
): void {
  const ingress = rule.direction === 'ingress';
  const ports = `${rule.protocol} ${range.from === range.to ? 'port' : 'ports'} ${formatPortRange(range)}`;
  const isRange = range.from !== range.to;
  const sensitive = sensitivePortsIn(range, config);
  const web = !isRange && WEB_PORTS.includes(range.from);
  const lbWords = `every ENI of the SG is a load balancer, API Gateway or endpoint ENI (${resourcesWords(facts.resources)})`;

  if (peer.reach !== 'world' && peer.reach !== 'wide-public') return;
  if (sensitive.length > 0) {
    const finding = SENSITIVE_PORT_FINDINGS[peer.reach];
    sink.rule(
      finding.check,
      ingress ? finding.ingress : finding.egress,
      rule,
      sensitiveWords(rule, range, sensitive, peer),
      ingress && finding.controls ? sensitiveControls(sensitive) : [],
    );
  }
  if (peer.reach === 'world') {
    if (isRange) {
      sink.rule(
        'world-port-range',
        ingress ? 'high' : 'low',
        rule,
        `${ports} (${range.to - range.from + 1} ports) ${verb(rule.direction)} ${peer.words}`,
        ingress ? ['EC2.18'] : [],
      );
    } else if (ingress && web) {
      const reason = facts.loadBalancerOnly
        ? `${ports} open to ${peer.words}: expected, ${lbWords}`
        : facts.enis.length === 0
          ? `${ports} open to ${peer.words} on an SG without ENIs: cannot tell whether only load balancers will use it`
          : `${ports} open to ${peer.words} on ${resourcesWords(facts.resources)}, not only load balancers: serve the web through a load balancer or narrow the peer`;
      sink.rule('world-open-web', facts.loadBalancerOnly ? 'info' : 'low', rule, reason, ['EC2.18']);
    } else if (ingress && sensitive.length === 0) {
      const reason = facts.loadBalancerOnly
        ? `${ports} open to ${peer.words}: expected for a load balancer's listener, ${lbWords}`
        : facts.enis.length === 0
          ? `${ports} open to ${peer.words} on an SG without ENIs: a non-web port reachable from any address; cannot tell whether only load balancers will use it`
          : `${ports} open to ${peer.words}: a non-web port reachable from any address`;
      sink.rule('world-open-port', facts.loadBalancerOnly ? 'info' : 'medium', rule, reason, ['EC2.18']);
    }
    return;
  }

  // wide-public: a sensitive port is its one finding.
  if (sensitive.length > 0) return;
  if (ingress) {
    // The load-balancer exception of world-open-port holds here too, so narrowing the world to a
    // wide CIDR never raises the grade.
    const severity: Severity = isRange ? 'medium' : facts.loadBalancerOnly ? 'info' : web ? 'low' : 'medium';
    sink.rule('wide-public-cidr', severity, rule, `${ports} ${verb(rule.direction)} ${peer.words}`);
  } else if (isRange) {
    sink.rule('wide-public-cidr', 'info', rule, `${ports} ${verb(rule.direction)} ${peer.words}`);
  }
}

/** Names of the ICMP types a reason mentions, by protocol number (1 = ICMP, 58 = ICMPv6). */
const ICMP_TYPE_NAMES: ReadonlyMap<number, ReadonlyMap<number, string>> = new Map([
  [
    PROTOCOL_ICMP,
    new Map([
      [0, 'echo reply'],
      [3, 'destination unreachable'],
      [5, 'redirect'],
      [8, 'echo request'],
      [11, 'time exceeded'],
      [13, 'timestamp'],
      [17, 'address mask request'],
    ]),
  ],
  [
    PROTOCOL_ICMPV6,
    new Map([
      [1, 'destination unreachable'],
      [2, 'packet too big'],
      [3, 'time exceeded'],
      [4, 'parameter problem'],
      [128, 'echo request'],
      [129, 'echo reply'],
      [133, 'router solicitation'],
      [134, 'router advertisement'],
      [135, 'neighbour solicitation'],
      [136, 'neighbour advertisement'],
      [137, 'redirect'],
    ]),
  ],
]);

const ICMP_ECHO_REQUEST = 8;
const ICMPV6_ECHO_REQUEST = 128;

/**
 * Why the world may send this ICMP type (and code; -1 = all), or undefined when nothing needs it:
 * the error messages about traffic the host sent, and IPv6 neighbour discovery.
 */
function icmpTypeNeed(protocol: number, type: number, code: number): string | undefined {
  if (protocol === PROTOCOL_ICMPV6) {
    // RFC 4890 §4.3.1: destination unreachable (1), packet too big (2), time exceeded (3) and
    // parameter problem (4) must not be dropped; packet too big drives IPv6 path MTU discovery,
    // and IPv6 routers never fragment (RFC 8201).
    if (type === 2) return 'IPv6 path MTU discovery needs it (routers never fragment IPv6)';
    if (type >= 1 && type <= 4)
      return 'an ICMPv6 error message about traffic the host sent (RFC 4890: never drop it)';
    // Neighbour discovery (133 router solicitation … 137 redirect) is valid only with hop limit 255
    // (RFC 4861), i.e. from the same link: the world cannot use it from afar.
    if (type >= 133 && type <= 137) return 'IPv6 neighbour discovery, link-local by design (hop limit 255)';
    return undefined;
  }
  // Destination unreachable, fragmentation needed and DF set (3/4) is what AWS asks SGs to admit
  // for IPv4 path MTU discovery; the other unreachable codes and time exceeded (11) are errors
  // about traffic the host sent, as in ICMPv6.
  if (type === 3 && code === 4) return 'IPv4 path MTU discovery needs it (fragmentation needed, DF set)';
  if (type === 3 || type === 11) return 'an ICMP error message about traffic the host sent';
  return undefined;
}

/**
 * Grades an ingress ICMP/ICMPv6 rule from the world. FromPort is the ICMP type and ToPort the code
 * (-1 or absent = all).
 * - all types: medium. Besides ping it admits redirects, timestamp and address-mask requests that
 *   leak host facts, and lets ICMP tunnels and floods reach the ENI; no service, so not high.
 * - echo request or another single type: low. Echo tells a scanner the host is alive and invites
 *   ping floods, but reaches no service and many teams answer ping on purpose.
 * - the types IP needs (icmpTypeNeed): info, so a rule that keeps IPv6 or path MTU discovery
 *   working is visible without asking anyone to remove it.
 * No Security Hub control: EC2.18 (vpc-sg-open-only-to-authorized-ports) evaluates TCP/UDP only.
 */
function checkIcmp(sink: FindingSink, rule: RuleEntry, peer: PeerAssessment): void {
  if (rule.direction !== 'ingress' || peer.reach !== 'world') return;
  const protocol = rule.protocolNumber === PROTOCOL_ICMPV6 ? PROTOCOL_ICMPV6 : PROTOCOL_ICMP;
  const type = rule.fromPort ?? -1;
  const code = rule.toPort ?? -1;
  if (type < 0) {
    sink.rule(
      'world-open-icmp',
      'medium',
      rule,
      `every ${rule.protocol} type open to ${peer.words}: ping sweeps, redirects, timestamp and address-mask requests and ICMP tunnels all reach the ENI`,
    );
    return;
  }
  const name = ICMP_TYPE_NAMES.get(protocol)?.get(type);
  const typeWords = `${rule.protocol} type ${type}${name ? ` (${name})` : ''}${code >= 0 ? ` code ${code}` : ''}`;
  const need = icmpTypeNeed(protocol, type, code);
  if (need !== undefined) {
    sink.rule('world-open-icmp', 'info', rule, `${typeWords} open to ${peer.words}: expected, ${need}`);
    return;
  }
  const echo = type === (protocol === PROTOCOL_ICMPV6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO_REQUEST);
  sink.rule(
    'world-open-icmp',
    'low',
    rule,
    echo
      ? `${typeWords} open to ${peer.words}: anyone can tell the host is alive (ping sweeps) and ping-flood it; no service is reached`
      : `${typeWords} open to ${peer.words}: one ICMP type, no service reached; narrow the peer unless the world must send it`,
  );
}

function checkRule(sink: FindingSink, rule: RuleEntry, facts: SgFacts, ctx: RiskContext): void {
  const shape = shapeOf(rule);
  const peer = assessPeer(rule, ctx);
  switch (shape.kind) {
    case 'icmp':
      checkIcmp(sink, rule, peer);
      break;
    case 'all-traffic':
      checkAllTraffic(sink, rule, peer);
      break;
    case 'all-ports':
      checkAllPorts(sink, rule, shape.range, peer, ctx.config);
      break;
    case 'portless':
      checkPortless(sink, rule, peer);
      break;
    case 'ports':
      checkPortRange(sink, rule, shape.range, peer, facts, ctx.config);
      break;
  }
}

function checkUnusedRule(
  sink: FindingSink,
  rule: RuleEntry,
  facts: SgFacts,
  usage: RuleUsage | undefined,
): void {
  if (usage?.status !== 'unused') return;
  sink.rule(
    'unused-rule',
    'low',
    rule,
    `no connection matched this ${rule.direction} rule in the window while ${countLabel(facts.enis.length, 'ENI')} carrying ${facts.sg.id} had full flow-log coverage: a candidate for removal`,
  );
}

function checkGroup(sink: FindingSink, facts: SgFacts, ctx: RiskContext): void {
  const { sg, enis } = facts;
  if (sg.name === 'default') {
    if (sg.rules.length === 0) return;
    if (enis.length > 0) {
      sink.group(
        'default-sg-in-use',
        'high',
        `the default SG carries ${countLabel(sg.rules.length, 'rule')} and is attached to ${countLabel(enis.length, 'ENI')} (${resourcesWords(facts.resources)}): resources fall into it by omission; give them purpose-made SGs and empty the default SG`,
        ['EC2.2'],
      );
    } else {
      sink.group(
        'default-sg-has-rules',
        'low',
        `the default SG has ${countLabel(sg.rules.length, 'rule')} but no ENI: remove them so resources that land in it by omission get no access`,
        ['EC2.2'],
      );
    }
    return;
  }
  if (enis.length > 0) return;
  const referrers = ctx.ruleIndex.referencingSgs(sg.id).filter((id) => id !== sg.id);
  if (referrers.length > 0) return;
  sink.group(
    'unused-sg',
    'low',
    `no ENI carries ${sg.id} and no other SG references it; Lambda function configs, launch templates, ECS services or CloudFormation stacks may still name it, so check them before deleting`,
  );
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    compareText(a.sgId, b.sgId) ||
    compareText(a.ruleId ?? '', b.ruleId ?? '') ||
    compareText(a.check, b.check)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Runs every risk check over every SG of the inventory, in both directions, and returns the
 * findings sorted by severity (critical first), SG id and rule id. Severities follow the table in
 * this module's header; ids are stable (`${check}:${ruleId ?? sgId}`).
 *
 * @throws InvalidValueError when a rule's peer CIDR does not parse.
 * @example
 * const findings = runRiskChecks(inventory, { resources: classifyAll(inventory), ruleIndex: RuleIndex.build(inventory), config: DEFAULT_CONFIG });
 * findings[0]; // { id: 'sensitive-port-world:sg-1/ingress/tcp/22-22/0.0.0.0/0', severity: 'critical', … }
 */
export function runRiskChecks(inventory: Inventory, ctx: RiskContext): Finding[] {
  const findings: Finding[] = [];
  for (const sg of inventory.securityGroups) {
    const facts = sgFactsOf(sg, ctx);
    const sink = new FindingSink(facts, ctx);
    checkGroup(sink, facts, ctx);
    for (const rule of sg.rules) {
      checkRule(sink, rule, facts, ctx);
      checkUnusedRule(sink, rule, facts, ctx.usage?.get(rule.id));
    }
    findings.push(...sink.findings);
  }
  return findings.sort(compareFindings);
}
