/**
 * A remediation target in memory: SGs and NACLs as plain rule sets that steps change the way EC2
 * does (a duplicate add or a missing revoke fails), `sgr-` ids handed out on add, DryRun that
 * changes nothing, and failures injected at a chosen call.
 *
 * @example
 * const target = new MemoryTarget({ 'sg-1': rules }, {});
 * target.failOn = (call) => call.sgId === 'sg-1' && call.step.action === 'revoke' && !call.dryRun;
 */
import type { RemediationTarget } from '../shared/remediation/apply';
import type { NaclEntrySpec, NaclStep, SgStep } from '../shared/remediation/model';
import { applyNaclSteps } from '../shared/remediation/nacl-plan';
import { type RuleSpec, specKey } from '../shared/remediation/rule-spec';

export interface MemoryCall {
  readonly sgId?: string;
  readonly naclId?: string;
  readonly step: SgStep | NaclStep;
  readonly dryRun: boolean;
}

export class MemoryTarget implements RemediationTarget {
  readonly calls: MemoryCall[] = [];
  /** Return true to fail that call (an AWS error). */
  failOn: (call: MemoryCall) => boolean = () => false;
  private nextId = 1;
  private readonly groups: Map<string, RuleSpec[]>;
  private readonly acls: Map<string, NaclEntrySpec[]>;

  constructor(
    groups: Record<string, readonly RuleSpec[]>,
    acls: Record<string, readonly NaclEntrySpec[]> = {},
  ) {
    this.groups = new Map(
      Object.entries(groups).map(([id, rules]) => [
        id,
        rules.map((r) => ({ ...r, securityGroupRuleId: r.securityGroupRuleId ?? this.newId() })),
      ]),
    );
    this.acls = new Map(Object.entries(acls).map(([id, entries]) => [id, [...entries]]));
  }

  private newId(): string {
    return `sgr-${String(this.nextId++).padStart(8, '0')}`;
  }

  rules(sgId: string): RuleSpec[] {
    return [...(this.groups.get(sgId) ?? [])];
  }

  entries(naclId: string): NaclEntrySpec[] {
    return [...(this.acls.get(naclId) ?? [])];
  }

  /** Changes an SG behind the plan's back (drift). */
  setRules(sgId: string, rules: readonly RuleSpec[]): void {
    this.groups.set(
      sgId,
      rules.map((r) => ({ ...r, securityGroupRuleId: r.securityGroupRuleId ?? this.newId() })),
    );
  }

  async describeSecurityGroups(sgIds: readonly string[]) {
    return new Map(sgIds.flatMap((id) => (this.groups.has(id) ? [[id, this.rules(id)] as const] : [])));
  }

  async describeNetworkAcls(naclIds: readonly string[]) {
    return new Map(naclIds.flatMap((id) => (this.acls.has(id) ? [[id, this.entries(id)] as const] : [])));
  }

  /** Records a call, and fails it when asked to. */
  private called(call: MemoryCall): void {
    this.calls.push(call);
    if (this.failOn(call)) throw Object.assign(new Error('injected failure'), { name: 'InjectedFailure' });
  }

  async changeSecurityGroup(
    sgId: string,
    step: SgStep,
    options: { readonly dryRun: boolean },
  ): Promise<void> {
    this.called({ sgId, step, dryRun: options.dryRun });
    const rules = this.groups.get(sgId);
    if (rules === undefined) throw new Error(`InvalidGroup.NotFound: ${sgId}`);
    const key = specKey(step.rule);
    const index = rules.findIndex((r) =>
      step.action === 'revoke' && step.rule.securityGroupRuleId
        ? r.securityGroupRuleId === step.rule.securityGroupRuleId
        : specKey(r) === key,
    );
    if (step.action === 'authorize' && index >= 0) throw new Error(`InvalidPermission.Duplicate: ${key}`);
    if (step.action === 'revoke' && index < 0) throw new Error(`InvalidPermission.NotFound: ${key}`);
    if (options.dryRun) return;
    if (step.action === 'authorize') rules.push({ ...step.rule, securityGroupRuleId: this.newId() });
    else rules.splice(index, 1);
  }

  async changeNetworkAcl(
    naclId: string,
    step: NaclStep,
    options: { readonly dryRun: boolean },
  ): Promise<void> {
    this.called({ naclId, step, dryRun: options.dryRun });
    const entries = this.acls.get(naclId);
    if (entries === undefined) throw new Error(`InvalidNetworkAclID.NotFound: ${naclId}`);
    const after = applyNaclSteps(entries, [step]);
    if (!options.dryRun) this.acls.set(naclId, after);
  }
}
