/**
 * What a Lambda function of the workflow is given: its environment, read ONCE at cold start and
 * validated (a misconfigured function fails its first invocation with a ConfigError naming every
 * bad variable, not deep in an adapter), and its events, validated per invocation. The only file
 * under lambdas/ that reads process.env.
 *
 * Each function requires only the variables it uses (the CDK binds a variable together with the
 * grant it needs): discover/query WORK_BUCKET, analyze WORK_BUCKET + REPORT_BUCKET, notify
 * REPORT_BUCKET and at least one alert channel.
 *
 * Week over week: analyze reads SUPPRESSIONS_KEY (accepted risks, an object in the report bucket),
 * EGRESS_ALLOWLIST_KEY (the expected external destinations, another object there) and
 * SECURITY_HUB_EXPORT; notify reads ALERT_ON and NO_CHANGE_DIGEST. Discover reads
 * CHANGE_HISTORY (CloudTrail's security-group change history, for who opened each rule).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import { z } from 'zod';
import type { AthenaSettings as AthenaFlowTarget } from '../adapters/aws/athena/flow-source';
import type { AdapterLogger } from '../adapters/aws/logger';
import packageJson from '../package.json';
import { blankToUndefined, commaList } from '../shared/config-text';
import { type PortRange, parsePortList } from '../shared/net/ports';

/** The tool version stamped on reports. */
export const TOOL_VERSION: string = packageJson.version;

export type LambdaFunctionName =
  | 'discover'
  | 'query'
  | 'analyze'
  | 'notify'
  | 'targets'
  | 'rollup'
  | 'remediate'
  | 'apply';
export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' | 'CRITICAL';

/** When a finished run alerts: on new or worse findings (and the first run), or every run. */
export type AlertOn = 'changes' | 'always';

/** The query function's Athena settings: the workgroup is always named ('primary' when unset). */
export interface AthenaSettings extends AthenaFlowTarget {
  /** @default 'primary' */
  readonly workGroup: string;
}

export interface LambdaConfig {
  readonly workBucket?: string;
  readonly reportBucket?: string;
  /** @default 'reports' */
  readonly reportPrefix: string;
  /** KMS key for SSE-KMS of work and report objects; SSE-S3 without it. */
  readonly kmsKeyId?: string;
  readonly alertTopicArn?: string;
  /** The Secrets Manager secret (name or ARN) holding the Slack webhook URL — never the URL. */
  readonly slackSecretId?: string;
  /** Present when ATHENA_DATABASE is set: S3-delivered flow logs are queried through Athena. */
  readonly athena?: AthenaSettings;
  /** @default 7 */
  readonly lookbackDays: number;
  /** Server ports analysed; empty = all. */
  readonly ports: readonly PortRange[];
  /** VPCs audited when the event names none; empty = every VPC of the region. */
  readonly vpcIds: readonly string[];
  /** Log-group name prefix the query role may query (discover plans no other group); every group when unset. */
  readonly flowLogGroupPrefix?: string;
  /** `s3://bucket/prefix/` folders the query role may read (discover plans no other S3 flow log); every folder when unset. */
  readonly flowLogLocations?: readonly string[];
  /** @default 'INFO' */
  readonly logLevel: LogLevel;
  /** @default 'sg-audit' */
  readonly serviceName: string;
  /** AWS_REGION, set by Lambda. */
  readonly region?: string;
  /** Key of the suppressions file (YAML or JSON) in the report bucket; none when unset. */
  readonly suppressionsKey?: string;
  /**
   * Key of the egress allow-list (YAML or JSON) in the report bucket (EGRESS_ALLOWLIST_KEY): the
   * external destinations expected; none when unset (every destination is unreviewed).
   */
  readonly egressAllowlistKey?: string;
  /** Export the findings to Security Hub after the report is stored. @default false */
  readonly securityHubExport: boolean;
  /** @default 'changes' */
  readonly alertOn: AlertOn;
  /** With alertOn 'changes': send a short "no change" digest when nothing is new or worse. @default false */
  readonly noChangeDigest: boolean;
  /**
   * Discover reads the security-group change history (CloudTrail LookupEvents) for who opened
   * each rule (CHANGE_HISTORY). @default true
   */
  readonly changeHistory: boolean;
  /**
   * The member role an organization run's target steps assume (MEMBER_ROLE_NAME,
   * MEMBER_EXTERNAL_ID): present in an organization deployment.
   */
  readonly memberRole?: { readonly roleName: string; readonly externalId?: string };
  /**
   * The targets of an organization run (the targets function: ORG_ACCOUNTS, ORG_REGIONS,
   * ORG_EXCLUDE_ACCOUNTS): 'all' lists the organization's active accounts at run time.
   */
  readonly organization?: {
    readonly accounts: 'all' | readonly string[];
    readonly excludeAccounts: readonly string[];
    readonly regions: readonly string[];
  };
  /**
   * The deployed remediation (REMEDIATION_TAG_KEY, REMEDIATION_TAG_VALUE, REMEDIATION_INCLUDE,
   * APPROVAL_TIMEOUT_SECONDS): the remediate function's opt-in tag, verdicts and approval wait.
   */
  readonly remediation?: {
    readonly tag: { readonly key: string; readonly value: string };
    readonly include: readonly ('narrow' | 'remove')[];
    readonly approvalTimeoutSeconds: number;
  };
}

