import aslValidator from 'asl-validator';
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import { AlertTopic } from '../../lib/alert-topic';
import {
  AuditWorkflow,
  EVENTS_PER_POLL,
  HISTORY_EVENT_LIMIT,
  inlineItemLimit,
  LAMBDA_TRANSIENT_ERRORS,
  maxPollsOf,
  queryItemEvents,
  RUN_EVENTS_RESERVE,
  runTimeoutOf,
  THROTTLING_ERRORS,
} from '../../lib/audit-workflow';
import { LOGS_KEY_ACTIONS } from '../../lib/log-group';
import { Monitoring } from '../../lib/monitoring';
import { testApp } from '../support/test-app';
import {
  dummyFunction,
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
  Seconds?: number;
  OutputPath?: string;
  ResultPath?: string;
  ResultWriter?: { Resource: string; Parameters: Record<string, unknown> };
  Choices?: unknown[];
  Default?: string;
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
  queryPollInterval: Duration.seconds(60),
  queryBudget: { insights: Duration.minutes(40), athena: Duration.minutes(20) },
});
const tunedStates = allStatesOf(stateMachineDefinition(tuned.toJSON() as never) as unknown as DefinitionJson);

/** Every state of the definition, Map item processors included. */
function allStates(states: Record<string, StateJson>): Record<string, StateJson> {
  const nested = Object.values(states).flatMap((s) =>
    s.ItemProcessor ? Object.entries(allStates(s.ItemProcessor.States)) : [],
  );
  return { ...states, ...Object.fromEntries(nested) };
}
const states = allStates(definition.States);

function allStatesOf(d: DefinitionJson): Record<string, StateJson> {
  return allStates(d.States);
}

/** Lambda's longest timeout: the test stack's inline functions set none the construct can read. */
const FIFTEEN_MINUTES = Duration.minutes(15);

