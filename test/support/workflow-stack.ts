/**
 * A small stack around AuditWorkflow (inline dummy functions: no bundling) and the state machine
 * definition of its synthesized template, with CloudFormation intrinsics resolved to placeholder
 * ARNs — what the assertion tests, asl-validator and aws-local-stepfunctions read.
 *
 * @example
 * const { template } = synthesizeWorkflowStack();
 * const definition = stateMachineDefinition(template.toJSON());
 */
import { type Duration, Stack } from 'aws-cdk-lib';
import type { Template as AssertionTemplate } from 'aws-cdk-lib/assertions';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AuditWorkflow, type AuditWorkflowProps } from '../../lib/audit-workflow';
import { OrgAuditWorkflow } from '../../lib/org-audit-workflow';
import { testApp } from './test-app';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'ap-northeast-2';

/** The state names of the workflow's Lambda tasks, by function. */
export const LAMBDA_STATES = {
  discover: ['Discover'],
  query: [
    'StartQuery',
    'CheckQuery',
    'RecordQueryFailure',
    'StartQueryFromS3',
    'CheckQueryFromS3',
    'RecordQueryFailureFromS3',
  ],
  analyze: ['Analyze'],
  notify: ['Notify', 'NotifyFailure'],
} as const;

export interface WorkflowStack {
  readonly stack: Stack;
  readonly workflow: AuditWorkflow;
  readonly template: AssertionTemplate;
}

export interface WorkflowStackOptions {
  /**
   * The work bucket's physical name: the definition then names it (the ItemReader's Bucket)
   * instead of a placeholder, e.g. the moto bucket the handlers of an end-to-end run write to.
   */
  readonly workBucketName?: string;
  /**
   * The deployed remediation's steps over two more dummy functions (RemediateFunction,
   * ApplyFunction), waiting at most `approvalTimeout` for the decision.
   */
  readonly remediation?: { readonly approvalTimeout: Duration };
}

/** The state names of the remediation's Lambda tasks, by function (WaitForApproval: .waitForTaskToken). */
export const REMEDIATION_LAMBDA_STATES = {
  remediate: ['PlanRemediation', 'RemediationOutcome'],
  apply: ['ApplyPlan'],
} as const;

/** A function with inline code (no bundling) that returns its event; with `timeout` when given. */
export function dummyFunction(scope: Construct, name: string, timeout?: Duration): lambda.Function {
  return new lambda.Function(scope, name, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async (event) => event;'),
    ...(timeout ? { timeout } : {}),
  });
}

/** Synthesizes a stack holding one AuditWorkflow over four inline dummy functions. */
export function synthesizeWorkflowStack(
  overrides: Partial<Omit<AuditWorkflowProps, `${string}Function` | 'workBucket'>> = {},
  options: WorkflowStackOptions = {},
): WorkflowStack {
  const app = testApp();
  const stack = new Stack(app, 'WorkflowTest', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  const fn = (name: string) => dummyFunction(stack, name);
  const workflow = new AuditWorkflow(stack, 'Workflow', {
    discoverFunction: fn('DiscoverFunction'),
    queryFunction: fn('QueryFunction'),
    analyzeFunction: fn('AnalyzeFunction'),
    notifyFunction: fn('NotifyFunction'),
    workBucket: new s3.Bucket(stack, 'WorkBucket', { bucketName: options.workBucketName }),
    ...(options.remediation
      ? {
          remediation: {
            remediateFunction: fn('RemediateFunction'),
            applyFunction: fn('ApplyFunction'),
            approvalTimeout: options.remediation.approvalTimeout,
          },
        }
      : {}),
    ...overrides,
  });
  return { stack, workflow, template: Template.fromStack(stack) };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type TemplateJson = { Resources: Record<string, { Type: string; Properties?: Record<string, Json> }> };

/** The placeholder a resource's Ref / Fn::GetAtt resolves to (a bucket's name when the template sets it). */
function placeholder(template: TemplateJson, logicalId: string, attribute?: string): string {
  const resource = template.Resources[logicalId];
  const type = resource?.Type;
  if (type === 'AWS::Lambda::Function')
    return `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:${logicalId}`;
  if (type === 'AWS::S3::Bucket') {
    const name = resource?.Properties?.BucketName;
    const bucketName = typeof name === 'string' ? name : logicalId.toLowerCase();
    return attribute === 'Arn' ? `arn:aws:s3:::${bucketName}` : bucketName;
  }
  return `${logicalId}${attribute ? `.${attribute}` : ''}`;
}

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': TEST_REGION,
  'AWS::AccountId': TEST_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

function resolve(template: TemplateJson, value: Json): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const ref = value.Ref;
    if (typeof ref === 'string') return PSEUDO[ref] ?? placeholder(template, ref);
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return placeholder(template, String(getAtt[0]), String(getAtt[1]));
    const join = value['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1]))
      return join[1].map((part) => resolve(template, part)).join(String(join[0]));
  }
  throw new Error(`unresolvable intrinsic in the definition: ${JSON.stringify(value)}`);
}

/**
 * The ASL of the template's (only, or only one whose logical id starts with `logicalIdPrefix`)
 * state machine: its DefinitionString with Fn::Join, Ref and Fn::GetAtt resolved to placeholder
 * names and ARNs (Lambda: arn:aws:lambda:…:function:<LogicalId>).
 */
export function stateMachineDefinition(
  template: TemplateJson,
  logicalIdPrefix = '',
): Record<string, unknown> {
  const machines = Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(logicalIdPrefix))
    .map(([, r]) => r);
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definition = machines[0]?.Properties?.DefinitionString;
  if (definition === undefined) throw new Error('the state machine has no DefinitionString');
  return JSON.parse(resolve(template as TemplateJson, definition)) as Record<string, unknown>;
}

/** The state names of the organization workflow's Lambda tasks, by function. */
export const ORG_LAMBDA_STATES = {
  targets: ['ListTargets'],
  rollup: ['RollUp'],
  notify: ['NotifyOrganization', 'NotifyFailure'],
} as const;

/**
 * A stack holding an organization deployment's two state machines over inline dummy functions:
 * the target-run audit workflow (logical ids `Workflow…`) and the organization workflow
 * (`OrgWorkflow…`) starting it.
 *
 * @example const { template } = synthesizeOrgWorkflowStack({ workBucketName: 'work' });
 */
export function synthesizeOrgWorkflowStack(options: WorkflowStackOptions = {}): WorkflowStack & {
  readonly org: OrgAuditWorkflow;
} {
  const app = testApp();
  const stack = new Stack(app, 'OrgWorkflowTest', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  const fn = (name: string) => dummyFunction(stack, name);
  const workBucket = new s3.Bucket(stack, 'WorkBucket', { bucketName: options.workBucketName });
  const notifyFunction = fn('NotifyFunction');
  const workflow = new AuditWorkflow(stack, 'Workflow', {
    discoverFunction: fn('DiscoverFunction'),
    queryFunction: fn('QueryFunction'),
    analyzeFunction: fn('AnalyzeFunction'),
    notifyFunction,
    workBucket,
    targetRuns: true,
  });
  const org = new OrgAuditWorkflow(stack, 'OrgWorkflow', {
    targetsFunction: fn('TargetsFunction'),
    rollupFunction: fn('RollupFunction'),
    notifyFunction,
    targetStateMachine: workflow.stateMachine,
    targetRunTimeout: workflow.runTimeout,
    workBucket,
    maxConcurrency: 4,
    // A run limit the local runner can time (its timer holds at most 24.8 days).
    maxTargets: 8,
  });
  return { stack, workflow, org, template: Template.fromStack(stack) };
}
