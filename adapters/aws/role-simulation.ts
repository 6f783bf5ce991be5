/**
 * Whether roles may do what the audit needs: IAM's policy simulator (SimulatePrincipalPolicy)
 * over each role's identity policies, permissions boundary and the organization's SCPs, as IAM
 * evaluates them (resource policies — bucket and key policies — are not part of it). One call per
 * role and set of resources, paged; an action is granted when any of the roles is allowed it on
 * every resource asked (the deployed stack splits the work between several function roles).
 */
import { type IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';

/** A permission the audit needs, and what it loses without it. */
export interface WantedPermission {
  readonly action: string;
  /** ARNs the action is asked on; none: `*` (actions without resource-level permissions). */
  readonly resources?: readonly string[];
  /** What the audit cannot do without it, in words. */
  readonly need: string;
  /** Without it the audit would be blind (no inventory, no flow evidence). */
  readonly blind: boolean;
}

export type SimulatedDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface PermissionCheck extends WantedPermission {
  readonly decision: SimulatedDecision;
  /** The roles allowed it (on every resource asked). */
  readonly allowedBy: readonly string[];
  /** The first resource refused, when some were allowed and some not. */
  readonly deniedResource?: string;
}

const RANK: Readonly<Record<SimulatedDecision, number>> = { allowed: 0, implicitDeny: 1, explicitDeny: 2 };

function decisionOf(value: string | undefined): SimulatedDecision {
  return value === 'allowed' || value === 'explicitDeny' ? value : 'implicitDeny';
}

/** One role's decision per action on a set of resources (the worst over the resources). */
async function simulate(
  iam: Pick<IAMClient, 'send'>,
  roleArn: string,
  actions: readonly string[],
  resources: readonly string[] | undefined,
): Promise<Map<string, { decision: SimulatedDecision; deniedResource?: string }>> {
  const decisions = new Map<string, { decision: SimulatedDecision; deniedResource?: string }>();
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: roleArn,
        ActionNames: [...actions],
        ...(resources && resources.length > 0 ? { ResourceArns: [...resources] } : {}),
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    for (const result of page.EvaluationResults ?? []) {
      const action = result.EvalActionName;
      if (action === undefined) continue;
      const perResource = (result.ResourceSpecificResults ?? []).map((r) => ({
        decision: decisionOf(r.EvalResourceDecision),
        resource: r.EvalResourceName,
      }));
      const worst = perResource.reduce<{ decision: SimulatedDecision; resource?: string | undefined }>(
        (acc, r) => (RANK[r.decision] > RANK[acc.decision] ? r : acc),
        { decision: perResource.length > 0 ? 'allowed' : decisionOf(result.EvalDecision) },
      );
      const before = decisions.get(action);
      if (before === undefined || RANK[worst.decision] > RANK[before.decision]) {
        decisions.set(action, {
          decision: worst.decision,
          ...(worst.decision !== 'allowed' && worst.resource ? { deniedResource: worst.resource } : {}),
        });
      }
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker !== undefined);
  return decisions;
}

/**
 * Each wanted permission as the roles together have it: allowed when one role is allowed it on
 * every resource asked; otherwise the strongest refusal among the roles (an explicit deny wins).
 *
 * @throws the IAM error of a simulation that could not run (e.g. AccessDenied for
 *   iam:SimulatePrincipalPolicy, NoSuchEntity for a role).
 * @example await checkRolePermissions(iam, ['arn:aws:iam::123456789012:role/SgAudit-Discover'], wanted)
 */
export async function checkRolePermissions(
  iam: Pick<IAMClient, 'send'>,
  roleArns: readonly string[],
  wanted: readonly WantedPermission[],
): Promise<PermissionCheck[]> {
  const groups = new Map<string, { resources: readonly string[] | undefined; actions: Set<string> }>();
  for (const w of wanted) {
    const key = JSON.stringify(w.resources ?? []);
    const group = groups.get(key) ?? { resources: w.resources, actions: new Set<string>() };
    group.actions.add(w.action);
    groups.set(key, group);
  }
  const byRole = new Map<
    string,
    Map<string, Map<string, { decision: SimulatedDecision; deniedResource?: string }>>
  >();
  for (const roleArn of roleArns) {
    const perGroup = new Map<string, Map<string, { decision: SimulatedDecision; deniedResource?: string }>>();
    for (const [key, group] of groups) {
      perGroup.set(key, await simulate(iam, roleArn, [...group.actions], group.resources));
    }
    byRole.set(roleArn, perGroup);
  }
  return wanted.map((w) => {
    const key = JSON.stringify(w.resources ?? []);
    const answers = roleArns.map((role) => ({
      role,
      answer: byRole.get(role)?.get(key)?.get(w.action) ?? { decision: 'implicitDeny' as const },
    }));
    const allowedBy = answers.filter((a) => a.answer.decision === 'allowed').map((a) => a.role);
    if (allowedBy.length > 0) return { ...w, decision: 'allowed', allowedBy };
    const worst = answers.reduce(
      (acc, a) => (RANK[a.answer.decision] > RANK[acc.decision] ? a.answer : acc),
      answers[0]?.answer ?? { decision: 'implicitDeny' as SimulatedDecision },
    );
    return {
      ...w,
      decision: worst.decision,
      allowedBy: [],
      ...(worst.deniedResource ? { deniedResource: worst.deniedResource } : {}),
    };
  });
}
