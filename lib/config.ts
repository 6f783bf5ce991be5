/**
 * The deployment's configuration: what bin/app.ts reads from CDK context (and CDK_DEFAULT_* from
 * the environment), validated once into a typed object. Constructs take plain props derived from
 * it; nothing under lib/ reads context or process.env.
 */
import { z } from 'zod';
import { blankToUndefined, commaList } from '../shared/config-text';

/** The default schedule: weekly, Monday 00:00 UTC. */
export const DEFAULT_SCHEDULE = 'cron(0 0 ? * MON *)';

/** The context keys the app reads (`-c key=value` or cdk.json "context"). */
export const CONTEXT_KEYS = [
  'vpcIds',
  'schedule',
  'lookbackDays',
  'ports',
  'alertEmails',
  'slackSecretName',
  'slackSecretKmsKeyArn',
  'flowLogGroupPrefix',
  'flowLogKmsKeyArns',
  'athena',
  'reportPrefix',
  'reportRetentionDays',
  'workRetentionDays',
  'logLevel',
  'logRetentionDays',
  'maxConcurrency',
  'suppressionsKey',
  'egressAllowlistKey',
  'alertOn',
  'noChangeDigest',
  'securityHubExport',
  'changeHistory',
  'account',
  'region',
  'stackName',
  'organization',
  'remediation',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** The default key of the suppressions file (accepted risks) in the report bucket. */
export const DEFAULT_SUPPRESSIONS_KEY = 'config/suppressions.yaml';

/** The default key of the egress allow-list (expected external destinations) in the report bucket. */
export const DEFAULT_EGRESS_ALLOWLIST_KEY = 'config/egress-allowlist.yaml';

/** When notify alerts: on new or worse findings only, or after every run. */
export const ALERT_ON = ['changes', 'always'] as const;
export type AlertOn = (typeof ALERT_ON)[number];

/** Days CloudWatch Logs accepts as a retention (logs.RetentionDays values). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface AthenaConfig {
  /** Glue database the flow-log tables live in (created by the app). @default 'sg_audit' */
  readonly database: string;
  /** Athena workgroup (created by the app, results encrypted, configuration enforced). @default 'sg-audit' */
  readonly workGroup: string;
  /** `s3://bucket/prefix/` for query results; the work bucket's `athena-results/` when absent. */
  readonly outputLocation?: string;
  /** `s3://bucket/prefix/` folders of the S3-delivered flow logs the query function may read. */
  readonly flowLogLocations: readonly string[];
}

/** The default name of the member role (the SgAuditMemberRole stack's). */
export const DEFAULT_MEMBER_ROLE_NAME = 'SgAuditMember';

/**
 * An organization deployment: one run audits every (account, region) target through the member
 * role each account holds (the SgAuditMemberRole stack, deployed by a service-managed StackSet).
 */
export interface OrganizationConfig {
  /** 'all': the organization's ACTIVE accounts, listed with Organizations at run time. */
  readonly accounts: 'all' | readonly string[];
  /** Accounts left out (with 'all': e.g. the management account). */
  readonly excludeAccounts: readonly string[];
  readonly regions: readonly string[];
  /** The member role's name in every account. @default DEFAULT_MEMBER_ROLE_NAME */
  readonly roleName: string;
  /** The member role's trust requires it (sts:ExternalId). */
  readonly externalId: string;
  /** The organization's id: the member role trusts principals of this organization only (aws:PrincipalOrgID). */
  readonly organizationId: string;
  /** Targets audited at once (the Distributed Map's maxConcurrency). @default 20 */
  readonly maxConcurrency: number;
  /** Targets a run is sized for (its time limit). @default the listed accounts × regions; with 'all', 1000 × regions */
  readonly maxTargets: number;
}

/** The default opt-in tag of the deployed remediation: only SGs carrying it may be changed. */
export const DEFAULT_REMEDIATION_TAG = { key: 'sg-audit:remediate', value: 'true' } as const;

/**
 * The deployed, approval-gated remediation (off unless `remediation` is given with enabled true):
 * after analyze the workflow plans the changes of the SGs that carry the opt-in tag, waits for a
 * human decision (`sg-audit approve|reject --run ID`) and applies an approved plan.
 */
