/**
 * Infrastructure as code owning a security group: a direct change to such an SG drifts from the
 * code (and the next deploy undoes it), so a plan names the owner and gives the IaC change instead.
 */
import type { IacOwner } from './model';

interface OwnedThing {
  readonly tags?: Readonly<Record<string, string>>;
  readonly description?: string;
}

const TERRAFORM_TAG_KEYS = [
  'managedby',
  'managed-by',
  'managed_by',
  'terraform',
  'provisioner',
  'iac',
  'tool',
];

/**
 * The IaC owner of an SG from its tags and description, or undefined when nothing names one.
 * CloudFormation's `aws:cloudformation:stack-name` tag (CDK stacks carry it too; a CDK path in the
 * `aws:cdk:path` tag or the description tells them apart), Terraform's `Managed by Terraform`
 * default description and `ManagedBy=terraform`-style tags, Pulumi's `pulumi:*` tags.
 *
 * @example iacOwner({ tags: { 'aws:cloudformation:stack-name': 'web' } }) // { tool: 'cloudformation', name: 'web', … }
 */
export function iacOwner(sg: OwnedThing): IacOwner | undefined {
  const tags = sg.tags ?? {};
  const lowerTags = new Map(Object.entries(tags).map(([key, value]) => [key.toLowerCase(), { key, value }]));
  const description = sg.description ?? '';
  const stack = tags['aws:cloudformation:stack-name'];
  const cdkPath = tags['aws:cdk:path'];
  if (cdkPath !== undefined) {
    return {
      tool: 'cdk',
      name: stack ?? cdkPath.split('/')[0] ?? cdkPath,
      evidence: `tag aws:cdk:path=${cdkPath}`,
    };
  }
  if (stack !== undefined) {
    // CDK names constructs Stack/Construct/…: its generated descriptions carry that path.
    const cdk = description.startsWith(`${stack}/`);
    return {
      tool: cdk ? 'cdk' : 'cloudformation',
      name: stack,
      evidence: `tag aws:cloudformation:stack-name=${stack}${cdk ? ` and description '${description}'` : ''}`,
    };
  }
  for (const key of TERRAFORM_TAG_KEYS) {
    const tag = lowerTags.get(key);
    if (tag === undefined) continue;
    const value = tag.value.toLowerCase();
    if (key === 'terraform' ? value !== 'false' : value.includes('terraform')) {
      return { tool: 'terraform', evidence: `tag ${tag.key}=${tag.value}` };
    }
    if (value.includes('pulumi')) return { tool: 'pulumi', evidence: `tag ${tag.key}=${tag.value}` };
    if (value.includes('cloudformation') || value === 'cdk') {
      return { tool: value === 'cdk' ? 'cdk' : 'cloudformation', evidence: `tag ${tag.key}=${tag.value}` };
    }
  }
  const workspace = lowerTags.get('terraform:workspace') ?? lowerTags.get('tf_workspace');
  if (workspace !== undefined) {
    return { tool: 'terraform', name: workspace.value, evidence: `tag ${workspace.key}=${workspace.value}` };
  }
  if (/managed by terraform/i.test(description)) {
    return { tool: 'terraform', evidence: `description '${description}'` };
  }
  const pulumi = [...lowerTags.values()].find(({ key }) => key.toLowerCase().startsWith('pulumi:'));
  if (pulumi !== undefined) {
    return { tool: 'pulumi', name: pulumi.value, evidence: `tag ${pulumi.key}=${pulumi.value}` };
  }
  return undefined;
}
