/**
 * The flow aggregation of shared/flow/aggregate-sql.ts written in CloudWatch Logs Insights QL,
 * for flow logs delivered to CloudWatch Logs. One query per log group (or ≤ 50 log groups of one
 * format) and window covers every ENI in scope and returns the same logical rows as the SQL: one
 * per (ENI, action, protocol, client, server, server port[, client port]) with the same sums.
 *
 * Logs Insights QL has no CASE, IF or boolean-to-number conversion, and comparisons only filter.
 * So every per-record decision of the SQL is arithmetic on 0/1 indicators built from documented
 * functions only (`least`, `greatest`, `abs`, `floor`, `%`), and the choice between two addresses
 * is a `substr` of `concat(srcAddr, dstAddr)` at an offset of 0 or `strlen(srcAddr)`:
 *  - `[x > 0]` of an integer x is `least(greatest(x, 0), 1)`; `[a = b]` is `1 - least(abs(a - b), 1)`;
 *  - tcp-flags bits are arithmetic: SYN = `floor(flags / 2) % 2`, ACK = `floor(flags / 16) % 2`
 *    (`flags & 18` is 2 or 18 exactly when the SYN bit is set);
 *  - "no port" (portless protocols, decided rows' client port) is the sentinel -1, read back as null.
 *
 * What Logs Insights cannot say exactly, and how the result stays equal to the SQL's:
 *  - Equal ports (undecided): the SQL makes the lower address (string order) the client. Logs
 *    Insights cannot compare strings into a value, so the query keeps the source as client and
 *    {@link parseInsightsResults} reorients such rows by address and merges the two directions —
 *    the same rows as the SQL. Only then may a connection take two result rows instead of one.
 *  - `distinct_client_ports` is `count_distinct`, which Logs Insights documents as approximate
 *    for high cardinalities; merging partial aggregates ({@link mergeFlowAggregates}) sums it, an
 *    upper bound capped at the merged record count.
 *  - The SQL leaves out data records lacking a value (`-`) the fold needs; AWS writes none with
 *    log-status OK, so the query only keeps OK records and has no further NULL checks.
 *  - Packet-level addresses (`pkt-srcaddr`/`pkt-dstaddr`) replace srcaddr/dstaddr where not `-`,
 *    as the SQL's COALESCE does. The server's AWS service (`pkt-*-aws-service`) is a `by` key,
 *    read only when the format has both fields (the SQL takes its max, with either): rows of one
 *    connection that differ by it alone (AWS naming it on some records only) merge in
 *    {@link parseInsightsResults}, their distinct client ports summed, an upper bound.
 *
 * The query text is rendered from {@link planInsightsQuery}, a plan held as data (expression
 * trees), so tests can evaluate exactly the expressions the query sends.
 */
import { InvalidValueError } from '../errors';
import type { FlowAggregate, FoldEvidence, TimeWindow } from '../model/flow';
import {
  awsServiceOfCell,
  flowAggregateFromRow,
  PORTED_PROTOCOLS,
  type ResultCell,
  WELL_KNOWN_PORT_LIMIT,
} from './aggregate-sql';
import { hasField, requiredFieldsMissing } from './format';

/** StartQuery's queryString limit (characters). */
export const MAX_INSIGHTS_QUERY_LENGTH = 10_000;
/** Rows per query: the most Logs Insights QL returns with nextToken paging (since 2026), so a
 * week of aggregates rarely needs a window split (each split re-scans its half). */
export const DEFAULT_INSIGHTS_LIMIT = 100_000;
export const MAX_INSIGHTS_LIMIT = 100_000;
/** Log groups one StartQuery may name. */
export const MAX_LOG_GROUPS_PER_QUERY = 50;
/** The value standing for "no port" in query results. */
export const NO_PORT = -1;

/** The names Logs Insights discovers for the default format's fields. */
const DISCOVERED_NAMES: Readonly<Record<string, string>> = {
  version: 'version',
  'account-id': 'accountId',
  'interface-id': 'interfaceId',
  srcaddr: 'srcAddr',
  dstaddr: 'dstAddr',
  srcport: 'srcPort',
  dstport: 'dstPort',
  protocol: 'protocol',
  packets: 'packets',
  bytes: 'bytes',
  start: 'start',
  end: 'end',
  action: 'action',
  'log-status': 'logStatus',
};

