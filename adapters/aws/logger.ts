/**
 * The structured logger every AWS adapter takes: Powertools Logger satisfies it (the Lambda
 * functions pass theirs, lambdas/config.ts createLoggers), and tests pass a plain recorder.
 */
export interface AdapterLogger {
  debug(message: string, extra?: object): void;
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}
