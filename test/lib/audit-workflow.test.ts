import aslValidator from 'asl-validator';
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import { AuditWorkflow, LAMBDA_TRANSIENT_ERRORS, THROTTLING_ERRORS } from '../../lib/audit-workflow';
import { LOGS_KEY_ACTIONS } from '../../lib/log-group';
import { testApp } from '../support/test-app';
import {
  LAMBDA_STATES,
  stateMachineDefinition,
  synthesizeWorkflowStack,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/workflow-stack';

interface RetrierJson {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface StateJson {
  Type: string;
  Resource?: string;
  Retry?: RetrierJson[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  MaxConcurrency?: number;
  ItemsPath?: string;
  ItemReader?: { Resource: string; Parameters: Record<string, unknown> };
  ItemProcessor?: { StartAt: string; States: Record<string, StateJson> };
  Parameters?: Record<string, unknown>;
  Next?: string;
}
interface DefinitionJson {
  StartAt: string;
  States: Record<string, StateJson>;
}

// One synthesis for the file: the default props, and one with every option set.
const { template } = synthesizeWorkflowStack();
const definition = stateMachineDefinition(template.toJSON() as never) as unknown as DefinitionJson;
const { template: tuned } = synthesizeWorkflowStack({
  maxConcurrency: 4,
  logRetention: logs.RetentionDays.ONE_MONTH,
  timeout: Duration.hours(2),
});

/** Every state of the definition, Map item processors included. */
function allStates(states: Record<string, StateJson>): Record<string, StateJson> {
  const nested = Object.values(states).flatMap((s) =>
    s.ItemProcessor ? Object.entries(allStates(s.ItemProcessor.States)) : [],
  );
  return { ...states, ...Object.fromEntries(nested) };
}
const states = allStates(definition.States);

function state(name: string): StateJson {
  const found = states[name];
  if (found === undefined) throw new Error(`no state ${name}`);
  return found;
}

describe('AuditWorkflow', () => {
  it('logs every execution event with its data to a log group with retention', () => {
    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'),
      RetentionInDays: 365,
    });
    tuned.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('encrypts the execution log group with the given key, which lets CloudWatch Logs use it for that group', () => {
    // Prepare
    const stack = new Stack(testApp(), 'EncryptedWorkflow', {
      env: { account: TEST_ACCOUNT, region: TEST_REGION },
    });
    const fn = (name: string) =>
      new lambda.Function(stack, name, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async (event) => event;'),
      });
    const key = new kms.Key(stack, 'Key');

    // Act
    const workflow = new AuditWorkflow(stack, 'Workflow', {
      discoverFunction: fn('Discover'),
      queryFunction: fn('Query'),
      analyzeFunction: fn('Analyze'),
      notifyFunction: fn('Notify'),
      workBucket: new s3.Bucket(stack, 'Work'),
      logEncryptionKey: key,
    });
    const encrypted = Template.fromStack(stack);

    // Assess
    const group =
      encrypted.toJSON().Resources[stack.getLogicalId(workflow.logGroup.node.defaultChild as CfnElement)];
    const name = group.Properties.LogGroupName as string;
    expect(name).toMatch(/^\/aws\/vendedlogs\/states\/EncryptedWorkflow[0-9A-F]{8}$/);
    expect(group.Properties.KmsKeyId).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'],
    });
    encrypted.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Principal: { Service: `logs.${TEST_REGION}.amazonaws.com` },
            Action: [...LOGS_KEY_ACTIONS],
            Resource: '*',
            Condition: {
              ArnEquals: {
                'kms:EncryptionContext:aws:logs:arn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      `:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:${name}`,
                    ],
                  ],
                },
              },
            },
          },
        ]),
      },
    });
  });

  it('leaves the execution log group on CloudWatch Logs encryption without a key', () => {
    const [group] = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(group?.Properties).not.toHaveProperty('KmsKeyId');
  });

  it('enables X-Ray tracing', () => {
    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
    });
  });

  it('sets the run timeout (6 hours unless given)', () => {
    // Assess
    expect(definition).toMatchObject({ TimeoutSeconds: 6 * 3600 });
    const tunedDefinition = stateMachineDefinition(tuned.toJSON() as never);
    expect(tunedDefinition).toMatchObject({ TimeoutSeconds: 2 * 3600 });
  });

  it('runs discover first, on the function ARN, keeping only the keys and the query list', () => {
    // Assess
    expect(definition.StartAt).toBe('Discover');
    expect(state('Discover').Resource).toMatch(/^arn:aws:lambda:.*:function:DiscoverFunction/);
    expect(Object.keys((state('Discover') as { ResultSelector?: object }).ResultSelector ?? {})).toEqual([
      'runId.$',
      'inventoryKey.$',
      'queriesKey.$',
      'window.$',
      'queries.$',
      'queriesInline.$',
      'queryCount.$',
    ]);
  });

  it.each(['Discover', 'Query', 'QueryFromS3', 'Analyze', 'Notify', 'NotifyFailure'])(
    'retries %s with backoff on Lambda transient errors and throttling',
    (name) => {
      // Assess
      const retry = state(name).Retry ?? [];
      expect(retry).toEqual([
        expect.objectContaining({
          ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS],
          BackoffRate: 2,
          MaxAttempts: 6,
        }),
        expect.objectContaining({ ErrorEquals: [...THROTTLING_ERRORS], BackoffRate: 2, MaxAttempts: 5 }),
      ]);
      for (const retrier of retry) {
        expect(retrier.IntervalSeconds).toBeGreaterThan(0);
        expect(retrier.MaxDelaySeconds).toBeGreaterThan(retrier.IntervalSeconds ?? 0);
        expect(retrier.JitterStrategy).toBe('FULL');
      }
      expect(retry.flatMap((r) => r.ErrorEquals)).toEqual(
        expect.arrayContaining([
          'Lambda.TooManyRequestsException',
          'ThrottlingException',
          'LimitExceededException',
        ]),
      );
    },
  );

  it.each([
    ['Discover', 'DiscoverFailed'],
    ['QueryEachSource', 'QueryEachSourceFailed'],
    ['QueryEachSourceFromS3', 'QueryEachSourceFromS3Failed'],
    ['Analyze', 'AnalyzeFailed'],
  ])('catches every error of %s and alerts with the cause before failing', (name, handler) => {
    // Assess
    expect(state(name).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: handler },
    ]);
    expect(state(handler)).toMatchObject({
      Type: 'Pass',
      Parameters: { step: name, 'error.$': '$.error' },
      Next: 'NotifyFailure',
    });
    expect(state('NotifyFailure')).toMatchObject({ Next: 'AuditFailed' });
    expect(state('AuditFailed').Type).toBe('Fail');
  });

  it.each([
    ['Query', 'RecordQueryFailure'],
    ['QueryFromS3', 'RecordQueryFailureFromS3'],
  ])(
    'records a failed %s item as { sourceId, status, error } instead of failing the Map',
    (name, recorder) => {
      // Assess
      expect(state(name).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: recorder },
      ]);
      expect(state(recorder).Parameters).toEqual({
        'sourceId.$': '$.query.sourceId',
        status: 'failed',
        'error.$': '$.error',
      });
      expect((state(name) as { ResultSelector?: object }).ResultSelector).toEqual({
        'sourceId.$': '$.sourceId',
        status: 'ok',
        'aggregatesKey.$': '$.aggregatesKey',
      });
    },
  );

  it('bounds both Maps to 10 concurrent query steps unless told otherwise', () => {
    // Assess
    expect(state('QueryEachSource').MaxConcurrency).toBe(10);
    expect(state('QueryEachSourceFromS3').MaxConcurrency).toBe(10);
    const tunedStates = (stateMachineDefinition(tuned.toJSON() as never) as unknown as DefinitionJson).States;
    expect(tunedStates.QueryEachSource?.MaxConcurrency).toBe(4);
    expect(tunedStates.QueryEachSourceFromS3?.MaxConcurrency).toBe(4);
  });

  it('maps the inline query list, and reads queries.json from the work bucket when it is not inline', () => {
    // Assess
    expect(state('QueriesInline')).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.queriesInline', BooleanEquals: true, Next: 'QueryEachSource' }],
      Default: 'QueryEachSourceFromS3',
    });
    expect(state('QueryEachSource').ItemsPath).toBe('$.queries');
    expect(state('QueryEachSourceFromS3').ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: expect.stringMatching(/^workbucket/), 'Key.$': '$.queriesKey' },
    });
  });

  it('hands analyze the aggregate keys and the failed sources of every outcome mix', () => {
    // Assess
    const inputs = ['SomeQueriesFailed', 'AllQueriesFailed', 'AllQueriesSucceeded', 'NoQueryResults'].map(
      (name) => state(name),
    );
    for (const input of inputs) expect(input).toMatchObject({ Type: 'Pass', Next: 'Analyze' });
    expect(inputs.map((s) => s.Parameters)).toEqual([
      expect.objectContaining({
        'aggregateKeys.$': "$.results[?(@.status == 'ok')].aggregatesKey",
        'failedSources.$': "$.results[?(@.status == 'failed')]",
      }),
      expect.objectContaining({ aggregateKeys: [], 'failedSources.$': "$.results[?(@.status == 'failed')]" }),
      expect.objectContaining({
        'aggregateKeys.$': "$.results[?(@.status == 'ok')].aggregatesKey",
        failedSources: [],
      }),
      expect.objectContaining({ aggregateKeys: [], failedSources: [] }),
    ]);
    expect(state('Analyze').Next).toBe('Notify');
  });

  it('lets the state machine invoke the four functions and read the work bucket', () => {
    // Assess
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
          .Statement,
    );
    const text = JSON.stringify(statements);
    for (const fn of ['DiscoverFunction', 'QueryFunction', 'AnalyzeFunction', 'NotifyFunction'])
      expect(text).toMatch(new RegExp(`"lambda:InvokeFunction".*${fn}`));
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: expect.arrayContaining(['s3:GetObject*']), Effect: 'Allow' }),
      ]),
    );
  });

  it('synthesizes a definition asl-validator accepts', () => {
    // Act: the validator annotates the definition it reads, so it gets a copy.
    const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });

    // Assess
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });
});

