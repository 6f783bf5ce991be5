/**
 * NACL change plans: the report's recommended allow entries (service and return traffic, both
 * directions) take the place of a NACL's allow entries, at free rule numbers with gaps, never on
 * a number in use (the seed's `100 + port` numbering collided with the rules already there).
 *
 * Safety, as for SGs: every new entry must lie inside an allow entry the NACL evaluates before any
 * deny that overlaps it (so the result admits nothing the NACL did not), deny entries stay where
 * they are and each new allow is numbered below every deny it overlaps (so no deny shadows the
 * observed traffic), and an old allow goes only once every new entry overlapping it is in place.
 * The rule quota per direction is checked after each step; when it is full, an old entry whose
 * traffic is fully replaced is replaced in place by the next new entry.
 */
import { createHash } from 'node:crypto';
import type { NaclRecommendation } from '../model/analysis';
import { cidrFirst, cidrLast, tryParseCidr } from '../net/ip';
import type { ReportNetworkAcl } from '../report/model';
import type { NaclEntrySpec, NaclPlan, NaclStep } from './model';

/** Rule numbers run 1–32766; 32767 is the default rule '*'. */
export const NACL_MAX_RULE_NUMBER = 32766;

export interface NaclPlanOptions {
  /** Numbered entries per direction (AWS default 20, at most 40). */
  readonly quota: number;
  /** Where new numbers start, and their gap. @default 100, 10 */
  readonly firstRuleNumber?: number;
  readonly ruleStep?: number;
}

const PORTED = new Set(['6', '17']);
const ICMP = new Set(['1', '58']);

/** The entry's traffic key, without its number. */
function contentKey(entry: NaclEntrySpec): string {
  const ports = entry.portRange ? `${entry.portRange.from}-${entry.portRange.to}` : 'all';
  const icmp = entry.icmp ? `${entry.icmp.type}:${entry.icmp.code}` : '';
  return `${entry.egress ? 'egress' : 'ingress'}/${entry.action}/${entry.protocol}/${ports}/${icmp}/${entry.cidr.toLowerCase()}`;
}

/**
 * An entry as text, with its number.
 *
 * @example naclEntryKey({ ruleNumber: 100, egress: false, protocol: '6', action: 'allow', cidr: '10.0.0.0/8', portRange: { from: 443, to: 443 } }) // '100 ingress/allow/6/443-443//10.0.0.0/8'
 */
export function naclEntryKey(entry: NaclEntrySpec): string {
  return `${entry.ruleNumber} ${contentKey(entry)}`;
}

/** sha256 of a NACL's numbered entries (the default rules aside). */
export function naclFingerprint(entries: readonly NaclEntrySpec[]): string {
  const keys = entries
    .filter((e) => e.ruleNumber <= NACL_MAX_RULE_NUMBER)
    .map(naclEntryKey)
    .sort();
  return `sha256:${createHash('sha256').update(keys.join('\n')).digest('hex')}`;
}

/** What differs between two NACL entry sets, by numbered key. */
export function naclDifference(
  expected: readonly NaclEntrySpec[],
  current: readonly NaclEntrySpec[],
): { readonly added: string[]; readonly removed: string[] } {
  const numbered = (list: readonly NaclEntrySpec[]) =>
    new Set(list.filter((e) => e.ruleNumber <= NACL_MAX_RULE_NUMBER).map(naclEntryKey));
  const before = numbered(expected);
  const now = numbered(current);
  return {
    added: [...now].filter((k) => !before.has(k)).sort(),
    removed: [...before].filter((k) => !now.has(k)).sort(),
  };
}

interface Range {
  readonly from: bigint;
  readonly to: bigint;
}

function addressRange(cidr: string): { family: 'ipv4' | 'ipv6'; range: Range } | undefined {
  const parsed = tryParseCidr(cidr);
  return parsed === undefined
    ? undefined
    : { family: parsed.family, range: { from: cidrFirst(parsed), to: cidrLast(parsed) } };
}

function portsOf(entry: NaclEntrySpec): Range | undefined {
  if (!PORTED.has(entry.protocol)) return undefined;
  const ports = entry.portRange ?? { from: 0, to: 65535 };
  return { from: BigInt(ports.from), to: BigInt(ports.to) };
}

function within(inner: Range, outer: Range): boolean {
  return inner.from >= outer.from && inner.to <= outer.to;
}