/** What each function must be given, as LambdaConfig fields. */
interface RequiredByFunction {
  discover: 'workBucket';
  query: 'workBucket';
  analyze: 'workBucket' | 'reportBucket';
  notify: 'reportBucket';
  targets: 'workBucket' | 'organization';
  rollup: 'workBucket' | 'reportBucket';
  remediate: 'workBucket' | 'reportBucket' | 'remediation';
  apply: 'reportBucket';
}

export type FunctionConfig<F extends LambdaFunctionName> = LambdaConfig & {
  readonly [K in RequiredByFunction[F]]-?: NonNullable<LambdaConfig[K]>;
};

const REQUIRED: { readonly [F in LambdaFunctionName]: readonly (keyof LambdaConfig & string)[] } = {
  discover: ['workBucket'],
  query: ['workBucket'],
  analyze: ['workBucket', 'reportBucket'],
  notify: ['reportBucket'],
  targets: ['workBucket', 'organization'],
  rollup: ['workBucket', 'reportBucket'],
  remediate: ['workBucket', 'reportBucket', 'remediation'],
  apply: ['reportBucket'],
};

/** LambdaConfig field → its environment variable, for messages. */
const VARIABLE: Readonly<Record<string, string>> = {
  workBucket: 'WORK_BUCKET',
  reportBucket: 'REPORT_BUCKET',
  organization: 'ORG_REGIONS',
  remediation: 'REMEDIATION_TAG_KEY',
};

/** One or more environment variables are missing or malformed; `variables` names them. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variables: readonly string[];

  constructor(problems: readonly { variable: string; problem: string }[]) {
    super(`invalid function configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`);
    this.variables = [...new Set(problems.map((p) => p.variable))];
  }
}

/** An event (state input) that is not what the step takes; names the bad fields. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  /** Dotted paths of the bad fields ('query.kind'). */
  readonly fields: readonly string[];

  constructor(message: string, fields: readonly string[]) {
    super(message);
    this.fields = fields;
  }
}

const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

const BUCKET = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'must be an S3 bucket name (3-63 lower-case letters, digits, . -)',
  );
/** 'true'/'false' (any case, blank = the default); anything else is a mistake worth failing on. */
const flag = (defaultValue: boolean) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined),
    z
      .enum(['true', 'false'], { error: "must be 'true' or 'false'" })
      .default(defaultValue ? 'true' : 'false'),
  );
