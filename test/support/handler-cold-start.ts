/**
 * A Lambda handler's cold start in a unit test: the handlers build their SDK clients and read
 * their configuration at module scope, so a test sets the environment, then imports the handler
 * (and mocks its clients) in a fresh module registry.
 *
 * @example
 * const coldStart = handlerColdStart({ WORK_BUCKET: 'sg-audit-work' });
 * async function loadQuery(env: Record<string, string> = {}) {
 *   coldStart(env);
 *   const { mockClient } = await import('aws-sdk-client-mock');
 *   // … mock the clients, then import the handler
 * }
 */

/** What every handler test runs with: a region, fake credentials and no log output. */
const HANDLER_TEST_ENVIRONMENT: Readonly<Record<string, string>> = {
  AWS_REGION: 'ap-northeast-2',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  LOG_LEVEL: 'SILENT',
};

/**
 * Registers the restoring of the test file's environment after all its tests and returns the
 * cold start: a fresh module registry and the environment of `settings`, then of `env`.
 *
 * @example const coldStart = handlerColdStart({ REPORT_BUCKET: 'sg-audit-reports' }); … coldStart({ SLACK_SECRET_ID: 'x' });
 */
export function handlerColdStart(
  settings: Readonly<Record<string, string>>,
): (env?: Readonly<Record<string, string>>) => void {
  const baseEnv = { ...process.env };
  afterAll(() => {
    process.env = baseEnv;
  });
  return (env = {}) => {
    jest.resetModules();
    process.env = { ...baseEnv, ...HANDLER_TEST_ENVIRONMENT, ...settings, ...env };
  };
}