function overlapping(a: Range, b: Range): boolean {
  return a.from <= b.to && b.from <= a.to;
}

/** Whether two entries of one direction can match the same packet. */
export function naclEntriesOverlap(a: NaclEntrySpec, b: NaclEntrySpec): boolean {
  if (a.egress !== b.egress) return false;
  if (a.protocol !== '-1' && b.protocol !== '-1' && a.protocol !== b.protocol) return false;
  const pa = portsOf(a);
  const pb = portsOf(b);
  if (pa !== undefined && pb !== undefined && !overlapping(pa, pb)) return false;
  if (a.icmp && b.icmp && a.icmp.type !== -1 && b.icmp.type !== -1 && a.icmp.type !== b.icmp.type)
    return false;
  const ra = addressRange(a.cidr);
  const rb = addressRange(b.cidr);
  return ra !== undefined && rb !== undefined && ra.family === rb.family && overlapping(ra.range, rb.range);
}

/** Whether every packet `inner` matches, `outer` matches too. */
export function naclEntryWithin(inner: NaclEntrySpec, outer: NaclEntrySpec): boolean {
  if (inner.egress !== outer.egress) return false;
  if (outer.protocol !== '-1' && outer.protocol !== inner.protocol) return false;
  const po = portsOf(outer);
  if (po !== undefined) {
    const pi = portsOf(inner);
    if (pi === undefined || !within(pi, po)) return false;
  }
  if (ICMP.has(outer.protocol) && outer.icmp && outer.icmp.type !== -1) {
    if (!inner.icmp || inner.icmp.type !== outer.icmp.type) return false;
    if (outer.icmp.code !== -1 && inner.icmp.code !== outer.icmp.code) return false;
  }
  const ri = addressRange(inner.cidr);
  const ro = addressRange(outer.cidr);
  return ri !== undefined && ro !== undefined && ri.family === ro.family && within(ri.range, ro.range);
}

/** A recommended allow entry, numberless (its number is chosen by the plan). */
export function naclEntryOfRecommendation(rec: NaclRecommendation): NaclEntrySpec {
  const ported = PORTED.has(rec.protocol) && rec.fromPort !== undefined;
  const icmp = ICMP.has(rec.protocol);
  return {
    ruleNumber: 0,
    egress: rec.direction === 'outbound',
    protocol: rec.protocol,
    action: rec.action,
    cidr: rec.cidr,
    ...(ported
      ? { portRange: { from: rec.fromPort as number, to: rec.toPort ?? (rec.fromPort as number) } }
      : {}),
    ...(icmp ? { icmp: { type: rec.fromPort ?? -1, code: rec.toPort ?? -1 } } : {}),
  };
}

export interface TransitionOptions {
  /** Numbered entries per direction. */
  readonly quota: number;
  /** Whether a new entry may take the number of an old one it replaces in place (plans), or not (rollbacks). */
  readonly renumber: boolean;
  /** The number a new entry must stay below (the first deny it overlaps). */
  readonly bound?: (entry: NaclEntrySpec) => number;
}

export interface NaclTransition {
  readonly steps: NaclStep[];
  /** The entries after the last step (numbers as made: a replace may renumber a new entry). */
  readonly result: NaclEntrySpec[];
  readonly peak: Readonly<Record<'inbound' | 'outbound', number>>;
  readonly blocked?: string;
}

/**
 * Steps from one NACL entry set to another, both directions: creates while the quota allows,
 * replaces where a number is taken, deletes last; an entry goes only when every target entry
 * overlapping it is in place. With `renumber`, a full quota is met by replacing a fully replaced
 * old entry with the next new one (the new entry takes its number, within its deny bound).
 *
 * @example naclTransition(current, target, { quota: 20, renumber: true }).steps[0].action // 'create'
 */
export function naclTransition(
  current: readonly NaclEntrySpec[],
  target: readonly NaclEntrySpec[],
  options: TransitionOptions,
): NaclTransition {
  const steps: NaclStep[] = [];
  const peak = { inbound: 0, outbound: 0 };
  let blocked: string | undefined;
  const result = new Map<string, NaclEntrySpec>();
  for (const egress of [false, true]) {
    const direction = egress ? 'outbound' : 'inbound';
    const outcome = transitionOneWay(
      current.filter((e) => e.egress === egress && e.ruleNumber <= NACL_MAX_RULE_NUMBER),
      target.filter((e) => e.egress === egress && e.ruleNumber <= NACL_MAX_RULE_NUMBER),
      options,
    );
    steps.push(...outcome.steps);
    peak[direction] = outcome.peak;
    for (const entry of outcome.result) result.set(naclEntryKey(entry), entry);
    if (outcome.blocked !== undefined && blocked === undefined) blocked = `${direction}: ${outcome.blocked}`;
  }
  return { steps, result: [...result.values()], peak, ...(blocked === undefined ? {} : { blocked }) };
}

