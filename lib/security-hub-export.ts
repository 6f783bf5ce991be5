/**
 * The Security Hub export of findings (adapters/aws/securityhub-exporter.ts), as a grant: the app
 * creates nothing in Security Hub, it imports findings into the account's own hub.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** The one Security Hub action of the export (adapters/aws/securityhub-exporter.ts). */
export const SECURITY_HUB_ACTIONS = ['securityhub:BatchImportFindings'] as const;
/** The workflow statuses the export sets on accepted risks (SUPPRESSED, NEW once expired). */
export const SECURITY_HUB_WORKFLOW_STATUSES = ['NEW', 'SUPPRESSED'] as const;
/** BatchUpdateFindings fields the export never changes: requests touching them are denied. */
export const SECURITY_HUB_FROZEN_FIELDS = [
  'Severity.Label',
  'Severity.Normalized',
  'Criticality',
  'Confidence',
  'Types',
  'VerificationState',
  'RelatedFindings',
  'UserDefinedFields',
] as const;

export interface SecurityHubExportProps {
  /** Whether findings are exported; off, a grant only tells the function so. @default false */
  readonly enabled?: boolean;
}

/** The export of findings to the account's Security Hub. */
export class SecurityHubExport extends Construct {
  public readonly enabled: boolean;
  /** `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
  public readonly productArn: string;
  /** `arn:<partition>:securityhub:<region>:<account>:hub/default`. */
  public readonly hubArn: string;

  constructor(scope: Construct, id: string, props: SecurityHubExportProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.enabled = props.enabled ?? false;
    this.productArn = stack.formatArn({
      service: 'securityhub',
      resource: 'product',
      resourceName: `${stack.account}/default`,
    });
    this.hubArn = stack.formatArn({ service: 'securityhub', resource: 'hub', resourceName: 'default' });
  }

  /**
   * Binds SECURITY_HUB_EXPORT and, when exporting, lets a function import findings:
   * BatchImportFindings on the account's default product only (the one resource type the action
   * takes), for findings of this account (securityhub:TargetAccount, the findings' AwsAccountId).
   * Re-imports with RecordState ARCHIVED archive resolved findings.
   */
  grantExport(fn: lambda.Function): void {
    fn.addEnvironment('SECURITY_HUB_EXPORT', String(this.enabled));
    if (!this.enabled) return;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubImport',
        actions: [...SECURITY_HUB_ACTIONS],
        resources: [this.productArn],
        conditions: { StringEquals: { 'securityhub:TargetAccount': Stack.of(this).account } },
      }),
    );
    // Accepted risks: Security Hub honours an imported Workflow only when it creates the finding,
    // so the export sets it with BatchUpdateFindings (resource type: the account's hub). Deny
    // statements keep that call to what the export does: the two workflow statuses and a note.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubWorkflow',
        actions: ['securityhub:BatchUpdateFindings'],
        resources: [this.hubArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubWorkflowStatuses',
        effect: iam.Effect.DENY,
        actions: ['securityhub:BatchUpdateFindings'],
        resources: [this.hubArn],
        conditions: {
          StringNotEquals: {
            'securityhub:ASFFSyntaxPath/Workflow.Status': [...SECURITY_HUB_WORKFLOW_STATUSES],
          },
        },
      }),
    );
    // One statement per field: keys of one Null block are ANDed, and any one field must deny.
    for (const field of SECURITY_HUB_FROZEN_FIELDS) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: `SecurityHubKeep${field.replace(/[^A-Za-z]/g, '')}`,
          effect: iam.Effect.DENY,
          actions: ['securityhub:BatchUpdateFindings'],
          resources: [this.hubArn],
          conditions: { Null: { [`securityhub:ASFFSyntaxPath/${field}`]: 'false' } },
        }),
      );
    }
  }
}
