/**
 * Attribution: for every rule entry, the last CloudTrail event that created or widened it, and
 * for every SG the event that created it — by replaying the SG's events in time order, so a rule
 * revoked and added again is credited to the second call, and one modified away no longer
 * credits its first creator. Matching is by `sgr-` id where both sides know it, else by spec
 * (direction, protocol, ports, peer). Silence is never evidence: a rule no event names is "before
 * the history" only when the history says where it starts and was read whole; otherwise unknown.
 */
import type { RuleEntry, SecurityGroup } from '../model/inventory';
import type { ChangeHistorySummary, RuleChange, RuleChangeHistory } from '../model/rule-change';
import { peerText } from '../rules/peer';
import { parseSgChangeEvent, type SgChangeEvent, specKey } from './cloudtrail-event';
import { changeText } from './words';

/** The tag CloudFormation puts on the resources of a stack. */
const STACK_TAG = 'aws:cloudformation:stack-name';

export interface Attribution {
  /** By rule entry id. */
  readonly rules: ReadonlyMap<string, RuleChange>;
  /** By SG id: its creation, or why it is not named. */
  readonly groups: ReadonlyMap<string, RuleChange>;
  readonly summary: ChangeHistorySummary;
  readonly warnings: readonly string[];
}

/** What the replay knows about one spec (or one rule id) at the end of the history. */
interface SpecState {
  readonly event: SgChangeEvent;
  readonly state: 'created' | 'widened' | 'removed';
  readonly ruleId?: string;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function ruleSpec(rule: RuleEntry): string | undefined {
  return specKey(rule.protocol, rule.fromPort, rule.toPort, peerText(rule.peer));
}

const DEFAULT_EGRESS = new Set(['all||0.0.0.0/0', 'all||::/0']);

/** The replay of one SG's events: where each spec and rule id stands at the end. */
class GroupReplay {
  readonly bySpec = new Map<string, SpecState>();
  readonly byRuleId = new Map<string, SpecState>();
  /** Where a known rule id points (from Authorize responses and earlier modifications). */
  private readonly specOfRule = new Map<string, string>();
  created?: SgChangeEvent;

  apply(event: SgChangeEvent): void {
    switch (event.kind) {
      case 'create-group':
        this.created = event;
        return;
      case 'authorize':
        for (const entry of event.entries)
          this.record(`${entry.direction}|${entry.spec}`, event, 'created', entry.ruleId);
        return;
      case 'modify':
        for (const entry of event.entries) {
          const previous = entry.ruleId ? this.specOfRule.get(entry.ruleId) : undefined;
          // The rule's old spec no longer exists: its creator is no one's now.
          if (previous !== undefined && this.bySpec.get(previous)?.ruleId === entry.ruleId)
            this.bySpec.delete(previous);
          const direction = previous?.split('|', 1)[0];
          this.record(`${direction ?? '*'}|${entry.spec}`, event, 'widened', entry.ruleId);
        }
        return;
      case 'revoke': {
        const removed: SpecState = { event, state: 'removed' };
        for (const entry of event.entries) this.bySpec.set(`${entry.direction}|${entry.spec}`, removed);
        for (const id of event.ruleIds) {
          this.byRuleId.set(id, removed);
          const key = this.specOfRule.get(id);
          if (key !== undefined) this.bySpec.set(key, removed);
        }
        return;
      }
    }
  }

  /** The spec (and rule id) now stand as this event left them. */
  private record(
    key: string,
    event: SgChangeEvent,
    state: 'created' | 'widened',
    ruleId: string | undefined,
  ): void {
    const entry: SpecState = { event, state, ...(ruleId ? { ruleId } : {}) };
    this.bySpec.set(key, entry);
    if (ruleId) {
      this.byRuleId.set(ruleId, entry);
      this.specOfRule.set(ruleId, key);
    }
  }

