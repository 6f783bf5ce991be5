/**
 * Traffic checks: findings drawn from what the flow logs show beyond rule usage — connections the
 * rules refused (shared/analysis/rejected.ts) and where egress goes (shared/analysis/egress.ts).
 *
 * | check                   | severity                                                           |
 * |-------------------------|--------------------------------------------------------------------|
 * | rejected-missing-rule   | low: something internal is broken, the fix is a reviewed rule       |
 * | rejected-by-nacl        | low: the SG and the NACL disagree (or a NACL refuses return traffic)|
 * | rejected-probe          | info from the internet (the SG doing its job); low when an internal |
 * |                         | peer or the ENI itself kept trying ports nobody serves             |
 * | unexpected-egress       | medium to the internet, low to private space (allow-list given)    |
 * | egress-admin-port       | low: ports below 1024 but 80/443 to the internet, not allow-listed  |
 *
 * Ids are stable: the check, then the SG or rule and what the finding is about.
 */
import type { AnalysisConfig } from '../config';
import type { Finding, Severity } from '../model/analysis';
import type { EgressDestination } from '../model/egress';
import type { ResourceRef, SecurityGroup } from '../model/inventory';
import type { RejectedFacts } from '../model/rejected';
import { formatCount, formatQuantity, isoSeconds } from '../render/format';
import { ruleTrafficText } from '../rules/peer';
import type { RuleIndex } from '../rules/rule-index';
import { sgFactsOf } from './checks';

export interface TrafficCheckContext {
  readonly resources: ReadonlyMap<string, ResourceRef>;
  readonly ruleIndex: RuleIndex;
  readonly config: AnalysisConfig;
  /** Audited SGs: findings are about these only. */
  readonly sgIds: ReadonlySet<string>;
  /** The allow-list file the egress was held against, for reasons. */
  readonly allowListFile?: string;
}

/** The fields a finding takes from its SG. */
type SgFields = Pick<Finding, 'sgId' | 'sgName' | 'vpcId' | 'resources' | 'controls'>;

class SgFieldsCache {
  private readonly bySg = new Map<string, SgFields | undefined>();

  constructor(private readonly ctx: TrafficCheckContext) {}

  of(sgId: string): SgFields | undefined {
    if (this.bySg.has(sgId)) return this.bySg.get(sgId);
    const sg: SecurityGroup | undefined = this.ctx.sgIds.has(sgId)
      ? this.ctx.ruleIndex.sgById(sgId)
      : undefined;
    const fields =
      sg === undefined
        ? undefined
        : {
            sgId: sg.id,
            sgName: sg.name,
            vpcId: sg.vpcId,
            resources: sgFactsOf(sg, this.ctx).resources,
            controls: [],
          };
    this.bySg.set(sgId, fields);
    return fields;
  }
}

function span(first: number, last: number): string {
  return `${isoSeconds(first)} – ${isoSeconds(last)}`;
}

function portsOf(port: number | null): Pick<Finding, 'fromPort' | 'toPort'> {
  return port === null ? {} : { fromPort: port, toPort: port };
}

function traffic(protocol: string, port: number | null): string {
  return port === null ? protocol : `${protocol}/${port}`;
}

/** Sums rows that end in one finding. */
interface Tally {
  connections: number;
  firstSeen: number;
  lastSeen: number;
  readonly peers: Set<string>;
  readonly enis: Set<string>;
}

function tally(
  map: Map<string, Tally & { readonly row: RejectedFacts }>,
  key: string,
  row: RejectedFacts,
): void {
  const entry = map.get(key) ?? {
    row,
    connections: 0,
    firstSeen: row.firstSeen,
    lastSeen: row.lastSeen,
    peers: new Set<string>(),
    enis: new Set<string>(),
  };
  entry.connections += row.connections;
  entry.firstSeen = Math.min(entry.firstSeen, row.firstSeen);
  entry.lastSeen = Math.max(entry.lastSeen, row.lastSeen);
  entry.peers.add(row.peer);
  entry.enis.add(row.eniId);
  map.set(key, entry);
}