export interface RemediationConfig {
  /** How long the run waits for the decision; past it the plan expires (a rejection). @default 72 */
  readonly approvalTimeoutHours: number;
  /** The opt-in tag: the apply function may change only SGs carrying it (IAM aws:ResourceTag). @default DEFAULT_REMEDIATION_TAG.key */
  readonly tagKey: string;
  /** @default DEFAULT_REMEDIATION_TAG.value */
  readonly tagValue: string;
  /** The proven verdicts the plan acts on. @default ['narrow', 'remove'] */
  readonly include: readonly ('narrow' | 'remove')[];
}

/** The validated configuration of one deployment. */
export interface AppConfig {
  /** VPCs audited; empty = every VPC of the region. */
  readonly vpcIds: readonly string[];
  /** EventBridge Scheduler expression. @default DEFAULT_SCHEDULE */
  readonly schedule: string;
  /** @default 7 */
  readonly lookbackDays: number;
  /** Port filter (`22,443,1024-2048`); empty = all ports. */
  readonly ports: string;
  /** Email addresses subscribed to the alert topic. */
  readonly alertEmails: readonly string[];
  /** Secrets Manager secret name holding the Slack webhook URL. */
  readonly slackSecretName?: string;
  /**
   * The customer-managed KMS key of the Slack secret (when it is not under Secrets Manager's
   * AWS-managed key): notify may decrypt with it through Secrets Manager only.
   */
  readonly slackSecretKmsKeyArn?: string;
  /** Log-group name prefix the query function may query; every log group when absent. */
  readonly flowLogGroupPrefix?: string;
  /**
   * Customer-managed KMS keys of the S3 flow-log buckets (SSE-KMS): the query function may decrypt
   * with them through S3 only (Athena reads the objects with its credentials). Flow-log LOG GROUPS
   * need none: CloudWatch Logs decrypts their events itself, with the key policy's grant.
   */
  readonly flowLogKmsKeyArns: readonly string[];
  /** Present when S3-delivered flow logs are in scope (queried through Athena). */
  readonly athena?: AthenaConfig;
  /** Key prefix of the reports in the report bucket. @default 'reports' */
  readonly reportPrefix: string;
  /** Days a report (and a noncurrent version) is kept. @default 365 */
  readonly reportRetentionDays: number;
  /** Days run artefacts in the work bucket are kept. @default 14 */
  readonly workRetentionDays: number;
  /** @default 'INFO' */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** @default 90 */
  readonly logRetentionDays: (typeof LOG_RETENTION_DAYS)[number];
  /** Flow-log queries run at once by the workflow. @default 4 */
  readonly maxConcurrency: number;
  /**
   * Key of the suppressions file (YAML or JSON) in the report bucket, outside the report prefix;
   * analyze may read exactly this object. `-c suppressionsKey=security/accepted-risks.yaml`
   * @default DEFAULT_SUPPRESSIONS_KEY
   */
  readonly suppressionsKey: string;
  /**
   * Key of the egress allow-list (YAML or JSON: the external destinations expected) in the report
   * bucket, outside the report prefix; analyze may read exactly this object. Absent, every
   * destination of the egress view is unreviewed. `-c egressAllowlistKey=security/egress.yaml`
   * @default DEFAULT_EGRESS_ALLOWLIST_KEY
   */
  readonly egressAllowlistKey: string;
  /**
   * 'changes': alert when a finding is new or worse than in the previous report; 'always': after
   * every run. `-c alertOn=always` @default 'changes'
   */
  readonly alertOn: AlertOn;
  /**
   * With alertOn 'changes', a short "no change" message when nothing is new or worse (an error
   * with 'always'). `-c noChangeDigest=true` @default false
   */
  readonly noChangeDigest: boolean;
  /**
   * Import findings into Security Hub (the account's default product), granting analyze
   * BatchImportFindings on it. `-c securityHubExport=true` @default false
   */
  readonly securityHubExport: boolean;
  /**
   * Attribute each rule to who last created or widened it: discover reads the security-group
   * change history of CloudTrail's 90-day event history (`cloudtrail:LookupEvents`, granted to
   * discover; an organization's member role holds it). `-c changeHistory=false` @default true
   */
  readonly changeHistory: boolean;
  /** Account of the stack; env-agnostic when absent. */
  readonly account?: string;
  /** Region of the stack; env-agnostic when absent. */
  readonly region?: string;
  /** @default 'SgAudit' */
  readonly stackName: string;
  /** Present for an organization deployment: the targets and the member role. */
  readonly organization?: OrganizationConfig;
  /** Present when the deployed, approval-gated remediation is enabled. */
  readonly remediation?: RemediationConfig;
}