  /** Where the rule stands: by its id when both sides know it, else by its spec. */
  stateOf(rule: RuleEntry): SpecState | undefined {
    if (rule.securityGroupRuleId !== undefined) {
      const byId = this.byRuleId.get(rule.securityGroupRuleId);
      if (byId !== undefined) return byId;
    }
    const spec = ruleSpec(rule);
    if (spec === undefined) return undefined;
    return this.bySpec.get(`${rule.direction}|${spec}`) ?? this.bySpec.get(`*|${spec}`);
  }
}

function changeOf(kind: RuleChange['kind'], event: SgChangeEvent, sg: SecurityGroup): RuleChange {
  const stackName = sg.tags[STACK_TAG];
  const base: Omit<RuleChange, 'text'> = {
    kind,
    eventName: event.eventName,
    ...(event.eventId ? { eventId: event.eventId } : {}),
    eventTime: iso(event.time),
    ...event.actor,
    ...(event.actor.channel === 'cloudformation' && stackName ? { stackName } : {}),
  };
  return { ...base, text: changeText(base) };
}

function unknownChange(reason: string): RuleChange {
  const base = { kind: 'unknown' as const, reason };
  return { ...base, text: changeText(base) };
}

/** Why the history cannot call an unnamed rule older than itself, or undefined when it can. */
function silenceReason(history: RuleChangeHistory): string | undefined {
  if (history.start === undefined) return `the ${history.source} history does not say which period it covers`;
  if (!history.complete) return `the ${history.source} history was not read whole`;
  return undefined;
}

/**
 * Attributes every rule entry and SG of `securityGroups` from the history's events.
 *
 * @example
 * const { rules } = attributeRuleChanges(inventory.securityGroups, history);
 * rules.get('sg-1/ingress/tcp/22-22/0.0.0.0/0')?.text // 'opened by user/alice via console on …'
 */
export function attributeRuleChanges(
  securityGroups: readonly SecurityGroup[],
  history: RuleChangeHistory,
): Attribution {
  const parsed = history.events.map((e) => parseSgChangeEvent(e));
  const events = parsed.filter((e): e is SgChangeEvent => e !== undefined);
  const warnings = [...history.warnings];
  const unreadable = parsed.length - events.length;
  if (unreadable > 0)
    warnings.push(
      `${unreadable} CloudTrail event(s) were no readable security-group change and were skipped`,
    );
  const byGroup = new Map<string, SgChangeEvent[]>();
  events.forEach((event) => {
    if (event.failed || event.groupId === undefined) return;
    const list = byGroup.get(event.groupId);
    if (list === undefined) byGroup.set(event.groupId, [event]);
    else list.push(event);
  });

  const silence = silenceReason(history);
  const historyStart = history.start === undefined ? undefined : iso(history.start);
  const older = (): RuleChange => {
    const base = { kind: 'before-history' as const, ...(historyStart ? { historyStart } : {}) };
    return { ...base, text: changeText(base) };
  };
  const rules = new Map<string, RuleChange>();
  const groups = new Map<string, RuleChange>();
  let attributedRules = 0;
  let olderRules = 0;
  let unknownRules = 0;
  for (const sg of securityGroups) {
    const replay = new GroupReplay();
    // Stable: events of the same second keep the order they were read in.
    for (const event of [...(byGroup.get(sg.id) ?? [])].sort((a, b) => a.time - b.time)) replay.apply(event);
    const created = replay.created;
    groups.set(
      sg.id,
      created !== undefined
        ? changeOf('group-created', created, sg)
        : silence === undefined
          ? older()
          : unknownChange(silence),
    );
    for (const rule of sg.rules) {
      const state = replay.stateOf(rule);
      let change: RuleChange;
      if (state !== undefined && state.state !== 'removed') {
        change = changeOf(state.state, state.event, sg);
      } else if (state !== undefined) {
        change = unknownChange(
          `${state.event.eventName} removed it on ${iso(state.event.time).slice(0, 10)}, yet it exists: the call that added it again is not in the history`,
        );
      } else if (
        created !== undefined &&
        rule.direction === 'egress' &&
        DEFAULT_EGRESS.has(ruleSpec(rule) ?? '')
      ) {
        change = changeOf('created-with-group', created, sg);
      } else if (created !== undefined) {
        change = unknownChange(
          `the SG was created on ${iso(created.time).slice(0, 10)}, within the history, but no event in it adds this rule`,
        );
      } else {
        change = silence === undefined ? older() : unknownChange(silence);
      }
      rules.set(rule.id, change);
      if (change.kind === 'before-history') olderRules += 1;
      else if (change.kind === 'unknown') unknownRules += 1;
      else attributedRules += 1;
    }
  }
  return {
    rules,
    groups,
    summary: {
      source: history.source,
      ...(historyStart ? { start: historyStart } : {}),
      ...(history.end !== undefined ? { end: iso(history.end) } : {}),
      complete: history.complete,
      events: events.length,
      attributedRules,
      olderRules,
      unknownRules,
    },
    warnings,
  };
}