/** An object key of REPORT_BUCKET (the suppressions file, the egress allow-list). */
const REPORT_OBJECT_KEY = z
  .string()
  .trim()
  .refine((k) => !/^s3:\/\//i.test(k), 'must be an object key in REPORT_BUCKET, not an s3:// URL')
  .refine(
    (k) => /^[A-Za-z0-9!_.*'()/=+-]{1,1024}$/.test(k) && !k.startsWith('/'),
    "must be an S3 object key (A-Z a-z 0-9 / ! _ . * ' ( ) = + -, no leading /)",
  )
  .refine((k) => !k.split('/').some((s) => s === '..' || s === ''), 'must not contain .. or empty segments');

const ALERT_ON = ['changes', 'always'] as const;

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL'] as const;

const envSchema = z.object({
  WORK_BUCKET: optional(BUCKET),
  REPORT_BUCKET: optional(BUCKET),
  REPORT_PREFIX: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()/-]{1,512}$/, "must be an S3 key prefix (A-Z a-z 0-9 / ! _ . * ' ( ) -)")
      .refine((p) => !p.split('/').some((s) => s === '..'), 'must not contain ..')
      .default('reports'),
  ),
  KMS_KEY_ID: optional(z.string().regex(/^[A-Za-z0-9:/_-]{1,2048}$/, 'must be a KMS key id, ARN or alias')),
  ALERT_TOPIC_ARN: optional(
    z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
        'must be an SNS topic ARN',
      ),
  ),
  SLACK_SECRET_ID: optional(
    z
      .string()
      // The webhook URL is a credential: refuse it here and never echo it.
      .refine(
        (v) => !/^https?:/i.test(v.trim()),
        'must name the Secrets Manager secret, not hold the webhook URL',
      )
      .refine((v) => /^[A-Za-z0-9/_+=.@:-]{1,2048}$/.test(v), 'must be a secret name or ARN'),
  ),
  ATHENA_DATABASE: optional(
    z.string().regex(/^[a-z0-9_]{1,255}$/, 'must be an Athena database name (a-z 0-9 _)'),
  ),
  ATHENA_WORKGROUP: optional(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be an Athena workgroup name')),
  ATHENA_OUTPUT: optional(
    z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be an s3:// location'),
  ),
  LOOKBACK_DAYS: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a whole number of days' })
      .int('must be a whole number of days')
      .min(1, 'must be at least 1 day')
      .max(366, 'must be at most 366 days')
      .default(7),
  ),
  PORTS: z.preprocess(blankToUndefined, z.string().optional()).transform((text, ctx): PortRange[] => {
    try {
      return text === undefined ? [] : parsePortList(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      ctx.addIssue({ code: 'custom', message: `must be a port list like 22,443,1024-2048: ${reason}` });
      return z.NEVER;
    }
  }),
  VPC_IDS: z.preprocess(
    commaList,
    z
      .array(z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must list VPC ids (vpc-…), comma-separated'))
      .default([]),
  ),
  FLOW_LOG_GROUP_PREFIX: optional(
    z.string().regex(/^[A-Za-z0-9_./#-]{1,511}$/, 'must be a log-group name prefix'),
  ),
  FLOW_LOG_LOCATIONS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : commaList(v)),
    z
      .array(
        z
          .string()
          .regex(
            /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([^/]+\/)*$/,
            'must list s3://bucket/prefix/ folders (ending in /), comma-separated',
          ),
      )
      .optional(),
  ),
  LOG_LEVEL: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toUpperCase() : undefined),
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('INFO'),
  ),
  POWERTOOLS_SERVICE_NAME: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a service name (A-Z a-z 0-9 . _ -)')
      .default('sg-audit'),
  ),
  AWS_REGION: optional(z.string()),
  SUPPRESSIONS_KEY: optional(REPORT_OBJECT_KEY),
  EGRESS_ALLOWLIST_KEY: optional(REPORT_OBJECT_KEY),
  SECURITY_HUB_EXPORT: flag(false),
  ALERT_ON: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined),
    z.enum(ALERT_ON, { error: `must be one of ${ALERT_ON.join(', ')}` }).default('changes'),
  ),
  NO_CHANGE_DIGEST: flag(false),
  CHANGE_HISTORY: flag(true),
  MEMBER_ROLE_NAME: optional(
    z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (1-64 characters of A-Z a-z 0-9 + = , . @ _ -)'),
  ),
  MEMBER_EXTERNAL_ID: optional(
    z
      .string()
      .regex(
        /^[\w+=,.@:/-]{2,1224}$/,
        'must be an STS external id (2-1224 characters of A-Z a-z 0-9 + = , . @ : / _ -)',
      ),
  ),
  ORG_ACCOUNTS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim().toLowerCase() === 'all' ? 'all' : commaList(v)),
    z
      .union([
        z.literal('all'),
        z.array(z.string().regex(/^\d{12}$/, "must list 12-digit account ids, comma-separated, or be 'all'")),
      ])
      .optional(),
  ),
  ORG_EXCLUDE_ACCOUNTS: z.preprocess(
    commaList,
    z.array(z.string().regex(/^\d{12}$/, 'must list 12-digit account ids, comma-separated')).default([]),
  ),
  ORG_REGIONS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : commaList(v)),
    z
      .array(
        z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must list region names like eu-west-1, comma-separated'),
      )
      .min(1, 'must list at least one region')
      .optional(),
  ),
  REMEDIATION_TAG_KEY: optional(
    z
      .string()
      .regex(
        /^[A-Za-z0-9 +\-=._:/@]{1,128}$/,
        'must be a tag key (1-128 of A-Z a-z 0-9 space + - = . _ : / @)',
      ),
  ),
  REMEDIATION_TAG_VALUE: optional(
    z
      .string()
      .regex(
        /^[A-Za-z0-9 +\-=._:/@]{1,256}$/,
        'must be a tag value (1-256 of A-Z a-z 0-9 space + - = . _ : / @)',
      ),
  ),
  REMEDIATION_INCLUDE: z.preprocess(
    commaList,
    z
      .array(z.enum(['narrow', 'remove'], { error: "must list 'narrow' and/or 'remove', comma-separated" }))
      .min(1, "must list 'narrow' and/or 'remove'")
      .default(['narrow', 'remove']),
  ),
  APPROVAL_TIMEOUT_SECONDS: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a whole number of seconds' })
      .int('must be a whole number of seconds')
      .min(1, 'must be at least 1 second')
      .max(31_536_000, 'must be at most a year')
      .default(259_200),
  ),
});