/** A context value is missing or malformed; the message names every bad key. */
export class AppConfigError extends Error {
  override readonly name = 'AppConfigError';
  /** The context keys at fault. */
  readonly keys: readonly string[];

  constructor(problems: readonly { key: string; problem: string }[]) {
    super(
      `invalid sg-audit configuration: ${problems.map((p) => `context '${p.key}' ${p.problem}`).join('; ')}`,
    );
    this.keys = [...new Set(problems.map((p) => p.key))];
  }
}

/** `-c athena={"database":…}` arrives as JSON text. */
const json = (v: unknown): unknown => {
  if (typeof v !== 'string' || v.trim() === '') return blankToUndefined(v);
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};
const wholeNumber = (min: number, max: number, fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );

/** `-c flag=true` arrives as a string; cdk.json may hold a boolean. */
const flagDefaulting = (fallback: boolean) =>
  z.preprocess(
    (v) => {
      if (typeof v !== 'string') return v;
      const text = v.trim().toLowerCase();
      return text === '' ? undefined : text === 'true' ? true : text === 'false' ? false : v;
    },
    z.boolean({ error: 'must be true or false' }).default(fallback),
  );
const flag = flagDefaulting(false);

/**
 * An object key the IAM grant names exactly: S3's safe characters without `*` (a wildcard in a
 * policy's Resource), no leading `/`, no empty, `.` or `..` segment.
 */
const OBJECT_KEY = z
  .string()
  .trim()
  // abort: one message, the first problem, rather than every check failing on one bad value.
  .refine((k) => !/^s3:\/\//i.test(k), {
    message: 'must be an object key in the report bucket, not an s3:// URL',
    abort: true,
  })
  .refine((k) => /^[A-Za-z0-9!_.'()/=+-]{1,1024}$/.test(k), {
    message: "must be an S3 object key of A-Z a-z 0-9 / ! _ . ' ( ) = + - (at most 1024)",
    abort: true,
  })
  .refine((k) => !k.startsWith('/'), { message: 'must not start with /', abort: true })
  .refine((k) => !k.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'), {
    message: 'must not contain .., . or empty path segments',
  });

const S3_FOLDER = z
  .string()
  .regex(
    /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([A-Za-z0-9!_.*'()=-]+\/)*$/,
    'must be an s3://bucket/prefix/ location ending in /',
  );

/**
 * A KMS key ARN (not an alias: an IAM policy's Resource is matched against the key's ARN, so an
 * alias ARN there grants nothing).
 */
const KMS_KEY_ARN = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
    'must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>), not an alias',
  );

const athenaSchema = z.object({
  database: z
    .string()
    .regex(/^[a-z0-9_]{1,255}$/, 'database must be an Athena database name (a-z 0-9 _)')
    .default('sg_audit'),
  workGroup: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'workGroup must be an Athena workgroup name')
    .default('sg-audit'),
  outputLocation: S3_FOLDER.optional(),
  flowLogLocations: z.array(S3_FOLDER).min(1, 'flowLogLocations must name at least one s3:// folder'),
});

const ACCOUNT_ID = z.string().regex(/^\d{12}$/, 'must be 12-digit account ids');
const REGION_NAME = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be region names like eu-west-1');

const organizationSchema = z.object({
  accounts: z.union([z.literal('all'), z.array(ACCOUNT_ID).min(1, 'must list at least one account')], {
    error: "accounts must be 'all' or a list of 12-digit account ids",
  }),
  excludeAccounts: z.array(ACCOUNT_ID).default([]),
  regions: z.array(REGION_NAME).min(1, 'regions must list at least one region'),
  roleName: z
    .string()
    .regex(
      /^[\w+=,.@-]{1,64}$/,
      'roleName must be an IAM role name (1-64 characters of A-Z a-z 0-9 + = , . @ _ -)',
    )
    .default(DEFAULT_MEMBER_ROLE_NAME),
  externalId: z
    .string({ error: 'externalId is required: the member role trusts callers that pass it' })
    .regex(/^[\w+=,.@:/-]{2,1224}$/, 'externalId must be 2-1224 characters of A-Z a-z 0-9 + = , . @ : / _ -'),
  organizationId: z
    .string({
      error: 'organizationId is required: the member role trusts principals of this organization only',
    })
    .regex(/^o-[a-z0-9]{10,32}$/, 'organizationId must be an organization id (o-…)'),
  maxConcurrency: z.number().int().min(1).max(1000, 'maxConcurrency must be at most 1000').default(20),
  maxTargets: z.number().int().min(1).max(100_000).optional(),
});

