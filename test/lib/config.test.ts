import {
  AppConfigError,
  CONTEXT_KEYS,
  DEFAULT_EGRESS_ALLOWLIST_KEY,
  DEFAULT_SUPPRESSIONS_KEY,
  parseAppConfig,
} from '../../lib/config';

/** The AppConfigError parseAppConfig throws for `context`, or a failure when it does not throw. */
function configError(context: Readonly<Record<string, unknown>>): AppConfigError {
  try {
    parseAppConfig(context);
  } catch (error) {
    if (error instanceof AppConfigError) return error;
    throw error;
  }
  throw new Error(`no AppConfigError for ${JSON.stringify(context)}`);
}

describe('parseAppConfig', () => {
  describe('week over week defaults', () => {
    it('reads suppressions from config/suppressions.yaml, alerts on changes, no digest, no export', () => {
      // Act
      const config = parseAppConfig({});

      // Assess
      expect(config).toMatchObject({
        suppressionsKey: 'config/suppressions.yaml',
        alertOn: 'changes',
        noChangeDigest: false,
        securityHubExport: false,
      });
      expect(DEFAULT_SUPPRESSIONS_KEY).toBe('config/suppressions.yaml');
    });

    it('lists the four keys among those bin/app.ts reads from context', () => {
      expect(CONTEXT_KEYS).toEqual(
        expect.arrayContaining(['suppressionsKey', 'alertOn', 'noChangeDigest', 'securityHubExport']),
      );
    });

    it('treats a blank value as unset', () => {
      expect(parseAppConfig({ suppressionsKey: ' ', alertOn: '', noChangeDigest: '' })).toMatchObject({
        suppressionsKey: 'config/suppressions.yaml',
        alertOn: 'changes',
        noChangeDigest: false,
      });
    });
  });

  describe('suppressionsKey', () => {
    it('accepts an object key outside the report prefix', () => {
      expect(parseAppConfig({ suppressionsKey: 'audit/accepted-risks.json' }).suppressionsKey).toBe(
        'audit/accepted-risks.json',
      );
    });

    it('accepts a key beside a custom report prefix that merely starts with the same letters', () => {
      // 'reports-config/…' is not under 'reports/'.
      expect(parseAppConfig({ suppressionsKey: 'reports-config/suppressions.yaml' }).suppressionsKey).toBe(
        'reports-config/suppressions.yaml',
      );
    });

    it.each([
      ['/config/suppressions.yaml', 'must not start with /'],
      ['config/../reports/suppressions.yaml', 'must not contain .., . or empty path segments'],
      ['config//suppressions.yaml', 'must not contain .., . or empty path segments'],
      ['config/', 'must not contain .., . or empty path segments'],
      ['config/*.yaml', 'must be an S3 object key'],
      ['config/supp ressions.yaml', 'must be an S3 object key'],
      [
        's3://bucket/config/suppressions.yaml',
        'must be an object key in the report bucket, not an s3:// URL',
      ],
    ])('rejects %s, naming the key', (suppressionsKey, problem) => {
      // Act
      const error = configError({ suppressionsKey });

      // Assess
      expect(error.keys).toEqual(['suppressionsKey']);
      expect(error.message).toContain(`context 'suppressionsKey' ${problem}`);
    });

    it('rejects a key under the default report prefix', () => {
      // Act
      const error = configError({ suppressionsKey: 'reports/suppressions.yaml' });

      // Assess
      expect(error.keys).toEqual(['suppressionsKey']);
      expect(error.message).toContain(
        "context 'suppressionsKey' must not be under the report prefix 'reports/'",
      );
    });

    it('rejects a key under a custom report prefix, and the prefix itself', () => {
      expect(
        configError({ reportPrefix: 'sg/reports', suppressionsKey: 'sg/reports/s.yaml' }).message,
      ).toContain("under the report prefix 'sg/reports/'");
      expect(configError({ reportPrefix: 'sg/reports', suppressionsKey: 'sg/reports' }).keys).toEqual([
        'suppressionsKey',
      ]);
    });
  });

  describe('egressAllowlistKey', () => {
    it('reads the allow-list from config/egress-allowlist.yaml by default, a blank value being unset', () => {
      expect(DEFAULT_EGRESS_ALLOWLIST_KEY).toBe('config/egress-allowlist.yaml');
      expect(CONTEXT_KEYS).toContain('egressAllowlistKey');
      expect(parseAppConfig({}).egressAllowlistKey).toBe('config/egress-allowlist.yaml');
      expect(parseAppConfig({ egressAllowlistKey: ' ' }).egressAllowlistKey).toBe(
        'config/egress-allowlist.yaml',
      );
    });

    it('accepts an object key outside the report prefix', () => {
      expect(parseAppConfig({ egressAllowlistKey: ' security/egress.json ' }).egressAllowlistKey).toBe(
        'security/egress.json',
      );
    });

    it.each([
      ['/config/egress-allowlist.yaml', 'must not start with /'],
      ['config/../egress.yaml', 'must not contain .., . or empty path segments'],
      ['config/*.yaml', 'must be an S3 object key'],
      ['s3://bucket/config/egress.yaml', 'must be an object key in the report bucket, not an s3:// URL'],
    ])('rejects %s, naming the key', (egressAllowlistKey, problem) => {
      // Act
      const error = configError({ egressAllowlistKey });

      // Assess
      expect(error.keys).toEqual(['egressAllowlistKey']);
      expect(error.message).toContain(`context 'egressAllowlistKey' ${problem}`);
    });

    it('rejects a key under the report prefix', () => {
      // Act
      const error = configError({ reportPrefix: 'sg/reports', egressAllowlistKey: 'sg/reports/egress.yaml' });

      // Assess
      expect(error.keys).toEqual(['egressAllowlistKey']);
      expect(error.message).toContain(
        "context 'egressAllowlistKey' must not be under the report prefix 'sg/reports/'",
      );
    });

    it('rejects the key of the suppressions file', () => {
      // Act
      const error = configError({
        suppressionsKey: 'config/lists.yaml',
        egressAllowlistKey: 'config/lists.yaml',
      });

      // Assess
      expect(error.keys).toEqual(['egressAllowlistKey']);
      expect(error.message).toContain("context 'egressAllowlistKey' must not be the suppressionsKey");
    });
  });

  describe('alertOn', () => {
    it.each([
      ['changes', 'changes'],
      ['always', 'always'],
      [' Always ', 'always'],
    ])('reads %j as %s', (alertOn, expected) => {
      expect(parseAppConfig({ alertOn }).alertOn).toBe(expected);
    });

    it('rejects another value, naming the key and the choices', () => {
      const error = configError({ alertOn: 'weekly' });
      expect(error.keys).toEqual(['alertOn']);
      expect(error.message).toContain("context 'alertOn' must be changes or always");
    });
  });

  describe.each(['noChangeDigest', 'securityHubExport', 'changeHistory'] as const)('%s', (key) => {
    it.each([
      [true, true],
      [false, false],
      ['true', true],
      ['FALSE', false],
      [' True ', true],
    ])('reads %j as %s', (value, expected) => {
      expect(parseAppConfig({ [key]: value })[key]).toBe(expected);
    });

    it.each(['yes', '1', 1])('rejects %j, naming the key', (value) => {
      const error = configError({ [key]: value });
      expect(error.keys).toEqual([key]);
      expect(error.message).toContain(`context '${key}' must be true or false`);
    });
  });

  describe('changeHistory', () => {
    it('is on unless turned off: discover reads CloudTrail for who opened each rule', () => {
      expect(parseAppConfig({}).changeHistory).toBe(true);
      expect(parseAppConfig({ changeHistory: ' ' }).changeHistory).toBe(true);
      expect(parseAppConfig({ changeHistory: 'false' }).changeHistory).toBe(false);
    });

    it('is among the keys bin/app.ts reads from context', () => {
      expect(CONTEXT_KEYS).toContain('changeHistory');
    });
  });

  describe('noChangeDigest with alertOn', () => {
    it("accepts the digest with alertOn 'changes'", () => {
      expect(parseAppConfig({ alertOn: 'changes', noChangeDigest: 'true' }).noChangeDigest).toBe(true);
    });

    it("rejects the digest with alertOn 'always', where it would do nothing", () => {
      const error = configError({ alertOn: 'always', noChangeDigest: true });
      expect(error.keys).toEqual(['noChangeDigest']);
      expect(error.message).toContain("context 'noChangeDigest' applies with alertOn 'changes' only");
    });
  });

  describe('customer-managed keys', () => {
    const BUCKET_KEY = 'arn:aws:kms:ap-northeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const MRK = 'arn:aws:kms:ap-northeast-2:111122223333:key/mrk-1234567890abcdef1234567890abcdef';
    const ATHENA = JSON.stringify({ flowLogLocations: ['s3://org-flow-logs/vpc/AWSLogs/'] });

    it('reads the flow-log bucket keys as a list (comma-separated or an array), without duplicates', () => {
      expect(
        parseAppConfig({ athena: ATHENA, flowLogKmsKeyArns: `${BUCKET_KEY}, ${MRK}` }).flowLogKmsKeyArns,
      ).toEqual([BUCKET_KEY, MRK]);
      expect(parseAppConfig({ athena: ATHENA, flowLogKmsKeyArns: [MRK, MRK] }).flowLogKmsKeyArns).toEqual([
        MRK,
      ]);
      expect(parseAppConfig({}).flowLogKmsKeyArns).toEqual([]);
    });

    it('reads the Slack secret key with the secret', () => {
      expect(
        parseAppConfig({ slackSecretName: 'sg-audit/slack', slackSecretKmsKeyArn: BUCKET_KEY })
          .slackSecretKmsKeyArn,
      ).toBe(BUCKET_KEY);
    });

    it.each([
      ['an alias', 'arn:aws:kms:ap-northeast-2:111122223333:alias/flow-logs'],
      ['a key id', '1234abcd-12ab-34cd-56ef-1234567890ab'],
      ['another service', 'arn:aws:s3:::flow-logs'],
    ])('rejects %s, naming the key', (_what, arn) => {
      const error = configError({ athena: ATHENA, flowLogKmsKeyArns: arn });
      expect(error.keys).toEqual(['flowLogKmsKeyArns.0']);
      expect(error.message).toContain('must be a KMS key ARN');
    });

    it('rejects flow-log keys without Athena, the only reader of S3 flow logs', () => {
      const error = configError({ flowLogKmsKeyArns: BUCKET_KEY });
      expect(error.keys).toEqual(['flowLogKmsKeyArns']);
      expect(error.message).toContain('applies with athena only');
    });

    it('rejects a Slack secret key without the secret', () => {
      const error = configError({ slackSecretKmsKeyArn: BUCKET_KEY });
      expect(error.keys).toEqual(['slackSecretKmsKeyArn']);
      expect(error.message).toContain('applies with slackSecretName only');
    });
  });

  describe('errors', () => {
    it('names every bad key at once', () => {
      const error = configError({ alertOn: 'never', securityHubExport: 'maybe', lookbackDays: 'a week' });
      expect([...error.keys].sort()).toEqual(['alertOn', 'lookbackDays', 'securityHubExport']);
      expect(error.name).toBe('AppConfigError');
    });
  });
});
