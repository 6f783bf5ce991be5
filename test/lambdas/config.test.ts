import { ConfigError, InvalidEventError, loadConfig, parseEvent } from '../../lambdas/config';
import { discoverEventSchema } from '../../lambdas/discover/contract';

/** The ConfigError loadConfig throws (fails the test when it does not throw one). */
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the defaults when only the required variables are set', () => {
    // Prepare / Act
    const config = loadConfig('discover', { WORK_BUCKET: 'sg-audit-work' });

    // Assess
    expect(config).toEqual({
      workBucket: 'sg-audit-work',
      reportPrefix: 'reports',
      lookbackDays: 7,
      ports: [],
      vpcIds: [],
      logLevel: 'INFO',
      serviceName: 'sg-audit',
      securityHubExport: false,
      alertOn: 'changes',
      noChangeDigest: false,
      changeHistory: true,
    });
  });

  it('parses every optional variable', () => {
    // Prepare
    const env = {
      WORK_BUCKET: 'work',
      REPORT_BUCKET: 'reports-bucket',
      REPORT_PREFIX: '/audit/weekly/',
      KMS_KEY_ID: 'alias/sg-audit',
      ALERT_TOPIC_ARN: 'arn:aws:sns:ap-northeast-2:123456789012:sg-audit-alerts',
      SLACK_SECRET_ID: 'sg-audit/slack-webhook',
      ATHENA_DATABASE: 'sg_audit',
      ATHENA_WORKGROUP: 'sg-audit',
      ATHENA_OUTPUT: 's3://athena-results/sg-audit/',
      LOOKBACK_DAYS: '14',
      PORTS: '443, 22,1024-2048',
      VPC_IDS: 'vpc-0a1b2c3d, vpc-0a1b2c3e',
      LOG_LEVEL: 'debug',
      POWERTOOLS_SERVICE_NAME: 'sg-audit-prod',
      AWS_REGION: 'ap-northeast-2',
      SUPPRESSIONS_KEY: ' config/suppressions.yaml ',
      EGRESS_ALLOWLIST_KEY: 'config/egress-allowlist.yaml',
      SECURITY_HUB_EXPORT: 'TRUE',
      ALERT_ON: 'always',
      NO_CHANGE_DIGEST: 'true',
      CHANGE_HISTORY: 'False',
    };

    // Act
    const config = loadConfig('analyze', env);

    // Assess
    expect(config).toEqual({
      workBucket: 'work',
      reportBucket: 'reports-bucket',
      reportPrefix: 'audit/weekly',
      kmsKeyId: 'alias/sg-audit',
      alertTopicArn: env.ALERT_TOPIC_ARN,
      slackSecretId: 'sg-audit/slack-webhook',
      athena: {
        database: 'sg_audit',
        workGroup: 'sg-audit',
        outputLocation: 's3://athena-results/sg-audit/',
      },
      lookbackDays: 14,
      ports: [
        { from: 22, to: 22 },
        { from: 443, to: 443 },
        { from: 1024, to: 2048 },
      ],
      vpcIds: ['vpc-0a1b2c3d', 'vpc-0a1b2c3e'],
      logLevel: 'DEBUG',
      serviceName: 'sg-audit-prod',
      region: 'ap-northeast-2',
      suppressionsKey: 'config/suppressions.yaml',
      egressAllowlistKey: 'config/egress-allowlist.yaml',
      securityHubExport: true,
      alertOn: 'always',
      noChangeDigest: true,
      changeHistory: false,
    });
  });

  it("reads the query role's scope the planner keeps to: the log-group prefix and the S3 folders", () => {
    // Prepare / Act
    const config = loadConfig('discover', {
      WORK_BUCKET: 'work',
      FLOW_LOG_GROUP_PREFIX: '/vpc/flow-logs/',
      FLOW_LOG_LOCATIONS: 's3://org-flow-logs/vpc/AWSLogs/, s3://team-logs/,s3://team-logs/',
    });

    // Assess
    expect(config).toMatchObject({
      flowLogGroupPrefix: '/vpc/flow-logs/',
      flowLogLocations: ['s3://org-flow-logs/vpc/AWSLogs/', 's3://team-logs/'],
    });
    expect(loadConfig('discover', { WORK_BUCKET: 'work', FLOW_LOG_LOCATIONS: ' ' })).not.toHaveProperty(
      'flowLogLocations',
    );
  });

  it('names a malformed scope variable', () => {
    // Prepare / Act
    const error = configError(() =>
      loadConfig('discover', {
        WORK_BUCKET: 'work',
        FLOW_LOG_GROUP_PREFIX: 'vpc flow',
        FLOW_LOG_LOCATIONS: 's3://org-flow-logs/vpc',
      }),
    );

    // Assess
    expect([...error.variables].sort()).toEqual(['FLOW_LOG_GROUP_PREFIX', 'FLOW_LOG_LOCATIONS']);
    expect(error.message).toContain('FLOW_LOG_LOCATIONS must list s3://bucket/prefix/ folders');
  });

  it('names each variable a function requires when it is missing', () => {
    // Prepare / Act
    const analyze = configError(() => loadConfig('analyze', { WORK_BUCKET: ' ' }));
    const notify = configError(() => loadConfig('notify', {}));

    // Assess
    expect(analyze.name).toBe('ConfigError');
    expect(analyze.variables).toEqual(['WORK_BUCKET', 'REPORT_BUCKET']);
    expect(analyze.message).toContain('REPORT_BUCKET is required by the analyze function and not set');
    expect(notify.variables).toEqual(['REPORT_BUCKET', 'ALERT_TOPIC_ARN']);
    expect(notify.message).toContain('SLACK_SECRET_ID is required by the notify function');
  });

  it('names every malformed variable at once', () => {
    // Prepare / Act
    const error = configError(() =>
      loadConfig('discover', {
        WORK_BUCKET: 'Not_A_Bucket',
        LOOKBACK_DAYS: 'seven',
        PORTS: '22,http',
        VPC_IDS: 'vpc-0a1b2c3d,subnet-1',
        LOG_LEVEL: 'loud',
        ALERT_TOPIC_ARN: 'sg-audit-alerts',
        ATHENA_OUTPUT: 's3://results/',
      }),
    );

    // Assess
    expect([...error.variables].sort()).toEqual(
      [
        'ALERT_TOPIC_ARN',
        'ATHENA_DATABASE',
        'LOG_LEVEL',
        'LOOKBACK_DAYS',
        'PORTS',
        'VPC_IDS',
        'WORK_BUCKET',
      ].sort(),
    );
    expect(error.message).toContain('LOOKBACK_DAYS must be a whole number of days');
    expect(error.message).toContain(
      "PORTS must be a port list like 22,443,1024-2048: invalid port or port range 'http'",
    );
  });

  it('refuses a Slack webhook URL in place of the secret name without echoing it', () => {
    // Prepare
    const webhook = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';

    // Act
    const error = configError(() =>
      loadConfig('notify', { REPORT_BUCKET: 'reports', SLACK_SECRET_ID: webhook }),
    );

    // Assess
    expect(error.variables).toEqual(['SLACK_SECRET_ID']);
    expect(error.message).toContain('must name the Secrets Manager secret, not hold the webhook URL');
    expect(error.message).not.toContain('XXXXSECRET');
  });

  it('names malformed week-over-week variables', () => {
    // Prepare / Act
    const error = configError(() =>
      loadConfig('analyze', {
        WORK_BUCKET: 'work',
        REPORT_BUCKET: 'reports',
        SUPPRESSIONS_KEY: 's3://reports/config/suppressions.yaml',
        EGRESS_ALLOWLIST_KEY: '/config/egress-allowlist.yaml',
        SECURITY_HUB_EXPORT: 'yes',
        ALERT_ON: 'never',
        NO_CHANGE_DIGEST: '1',
        CHANGE_HISTORY: 'off',
      }),
    );

    // Assess
    expect([...error.variables].sort()).toEqual(
      [
        'ALERT_ON',
        'CHANGE_HISTORY',
        'EGRESS_ALLOWLIST_KEY',
        'NO_CHANGE_DIGEST',
        'SECURITY_HUB_EXPORT',
        'SUPPRESSIONS_KEY',
      ].sort(),
    );
    expect(error.message).toContain('EGRESS_ALLOWLIST_KEY must be an S3 object key');
    expect(error.message).toContain(
      'SUPPRESSIONS_KEY must be an object key in REPORT_BUCKET, not an s3:// URL',
    );
    expect(error.message).toContain("SECURITY_HUB_EXPORT must be 'true' or 'false'");
    expect(error.message).toContain('ALERT_ON must be one of changes, always');
  });

  it('rejects a suppressions key that climbs out of its prefix', () => {
    // Prepare / Act
    const error = configError(() =>
      loadConfig('analyze', {
        WORK_BUCKET: 'work',
        REPORT_BUCKET: 'reports',
        SUPPRESSIONS_KEY: 'config/../x.yaml',
      }),
    );

    // Assess
    expect(error.message).toBe(
      'invalid function configuration: SUPPRESSIONS_KEY must not contain .. or empty segments',
    );
  });

  it('rejects a lookback outside 1 to 366 days', () => {
    // Prepare / Act
    const error = configError(() => loadConfig('query', { WORK_BUCKET: 'work', LOOKBACK_DAYS: '0' }));

    // Assess
    expect(error.message).toBe('invalid function configuration: LOOKBACK_DAYS must be at least 1 day');
  });
});