/** Tag keys and values the IAM condition can name exactly: EC2's characters, no wildcard. */
const TAG_TEXT = /^[A-Za-z0-9 +\-=._:/@]+$/;
const REMEDIATION_KEYS = 'enabled, approvalTimeoutHours, tagKey, tagValue, include';

const remediationSchema = z
  .object(
    {
      enabled: z.boolean({ error: 'must be true or false' }).default(false),
      approvalTimeoutHours: z
        .number({ error: 'must be a whole number of hours' })
        .int('must be a whole number of hours')
        .min(1, 'must be at least 1')
        .max(24 * 30, 'must be at most 720 (30 days)')
        .default(72),
      tagKey: z
        .string({ error: 'must be a tag key' })
        .min(1, 'must be 1-128 characters')
        .max(128, 'must be 1-128 characters')
        .regex(TAG_TEXT, 'must be of A-Z a-z 0-9 space + - = . _ : / @')
        .refine((k) => !k.toLowerCase().startsWith('aws:'), 'must not start with aws: (reserved by AWS)')
        .default(DEFAULT_REMEDIATION_TAG.key),
      tagValue: z
        .string({ error: 'must be a tag value' })
        .min(1, 'must be 1-256 characters')
        .max(256, 'must be 1-256 characters')
        .regex(TAG_TEXT, 'must be of A-Z a-z 0-9 space + - = . _ : / @')
        .default(DEFAULT_REMEDIATION_TAG.value),
      include: z
        .array(
          z.enum(['narrow', 'remove'], { error: "must list 'narrow' and/or 'remove' (proven verdicts)" }),
        )
        .min(1, "must list 'narrow' and/or 'remove' (proven verdicts)")
        .default(['narrow', 'remove']),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `has unknown keys ${issue.keys.join(', ')} (known: ${REMEDIATION_KEYS})`
          : 'must be true, false or an object like {"enabled": true, "approvalTimeoutHours": 72}',
    },
  )
  .strict();

const contextFields = z.object({
  vpcIds: z.preprocess(
    (v) => (v === 'all' ? [] : commaList(v)),
    z.array(z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must list VPC ids (vpc-…) or be "all"')).default([]),
  ),
  schedule: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(
        /^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/,
        'must be a cron(…) or rate(…) expression',
      )
      .refine((s) => !s.startsWith('cron(') || s.slice(5, -1).trim().split(/\s+/).length === 6, {
        message: 'must be a six-field cron (minutes hours day-of-month month day-of-week year)',
      })
      .default(DEFAULT_SCHEDULE),
  ),
  lookbackDays: wholeNumber(1, 366, 7),
  ports: z.preprocess(
    (v) => (Array.isArray(v) ? v.join(',') : (blankToUndefined(v) ?? '')),
    z
      .string()
      .regex(/^(\d{1,5}(-\d{1,5})?)?(,\d{1,5}(-\d{1,5})?)*$/, 'must be a port list like 22,443,1024-2048'),
  ),
  alertEmails: z.preprocess(commaList, z.array(z.email('must list email addresses')).default([])),
  slackSecretName: z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine((v) => !/^https?:/i.test(v), 'must name the Secrets Manager secret, not hold the webhook URL')
      .refine((v) => /^[A-Za-z0-9/_+=.@-]{1,512}$/.test(v), 'must be a secret name')
      .optional(),
  ),
  slackSecretKmsKeyArn: z.preprocess(blankToUndefined, KMS_KEY_ARN.optional()),
  flowLogKmsKeyArns: z.preprocess(commaList, z.array(KMS_KEY_ARN).default([])),
  flowLogGroupPrefix: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_./#-]{1,511}$/, 'must be a log-group name prefix')
      .optional(),
  ),
  athena: z.preprocess(json, athenaSchema.optional()),
  reportPrefix: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'must be an S3 key prefix without leading/trailing /')
      .default('reports'),
  ),
  reportRetentionDays: wholeNumber(1, 3650, 365),
  workRetentionDays: wholeNumber(1, 365, 14),
  logLevel: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toUpperCase() : undefined),
    z
      .enum(['DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be DEBUG, INFO, WARN or ERROR' })
      .default('INFO'),
  ),
  logRetentionDays: z.preprocess(
    blankToUndefined,
    z.coerce
      .number()
      .refine(
        (n): n is (typeof LOG_RETENTION_DAYS)[number] =>
          (LOG_RETENTION_DAYS as readonly number[]).includes(n),
        {
          message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
        },
      )
      .default(90),
  ),
  maxConcurrency: wholeNumber(1, 40, 4),
  suppressionsKey: z.preprocess(blankToUndefined, OBJECT_KEY.default(DEFAULT_SUPPRESSIONS_KEY)),
  egressAllowlistKey: z.preprocess(blankToUndefined, OBJECT_KEY.default(DEFAULT_EGRESS_ALLOWLIST_KEY)),
  alertOn: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined),
    z.enum(ALERT_ON, { error: `must be ${ALERT_ON.join(' or ')}` }).default('changes'),
  ),
  noChangeDigest: flag,
  securityHubExport: flag,
  changeHistory: flagDefaulting(true),
  account: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit account id')
      .optional(),
  ),
  region: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region name like ap-northeast-2')
      .optional(),
  ),
  stackName: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name')
      .default('SgAudit'),
  ),
  organization: z.preprocess(json, organizationSchema.optional()),
  // `-c remediation=true` is the shorthand of { "enabled": true } with the defaults.
  remediation: z.preprocess((v) => {
    const parsed = json(v);
    if (parsed === true || parsed === 'true') return { enabled: true };
    if (parsed === false || parsed === 'false') return { enabled: false };
    return parsed;
  }, remediationSchema.optional()),
});