function transitionOneWay(
  current: readonly NaclEntrySpec[],
  target: readonly NaclEntrySpec[],
  options: TransitionOptions,
): { steps: NaclStep[]; result: NaclEntrySpec[]; peak: number; blocked?: string } {
  const present = new Map<number, NaclEntrySpec>(current.map((e) => [e.ruleNumber, e]));
  const steps: NaclStep[] = [];
  let peak = present.size;
  const blockedBy = (blocked: string) => ({ steps, result: [...present.values()], peak, blocked });
  // Target entries still to be made, each at the number it ends up with.
  const pending = target.filter((t) => {
    const there = present.get(t.ruleNumber);
    return there === undefined || contentKey(there) !== contentKey(t);
  });
  const targetNumbers = new Set(target.map((t) => t.ruleNumber));
  let pendingDelete = current.filter((e) => !targetNumbers.has(e.ruleNumber));
  const placed = (t: NaclEntrySpec) => {
    const there = present.get(t.ruleNumber);
    return there !== undefined && contentKey(there) === contentKey(t);
  };
  /** Whether `entry` may go: every target allow overlapping it (but `except`) is in place. */
  const mayGo = (entry: NaclEntrySpec, except?: NaclEntrySpec) =>
    pending.every((t) => t === except || t.action !== 'allow' || !naclEntriesOverlap(t, entry) || placed(t));

  let guard = 0;
  while (guard++ < 10_000) {
    const open = pending.filter((t) => !placed(t));
    if (open.length === 0) break;
    let progressed = false;
    for (const t of open) {
      const number = t.ruleNumber;
      const there = present.get(number);
      if (there === undefined) {
        if (present.size >= options.quota) continue;
        present.set(number, t);
        steps.push({ action: 'create', entry: t, reason: 'new entry' });
        progressed = true;
      } else if (mayGo(there, t)) {
        present.set(number, t);
        steps.push({ action: 'replace', entry: t, reason: `replaces entry ${number}` });
        pendingDelete = pendingDelete.filter((e) => e.ruleNumber !== number);
        progressed = true;
      }
      peak = Math.max(peak, present.size);
    }
    if (progressed) continue;
    // The quota is full: make room.
    const nextOpen = open.find((t) => !present.has(t.ruleNumber));
    if (nextOpen === undefined) return blockedBy('entries are waiting on each other');
    const bound = options.bound?.(nextOpen) ?? NACL_MAX_RULE_NUMBER + 1;
    const room = options.renumber
      ? pendingDelete.find((e) => e.ruleNumber < bound && mayGo(e, nextOpen))
      : pendingDelete.find((e) => mayGo(e));
    if (room === undefined) {
      return blockedBy(
        `quota: ${present.size} of ${options.quota} entries are in use and no entry can go before what replaces it is in place`,
      );
    }
    pendingDelete = pendingDelete.filter((e) => e !== room);
    if (options.renumber) {
      const entry = { ...nextOpen, ruleNumber: room.ruleNumber };
      pending[pending.indexOf(nextOpen)] = entry;
      present.set(room.ruleNumber, entry);
      steps.push({ action: 'replace', entry, reason: `replaces entry ${room.ruleNumber} (quota full)` });
    } else {
      present.delete(room.ruleNumber);
      steps.push({ action: 'delete', entry: room, reason: 'makes room (quota full)' });
    }
  }
  for (const entry of pendingDelete) {
    if (!present.has(entry.ruleNumber)) continue;
    present.delete(entry.ruleNumber);
    steps.push({ action: 'delete', entry, reason: 'replaced by the new entries' });
  }
  return { steps, result: [...present.values()].sort((a, b) => a.ruleNumber - b.ruleNumber), peak };
}