describe('loadConfig (the deployed remediation)', () => {
  const base = {
    WORK_BUCKET: 'sg-audit-work',
    REPORT_BUCKET: 'sg-audit-reports',
    ALERT_TOPIC_ARN: 'arn:aws:sns:ap-northeast-2:123456789012:alerts',
  };

  it('reads the opt-in tag, the verdicts and the approval wait of the remediate function', () => {
    const config = loadConfig('remediate', {
      ...base,
      REMEDIATION_TAG_KEY: 'sg-audit:remediate',
      REMEDIATION_TAG_VALUE: 'true',
      REMEDIATION_INCLUDE: 'remove',
      APPROVAL_TIMEOUT_SECONDS: '3600',
    });
    expect(config.remediation).toEqual({
      tag: { key: 'sg-audit:remediate', value: 'true' },
      include: ['remove'],
      approvalTimeoutSeconds: 3600,
    });
  });

  it('names what the remediate function lacks: the tag, its value, an alert channel', () => {
    const missing = configError(() =>
      loadConfig('remediate', { WORK_BUCKET: 'w-bucket', REPORT_BUCKET: 'r-bucket' }),
    );
    expect(missing.variables).toEqual(['REMEDIATION_TAG_KEY', 'ALERT_TOPIC_ARN']);
    const half = configError(() => loadConfig('remediate', { ...base, REMEDIATION_TAG_KEY: 'k' }));
    expect(half.message).toContain(
      'REMEDIATION_TAG_VALUE is required with REMEDIATION_TAG_KEY and REMEDIATION_TAG_VALUE',
    );
    const bad = configError(() =>
      loadConfig('remediate', {
        ...base,
        REMEDIATION_TAG_KEY: 'k',
        REMEDIATION_TAG_VALUE: 'v',
        REMEDIATION_INCLUDE: 'review',
      }),
    );
    expect(bad.variables).toEqual(['REMEDIATION_INCLUDE']);
  });

  it('requires only the report bucket of the apply function', () => {
    expect(loadConfig('apply', { REPORT_BUCKET: 'sg-audit-reports' }).reportBucket).toBe('sg-audit-reports');
    expect(configError(() => loadConfig('apply', {})).variables).toEqual(['REPORT_BUCKET']);
  });
});

describe('parseEvent', () => {
  it('names the bad fields of an event', () => {
    // Prepare / Act
    const run = () => parseEvent(discoverEventSchema, { runId: '../x', vpcIds: ['vpc-0a1b2c3d', 'sg-1'] });

    // Assess
    expect(run).toThrow(InvalidEventError);
    try {
      run();
    } catch (error) {
      expect((error as InvalidEventError).name).toBe('InvalidEventError');
      expect((error as InvalidEventError).fields).toEqual(['runId', 'vpcIds.1']);
    }
  });

  it('takes a missing event as an empty one', () => {
    // Prepare / Act / Assess
    expect(parseEvent(discoverEventSchema, undefined)).toEqual({});
  });
});
