/**
 * The Athena flow source's typed errors (Step Functions Retry/Catch and the CLI match on `name`).
 */

/** A query ended FAILED or CANCELLED; carries Athena's StateChangeReason. */
export class AthenaQueryFailedError extends Error {
  override readonly name = 'AthenaQueryFailedError';
  readonly queryExecutionId: string;
  readonly state: string;
  readonly stateChangeReason?: string;
  readonly errorType?: number;

  constructor(
    queryExecutionId: string,
    status: { state: string; reason?: string; errorType?: number },
    options?: ErrorOptions,
  ) {
    super(`Athena query ${queryExecutionId} ${status.state}: ${status.reason ?? 'no reason given'}`, options);
    this.queryExecutionId = queryExecutionId;
    this.state = status.state;
    this.stateChangeReason = status.reason;
    this.errorType = status.errorType;
  }
}

/** A query ran longer than `queryTimeoutMs`; it was stopped. */
export class AthenaQueryTimeoutError extends Error {
  override readonly name = 'AthenaQueryTimeoutError';
  readonly queryExecutionId: string;
  readonly timeoutMs: number;

  constructor(queryExecutionId: string, timeoutMs: number, options?: ErrorOptions) {
    super(`Athena query ${queryExecutionId} still running after ${timeoutMs} ms: stopped`, options);
    this.queryExecutionId = queryExecutionId;
    this.timeoutMs = timeoutMs;
  }
}

/** A result file or page (or an API answer) that is not what the query produces. */
export class AthenaResultFormatError extends Error {
  override readonly name = 'AthenaResultFormatError';
}