const contextSchema = contextFields.superRefine((c, ctx) => {
  // Analyze may write under the report prefix, and its lifecycle rule expires what is there.
  for (const name of ['suppressionsKey', 'egressAllowlistKey'] as const) {
    const key = c[name];
    if (key === c.reportPrefix || key.startsWith(`${c.reportPrefix}/`)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `must not be under the report prefix '${c.reportPrefix}/' (reports are written and expired there)`,
      });
    }
  }
  if (c.egressAllowlistKey === c.suppressionsKey) {
    ctx.addIssue({
      code: 'custom',
      path: ['egressAllowlistKey'],
      message: 'must not be the suppressionsKey (the two files have different formats)',
    });
  }
  if (c.slackSecretKmsKeyArn && !c.slackSecretName) {
    ctx.addIssue({
      code: 'custom',
      path: ['slackSecretKmsKeyArn'],
      message: 'applies with slackSecretName only (the key of that secret)',
    });
  }
  if (c.flowLogKmsKeyArns.length > 0 && !c.athena) {
    ctx.addIssue({
      code: 'custom',
      path: ['flowLogKmsKeyArns'],
      message:
        'applies with athena only (the keys of S3 flow-log buckets, read through Athena; flow-log log groups need no key grant)',
    });
  }
  if (c.organization) {
    const o = c.organization;
    if (!c.account) {
      ctx.addIssue({
        code: 'custom',
        path: ['organization'],
        message:
          "needs the central account id (context 'account' or CDK_DEFAULT_ACCOUNT): the member role trusts this account's audit functions",
      });
    }
    if (c.vpcIds.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['vpcIds'],
        message:
          'applies to a single-account deployment only (an organization run audits every VPC of each target)',
      });
    }
    if (c.securityHubExport) {
      ctx.addIssue({
        code: 'custom',
        path: ['securityHubExport'],
        message:
          "applies to a single-account deployment only (BatchImportFindings takes this account's findings only)",
      });
    }
    if (o.accounts !== 'all' && o.excludeAccounts.some((id) => o.accounts.includes(id))) {
      ctx.addIssue({
        code: 'custom',
        path: ['organization', 'excludeAccounts'],
        message: 'names accounts the accounts list holds: leave them out of accounts instead',
      });
    }
  }
  if (c.remediation?.enabled) {
    if (c.organization) {
      ctx.addIssue({
        code: 'custom',
        path: ['remediation'],
        message:
          "applies to a single-account deployment only (the apply function changes this account's SGs; an organization run audits through read-only member roles)",
      });
    }
    // The stored task token must outlive the wait: the work bucket expires its objects.
    if (c.remediation.approvalTimeoutHours > c.workRetentionDays * 24) {
      ctx.addIssue({
        code: 'custom',
        path: ['remediation', 'approvalTimeoutHours'],
        message: `must be at most workRetentionDays × 24 (${c.workRetentionDays * 24}): the work bucket keeps the approval's task token that long`,
      });
    }
  }
  if (c.noChangeDigest && c.alertOn === 'always') {
    ctx.addIssue({
      code: 'custom',
      path: ['noChangeDigest'],
      message: "applies with alertOn 'changes' only (alertOn 'always' alerts after every run)",
    });
  }
});