/**
 * The Logs Insights field name of a flow-log field: the discovered name for default-format fields,
 * camelCase of the hyphenated name otherwise (what {@link planInsightsQuery} parses it as).
 *
 * @example insightsFieldName('tcp-flags') // 'tcpFlags'
 */
export function insightsFieldName(flowField: string): string {
  const hyphenated = flowField.replaceAll('_', '-');
  return (
    DISCOVERED_NAMES[hyphenated] ??
    hyphenated.replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase())
  );
}

// ---------------------------------------------------------------------------------------------
// The plan: expressions as data

export type InsightsArithmetic = '+' | '-' | '*' | '/' | '%';
export type InsightsComparison = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type InsightsFunction = 'abs' | 'floor' | 'least' | 'greatest' | 'strlen' | 'concat' | 'substr';

/** A Logs Insights QL expression, limited to the documented operators and functions used here. */
export type InsightsExpr =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'field'; readonly name: string }
  | {
      readonly kind: 'arithmetic';
      readonly op: InsightsArithmetic;
      readonly left: InsightsExpr;
      readonly right: InsightsExpr;
    }
  | {
      readonly kind: 'compare';
      readonly op: InsightsComparison;
      readonly left: InsightsExpr;
      readonly right: InsightsExpr;
    }
  | { readonly kind: 'logical'; readonly op: 'and' | 'or'; readonly operands: readonly InsightsExpr[] }
  | { readonly kind: 'in'; readonly subject: InsightsExpr; readonly values: readonly string[] }
  | { readonly kind: 'call'; readonly fn: InsightsFunction; readonly args: readonly InsightsExpr[] };

/** One computed field of a `fields` command. */
export interface InsightsComputedField {
  readonly name: string;
  readonly expr: InsightsExpr;
}

export type InsightsAggregateFunction = 'count' | 'sum' | 'min' | 'max' | 'count_distinct';

/** One aggregation of the `stats` command; `field` undefined = `count(*)`. */
export interface InsightsAggregation {
  readonly fn: InsightsAggregateFunction;
  readonly field?: string;
  readonly as: string;
}

/** Everything the query does, in order; {@link renderInsightsQuery} turns it into text. */
export interface InsightsQueryPlan {
  /** `parse @message "<pattern>" as <names>`, for every format (discovered names are not relied on). */
  readonly parse: { readonly pattern: string; readonly names: readonly string[] };
  /** Which records are read: data records of the window and ENIs. */
  readonly scanFilter: InsightsExpr;
  /** Computed fields, one `fields` command per stage: a stage reads the stages before it. */
  readonly stages: readonly (readonly InsightsComputedField[])[];
  /** The server-port filter of FlowQuery.ports, applied to the folded record. */
  readonly portFilter?: InsightsExpr;
  readonly aggregations: readonly InsightsAggregation[];
  readonly groupBy: readonly string[];
  readonly limit: number;
}

export interface InsightsQueryOptions {
  /** The flow-log fields of the log group's format, in order (hyphenated or underscored). */
  readonly fields: readonly string[];
  /** ENIs in scope; empty or absent = all. */
  readonly eniIds?: readonly string[];
  /** Server-port ranges (inclusive) to keep; empty or absent = all. */
  readonly ports?: readonly { readonly from: number; readonly to: number }[];
  /** Records whose `start` lies in the window (epoch seconds, both ends inclusive); absent = all. */
  readonly window?: TimeWindow;
  /** Result rows asked for (`| limit`). @default 10000 */
  readonly limit?: number;
}

const num = (value: number): InsightsExpr => ({ kind: 'number', value });
const field = (name: string): InsightsExpr => ({ kind: 'field', name });
const str = (value: string): InsightsExpr => ({ kind: 'string', value });
const call = (fn: InsightsFunction, ...args: InsightsExpr[]): InsightsExpr => ({ kind: 'call', fn, args });
const isNumber = (e: InsightsExpr, value: number): boolean => e.kind === 'number' && e.value === value;