function listed(values: Iterable<string>, limit = 3): string {
  const all = [...values].sort();
  return `${all.slice(0, limit).join(', ')}${all.length > limit ? ` and ${all.length - limit} more` : ''}`;
}

/** One finding per suggested rule: the SG, direction, traffic and peer it would admit. */
function missingRuleFindings(rows: readonly RejectedFacts[], sgs: SgFieldsCache): Finding[] {
  const bySuggestion = new Map<string, Tally & { readonly row: RejectedFacts }>();
  for (const row of rows) {
    const s = row.suggestion;
    if (row.class !== 'missing-rule' || s === undefined) continue;
    tally(bySuggestion, `${s.sgId}/${s.direction}/${s.protocol}/${s.fromPort ?? 'all'}/${s.peer}`, row);
  }
  return [...bySuggestion].flatMap(([key, t]) => {
    const s = t.row.suggestion;
    const sg = s === undefined ? undefined : sgs.of(s.sgId);
    if (s === undefined || sg === undefined) return [];
    const reference = s.peerSgIds.length > 0 ? ` (or an SG reference to ${s.peerSgIds.join(', ')})` : '';
    const nacl = t.row.nacl?.ruleNumber !== undefined ? `; ${t.row.nacl.text} would refuse it too` : '';
    return [
      {
        id: `rejected-missing-rule:${key}`,
        check: 'rejected-missing-rule',
        severity: 'low',
        ...sg,
        direction: s.direction,
        protocol: s.protocol,
        ...portsOf(s.fromPort ?? null),
        peer: s.peer,
        reason: `${formatQuantity(t.connections, 'attempt', 'attempts')} ${s.direction === 'ingress' ? 'from' : 'to'} ${t.row.peer} on ${traffic(t.row.protocol, t.row.port)} refused on ${listed(t.enis)}: ${s.why}, so a rule is probably missing. Suggested, to review before anyone applies it (blocked traffic may be unwanted): '${s.text}'${reference}${nacl}`,
        evidence: `refused: ${formatQuantity(t.connections, 'attempt', 'attempts')} ${span(t.firstSeen, t.lastSeen)}`,
      } satisfies Finding,
    ];
  });
}

/** One finding per SG rule whose admitted connections a NACL refused, and per refused reply flow. */
function naclFindings(rows: readonly RejectedFacts[], sgs: SgFieldsCache, ruleIndex: RuleIndex): Finding[] {
  const byRule = new Map<string, Tally & { readonly row: RejectedFacts }>();
  const byReply = new Map<string, Tally & { readonly row: RejectedFacts }>();
  for (const row of rows) {
    if (row.class !== 'nacl') continue;
    if (row.replyOnly) {
      for (const sgId of row.sgIds) {
        tally(
          byReply,
          `${sgId}/${row.direction}/${row.protocol}/${row.port ?? 'all'}/${row.nacl?.naclId}`,
          row,
        );
      }
      continue;
    }
    for (const ruleId of row.admittedBy ?? []) tally(byRule, ruleId, row);
  }
  const findings: Finding[] = [];
  for (const [ruleId, t] of byRule) {
    const rule = ruleIndex.ruleById(ruleId);
    const sg = rule === undefined ? undefined : sgs.of(rule.sgId);
    if (rule === undefined || sg === undefined) continue;
    const by = t.row.nacl?.text ?? 'the subnet’s NACL (not in the inventory)';
    findings.push({
      id: `rejected-by-nacl:${ruleId}`,
      check: 'rejected-by-nacl',
      severity: 'low',
      ...sg,
      ruleId,
      ...ruleTrafficText(rule),
      reason: `${formatQuantity(t.connections, 'connection', 'connections')} this rule admits (${traffic(t.row.protocol, t.row.port)} ${rule.direction === 'ingress' ? 'from' : 'to'} ${listed(t.peers)}) were refused by ${by}: the NACL and the SG disagree — fix the NACL, or narrow the rule if the traffic is unwanted`,
      evidence: `refused: ${formatQuantity(t.connections, 'attempt', 'attempts')} ${span(t.firstSeen, t.lastSeen)}`,
    });
  }
  for (const [key, t] of byReply) {
    const sg = sgs.of(key.split('/')[0] ?? '');
    if (sg === undefined) continue;
    findings.push({
      id: `rejected-by-nacl:${key}/reply`,
      check: 'rejected-by-nacl',
      severity: 'low',
      ...sg,
      direction: t.row.direction,
      protocol: t.row.protocol,
      ...portsOf(t.row.port),
      reason: `the replies of ${formatQuantity(t.connections, 'accepted connection', 'accepted connections')} on ${traffic(t.row.protocol, t.row.port)} (${t.row.direction === 'ingress' ? 'from' : 'to'} ${listed(t.peers)}) were refused by ${t.row.nacl?.text ?? 'the subnet’s NACL'}: NACLs are stateless, so return traffic to the clients' ephemeral ports needs its own entry`,
      evidence: `refused replies ${span(t.firstSeen, t.lastSeen)}`,
    });
  }
  return findings;
}