/**
 * The plan of one NACL: its recommended allow entries, numbered, and the steps from its entries
 * today. Blocked (nothing changes) when a new entry is not inside what the NACL admits today, when
 * no number fits below a deny it overlaps, or when the quota leaves no safe order.
 *
 * @example planNacl(report.networkAcls[0], report.naclRecommendations, { quota: 20 }).steps
 */
export function planNacl(
  acl: ReportNetworkAcl,
  recommendations: readonly NaclRecommendation[],
  options: NaclPlanOptions,
): NaclPlan {
  const first = options.firstRuleNumber ?? 100;
  const step = options.ruleStep ?? 10;
  const current: NaclEntrySpec[] = acl.entries
    .filter((e) => e.ruleNumber <= NACL_MAX_RULE_NUMBER)
    .map((e) => ({
      ruleNumber: e.ruleNumber,
      egress: e.egress,
      protocol: e.protocol,
      action: e.action,
      cidr: e.cidr,
      ...(e.portRange ? { portRange: e.portRange } : {}),
      ...(e.icmp ? { icmp: e.icmp } : {}),
    }));
  const base = {
    naclId: acl.id,
    vpcId: acl.vpcId,
    subnetIds: acl.subnetIds,
    expected: { fingerprint: naclFingerprint(current), entries: current },
  };
  const blockedPlan = (reason: string): NaclPlan => ({
    ...base,
    action: 'blocked',
    blockedReason: reason,
    target: current,
    steps: [],
    quota: quotaLines(current, current, options.quota, { inbound: 0, outbound: 0 }),
    afterFingerprint: base.expected.fingerprint,
  });
  const wanted = recommendations
    .filter((r) => r.naclId === acl.id && r.action === 'allow' && r.purpose !== 'default-deny')
    .map(naclEntryOfRecommendation);
  if (wanted.length === 0) {
    return { ...blockedPlan(''), action: 'none', blockedReason: 'no recommended entries' };
  }
  const denies = current.filter((e) => e.action === 'deny');
  const bound = (entry: NaclEntrySpec) =>
    Math.min(
      NACL_MAX_RULE_NUMBER + 1,
      ...denies.filter((d) => naclEntriesOverlap(d, entry)).map((d) => d.ruleNumber),
    );
  const target: NaclEntrySpec[] = [...denies];
  const used = new Set(current.map((e) => `${e.egress}/${e.ruleNumber}`));
  const containerOf = new Map<NaclEntrySpec, number>();
  for (const entry of wanted) {
    // Inside an allow the NACL reaches before any deny that overlaps the entry.
    const reached = (o: NaclEntrySpec) =>
      !denies.some(
        (d) => d.egress === o.egress && d.ruleNumber < o.ruleNumber && naclEntriesOverlap(d, entry),
      );
    const container = current.find((o) => o.action === 'allow' && naclEntryWithin(entry, o) && reached(o));
    if (container === undefined) {
      return blockedPlan(
        `the recommended entry ${describeNaclEntry(entry)} is not inside what ${acl.id} allows today: a plan never widens a NACL`,
      );
    }
    containerOf.set(entry, container.ruleNumber);
    // An identical allow is kept only when the NACL reaches it; one behind a deny admits nothing.
    const same = current.find(
      (o) => o.action === 'allow' && contentKey(o) === contentKey(entry) && reached(o),
    );
    if (same !== undefined) target.push(same);
  }
  // New entries grouped by the old allow they replace, smallest groups first: a group complete
  // lets its old allow be replaced in place when the quota is full.
  const groupSize = new Map<string, number>();
  const fresh = wanted.filter(
    (w) => !target.some((t) => t.action === 'allow' && contentKey(t) === contentKey(w)),
  );
  for (const w of fresh) {
    const key = `${w.egress}/${containerOf.get(w)}`;
    groupSize.set(key, (groupSize.get(key) ?? 0) + 1);
  }
  const ordered = fresh
    .map((w, index) => ({ w, index, size: groupSize.get(`${w.egress}/${containerOf.get(w)}`) ?? 0 }))
    .sort((a, b) => a.size - b.size || a.index - b.index)
    .map(({ w }) => w);
  const next = { false: first, true: first };
  const inTarget = new Set(target.map((e) => `${e.egress}/${e.ruleNumber}`));
  for (const entry of ordered) {
    const limit = bound(entry);
    const direction = String(entry.egress) as 'false' | 'true';
    let number = next[direction];
    while (number < limit && used.has(`${entry.egress}/${number}`)) number += step;
    if (number >= limit) {
      // Below the deny: the first free number with a gap under it.
      number = 1;
      while (number < limit && used.has(`${entry.egress}/${number}`)) number += 1;
      // None free: the number of the old allow it replaces, in place, when that one goes.
      const container = containerOf.get(entry) ?? limit;
      if (number >= limit && container < limit && !inTarget.has(`${entry.egress}/${container}`)) {
        number = container;
      }
      if (number >= limit) {
        return blockedPlan(
          `no free rule number below the deny entry ${limit} for ${describeNaclEntry(entry)}: it would be shadowed`,
        );
      }
    } else {
      next[direction] = number + step;
    }
    used.add(`${entry.egress}/${number}`);
    inTarget.add(`${entry.egress}/${number}`);
    target.push({ ...entry, ruleNumber: number });
  }
  const transition = naclTransition(current, target, { quota: options.quota, renumber: true, bound });
  if (transition.blocked !== undefined) return blockedPlan(transition.blocked);
  return {
    ...base,
    action: transition.steps.length === 0 ? 'none' : 'apply',
    target: transition.result,
    steps: transition.steps,
    quota: quotaLines(current, transition.result, options.quota, transition.peak),
    afterFingerprint: naclFingerprint(transition.result),
  };
}