/**
 * The configuration of one function, from its environment.
 *
 * @throws ConfigError naming every missing or malformed variable.
 * @example const config = loadConfig('discover'); // config.workBucket: string
 */
export function loadConfig<F extends LambdaFunctionName>(
  fn: F,
  env: Readonly<Record<string, string | undefined>> = process.env,
): FunctionConfig<F> {
  const problems: { variable: string; problem: string }[] = [];
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ variable: String(issue.path[0] ?? '?'), problem: issue.message });
    }
  }
  const isSet = (name: string): boolean => (env[name] ?? '').trim() !== '';
  for (const field of REQUIRED[fn]) {
    const variable = VARIABLE[field] ?? field;
    if (!isSet(variable))
      problems.push({ variable, problem: `is required by the ${fn} function and not set` });
  }
  if ((fn === 'notify' || fn === 'remediate') && !isSet('ALERT_TOPIC_ARN') && !isSet('SLACK_SECRET_ID')) {
    problems.push({
      variable: 'ALERT_TOPIC_ARN',
      problem: `or SLACK_SECRET_ID is required by the ${fn} function (no alert channel is configured)`,
    });
  }
  if (isSet('REMEDIATION_TAG_KEY') !== isSet('REMEDIATION_TAG_VALUE')) {
    problems.push({
      variable: isSet('REMEDIATION_TAG_KEY') ? 'REMEDIATION_TAG_VALUE' : 'REMEDIATION_TAG_KEY',
      problem: 'is required with REMEDIATION_TAG_KEY and REMEDIATION_TAG_VALUE (the opt-in tag needs both)',
    });
  }
  if (isSet('ORG_REGIONS') !== isSet('ORG_ACCOUNTS')) {
    problems.push({
      variable: isSet('ORG_REGIONS') ? 'ORG_ACCOUNTS' : 'ORG_REGIONS',
      problem: 'is required with ORG_ACCOUNTS and ORG_REGIONS (an organization run needs both)',
    });
  }
  if (isSet('MEMBER_EXTERNAL_ID') && !isSet('MEMBER_ROLE_NAME')) {
    problems.push({ variable: 'MEMBER_ROLE_NAME', problem: 'is required when MEMBER_EXTERNAL_ID is set' });
  }
  if (!isSet('ATHENA_DATABASE') && (isSet('ATHENA_WORKGROUP') || isSet('ATHENA_OUTPUT'))) {
    problems.push({
      variable: 'ATHENA_DATABASE',
      problem: 'is required when ATHENA_WORKGROUP or ATHENA_OUTPUT is set',
    });
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const config: LambdaConfig = {
    ...(e.WORK_BUCKET ? { workBucket: e.WORK_BUCKET } : {}),
    ...(e.REPORT_BUCKET ? { reportBucket: e.REPORT_BUCKET } : {}),
    reportPrefix: e.REPORT_PREFIX.replace(/^\/+|\/+$/g, ''),
    ...(e.KMS_KEY_ID ? { kmsKeyId: e.KMS_KEY_ID } : {}),
    ...(e.ALERT_TOPIC_ARN ? { alertTopicArn: e.ALERT_TOPIC_ARN } : {}),
    ...(e.SLACK_SECRET_ID ? { slackSecretId: e.SLACK_SECRET_ID.trim() } : {}),
    ...(e.ATHENA_DATABASE
      ? {
          athena: {
            database: e.ATHENA_DATABASE,
            workGroup: e.ATHENA_WORKGROUP ?? 'primary',
            ...(e.ATHENA_OUTPUT ? { outputLocation: e.ATHENA_OUTPUT } : {}),
          },
        }
      : {}),
    lookbackDays: e.LOOKBACK_DAYS,
    ports: e.PORTS,
    vpcIds: [...new Set(e.VPC_IDS)],
    ...(e.FLOW_LOG_GROUP_PREFIX ? { flowLogGroupPrefix: e.FLOW_LOG_GROUP_PREFIX } : {}),
    ...(e.FLOW_LOG_LOCATIONS ? { flowLogLocations: [...new Set(e.FLOW_LOG_LOCATIONS)] } : {}),
    logLevel: e.LOG_LEVEL,
    serviceName: e.POWERTOOLS_SERVICE_NAME,
    ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
    ...(e.SUPPRESSIONS_KEY ? { suppressionsKey: e.SUPPRESSIONS_KEY } : {}),
    ...(e.EGRESS_ALLOWLIST_KEY ? { egressAllowlistKey: e.EGRESS_ALLOWLIST_KEY } : {}),
    securityHubExport: e.SECURITY_HUB_EXPORT === 'true',
    alertOn: e.ALERT_ON,
    noChangeDigest: e.NO_CHANGE_DIGEST === 'true',
    changeHistory: e.CHANGE_HISTORY === 'true',
    ...(e.MEMBER_ROLE_NAME
      ? {
          memberRole: {
            roleName: e.MEMBER_ROLE_NAME,
            ...(e.MEMBER_EXTERNAL_ID ? { externalId: e.MEMBER_EXTERNAL_ID } : {}),
          },
        }
      : {}),
    ...(e.ORG_ACCOUNTS && e.ORG_REGIONS
      ? {
          organization: {
            accounts: e.ORG_ACCOUNTS === 'all' ? 'all' : [...new Set(e.ORG_ACCOUNTS)],
            excludeAccounts: [...new Set(e.ORG_EXCLUDE_ACCOUNTS)],
            regions: [...new Set(e.ORG_REGIONS)],
          },
        }
      : {}),
    ...(e.REMEDIATION_TAG_KEY && e.REMEDIATION_TAG_VALUE
      ? {
          remediation: {
            tag: { key: e.REMEDIATION_TAG_KEY, value: e.REMEDIATION_TAG_VALUE },
            include: [...new Set(e.REMEDIATION_INCLUDE)],
            approvalTimeoutSeconds: e.APPROVAL_TIMEOUT_SECONDS,
          },
        }
      : {}),
  };
  return config as FunctionConfig<F>;
}