describe('AuditWorkflow outcome split (aws-local-stepfunctions, stub functions)', () => {
  type Stub = (input: unknown) => unknown;
  const query = (sourceId: string) => ({
    sourceId,
    kind: 'insights',
    fields: ['version'],
    logGroups: [`/g/${sourceId}`],
  });

  /** Runs the definition with stub functions; resolves with the event the analyze step was given. */
  async function analyzeEventOf(sourceIds: string[], failing: Set<string>): Promise<unknown> {
    let analyzed: unknown;
    const stubs: Record<keyof typeof LAMBDA_STATES, Stub> = {
      discover: () => ({
        runId: 'r-1',
        inventoryKey: 'runs/r-1/inventory.json.gz',
        queriesKey: 'runs/r-1/queries.json',
        window: { start: 0, end: 86_400 },
        queries: sourceIds.map(query),
        queriesInline: true,
        queryCount: sourceIds.length,
      }),
      query: (input) => {
        const { query: item } = input as { query: { sourceId: string } };
        if (failing.has(item.sourceId)) {
          const error = new Error(`query of ${item.sourceId} failed`);
          error.name = 'FlowLogQueryFailedError';
          throw error;
        }
        return {
          sourceId: item.sourceId,
          aggregatesKey: `runs/r-1/aggregates/${item.sourceId}.json.gz`,
          rows: 1,
        };
      },
      analyze: (input) => {
        analyzed = input;
        return { runId: 'r-1', reportJsonKey: 'reports/r-1/report.json' };
      },
      notify: () => ({ runId: 'r-1', kind: 'report', published: ['sns'], failed: [] }),
    };
    const taskResourceLocalHandlers: NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'] = {};
    for (const [fn, names] of Object.entries(LAMBDA_STATES) as [
      keyof typeof LAMBDA_STATES,
      readonly string[],
    ][])
      for (const name of names) taskResourceLocalHandlers[name] = async (input) => stubs[fn](input) as never;
    const machine = new StateMachine(structuredClone(definition) as never);
    await machine.run(
      {},
      { overrides: { taskResourceLocalHandlers }, context: { Execution: { Name: 'r-1' } } },
    ).result;
    return analyzed;
  }

  it('passes the succeeded keys and the failed sources when some queries fail', async () => {
    // Act
    const event = await analyzeEventOf(['insights-1', 'insights-2', 'athena-1'], new Set(['insights-2']));

    // Assess
    expect(event).toEqual({
      runId: 'r-1',
      inventoryKey: 'runs/r-1/inventory.json.gz',
      aggregateKeys: ['runs/r-1/aggregates/insights-1.json.gz', 'runs/r-1/aggregates/athena-1.json.gz'],
      failedSources: [
        {
          sourceId: 'insights-2',
          status: 'failed',
          error: {
            Error: 'FlowLogQueryFailedError',
            Cause: expect.stringContaining('query of insights-2 failed'),
          },
        },
      ],
    });
  });

  it('passes empty lists when there is no query to run', async () => {
    // Act
    const event = await analyzeEventOf([], new Set());

    // Assess
    expect(event).toEqual({
      runId: 'r-1',
      inventoryKey: 'runs/r-1/inventory.json.gz',
      aggregateKeys: [],
      failedSources: [],
    });
  });

  it('passes every key and no failure when every query succeeds', async () => {
    // Act
    const event = await analyzeEventOf(['insights-1'], new Set());

    // Assess
    expect(event).toMatchObject({
      aggregateKeys: ['runs/r-1/aggregates/insights-1.json.gz'],
      failedSources: [],
    });
  });
});
