/**
 * What aws-local-stepfunctions lacks of a `.waitForTaskToken` task, emulated, as distributed-map.ts
 * emulates the Distributed Map: the waiting Lambda task becomes a plain Task state on the same
 * function, its `$$.Task.Token` a fresh UUID (States.UUID()); its local handler runs the real
 * function and then waits until the token is answered. The answers come through a loopback HTTP
 * endpoint speaking Step Functions' own API (SendTaskSuccess, SendTaskFailure; awsJson1_0), so
 * `sg-audit approve|reject` runs exactly as deployed, with an SFNClient pointed at it. TimeoutSeconds
 * is kept (the runner enforces it); the token then answers TaskTimedOut, an answered one
 * TaskDoesNotExist, as on AWS.
 *
 * @example
 * const tokens = new TaskTokens();
 * const endpoint = await startTaskTokenEndpoint(tokens);
 * const asl = withTaskTokenAsTask(definition, 'WaitForApproval');
 * handlers.WaitForApproval = async (payload) => { await remediate(payload); return tokens.wait(payload.taskToken, 60); };
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type AslState = {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  [field: string]: unknown;
};

/**
 * The definition with `stateName`'s `arn:aws:states:::lambda:invoke.waitForTaskToken` task made a
 * Task on the function itself (FunctionName), its Payload as Parameters with the token a UUID.
 */
export function withTaskTokenAsTask(
  asl: Record<string, unknown>,
  stateName: string,
): Record<string, unknown> {
  // Through JSON: the runner takes only plain objects of its own realm (see distributed-map.ts).
  const copy = JSON.parse(JSON.stringify(asl)) as { States: Record<string, AslState> };
  const state = copy.States[stateName];
  const parameters = state?.Parameters as
    | { FunctionName?: string; Payload?: Record<string, unknown> }
    | undefined;
  if (
    state?.Resource !== 'arn:aws:states:::lambda:invoke.waitForTaskToken' ||
    typeof parameters?.FunctionName !== 'string' ||
    parameters.Payload === undefined
  )
    throw new Error(`${stateName} is not a Lambda .waitForTaskToken task`);
  const tokenField = Object.entries(parameters.Payload).find(([, value]) => value === '$$.Task.Token')?.[0];
  if (tokenField === undefined) throw new Error(`${stateName} passes no $$.Task.Token`);
  copy.States[stateName] = {
    ...state,
    Comment: `Emulates the .waitForTaskToken of ${stateName} (the e2e runner has none)`,
    Resource: parameters.FunctionName,
    Parameters: { ...parameters.Payload, [tokenField]: 'States.UUID()' },
  };
  return copy;
}

/** A named error as the runner's Catch matches it (error.name) with its cause (message). */
class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

type Waiting = { resolve: (output: unknown) => void; reject: (error: Error) => void };

/** The tokens of the emulated waiting tasks and their answers. */
export class TaskTokens {
  private readonly waiting = new Map<string, Waiting>();
  private readonly ended = new Map<string, 'answered' | 'timed-out'>();
  /** The SendTask* calls answered, in order. */
  readonly calls: { readonly action: string; readonly taskToken: string }[] = [];

  /** Resolves with SendTaskSuccess's output, rejects with SendTaskFailure's error; times out after `timeoutSeconds`. */
  wait(taskToken: string, timeoutSeconds: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.set(taskToken, { resolve, reject });
      const timer = setTimeout(() => {
        if (this.waiting.delete(taskToken)) this.ended.set(taskToken, 'timed-out');
      }, timeoutSeconds * 1000);
      timer.unref();
    });
  }

  /** Step Functions' answer to SendTaskSuccess/SendTaskFailure: undefined when taken, else the error's name. */
  answer(
    action: string,
    input: { taskToken?: string; output?: string; error?: string; cause?: string },
  ): string | undefined {
    const taskToken = input.taskToken ?? '';
    const waiting = this.waiting.get(taskToken);
    if (waiting === undefined)
      return this.ended.get(taskToken) === 'timed-out' ? 'TaskTimedOut' : 'TaskDoesNotExist';
    this.waiting.delete(taskToken);
    this.ended.set(taskToken, 'answered');
    this.calls.push({ action, taskToken });
    if (action === 'SendTaskSuccess') waiting.resolve(JSON.parse(input.output ?? 'null'));
    else waiting.reject(new TaskFailure(input.error ?? 'States.TaskFailed', input.cause ?? ''));
    return undefined;
  }
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A loopback endpoint answering SendTaskSuccess and SendTaskFailure (awsJson1_0) from `tokens`.
 *
 * @example const { endpoint, stop } = await startTaskTokenEndpoint(tokens); new SFNClient({ endpoint, … });
 */
export async function startTaskTokenEndpoint(
  tokens: TaskTokens,
): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      const action = String(request.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
      const reply = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(value));
      };
      if (action !== 'SendTaskSuccess' && action !== 'SendTaskFailure') {
        reply(400, { __type: 'UnknownOperationException', message: `not emulated: ${action}` });
        return;
      }
      const error = tokens.answer(action, JSON.parse(body || '{}'));
      if (error === undefined) reply(200, {});
      else
        reply(400, {
          __type: `com.amazonaws.swf.service.v2.model#${error}`,
          message: `${error}: the task token is not waiting`,
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