/** Arithmetic with the constant folding that keeps the text short (x*1, x*0, x+0, 1-0 …). */
function arith(op: InsightsArithmetic, left: InsightsExpr, right: InsightsExpr): InsightsExpr {
  if (left.kind === 'number' && right.kind === 'number' && op !== '/' && op !== '%') {
    const value =
      op === '+'
        ? left.value + right.value
        : op === '-'
          ? left.value - right.value
          : left.value * right.value;
    return num(value);
  }
  if (op === '*') {
    if (isNumber(left, 0) || isNumber(right, 0)) return num(0);
    if (isNumber(left, 1)) return right;
    if (isNumber(right, 1)) return left;
  }
  if (op === '+' && isNumber(left, 0)) return right;
  if ((op === '+' || op === '-') && isNumber(right, 0)) return left;
  return { kind: 'arithmetic', op, left, right };
}
const add = (...terms: InsightsExpr[]): InsightsExpr => terms.reduce((sum, t) => arith('+', sum, t));
const sub = (a: InsightsExpr, b: InsightsExpr): InsightsExpr => arith('-', a, b);
const mul = (...factors: InsightsExpr[]): InsightsExpr =>
  factors.reduce((product, f) => arith('*', product, f));
const not = (indicator: InsightsExpr): InsightsExpr => sub(num(1), indicator);
const compare = (op: InsightsComparison, left: InsightsExpr, right: InsightsExpr): InsightsExpr => ({
  kind: 'compare',
  op,
  left,
  right,
});
const and = (...operands: InsightsExpr[]): InsightsExpr =>
  operands.length === 1 ? (operands[0] as InsightsExpr) : { kind: 'logical', op: 'and', operands };
const or = (...operands: InsightsExpr[]): InsightsExpr =>
  operands.length === 1 ? (operands[0] as InsightsExpr) : { kind: 'logical', op: 'or', operands };

/** `[x > 0]` for an integer x: 1 or 0. */
const positive = (x: InsightsExpr): InsightsExpr => call('least', call('greatest', x, num(0)), num(1));
/** `c ? a : b` for an indicator c (0 or 1) and numbers a, b. */
const choose = (c: InsightsExpr, a: InsightsExpr, b: InsightsExpr): InsightsExpr =>
  add(mul(c, a), mul(not(c), b));
/** `c ? a : b` for an indicator c and two text values: a substring of their concatenation. */
function chooseText(c: InsightsExpr, a: InsightsExpr, b: InsightsExpr): InsightsExpr {
  const lengthA = call('strlen', a);
  const lengthB = call('strlen', b);
  return call('substr', call('concat', a, b), mul(not(c), lengthA), choose(c, lengthA, lengthB));
}
/** `[text is the log's "-"]`: 1 for `-` (or nothing), 0 for an address or a name. */
const isDash = (text: InsightsExpr): InsightsExpr => not(positive(sub(call('strlen', text), num(1))));
/** `x in ranges` as comparisons. */
function inRanges(x: InsightsExpr, ranges: readonly { from: number; to: number }[]): InsightsExpr {
  return or(
    ...ranges.map((r) =>
      r.from === r.to
        ? compare('=', x, num(r.from))
        : and(compare('>=', x, num(r.from)), compare('<=', x, num(r.to))),
    ),
  );
}

/** A sorted, de-duplicated list of the ENI ids, each checked to need no quoting. */
function validEniIds(eniIds: readonly string[]): string[] {
  for (const id of eniIds) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(id)) {
      throw new InvalidValueError(`'${id}' is not an ENI id`, { field: 'eniIds' });
    }
  }
  return [...new Set(eniIds)];
}

function validInteger(value: number, what: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidValueError(`expected an integer in ${min}..${max}, got ${value}`, { field: what });
  }
  return value;
}

function validPorts(
  ports: readonly { readonly from: number; readonly to: number }[],
): { from: number; to: number }[] {
  return ports.map((r) => {
    validInteger(r.from, 'ports.from', 0, 65535);
    validInteger(r.to, 'ports.to', r.from, 65535);
    return { from: r.from, to: r.to };
  });
}

/** The computed fields and aggregations read from the fold of one record. */
const F = {
  hasPorts: 'hp',
  srcWellKnown: 'ls',
  dstWellKnown: 'ld',
  srcNotLower: 'ge',
  syn: 'sb',
  ack: 'ab',
  byFlags: 'fb',
  byWellKnown: 'wk',
  undecided: 'un',
  isSyn: 'syn',
  isRequest: 'req',
  evidenceRank: 'er',
  observedClientPort: 'oc',
  serverPort: 'server_port',
  clientPort: 'client_port',
  clientAddr: 'client_addr',
  serverAddr: 'server_addr',
  srcAddr: 'sa',
  dstAddr: 'da',
  serverService: 'server_service',
  clientService: 'client_service',
} as const;