/** What the probe findings of one SG and side read: sums, not rows. */
interface ProbeSide {
  attempts: number;
  /** Attempts by traffic ('tcp/22'). */
  readonly ports: Map<string, number>;
  readonly peers: Set<string>;
  first: number;
  last: number;
}

/**
 * The probe groups of a rejected analysis summed per SG and side (from the internet, or from
 * inside the network) as they stream in: the probe findings read these sums, so a week of
 * scanners need not be kept row by row.
 *
 * @example
 * const probes = new ProbeTally();
 * for (const row of rows) probes.add(row);
 * trafficFindings(settledRows, destinations, context, probes)
 */
export class ProbeTally {
  private readonly bySg = new Map<string, { internet?: ProbeSide; inside?: ProbeSide }>();

  /** The probes among `rows`. */
  static of(rows: Iterable<RejectedFacts>): ProbeTally {
    const tally = new ProbeTally();
    for (const row of rows) tally.add(row);
    return tally;
  }

  /** Counts `row` when it is a probe (other classes are ignored). */
  add(row: RejectedFacts): void {
    if (row.class !== 'probe') return;
    const side = row.direction === 'ingress' && row.origin === 'internet' ? 'internet' : 'inside';
    const key = traffic(row.protocol, row.port);
    for (const sgId of row.sgIds) {
      let sides = this.bySg.get(sgId);
      if (sides === undefined) {
        sides = {};
        this.bySg.set(sgId, sides);
      }
      let sum = sides[side];
      if (sum === undefined) {
        sum = { attempts: 0, ports: new Map(), peers: new Set(), first: row.firstSeen, last: row.lastSeen };
        sides[side] = sum;
      }
      sum.attempts += row.connections;
      sum.ports.set(key, (sum.ports.get(key) ?? 0) + row.connections);
      sum.peers.add(row.peer);
      sum.first = Math.min(sum.first, row.firstSeen);
      sum.last = Math.max(sum.last, row.lastSeen);
    }
  }

  /** Each probed SG with its sums, in the order its first probe came. */
  entries(): IterableIterator<[string, { readonly internet?: ProbeSide; readonly inside?: ProbeSide }]> {
    return this.bySg.entries();
  }
}