/**
 * The deployment's configuration from raw context values (strings from `-c`, or JSON from
 * cdk.json); `account`/`region` fall back to CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION.
 *
 * @throws AppConfigError naming every bad context key.
 * @example parseAppConfig({ vpcIds: 'vpc-0123456789abcdef0', alertEmails: 'sec@example.com' }).schedule
 * // 'cron(0 0 ? * MON *)'
 */
export function parseAppConfig(
  context: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>> = {},
): AppConfig {
  const parsed = contextSchema.safeParse({
    ...context,
    account: context.account ?? env.CDK_DEFAULT_ACCOUNT,
    region: context.region ?? env.CDK_DEFAULT_REGION,
  });
  if (!parsed.success) {
    throw new AppConfigError(
      parsed.error.issues.map((issue) => ({
        key: issue.path.map(String).join('.') || '(context)',
        problem: issue.message,
      })),
    );
  }
  const c = parsed.data;
  return {
    vpcIds: [...new Set(c.vpcIds)],
    schedule: c.schedule,
    lookbackDays: c.lookbackDays,
    ports: c.ports,
    alertEmails: [...new Set(c.alertEmails)],
    ...(c.slackSecretName ? { slackSecretName: c.slackSecretName } : {}),
    ...(c.slackSecretKmsKeyArn ? { slackSecretKmsKeyArn: c.slackSecretKmsKeyArn } : {}),
    ...(c.flowLogGroupPrefix ? { flowLogGroupPrefix: c.flowLogGroupPrefix } : {}),
    flowLogKmsKeyArns: [...new Set(c.flowLogKmsKeyArns)],
    ...(c.athena
      ? {
          athena: {
            database: c.athena.database,
            workGroup: c.athena.workGroup,
            ...(c.athena.outputLocation ? { outputLocation: c.athena.outputLocation } : {}),
            flowLogLocations: [...new Set(c.athena.flowLogLocations)],
          },
        }
      : {}),
    reportPrefix: c.reportPrefix,
    reportRetentionDays: c.reportRetentionDays,
    workRetentionDays: c.workRetentionDays,
    logLevel: c.logLevel,
    logRetentionDays: c.logRetentionDays as AppConfig['logRetentionDays'],
    maxConcurrency: c.maxConcurrency,
    suppressionsKey: c.suppressionsKey,
    egressAllowlistKey: c.egressAllowlistKey,
    alertOn: c.alertOn,
    noChangeDigest: c.noChangeDigest,
    securityHubExport: c.securityHubExport,
    changeHistory: c.changeHistory,
    ...(c.account ? { account: c.account } : {}),
    ...(c.region ? { region: c.region } : {}),
    stackName: c.stackName,
    ...(c.organization ? { organization: organizationOf(c.organization) } : {}),
    ...(c.remediation?.enabled
      ? {
          remediation: {
            approvalTimeoutHours: c.remediation.approvalTimeoutHours,
            tagKey: c.remediation.tagKey,
            tagValue: c.remediation.tagValue,
            include: [...new Set(c.remediation.include)],
          },
        }
      : {}),
  };
}

/** The organization settings with their defaults: maxTargets from the accounts and regions. */
function organizationOf(o: z.infer<typeof organizationSchema>): OrganizationConfig {
  const accounts = o.accounts === 'all' ? 'all' : [...new Set(o.accounts)];
  const regions = [...new Set(o.regions)];
  return {
    accounts,
    excludeAccounts: [...new Set(o.excludeAccounts)],
    regions,
    roleName: o.roleName,
    externalId: o.externalId,
    organizationId: o.organizationId,
    maxConcurrency: o.maxConcurrency,
    maxTargets: o.maxTargets ?? (accounts === 'all' ? 1000 : accounts.length) * regions.length,
  };
}