/** Result columns of the query that differ from FLOW_AGGREGATE_COLUMNS (stats aliases must not shadow fields). */
const RESULT_COLUMNS: Readonly<Record<string, string>> = {
  interfaceId: 'eni_id',
  packet_count: 'packets',
  byte_count: 'bytes',
};

/**
 * The query as data: parse (custom formats), scan filter, the per-record fold as computed fields,
 * the port filter, and the `stats … by` of the FlowAggregate columns.
 *
 * @throws InvalidValueError for a format lacking a field the fold needs, a malformed ENI id,
 *   port range, window or limit.
 * @example planInsightsQuery({ fields: DEFAULT_FIELDS, eniIds: ['eni-0a1b2c3d'], limit: 10000 }).groupBy
 */
export function planInsightsQuery(options: InsightsQueryOptions): InsightsQueryPlan {
  const missing = requiredFieldsMissing(options.fields);
  if (missing.length > 0) {
    throw new InvalidValueError(`the flow-log format lacks ${missing.join(', ')}`, { field: 'fields' });
  }
  const limit = validInteger(options.limit ?? DEFAULT_INSIGHTS_LIMIT, 'limit', 1, MAX_INSIGHTS_LIMIT);
  const eniIds = validEniIds(options.eniIds ?? []);
  const ports = validPorts(options.ports ?? []);
  const withFlags = hasField(options.fields, 'tcp-flags');
  const name = (flowField: string): InsightsExpr => field(insightsFieldName(flowField));
  // The packet-level address where the format has it and the record holds one (not `-`).
  const packetAddresses = (['srcaddr', 'dstaddr'] as const)
    .filter((a) => hasField(options.fields, `pkt-${a}`))
    .map((a) => ({
      name: a === 'srcaddr' ? F.srcAddr : F.dstAddr,
      expr: chooseText(isDash(name(`pkt-${a}`)), name(a), name(`pkt-${a}`)),
    }));
  const address = (a: 'srcaddr' | 'dstaddr'): InsightsExpr =>
    packetAddresses.some((p) => p.name === (a === 'srcaddr' ? F.srcAddr : F.dstAddr))
      ? field(a === 'srcaddr' ? F.srcAddr : F.dstAddr)
      : name(a);
  // The AWS service of the server's address: pkt-dst-aws-service of requests, pkt-src-aws-service
  // of replies. Only with both: the service is a group key here (text has no max()), and with one
  // field a connection's replies would name none, splitting every connection in two groups.
  const withServices =
    hasField(options.fields, 'pkt-src-aws-service') && hasField(options.fields, 'pkt-dst-aws-service');
  const service = (side: 'src' | 'dst'): InsightsExpr => name(`pkt-${side}-aws-service`);

  const scan: InsightsExpr[] = [
    compare('=', name('log-status'), str('OK')),
    { kind: 'in', subject: name('action'), values: ['ACCEPT', 'REJECT'] },
  ];
  if (options.window !== undefined) {
    const start = validInteger(options.window.start, 'window.start', 0, Number.MAX_SAFE_INTEGER);
    const end = validInteger(options.window.end, 'window.end', start, Number.MAX_SAFE_INTEGER);
    scan.push(compare('>=', name('start'), num(start)), compare('<=', name('start'), num(end)));
  }
  if (eniIds.length > 0) scan.push({ kind: 'in', subject: name('interface-id'), values: eniIds });

  const protocol = name('protocol');
  const srcPort = name('srcport');
  const dstPort = name('dstport');
  const flags = name('tcp-flags');
  // The computed fields, as read by later stages.
  const hp = field(F.hasPorts);
  const ls = field(F.srcWellKnown);
  const ld = field(F.dstWellKnown);
  const ge = field(F.srcNotLower);
  const wk = field(F.byWellKnown);
  const un = field(F.undecided);
  const req = field(F.isRequest);
  // Without tcp-flags no record is decided by flags: the flag terms fold away as constants.
  const synBit = withFlags ? field(F.syn) : num(0);
  const ackBit = withFlags ? field(F.ack) : num(0);
  const byFlags = withFlags ? field(F.byFlags) : num(0);
  const portsDiffer = call('abs', sub(ls, ld));

  const stages: InsightsComputedField[][] = [
    [
      {
        name: F.hasPorts,
        expr: not(call('least', ...PORTED_PROTOCOLS.map((p) => call('abs', sub(protocol, num(p)))), num(1))),
      },
      { name: F.srcWellKnown, expr: positive(sub(num(WELL_KNOWN_PORT_LIMIT), srcPort)) },
      { name: F.dstWellKnown, expr: positive(sub(num(WELL_KNOWN_PORT_LIMIT), dstPort)) },
      { name: F.srcNotLower, expr: not(positive(sub(dstPort, srcPort))) },
      ...(withFlags
        ? [
            { name: F.syn, expr: arith('%', call('floor', arith('/', flags, num(2))), num(2)) },
            { name: F.ack, expr: arith('%', call('floor', arith('/', flags, num(16))), num(2)) },
          ]
        : []),
      ...packetAddresses,
    ],
    [
      ...(withFlags ? [{ name: F.byFlags, expr: mul(hp, synBit) }] : []),
      { name: F.byWellKnown, expr: mul(hp, not(synBit), portsDiffer) },
      { name: F.undecided, expr: mul(hp, not(synBit), not(portsDiffer)) },
      ...(withFlags ? [{ name: F.isSyn, expr: mul(synBit, not(ackBit)) }] : []),
    ],
    [
      // Who initiated: portless → source; SYN → source, SYN-ACK → destination; one well-known
      // port → its side serves; else the higher (or equal) port's side is the client.
      {
        name: F.isRequest,
        expr: add(sub(num(1), hp), mul(byFlags, not(ackBit)), mul(wk, ld), mul(un, ge)),
      },
      { name: F.evidenceRank, expr: add(mul(num(2), byFlags), wk) },
    ],
    [
      { name: F.serverPort, expr: sub(mul(hp, add(choose(req, dstPort, srcPort), num(1))), num(1)) },
      {
        name: F.observedClientPort,
        expr: sub(mul(hp, add(choose(req, srcPort, dstPort), num(1))), num(1)),
      },
      { name: F.clientAddr, expr: chooseText(req, address('srcaddr'), address('dstaddr')) },
      { name: F.serverAddr, expr: chooseText(req, address('dstaddr'), address('srcaddr')) },
      // The client's too: an equal-port row the parser turns round takes it as its server's.
      ...(withServices
        ? [
            { name: F.serverService, expr: chooseText(req, service('dst'), service('src')) },
            { name: F.clientService, expr: chooseText(req, service('src'), service('dst')) },
          ]
        : []),
    ],
    [
      {
        name: F.clientPort,
        expr: sub(mul(un, add(field(F.observedClientPort), num(1))), num(1)),
      },
    ],
  ];

  // Server ports asked for; an undecided row stays when either port may be the service.
  const portFilter =
    ports.length === 0
      ? undefined
      : or(
          compare('<', field(F.serverPort), num(0)),
          inRanges(field(F.serverPort), ports),
          and(compare('=', un, num(1)), inRanges(field(F.observedClientPort), ports)),
        );

  const aggregations: InsightsAggregation[] = [
    { fn: 'count', as: 'records' },
    { fn: 'sum', field: F.isRequest, as: 'request_records' },
    ...(withFlags ? [{ fn: 'sum' as const, field: F.isSyn, as: 'syn_records' }] : []),
    { fn: 'sum', field: insightsFieldName('packets'), as: 'packet_count' },
    { fn: 'sum', field: insightsFieldName('bytes'), as: 'byte_count' },
    { fn: 'min', field: insightsFieldName('start'), as: 'first_seen' },
    { fn: 'max', field: insightsFieldName('end'), as: 'last_seen' },
    { fn: 'max', field: F.evidenceRank, as: 'evidence_rank' },
    { fn: 'count_distinct', field: F.observedClientPort, as: 'distinct_client_ports' },
  ];

  return {
    // Every format is parsed from @message, the default one too: the names Logs Insights
    // discovers for the default format are not reliable (AWS's own pages disagree: start/end or
    // startTime/endTime), and a wrong name fails every record's time filter — zero rows, read as
    // "no traffic".
    parse: {
      pattern: options.fields.map(() => '*').join(' '),
      names: options.fields.map(insightsFieldName),
    },
    scanFilter: and(...scan),
    stages,
    portFilter,
    aggregations,
    groupBy: [
      insightsFieldName('interface-id'),
      insightsFieldName('action'),
      insightsFieldName('protocol'),
      F.clientAddr,
      F.serverAddr,
      F.serverPort,
      F.clientPort,
      // Text has no max() in Logs Insights: the services are keys, and rows of one connection that
      // differ only by them (a record naming none) merge in parseInsightsResults.
      ...(withServices ? [F.serverService, F.clientService] : []),
    ],
    limit,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

const PRECEDENCE: Readonly<Record<InsightsArithmetic, number>> = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2 };

function quoteString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function renderNumber(value: number): string {
  if (!Number.isFinite(value)) throw new InvalidValueError(`not a finite number: ${value}`);
  return String(value);
}

/**
 * The Logs Insights QL text of one expression, with only the parentheses precedence needs.
 *
 * @example renderInsightsExpr({ kind: 'call', fn: 'abs', args: [{ kind: 'field', name: 'x' }] }) // 'abs(x)'
 */
export function renderInsightsExpr(expr: InsightsExpr): string {
  switch (expr.kind) {
    case 'number':
      return renderNumber(expr.value);
    case 'string':
      return quoteString(expr.value);
    case 'field':
      return /^[A-Za-z_@][A-Za-z0-9_.@]*$/.test(expr.name) ? expr.name : `\`${expr.name}\``;
    case 'arithmetic': {
      const precedence = PRECEDENCE[expr.op];
      const operand = (e: InsightsExpr, right: boolean): string => {
        const text = renderInsightsExpr(e);
        if (e.kind !== 'arithmetic') return text;
        const inner = PRECEDENCE[e.op];
        return inner < precedence || (right && inner === precedence) ? `(${text})` : text;
      };
      return `${operand(expr.left, false)} ${expr.op} ${operand(expr.right, true)}`;
    }
    case 'compare':
      return `${renderInsightsExpr(expr.left)} ${expr.op} ${renderInsightsExpr(expr.right)}`;
    case 'logical':
      return expr.operands
        .map((o) => {
          const text = renderInsightsExpr(o);
          return o.kind === 'logical' && o.op !== expr.op ? `(${text})` : text;
        })
        .join(` ${expr.op} `);
    case 'in':
      return `${renderInsightsExpr(expr.subject)} in [${expr.values.map(quoteString).join(',')}]`;
    case 'call':
      return `${expr.fn}(${expr.args.map(renderInsightsExpr).join(', ')})`;
  }
}

/**
 * The Logs Insights QL text of a plan.
 *
 * @example renderInsightsQuery(planInsightsQuery({ fields: DEFAULT_FIELDS })) // 'filter logStatus = "OK" and …'
 */
export function renderInsightsQuery(plan: InsightsQueryPlan): string {
  const commands: string[] = [];
  commands.push(`parse @message ${quoteString(plan.parse.pattern)} as ${plan.parse.names.join(', ')}`);
  commands.push(`filter ${renderInsightsExpr(plan.scanFilter)}`);
  for (const stage of plan.stages) {
    commands.push(`fields ${stage.map((f) => `${renderInsightsExpr(f.expr)} as ${f.name}`).join(', ')}`);
  }
  if (plan.portFilter !== undefined) commands.push(`filter ${renderInsightsExpr(plan.portFilter)}`);
  const aggregations = plan.aggregations.map((a) => `${a.fn}(${a.field ?? '*'}) as ${a.as}`);
  commands.push(`stats ${aggregations.join(', ')} by ${plan.groupBy.join(', ')}`);
  commands.push(`limit ${plan.limit}`);
  return commands.join('\n| ');
}

/**
 * The Logs Insights QL query computing the FlowAggregate rows of one log-group format (see the
 * module comment for how it matches buildFlowAggregateSql).
 *
 * @throws InvalidValueError as {@link planInsightsQuery}.
 * @example
 * buildInsightsQuery({ fields: DEFAULT_FIELDS, eniIds: ['eni-0a1b2c3d'],
 *   window: { start: 1700000000, end: 1700604800 }, limit: 10000 })
 */
export function buildInsightsQuery(options: InsightsQueryOptions): string {
  return renderInsightsQuery(planInsightsQuery(options));
}

// ---------------------------------------------------------------------------------------------
// Fitting the ENI list under the query-length limit

/** Characters `["a","b"]` takes for these ids. */
function eniListLength(eniIds: readonly string[]): number {
  return eniIds.reduce((sum, id) => sum + id.length + 2, 2) + Math.max(0, eniIds.length - 1);
}

/**
 * Splits ENI ids (de-duplicated, order kept) into lists whose `["…","…"]` text is at most
 * `budget` characters each — what {@link insightsEniBudget} leaves of a query.
 *
 * @throws InvalidValueError when a single id does not fit the budget, or an id is malformed.
 * @example chunkEniIds(['eni-1', 'eni-2', 'eni-3'], 17) // [['eni-1', 'eni-2'], ['eni-3']]
 */
export function chunkEniIds(eniIds: readonly string[], budget: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = 2;
  for (const id of validEniIds(eniIds)) {
    const cost = id.length + 2 + (current.length > 0 ? 1 : 0);
    if (length + cost > budget) {
      if (current.length === 0 || eniListLength([id]) > budget) {
        throw new InvalidValueError(`ENI id '${id}' does not fit a query of ${budget} characters`, {
          field: 'eniIds',
        });
      }
      chunks.push(current);
      current = [];
      length = eniListLength([id]);
    } else {
      length += cost;
    }
    current.push(id);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The characters left for the ENI list (`["…"]`) in a query of these options under `maxLength`,
 * valid for the window and every sub-window of it (split windows never lengthen the query).
 *
 * @throws InvalidValueError when the query does not fit even without ENIs.
 * @example chunkEniIds(eniIds, insightsEniBudget({ fields: DEFAULT_FIELDS, window }, 10000))
 */
export function insightsEniBudget(
  options: Omit<InsightsQueryOptions, 'eniIds'>,
  maxLength: number = MAX_INSIGHTS_QUERY_LENGTH,
): number {
  // The widest numbers any sub-window can have are the window's end, for both ends.
  const window = options.window && { start: options.window.end, end: options.window.end };
  const probe = buildInsightsQuery({ ...options, window, eniIds: ['x'] });
  const budget = maxLength - (probe.length - eniListLength(['x']));
  if (budget < eniListLength(['eni-0123456789abcdef0'])) {
    throw new InvalidValueError(`the query leaves no room for ENI ids within ${maxLength} characters`, {
      field: 'maxQueryLength',
    });
  }
  return budget;
}

// ---------------------------------------------------------------------------------------------
// Reading results

/** One result row as GetQueryResults returns it. */
export interface InsightsResultField {
  readonly field?: string;
  readonly value?: string;
}

const EVIDENCE_BY_RANK: readonly FoldEvidence[] = ['undecided', 'well-known', 'flags'];
/** Strength when merging rows of one key; Logs Insights never returns `peer-ephemeral` (a DuckDB settlement). */
const RANK_OF_EVIDENCE: Readonly<Record<FoldEvidence, number>> = {
  undecided: 0,
  'peer-ephemeral': 0.5,
  'well-known': 1,
  flags: 2,
};

function rowObject(row: readonly InsightsResultField[]): Record<string, ResultCell> {
  const cells: Record<string, ResultCell> = {};
  for (const cell of row) {
    // @ptr and other @ fields come with raw events, never with stats rows.
    if (cell.field === undefined || cell.field.startsWith('@')) continue;
    cells[RESULT_COLUMNS[cell.field] ?? cell.field] = cell.value;
  }
  return cells;
}

/**
 * The FlowAggregates of a query's result rows: sentinel ports become null, the evidence rank its
 * name, and undecided equal-port rows take the SQL's orientation (the lower address is the
 * client) before rows of one key are merged.
 *
 * @throws InvalidValueError naming the row and column of a row that is not an aggregate row
 *   (e.g. raw events from an engine that ignored `stats`).
 * @example parseInsightsResults([[{ field: 'interfaceId', value: 'eni-1' }, …]])
 */
export function parseInsightsResults(rows: readonly (readonly InsightsResultField[])[]): FlowAggregate[] {
  const aggregates = rows.map((row, index) => {
    const cells = rowObject(row);
    try {
      if (cells.eni_id === undefined) {
        throw new InvalidValueError('not an aggregate row (no interfaceId): did the engine run `stats`?', {
          field: 'eni_id',
        });
      }
      const rank = Number(cells.evidence_rank);
      const evidence = EVIDENCE_BY_RANK[rank];
      if (evidence === undefined) {
        throw new InvalidValueError(`unknown evidence rank '${String(cells.evidence_rank)}'`, {
          field: 'evidence_rank',
        });
      }
      const port = (value: ResultCell): ResultCell => (Number(value) === NO_PORT ? null : value);
      const serverPort = port(cells.server_port);
      const clientPort = port(cells.client_port);
      const aggregate = flowAggregateFromRow({
        ...cells,
        evidence,
        server_port: serverPort,
        client_port: clientPort,
        syn_records: cells.syn_records ?? 0,
        // The sentinel -1 counts as a distinct value for portless rows; the SQL counts none.
        distinct_client_ports:
          serverPort === null ? 0 : clientPort !== null ? 1 : cells.distinct_client_ports,
      });
      return orientEqualPorts(aggregate, cells.client_service);
    } catch (error) {
      if (error instanceof InvalidValueError) {
        throw new InvalidValueError(
          `Logs Insights result row ${index + 1}: ${error.message}`,
          {},
          { cause: error },
        );
      }
      throw error;
    }
  });
  return mergeFlowAggregates(aggregates);
}

/**
 * An undecided equal-port row seen from the lower address, as the SQL folds it; turned round, its
 * server's AWS service is the one its client had (`clientService`, the query's client_service).
 */
function orientEqualPorts(aggregate: FlowAggregate, clientService: ResultCell): FlowAggregate {
  if (
    aggregate.evidence !== 'undecided' ||
    aggregate.serverPort === null ||
    aggregate.clientPort !== aggregate.serverPort ||
    aggregate.clientAddr <= aggregate.serverAddr
  ) {
    return aggregate;
  }
  const { serverService: _server, ...rest } = aggregate;
  const service = awsServiceOfCell(clientService);
  return {
    ...rest,
    clientAddr: aggregate.serverAddr,
    serverAddr: aggregate.clientAddr,
    requestRecords: aggregate.records - aggregate.requestRecords,
    ...(service === undefined ? {} : { serverService: service }),
  };
}

/** The AWS service of two parts of one row: the one named (the greater, as the SQL's max, when both are). */
function mergedService(a: FlowAggregate, b: FlowAggregate): { serverService?: string } {
  const names = [a.serverService, b.serverService].filter((s): s is string => s !== undefined);
  return names.length === 0 ? {} : { serverService: names.reduce((x, y) => (y > x ? y : x)) };
}

function aggregateKey(a: FlowAggregate): string {
  return [
    a.eniId,
    a.action,
    a.protocol,
    a.clientAddr,
    a.serverAddr,
    a.serverPort ?? '',
    a.clientPort ?? '',
  ].join(' ');
}

/**
 * Merges partial aggregates of one key (from split windows, ENI chunks or log-group batches):
 * counts and sums add, first/last seen take min/max, evidence the strongest. Distinct client
 * ports are exact where the key holds the client port (1) or there is none (0); otherwise the
 * sum, capped at the merged record count, is an upper bound (the parts may share ports).
 *
 * @example mergeFlowAggregates([firstHalfRow, secondHalfRow]) // one row with the sums
 */
export function mergeFlowAggregates(aggregates: Iterable<FlowAggregate>): FlowAggregate[] {
  const merged = new Map<string, FlowAggregate>();
  for (const a of aggregates) {
    const key = aggregateKey(a);
    const b = merged.get(key);
    if (b === undefined) {
      merged.set(key, a);
      continue;
    }
    const records = a.records + b.records;
    const evidence = RANK_OF_EVIDENCE[a.evidence] >= RANK_OF_EVIDENCE[b.evidence] ? a.evidence : b.evidence;
    merged.set(key, {
      ...b,
      evidence,
      records,
      requestRecords: a.requestRecords + b.requestRecords,
      synRecords: a.synRecords + b.synRecords,
      packets: a.packets + b.packets,
      bytes: a.bytes + b.bytes,
      firstSeen: Math.min(a.firstSeen, b.firstSeen),
      lastSeen: Math.max(a.lastSeen, b.lastSeen),
      distinctClientPorts:
        b.serverPort === null
          ? 0
          : b.clientPort !== null
            ? 1
            : Math.min(a.distinctClientPorts + b.distinctClientPorts, records),
      ...mergedService(a, b),
    });
  }
  return [...merged.values()];
}