/** Per SG: one finding for probes from the internet, one for refused attempts from or to inside. */
function probeFindings(probes: ProbeTally, sgs: SgFieldsCache, config: AnalysisConfig): Finding[] {
  const findings: Finding[] = [];
  const top = (sum: ProbeSide) =>
    [...sum.ports]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 5)
      .map(([p, n]) => `${p} ×${formatCount(n)}`)
      .join(', ');
  for (const [sgId, { internet, inside }] of probes.entries()) {
    const sg = sgs.of(sgId);
    if (sg === undefined) continue;
    if (internet !== undefined) {
      findings.push({
        id: `rejected-probe:${sgId}`,
        check: 'rejected-probe',
        severity: 'info',
        ...sg,
        reason: `${formatQuantity(internet.attempts, 'attempt', 'attempts')} from ${formatQuantity(internet.peers.size, 'internet source', 'internet sources')} refused (top: ${top(internet)}): blocked probing, evidence that the SG does its job; no rule is suggested`,
        evidence: `refused ${span(internet.first, internet.last)}`,
      });
    }
    if (inside !== undefined) {
      const severity: Severity = inside.attempts >= config.rejectedMinAttempts ? 'low' : 'info';
      findings.push({
        id: `rejected-probe:${sgId}/inside`,
        check: 'rejected-probe',
        severity,
        ...sg,
        reason: `${formatQuantity(inside.attempts, 'attempt', 'attempts')} from inside the network or by the SG's own ENIs refused (${formatQuantity(inside.peers.size, 'peer', 'peers')}; top: ${top(inside)}), on ports nobody serves or too few to read as a missing rule: a stale client, egress restriction at work, or scanning from inside — find out who`,
        evidence: `refused ${span(inside.first, inside.last)}`,
      });
    }
  }
  return findings;
}

function egressFindings(
  destinations: readonly EgressDestination[],
  sgs: SgFieldsCache,
  allowListFile: string | undefined,
): Finding[] {
  const findings: Finding[] = [];
  for (const d of destinations) {
    const sg = sgs.of(d.sgId);
    if (sg === undefined) continue;
    const fields = {
      ...sg,
      direction: 'egress' as const,
      protocol: d.protocol,
      ...portsOf(d.port),
      peer: d.peer,
    };
    const key = `${d.sgId}/egress/${d.protocol}/${d.port ?? 'all'}/${d.peer}`;
    const what = `${formatQuantity(d.connections, 'connection', 'connections')} to ${d.destination} (${formatQuantity(d.addresses, 'address', 'addresses')}: ${d.topAddresses.slice(0, 3).join(', ')}${d.addresses > 3 ? ', …' : ''}) on ${traffic(d.protocol, d.port)}`;
    const evidence = `${formatQuantity(d.connections, 'connection', 'connections')}, ${formatCount(d.bytes)} bytes, ${span(d.firstSeen, d.lastSeen)}`;
    if (d.expected === 'no') {
      findings.push({
        id: `unexpected-egress:${key}`,
        check: 'unexpected-egress',
        severity: d.public ? 'medium' : 'low',
        ...fields,
        reason: `${what}, not on the egress allow-list${allowListFile ? ` (${allowListFile})` : ''}: confirm it is expected and list it with an owner, a reason and an expiry date, or block it`,
        evidence,
      });
    }
    if (d.adminPort && d.expected !== 'yes') {
      findings.push({
        id: `egress-admin-port:${key}`,
        check: 'egress-admin-port',
        severity: 'low',
        ...fields,
        reason: `${what}: admin traffic to the internet (outbound ports below 1024 other than 80/443); a bastion or git over SSH may explain it — list it on the egress allow-list if expected`,
        evidence,
      });
    }
  }
  return findings;
}

/**
 * The findings of the rejected and egress views, for the audited SGs. The probe findings read
 * `probes` (by default the probe rows among `rejected`; the rejected analysis tallies them as it
 * goes, and keeps no probe row it does not report).
 *
 * @example
 * trafficFindings(rejected.rows, egress.destinations, { resources, ruleIndex, config, sgIds }, probes)
 * // [{ id: 'rejected-missing-rule:sg-db/ingress/tcp/5432/10.0.10.120/32', check: 'rejected-missing-rule', severity: 'low', … }]
 */
export function trafficFindings(
  rejected: readonly RejectedFacts[],
  egress: readonly EgressDestination[],
  ctx: TrafficCheckContext,
  probes: ProbeTally = ProbeTally.of(rejected),
): Finding[] {
  const sgs = new SgFieldsCache(ctx);
  return [
    ...missingRuleFindings(rejected, sgs),
    ...naclFindings(rejected, sgs, ctx.ruleIndex),
    ...probeFindings(probes, sgs, ctx.config),
    ...egressFindings(egress, sgs, ctx.allowListFile),
  ];
}