/** The default sizing of a workflow over functions whose timeouts it cannot read, with `items` and `concurrency`. */
function sizing(maxQueryItems: number, maxConcurrency: number): Parameters<typeof runTimeoutOf>[0] {
  return {
    maxQueryItems,
    maxConcurrency,
    queryBudget: Duration.minutes(60),
    pollInterval: Duration.seconds(30),
    stepTimeouts: {
      discover: FIFTEEN_MINUTES,
      query: FIFTEEN_MINUTES,
      analyze: FIFTEEN_MINUTES,
      notify: FIFTEEN_MINUTES,
    },
  };
}

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
    const fn = (name: string) => dummyFunction(stack, name);
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

  it('derives the run timeout from the sizing (items, concurrency, budget, functions) unless given', () => {
    // Assess: 200 items / 10 at once = 20 waves of (60 min + 30 s + 3 × 15 min), plus discover,
    // analyze, two notifies and 15 minutes.
    const derived = runTimeoutOf(sizing(200, 10));
    expect(derived.toSeconds()).toBe(20 * (3600 + 30 + 3 * 900) + 900 + 900 + 2 * 900 + 900);
    expect(definition).toMatchObject({ TimeoutSeconds: derived.toSeconds() });
    expect(derived.toSeconds()).toBeGreaterThan(6 * 3600);
    const tunedDefinition = stateMachineDefinition(tuned.toJSON() as never);
    expect(tunedDefinition).toMatchObject({ TimeoutSeconds: 2 * 3600 });
  });

  it("reads the functions' own timeouts and caps the run at Step Functions' year", () => {
    // Prepare
    const stack = new Stack(testApp(), 'Sized', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
    const fn = (name: string, minutes: number) => dummyFunction(stack, name, Duration.minutes(minutes));

    // Act
    const workflow = new AuditWorkflow(stack, 'Workflow', {
      discoverFunction: fn('Discover', 5),
      queryFunction: fn('Query', 15),
      analyzeFunction: fn('Analyze', 10),
      notifyFunction: fn('Notify', 1),
      workBucket: new s3.Bucket(stack, 'Work'),
      maxConcurrency: 4,
      maxQueryItems: 40,
    });
    const huge = runTimeoutOf(sizing(100_000, 1));

    // Assess: 10 waves of (60 min + 30 s + 45 min), 5 + 10 + 2 × 1 + 15 minutes.
    expect(workflow.runTimeout.toSeconds()).toBe(10 * (3600 + 30 + 2700) + 300 + 600 + 120 + 900);
    expect(huge.toSeconds()).toBe(365 * 86_400);
  });

  it('polls each query item from the state machine: start, then wait and check while the poll says running', () => {
    // Assess
    for (const suffix of ['', 'FromS3']) {
      expect(state(`StartQuery${suffix}`)).toMatchObject({
        Type: 'Task',
        ResultPath: '$.poll',
        Parameters: {
          action: 'start',
          'query.$': '$.query',
          budgetSeconds: { insights: 3600, athena: 1800 },
        },
        Next: `QueryRunning${suffix}`,
      });
      expect(state(`QueryRunning${suffix}`)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.poll.status', StringEquals: 'running', Next: `WaitForQuery${suffix}` }],
        Default: `QueryDone${suffix}`,
      });
      expect(state(`WaitForQuery${suffix}`)).toMatchObject({
        Type: 'Wait',
        Seconds: 30,
        Next: `CheckQuery${suffix}`,
      });
      expect(state(`CheckQuery${suffix}`)).toMatchObject({
        Type: 'Task',
        ResultPath: '$.poll',
        Parameters: { action: 'check', 'poll.$': '$.poll' },
        Next: `QueryRunning${suffix}`,
      });
      expect(state(`QueryDone${suffix}`)).toMatchObject({
        Type: 'Pass',
        OutputPath: '$.poll.outcome',
        End: true,
      });
    }
    expect(tunedStates.WaitForQuery?.Seconds).toBe(60);
    expect(tunedStates.StartQuery?.Parameters?.budgetSeconds).toEqual({ insights: 2400, athena: 1200 });
  });

  it('refuses a poll interval that would make one item outgrow an execution history', () => {
    // Act
    const act = () =>
      synthesizeWorkflowStack({
        queryPollInterval: Duration.seconds(1),
        queryBudget: { insights: Duration.hours(10) },
      });

    // Assess
    expect(act).toThrow(/history events/);
    expect(queryItemEvents(maxPollsOf(Duration.hours(10), Duration.seconds(1)))).toBeGreaterThan(
      HISTORY_EVENT_LIMIT,
    );
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
      'queryResultsPrefix.$',
    ]);
    expect((state('Discover') as { ResultSelector?: Record<string, string> }).ResultSelector).toMatchObject({
      'queryResultsPrefix.$': "States.Format('runs/{}/query-results', $.runId)",
    });
  });

  it.each(Object.values(LAMBDA_STATES).flat())(
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
    ['StartQuery', 'RecordQueryFailure', 'QueryFailureUnrecorded'],
    ['CheckQuery', 'RecordQueryFailure', 'QueryFailureUnrecorded'],
    ['StartQueryFromS3', 'RecordQueryFailureFromS3', 'QueryFailureUnrecordedFromS3'],
    ['CheckQueryFromS3', 'RecordQueryFailureFromS3', 'QueryFailureUnrecordedFromS3'],
  ])(
    'records a failed %s item as { sourceId, status, error } with a bounded error instead of failing the Map',
    (name, recorder, unrecorded) => {
      // Assess: the query function records the caught error (stops the job, stores the whole
      // error, returns ≤ 500 characters of it) …
      expect(state(name).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: recorder },
      ]);
      expect(state(recorder)).toMatchObject({
        Type: 'Task',
        Parameters: {
          action: 'record-failure',
          'runId.$': '$.runId',
          'query.$': '$.query',
          'poll.$': '$.poll',
          'error.$': '$.error',
        },
        End: true,
      });
      expect(state(recorder).ResultPath).toBeUndefined();
      // … and should that fail, only the error's name and a fixed text are kept.
      expect(state(recorder).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: unrecorded },
      ]);
      expect(state(unrecorded)).toMatchObject({
        Type: 'Pass',
        Parameters: {
          'sourceId.$': '$.query.sourceId',
          status: 'failed',
          error: {
            'Error.$': '$.error.Error',
            'Cause.$': "States.Format('not recorded ({}): see the execution history', $.recordError.Error)",
          },
        },
        End: true,
      });
    },
  );

  it('gives every item a poll from the start, so its failure record can always name it', () => {
    // Assess
    for (const map of ['QueryEachSource', 'QueryEachSourceFromS3']) {
      expect(state(map).Parameters ?? (state(map) as { ItemSelector?: object }).ItemSelector).toMatchObject({
        'query.$': '$$.Map.Item.Value',
        poll: { status: 'starting' },
      });
    }
  });

  it('bounds both Maps to 10 concurrent query steps unless told otherwise', () => {
    // Assess
    expect(state('QueryEachSource').MaxConcurrency).toBe(10);
    expect(state('QueryEachSourceFromS3').MaxConcurrency).toBe(10);
    const tunedStates = (stateMachineDefinition(tuned.toJSON() as never) as unknown as DefinitionJson).States;
    expect(tunedStates.QueryEachSource?.MaxConcurrency).toBe(4);
    expect(tunedStates.QueryEachSourceFromS3?.MaxConcurrency).toBe(4);
  });

  it('maps the inline query list while its worst-case history fits, and reads queries.json from the work bucket otherwise', () => {
    // Assess: 60-minute budget / 30 s polls = 121 checks of 9 events + 48 = 1,137 events an item.
    const limit = inlineItemLimit(Duration.minutes(60), Duration.seconds(30));
    expect(limit).toBe(Math.floor((HISTORY_EVENT_LIMIT - RUN_EVENTS_RESERVE) / (48 + 121 * EVENTS_PER_POLL)));
    expect(limit).toBe(21);
    expect(state('QueriesInline')).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.queriesInline', BooleanEquals: true },
            { Variable: '$.queryCount', NumericLessThanEquals: limit },
          ],
          Next: 'QueryEachSource',
        },
      ],
      Default: 'QueryEachSourceFromS3',
    });
    expect(tunedStates.QueriesInline).toMatchObject({
      Choices: [
        { And: [{}, { NumericLessThanEquals: inlineItemLimit(Duration.minutes(40), Duration.seconds(60)) }] },
      ],
    });
    expect(state('QueryEachSource').ItemsPath).toBe('$.queries');
    // The outcomes replace the list: the list is not carried past the Map.
    expect(state('QueryEachSource')).toMatchObject({ ResultPath: '$.queries', Next: 'CollectQueryOutcomes' });
    expect(state('CollectQueryOutcomes')).toMatchObject({
      Type: 'Pass',
      Parameters: { 'runId.$': '$.runId', 'inventoryKey.$': '$.inventoryKey', 'results.$': '$.queries' },
      Next: 'AnyQueryResults',
    });
    expect(state('QueryEachSourceFromS3').ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: expect.stringMatching(/^workbucket/), 'Key.$': '$.queriesKey' },
    });
  });

  it("writes the Distributed Map's outcomes to the work bucket under the run, and hands analyze their manifest's key", () => {
    // Assess
    expect(state('QueryEachSourceFromS3')).toMatchObject({
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: expect.stringMatching(/^workbucket/), 'Prefix.$': '$.queryResultsPrefix' },
      },
      ResultPath: '$.queryResults',
      Next: 'QueryResultsFromS3',
    });
    expect(state('QueryResultsFromS3')).toMatchObject({
      Type: 'Pass',
      Parameters: {
        'runId.$': '$.runId',
        'inventoryKey.$': '$.inventoryKey',
        'queryResultsKey.$': '$.queryResults.ResultWriterDetails.Key',
      },
      Next: 'Analyze',
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: unknown }[] } } }).Properties
          .PolicyDocument.Statement,
    );
    expect(statements.map((st) => st.Action)).toContainEqual(expect.arrayContaining(['s3:PutObject']));
  });

  it('lets the ResultWriter encrypt with the bucket key of a KMS-encrypted work bucket', () => {
    // Prepare
    const stack = new Stack(testApp(), 'KmsWork', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
    const fn = (name: string) => dummyFunction(stack, name);
    const key = new kms.Key(stack, 'Key');

    // Act
    new AuditWorkflow(stack, 'Workflow', {
      discoverFunction: fn('Discover'),
      queryFunction: fn('Query'),
      analyzeFunction: fn('Analyze'),
      notifyFunction: fn('Notify'),
      workBucket: new s3.Bucket(stack, 'Work', { encryption: s3.BucketEncryption.KMS, encryptionKey: key }),
    });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:GenerateDataKey', Effect: 'Allow' })]),
      },
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
      // The query step as polled: started (running), then checked once (done), or failing, its
      // error recorded by the failure step.
      query: (input) => {
        const {
          action,
          query: item,
          error,
        } = input as {
          action: string;
          query: { sourceId: string };
          error?: { Error: string; Cause?: string };
        };
        if (action === 'record-failure') return { sourceId: item.sourceId, status: 'failed', error };
        if (failing.has(item.sourceId)) {
          const thrown = new Error(`query of ${item.sourceId} failed`);
          thrown.name = 'FlowLogQueryFailedError';
          throw thrown;
        }
        if (action === 'start') return { status: 'running', polls: 0 };
        const aggregatesKey = `runs/r-1/aggregates/${item.sourceId}.json.gz`;
        return { status: 'done', rows: 1, outcome: { sourceId: item.sourceId, status: 'ok', aggregatesKey } };
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
      {
        overrides: {
          taskResourceLocalHandlers,
          waitTimeOverrides: { WaitForQuery: 0, WaitForQueryFromS3: 0 },
        },
        context: { Execution: { Name: 'r-1' } },
      },
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

describe('runs that end without their own alert (Monitoring)', () => {
  const stack = new Stack(testApp(), 'Alerting', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  const key = new kms.Key(stack, 'Key');
  const alerts = new AlertTopic(stack, 'Alerts', { encryptionKey: key });
  const { workflow } = (() => {
    const fn = (name: string) => dummyFunction(stack, name);
    return {
      workflow: new AuditWorkflow(stack, 'Workflow', {
        discoverFunction: fn('Discover'),
        queryFunction: fn('Query'),
        analyzeFunction: fn('Analyze'),
        notifyFunction: fn('Notify'),
        workBucket: new s3.Bucket(stack, 'Work'),
      }),
    };
  })();
  new Monitoring(stack, 'Monitoring', {
    stateMachine: workflow.stateMachine,
    alerts,
    functions: {},
  });
  const topic = alerts.topic;
  const alerting = Template.fromStack(stack);
  const machineId = stack.getLogicalId(workflow.stateMachine.node.defaultChild as CfnElement);

  it("alerts the topic, with the run id, when a run times out, is aborted, or fails past the workflow's own alert", () => {
    // Assess
    alerting.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: machineId }],
          $or: [
            { status: ['TIMED_OUT', 'ABORTED'] },
            { status: ['FAILED'], error: [{ 'anything-but': ['AuditFailed'] }] },
          ],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { Ref: stack.getLogicalId(topic.node.defaultChild as CfnElement) },
          RoleArn: Match.anyValue(),
          InputTransformer: Match.objectLike({
            InputPathsMap: Match.objectLike({
              'detail-name': '$.detail.name',
              'detail-status': '$.detail.status',
            }),
            InputTemplate: Match.stringLikeRegexp('sg-audit run <detail-name> ended <detail-status>'),
          }),
        }),
      ],
    });
  });

  it("lets the rule's role publish to the encrypted topic", () => {
    // Assess
    alerting.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'events.amazonaws.com' } })],
      },
    });
    alerting.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Resource: { Ref: stack.getLogicalId(topic.node.defaultChild as CfnElement) },
          }),
          Match.objectLike({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
  });

  it('keeps the timed-out alarm besides the rule', () => {
    // Assess
    alerting.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsTimedOut',
      AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as CfnElement) }],
    });
  });
});