function quotaLines(
  before: readonly NaclEntrySpec[],
  after: readonly NaclEntrySpec[],
  limit: number,
  peak: Readonly<Record<'inbound' | 'outbound', number>>,
): NaclPlan['quota'] {
  return (['inbound', 'outbound'] as const).map((direction) => {
    const count = (list: readonly NaclEntrySpec[]) =>
      list.filter((e) => e.egress === (direction === 'outbound')).length;
    return {
      direction,
      limit,
      before: count(before),
      peak: Math.max(peak[direction], count(before), count(after)),
      after: count(after),
    };
  });
}

/**
 * An entry in words.
 *
 * @example describeNaclEntry({ ruleNumber: 110, egress: false, protocol: '6', action: 'allow', cidr: '10.0.0.0/16', portRange: { from: 443, to: 443 } }) // '110 inbound allow tcp 443 10.0.0.0/16'
 */
export function describeNaclEntry(entry: NaclEntrySpec): string {
  const protocol =
    entry.protocol === '-1'
      ? 'all'
      : entry.protocol === '6'
        ? 'tcp'
        : entry.protocol === '17'
          ? 'udp'
          : entry.protocol === '1'
            ? 'icmp'
            : entry.protocol === '58'
              ? 'icmpv6'
              : `protocol ${entry.protocol}`;
  const ports = entry.portRange
    ? ` ${entry.portRange.from === entry.portRange.to ? entry.portRange.from : `${entry.portRange.from}-${entry.portRange.to}`}`
    : '';
  const number = entry.ruleNumber > 0 ? `${entry.ruleNumber} ` : '';
  return `${number}${entry.egress ? 'outbound' : 'inbound'} ${entry.action} ${protocol}${ports} ${entry.cidr}`;
}

/** A NACL step that cannot be made on the entries it meets. */
export class NaclStepConflictError extends Error {
  override readonly name = 'NaclStepConflictError';
}

/**
 * The entries after the steps, in order.
 *
 * @throws NaclStepConflictError when a create meets a taken number, or a replace or delete an empty one.
 * @example applyNaclSteps(plan.expected.entries, plan.steps) // plan.target, as sets
 */
export function applyNaclSteps(
  entries: readonly NaclEntrySpec[],
  steps: readonly NaclStep[],
): NaclEntrySpec[] {
  const byKey = new Map(entries.map((e) => [`${e.egress}/${e.ruleNumber}`, e]));
  for (const step of steps) {
    const key = `${step.entry.egress}/${step.entry.ruleNumber}`;
    const taken = byKey.has(key);
    if (step.action === 'create' && taken) throw new NaclStepConflictError(`rule ${key} is taken`);
    if (step.action !== 'create' && !taken) throw new NaclStepConflictError(`rule ${key} is not there`);
    if (step.action === 'delete') byKey.delete(key);
    else byKey.set(key, step.entry);
  }
  return [...byKey.values()].sort(
    (a, b) => Number(a.egress) - Number(b.egress) || a.ruleNumber - b.ruleNumber,
  );
}