/**
 * Validates a step's event against its schema.
 *
 * @throws InvalidEventError naming each bad field ('query.kind: …').
 * @example const event = parseEvent(discoverEventSchema, rawEvent);
 */
export function parseEvent<T extends z.ZodType>(schema: T, event: unknown): z.output<T> {
  const parsed = schema.safeParse(event ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
  throw new InvalidEventError(
    `invalid event: ${problems.join('; ')}`,
    parsed.error.issues.map((i) => i.path.join('.')),
  );
}

export type { AdapterLogger } from '../adapters/aws/logger';

/**
 * The stack key as the S3 adapters' `kmsKeyId` option: what they write is SSE-KMS under it, or
 * SSE-S3 when the stack has none.
 *
 * @example const store = new S3WorkStore({ s3, bucket: config.workBucket, ...kmsKeyOf(config) });
 */
export function kmsKeyOf(config: LambdaConfig): { kmsKeyId?: string } {
  return config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {};
}

/**
 * The function's Powertools Logger (service name and level from the config), and the same logger
 * in the adapters' shape: Powertools types its extra arguments as a rest tuple that
 * `(message, extra?: object)` does not match, though it logs such an object as keys.
 *
 * @example const { logger, adapterLogger } = createLoggers(config);
 */
export function createLoggers(config: LambdaConfig): { logger: Logger; adapterLogger: AdapterLogger } {
  const logger = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel });
  const extras = (extra?: object): LogAttributes[] => (extra === undefined ? [] : [extra as LogAttributes]);
  return {
    logger,
    adapterLogger: {
      debug: (message, extra) => logger.debug(message, ...extras(extra)),
      info: (message, extra) => logger.info(message, ...extras(extra)),
      warn: (message, extra) => logger.warn(message, ...extras(extra)),
      error: (message, extra) => logger.error(message, ...extras(extra)),
    },
  };
}
