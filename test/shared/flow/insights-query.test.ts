import fc from 'fast-check';
import { InvalidValueError } from '../../../shared/errors';
import { buildFlowAggregateSql, flowAggregateFromRow } from '../../../shared/flow/aggregate-sql';
import { DEFAULT_FIELDS } from '../../../shared/flow/format';
import {
  buildInsightsQuery,
  chunkEniIds,
  type InsightsExpr,
  type InsightsQueryOptions,
  type InsightsQueryPlan,
  type InsightsResultField,
  insightsEniBudget,
  insightsFieldName,
  MAX_INSIGHTS_QUERY_LENGTH,
  mergeFlowAggregates,
  parseInsightsResults,
  planInsightsQuery,
  renderInsightsQuery,
} from '../../../shared/flow/insights-query';
import type { FlowAggregate } from '../../../shared/model/flow';
import { FLOW_T0, flowAggregate, flowRecord, flowReply } from '../../support/flow-records';
import { flowRecordsRelation, inMemoryDuckDb, type SqlFlowRecord } from '../../support/flow-sql';

// ---------------------------------------------------------------------------------------------
// Records, and what each engine reads of them

const T0 = FLOW_T0;
const WINDOW = { start: T0, end: T0 + 3600 };
/** A custom format in an order of its own, with tcp-flags and a field the fold does not read. */
const CUSTOM_FIELDS = [
  'tcp-flags',
  'start',
  'interface-id',
  'log-status',
  'vpc-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'action',
  'packets',
  'bytes',
  'end',
];
/** A custom format with the packet-level addresses and the AWS services (v5), in an order of its own. */
const PACKET_FORMAT = (
  'interface-id pkt-dst-aws-service srcaddr pkt-srcaddr dstaddr pkt-dstaddr srcport dstport protocol ' +
  'tcp-flags packets bytes start end action log-status pkt-src-aws-service'
).split(' ');
/** The names AWS documents for the default format's auto-discovered fields. */
const DISCOVERED = [
  'version',
  'accountId',
  'interfaceId',
  'srcAddr',
  'dstAddr',
  'srcPort',
  'dstPort',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'logStatus',
];

/** A record with tcp-flags 0 unless told: the custom formats here carry the field. */
function record(overrides: Partial<SqlFlowRecord>): SqlFlowRecord {
  return flowRecord({ flags: 0, ...overrides });
}

/** The flow-log line of a record in a format (`-` for no value). */
function line(r: SqlFlowRecord, fields: readonly string[]): string {
  const values: Record<string, string | number | null> = {
    version: 2,
    'account-id': '123456789012',
    'interface-id': r.eni,
    srcaddr: r.src,
    dstaddr: r.dst,
    srcport: r.sport,
    dstport: r.dport,
    protocol: r.protocol,
    packets: r.packets,
    bytes: r.bytes,
    start: r.start,
    end: r.end,
    action: r.action,
    'log-status': r.status,
    'vpc-id': 'vpc-1',
    'tcp-flags': r.flags,
    'pkt-srcaddr': r.pktSrc ?? null,
    'pkt-dstaddr': r.pktDst ?? null,
    'pkt-src-aws-service': r.srcService ?? null,
    'pkt-dst-aws-service': r.dstService ?? null,
  };
  return fields.map((f) => String(values[f] ?? '-')).join(' ');
}

// ---------------------------------------------------------------------------------------------
// A reference evaluator of the Logs Insights QL subset the plan uses. Values are text as in a log
// line; arithmetic reads them as numbers, comparisons compare numbers when both sides are numeric.

type Value = string | number | boolean | undefined;

const numeric = (v: Value): boolean =>
  typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v));

function asNumber(v: Value, expr: InsightsExpr): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!numeric(v) || Number.isNaN(n))
    throw new Error(`not a number: ${String(v)} in ${JSON.stringify(expr)}`);
  return n;
}

function evaluate(expr: InsightsExpr, row: ReadonlyMap<string, Value>): Value {
  switch (expr.kind) {
    case 'number':
    case 'string':
      return expr.value;
    case 'field':
      return row.get(expr.name);
    case 'arithmetic': {
      const a = asNumber(evaluate(expr.left, row), expr);
      const b = asNumber(evaluate(expr.right, row), expr);
      const ops = { '+': a + b, '-': a - b, '*': a * b, '/': a / b, '%': a % b };
      return ops[expr.op];
    }
    case 'compare': {
      const left = evaluate(expr.left, row);
      const right = evaluate(expr.right, row);
      const [a, b] =
        numeric(left) && numeric(right) ? [Number(left), Number(right)] : [String(left), String(right)];
      const ops = { '=': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b };
      return ops[expr.op];
    }
    case 'logical':
      return expr.op === 'and'
        ? expr.operands.every((o) => evaluate(o, row) === true)
        : expr.operands.some((o) => evaluate(o, row) === true);
    case 'in':
      return expr.values.includes(String(evaluate(expr.subject, row)));
    case 'call': {
      const args = expr.args.map((a) => evaluate(a, row));
      const numbers = () => args.map((a) => asNumber(a, expr));
      switch (expr.fn) {
        case 'abs':
          return Math.abs(numbers()[0] as number);
        case 'floor':
          return Math.floor(numbers()[0] as number);
        case 'least':
          return Math.min(...numbers());
        case 'greatest':
          return Math.max(...numbers());
        case 'strlen':
          return String(args[0]).length;
        case 'concat':
          return args.map(String).join('');
        case 'substr': {
          const [start, length] = [asNumber(args[1], expr), asNumber(args[2], expr)];
          return String(args[0]).substring(start, start + length);
        }
      }
    }
  }
}

/** Runs a plan over log lines as Logs Insights would, returning GetQueryResults-shaped rows. */
function runPlan(plan: InsightsQueryPlan, lines: readonly string[]): InsightsResultField[][] {
  const names = plan.parse?.names ?? DISCOVERED;
  const groups = new Map<string, { key: Value[]; rows: Map<string, Value>[] }>();
  for (const text of lines) {
    const tokens = text.split(' ');
    const row = new Map<string, Value>(names.map((n, i) => [n, tokens[i]]));
    if (evaluate(plan.scanFilter, row) !== true) continue;
    for (const stage of plan.stages) {
      const computed = stage.map((f) => [f.name, evaluate(f.expr, row)] as const);
      for (const [name, value] of computed) row.set(name, value);
    }
    if (plan.portFilter !== undefined && evaluate(plan.portFilter, row) !== true) continue;
    const key = plan.groupBy.map((g) => row.get(g));
    const id = JSON.stringify(key);
    const group = groups.get(id) ?? { key, rows: [] };
    group.rows.push(row);
    groups.set(id, group);
  }
  const out = [...groups.values()].map(({ key, rows }) => {
    const cells: InsightsResultField[] = plan.groupBy.map((g, i) => ({ field: g, value: String(key[i]) }));
    for (const a of plan.aggregations) {
      const values = rows.map((r) => (a.field === undefined ? 1 : r.get(a.field)));
      const nums = () => values.map((v) => Number(v));
      const result =
        a.fn === 'count'
          ? rows.length
          : a.fn === 'sum'
            ? nums().reduce((s, v) => s + v, 0)
            : a.fn === 'min'
              ? Math.min(...nums())
              : a.fn === 'max'
                ? Math.max(...nums())
                : new Set(values.map(String)).size;
      cells.push({ field: a.as, value: String(result) });
    }
    return cells;
  });
  return out.slice(0, plan.limit);
}

function viaInsights(records: readonly SqlFlowRecord[], options: InsightsQueryOptions): FlowAggregate[] {
  const plan = planInsightsQuery(options);
  return sorted(
    parseInsightsResults(
      runPlan(
        plan,
        records.map((r) => line(r, options.fields)),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// The SQL reference in DuckDB

const duckdb = inMemoryDuckDb();

async function viaSql(
  records: readonly SqlFlowRecord[],
  options: InsightsQueryOptions,
): Promise<FlowAggregate[]> {
  if (records.length === 0) return [];
  const sql = buildFlowAggregateSql({
    dialect: 'duckdb',
    relation: flowRecordsRelation(records),
    fields: options.fields,
    window: options.window ?? WINDOW,
    eniIds: options.eniIds,
    ports: options.ports,
    // One GROUP BY: Logs Insights keeps a connection's later, undecided intervals apart.
    joinLaterIntervals: false,
  });
  const rows = await duckdb.rowsOf(sql);
  return sorted(rows.map(flowAggregateFromRow));
}

function sorted(aggregates: readonly FlowAggregate[]): FlowAggregate[] {
  const key = (a: FlowAggregate) => JSON.stringify(a);
  return [...aggregates].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const eniId = (i: number): string => `eni-${i.toString(16).padStart(17, '0')}`;

// ---------------------------------------------------------------------------------------------

describe('buildInsightsQuery', () => {
  it('parses the default format from @message too, never trusting auto-discovered field names', () => {
    // Prepare: AWS's pages name the default format's discovered time fields start/end or
    // startTime/endTime; a wrong guess filters every record out (zero rows, read as no traffic).
    const options = { fields: DEFAULT_FIELDS, eniIds: ['eni-a', 'eni-b'], window: WINDOW, limit: 10000 };

    // Act
    const query = buildInsightsQuery(options);

    // Assess
    const names = DEFAULT_FIELDS.map(insightsFieldName);
    expect(
      query.startsWith(
        `parse @message "${DEFAULT_FIELDS.map(() => '*').join(' ')}" as ${names.join(', ')}\n`,
      ),
    ).toBe(true);
    expect(query).toContain('| filter logStatus = "OK" and action in ["ACCEPT","REJECT"]');
    expect(query).toContain(`start >= ${T0} and start <= ${T0 + 3600}`);
    expect(query).toContain('interfaceId in ["eni-a","eni-b"]');
    expect(query).toContain('srcAddr');
    expect(query).toContain(
      '| stats count(*) as records, sum(req) as request_records, sum(packets) as packet_count',
    );
    expect(query).toContain(
      'by interfaceId, action, protocol, client_addr, server_addr, server_port, client_port',
    );
    expect(query).not.toContain('tcpFlags');
    expect(query.endsWith('| limit 10000')).toBe(true);
  });

  it('parses a custom format from @message in format order and reads tcp-flags', () => {
    // Prepare
    const options = { fields: CUSTOM_FIELDS, window: WINDOW, limit: 2500 };

    // Act
    const query = buildInsightsQuery(options);

    // Assess
    const [parse] = query.split('\n');
    expect(parse).toBe(
      `parse @message "${CUSTOM_FIELDS.map(() => '*').join(' ')}" as tcpFlags, start, interfaceId, logStatus, ` +
        'vpcId, srcAddr, dstAddr, srcPort, dstPort, protocol, action, packets, bytes, end',
    );
    expect(query).toContain('floor(tcpFlags / 2) % 2 as sb');
    expect(query).toContain('floor(tcpFlags / 16) % 2 as ab');
    expect(query).toContain('sum(syn) as syn_records');
    expect(query).not.toContain('interfaceId in');
    expect(query.endsWith('| limit 2500')).toBe(true);
  });

  it('reads the packet-level addresses where not "-", and groups by the service AWS named for the server', () => {
    // Act
    const query = buildInsightsQuery({ fields: PACKET_FORMAT, window: WINDOW });
    const plain = buildInsightsQuery({ fields: CUSTOM_FIELDS, window: WINDOW });

    // Assess
    const [parse] = query.split('\n');
    expect(parse).toBe(
      `parse @message "${PACKET_FORMAT.map(() => '*').join(' ')}" as interfaceId, pktDstAwsService, srcAddr, ` +
        'pktSrcaddr, dstAddr, pktDstaddr, srcPort, dstPort, protocol, tcpFlags, packets, bytes, start, end, ' +
        'action, logStatus, pktSrcAwsService',
    );
    expect(query).toContain(
      'substr(concat(srcAddr, pktSrcaddr), (1 - (1 - least(greatest(strlen(pktSrcaddr) - 1, 0), 1))) * strlen(srcAddr)',
    );
    expect(query).toContain('concat(sa, da)');
    expect(query).toContain('concat(pktDstAwsService, pktSrcAwsService)');
    expect(query).toContain(
      'by interfaceId, action, protocol, client_addr, server_addr, server_port, client_port, server_service, client_service',
    );
    expect(plain).not.toMatch(/pkt|server_service|client_service|\bsa\b/);
  });

  it('uses only operators and functions Logs Insights documents', () => {
    // Prepare
    const documented = new Set([
      'least',
      'greatest',
      'abs',
      'floor',
      'strlen',
      'concat',
      'substr',
      'count',
      'sum',
      'min',
      'max',
      'count_distinct',
    ]);

    // Act
    const query = buildInsightsQuery({
      fields: PACKET_FORMAT,
      window: WINDOW,
      ports: [{ from: 22, to: 22 }],
      eniIds: ['eni-a'],
    });

    // Assess
    const called = [...query.matchAll(/([A-Za-z_]+)\(/g)].map((m) => m[1]);
    expect(called.filter((fn) => !documented.has(fn as string))).toEqual([]);
    expect(query).not.toMatch(/\b(if|case|when)\b/i);
  });

  it('filters server ports after the fold, keeping portless and undecided rows with either port in range', () => {
    // Act
    const query = buildInsightsQuery({
      fields: DEFAULT_FIELDS,
      ports: [
        { from: 22, to: 22 },
        { from: 8000, to: 8100 },
      ],
    });

    // Assess
    expect(query).toContain(
      '| filter server_port < 0 or server_port = 22 or (server_port >= 8000 and server_port <= 8100) ' +
        'or (un = 1 and (oc = 22 or (oc >= 8000 and oc <= 8100)))',
    );
  });

  it('rejects a format lacking a field the fold needs, a malformed ENI id and a bad limit', () => {
    // Act & Assess
    expect(() => buildInsightsQuery({ fields: ['srcaddr', 'dstaddr'] })).toThrow(InvalidValueError);
    expect(() => buildInsightsQuery({ fields: DEFAULT_FIELDS, eniIds: ['eni-1"] or true'] })).toThrow(
      InvalidValueError,
    );
    expect(() => buildInsightsQuery({ fields: DEFAULT_FIELDS, limit: 100_001 })).toThrow(InvalidValueError);
  });

  it('renders the same text as the plan it is derived from', () => {
    // Prepare
    const options = { fields: CUSTOM_FIELDS, window: WINDOW, eniIds: ['eni-a'] };

    // Act & Assess
    expect(buildInsightsQuery(options)).toBe(renderInsightsQuery(planInsightsQuery(options)));
  });
});

describe('insightsFieldName', () => {
  it('gives the discovered names of the default fields and camelCase otherwise', () => {
    // Act & Assess
    expect(DEFAULT_FIELDS.map(insightsFieldName)).toEqual(DISCOVERED);
    expect(insightsFieldName('tcp_flags')).toBe('tcpFlags');
    expect(insightsFieldName('pkt-src-aws-service')).toBe('pktSrcAwsService');
  });
});

describe('chunkEniIds', () => {
  it('splits ~2,000 ENIs into queries that each fit 10,000 characters and cover every ENI once', () => {
    // Prepare
    const eniIds = Array.from({ length: 2000 }, (_, i) => eniId(i));
    const options = { fields: CUSTOM_FIELDS, window: WINDOW, ports: [{ from: 22, to: 22 }], limit: 10000 };

    // Act
    const chunks = chunkEniIds(eniIds, insightsEniBudget(options));
    const queries = chunks.map((chunk) => buildInsightsQuery({ ...options, eniIds: chunk }));

    // Assess
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(2000 / 300));
    expect(chunks.flat()).toEqual(eniIds);
    for (const query of queries) expect(query.length).toBeLessThanOrEqual(MAX_INSIGHTS_QUERY_LENGTH);
    expect(Math.max(...queries.map((q) => q.length))).toBeGreaterThan(MAX_INSIGHTS_QUERY_LENGTH - 30);
  });

  it('keeps every sub-window of the window within the limit', () => {
    // Prepare: a window whose start has fewer digits than a later sub-window's.
    const window = { start: 5, end: T0 };
    const options = { fields: DEFAULT_FIELDS, window };
    const chunks = chunkEniIds(
      Array.from({ length: 1000 }, (_, i) => eniId(i)),
      insightsEniBudget(options),
    );

    // Act
    const lengths = chunks.map(
      (chunk) => buildInsightsQuery({ ...options, eniIds: chunk, window: { start: T0 - 1, end: T0 } }).length,
    );

    // Assess
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_INSIGHTS_QUERY_LENGTH);
  });

  it('de-duplicates ids, keeps their order and rejects an id longer than the budget', () => {
    // Act
    const chunks = chunkEniIds(['eni-1', 'eni-2', 'eni-1', 'eni-3'], 17);

    // Assess
    expect(chunks).toEqual([['eni-1', 'eni-2'], ['eni-3']]);
    expect(() => chunkEniIds(['eni-0123456789abcdef0'], 10)).toThrow(InvalidValueError);
  });
});

describe('parseInsightsResults', () => {
  const cells = (values: Record<string, string>): InsightsResultField[] =>
    Object.entries(values).map(([field, value]) => ({ field, value }));
  const row = {
    interfaceId: 'eni-1',
    action: 'ACCEPT',
    protocol: '6',
    client_addr: '10.0.0.1',
    server_addr: '10.0.0.2',
    server_port: '443',
    client_port: '-1',
    records: '4',
    request_records: '2',
    packet_count: '40',
    byte_count: '4000',
    first_seen: String(T0),
    last_seen: String(T0 + 60),
    evidence_rank: '1',
    distinct_client_ports: '2',
  };

  it('maps sentinel ports to null, the evidence rank to its name and missing syn counts to 0', () => {
    // Act
    const [aggregate] = parseInsightsResults([cells(row)]);

    // Assess
    expect(aggregate).toEqual(
      flowAggregate({ records: 4, requestRecords: 2, packets: 40, bytes: 4000, distinctClientPorts: 2 }),
    );
  });

  it('counts no client ports for a portless row (the sentinel is not a port)', () => {
    // Act
    const [aggregate] = parseInsightsResults([
      cells({ ...row, protocol: '1', server_port: '-1', evidence_rank: '0', distinct_client_ports: '1' }),
    ]);

    // Assess
    expect(aggregate).toMatchObject({ serverPort: null, clientPort: null, distinctClientPorts: 0 });
  });

  it('folds the two directions of an undecided equal-port connection onto the lower address', () => {
    // Prepare: the query keeps each record's source as client when ports are equal.
    const forward = {
      ...row,
      protocol: '17',
      server_port: '500',
      client_port: '500',
      evidence_rank: '0',
      request_records: '4',
    };
    const backward = {
      ...forward,
      client_addr: '10.0.0.9',
      server_addr: '10.0.0.10',
      records: '3',
      request_records: '3',
    };

    // Act
    const aggregates = parseInsightsResults([
      cells({ ...forward, client_addr: '10.0.0.10', server_addr: '10.0.0.9' }),
      cells(backward),
    ]);

    // Assess: '10.0.0.10' < '10.0.0.9' as text, as in SQL.
    expect(aggregates).toHaveLength(1);
    expect(aggregates[0]).toMatchObject({
      clientAddr: '10.0.0.10',
      serverAddr: '10.0.0.9',
      records: 7,
      requestRecords: 4,
      distinctClientPorts: 1,
    });
  });

  it("gives a turned-round equal-port row its client's AWS service as its server's", () => {
    // Prepare: the backward row's client (10.0.0.9, named EC2) becomes its server.
    const backward = {
      ...row,
      client_addr: '10.0.0.9',
      server_addr: '10.0.0.10',
      server_port: '500',
      client_port: '500',
      evidence_rank: '0',
      server_service: '-',
      client_service: 'EC2',
    };

    // Act
    const [aggregate] = parseInsightsResults([cells(backward)]);

    // Assess
    expect(aggregate).toMatchObject({
      clientAddr: '10.0.0.10',
      serverAddr: '10.0.0.9',
      serverService: 'EC2',
    });
  });

  it('rejects raw events from an engine that ignored stats, naming the row', () => {
    // Act & Assess
    expect(() => parseInsightsResults([[{ field: '@ptr', value: 'abc' }]])).toThrow(
      /row 1: .*not an aggregate row/,
    );
  });
});

describe('mergeFlowAggregates', () => {
  const base = flowAggregate({
    records: 3,
    requestRecords: 2,
    packets: 30,
    bytes: 3000,
    firstSeen: T0 + 100,
    lastSeen: T0 + 200,
    distinctClientPorts: 2,
  });

  it('adds counts, spans first/last seen, keeps the strongest evidence and bounds distinct ports', () => {
    // Prepare
    const later = {
      ...base,
      evidence: 'flags' as const,
      records: 1,
      synRecords: 1,
      firstSeen: T0,
      lastSeen: T0 + 500,
      distinctClientPorts: 1,
    };

    // Act
    const merged = mergeFlowAggregates([base, later, { ...base, serverPort: 80 }]);

    // Assess
    expect(merged).toHaveLength(2);
    expect(merged[0]).toEqual({
      ...base,
      evidence: 'flags',
      records: 4,
      requestRecords: 4,
      synRecords: 1,
      packets: 60,
      bytes: 6000,
      firstSeen: T0,
      lastSeen: T0 + 500,
      distinctClientPorts: 3,
    });
  });

  it('caps the distinct client ports of merged parts at their record count', () => {
    // Act
    const [merged] = mergeFlowAggregates([base, { ...base, records: 1, distinctClientPorts: 5 }]);

    // Assess
    expect(merged?.distinctClientPorts).toBe(4);
  });

  it('keeps the AWS service a part names (the greater of two, as the SQL max), none when no part does', () => {
    // Act
    const [named] = mergeFlowAggregates([base, { ...base, serverService: 'S3' }]);
    const [twice] = mergeFlowAggregates([
      { ...base, serverService: 'S3' },
      { ...base, serverService: 'AMAZON' },
    ]);
    const [unnamed] = mergeFlowAggregates([base, base]);

    // Assess
    expect(named?.serverService).toBe('S3');
    expect(twice?.serverService).toBe('S3');
    expect(unnamed).not.toHaveProperty('serverService');
  });
});

describe('the Logs Insights query and the SQL aggregation', () => {
  const formats = [
    ['default format', DEFAULT_FIELDS],
    ['custom format with tcp-flags', CUSTOM_FIELDS],
    ['custom format with packet-level fields', PACKET_FORMAT],
  ] as const;

  it.each(formats)('fold request and reply of a connection into ONE row (%s)', async (_name, fields) => {
    // Prepare
    const request = record({ flags: 2, packets: 4, bytes: 300, start: T0 + 5, end: T0 + 65 });
    const records = [
      request,
      flowReply(request, { flags: 18, packets: 6, bytes: 9000, start: T0, end: T0 + 70 }),
    ];
    const options = { fields, window: WINDOW };

    // Act
    const insights = viaInsights(records, options);

    // Assess
    expect(insights).toHaveLength(1);
    expect(insights[0]).toMatchObject({
      clientAddr: '10.0.0.1',
      serverAddr: '10.0.0.2',
      serverPort: 443,
      records: 2,
      requestRecords: 1,
      packets: 10,
      bytes: 9300,
      firstSeen: T0,
      lastSeen: T0 + 70,
    });
    expect(insights).toEqual(await viaSql(records, options));
  });

  it('lets flags decide over a well-known port, and a well-known port over port order', async () => {
    // Prepare: the client uses port 80 towards a service on 50000 (SYN says so);
    // a flag-less 22 → 51000 reply is decided by the well-known port.
    const syn = record({ sport: 80, dport: 50000, flags: 2 });
    const ssh = record({ src: '10.0.0.5', dst: '203.0.113.7', sport: 22, dport: 51000, flags: 24 });
    const records = [syn, flowReply(syn, { flags: 18 }), ssh];
    const options = { fields: CUSTOM_FIELDS, window: WINDOW };

    // Act
    const insights = viaInsights(records, options);

    // Assess
    expect(insights.map((a) => [a.evidence, a.clientAddr, a.serverPort, a.clientPort, a.synRecords])).toEqual(
      [
        ['flags', '10.0.0.1', 50000, null, 1],
        ['well-known', '203.0.113.7', 22, null, 0],
      ],
    );
    expect(insights).toEqual(await viaSql(records, options));
  });

  it('keeps the client port of undecided rows and folds equal ports onto the lower address', async () => {
    // Prepare
    const undecided = record({ sport: 50000, dport: 8080, flags: 16 });
    const ike = record({ src: '10.0.0.9', dst: '10.0.0.10', sport: 500, dport: 500, protocol: 17 });
    const records = [undecided, flowReply(undecided), ike, flowReply(ike)];
    const options = { fields: CUSTOM_FIELDS, window: WINDOW };

    // Act
    const insights = viaInsights(records, options);

    // Assess
    expect(insights).toHaveLength(2);
    expect(insights).toEqual(await viaSql(records, options));
  });

  it('folds on the packet-level addresses and names the service as the SQL does, "-" falling back', async () => {
    // Prepare: a pod (secondary 10.0.5.57 of the node 10.0.5.10) calling DynamoDB, and an S3 call
    // whose record holds no packet-level source ('-').
    const pod = record({
      src: '10.0.5.10',
      pktSrc: '10.0.5.57',
      dst: '52.94.12.10',
      pktDst: '52.94.12.10',
      dstService: 'DYNAMODB',
      flags: 2,
    });
    const s3 = record({ src: '10.0.5.10', pktSrc: '-', dst: '52.219.57.1', dstService: 'S3', sport: 40001 });
    const records = [pod, flowReply(pod, { flags: 18 }), s3];
    const options = { fields: PACKET_FORMAT, window: WINDOW };

    // Act
    const insights = viaInsights(records, options);

    // Assess
    expect(insights.map((a) => [a.clientAddr, a.serverAddr, a.records, a.serverService])).toEqual([
      ['10.0.5.10', '52.219.57.1', 1, 'S3'],
      ['10.0.5.57', '52.94.12.10', 2, 'DYNAMODB'],
    ]);
    expect(insights).toEqual(await viaSql(records, options));
  });

  /** The AWS services the property's addresses belong to. */
  const SERVICE_OF_ADDRESS = new Map([
    ['203.0.113.7', 'EC2'],
    ['198.51.100.4', 'S3'],
    ['192.0.2.44', 'AMAZON'],
    ['2001:db8::1', 'AMAZON'],
    ['10.0.0.10', 'EC2'],
  ]);

  it('computes the same rows as buildFlowAggregateSql for any records, formats, ENIs and ports', async () => {
    // Prepare
    const port = fc.oneof(
      fc.constantFrom(0, 22, 53, 80, 123, 443, 500, 1023, 1024, 8080, 40000, 50000, 65535),
      fc.integer({ min: 0, max: 65535 }),
    );
    const flowRecord = fc.record({
      eni: fc.constantFrom('eni-1', 'eni-2', 'eni-3'),
      src: fc.constantFrom('10.0.0.1', '10.0.0.10', '10.0.0.9', '203.0.113.7', '2001:db8::1', 'fd00::a'),
      dst: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.9', '198.51.100.4', '2001:db8::2'),
      sport: port,
      dport: port,
      protocol: fc.constantFrom(6, 6, 17, 132, 1, 58, 47),
      packets: fc.integer({ min: 1, max: 1000 }),
      bytes: fc.integer({ min: 40, max: 1_000_000 }),
      start: fc.integer({ min: T0 - 120, max: T0 + 3700 }),
      end: fc.integer({ min: T0, max: T0 + 3800 }),
      action: fc.constantFrom('ACCEPT', 'REJECT'),
      status: fc.constantFrom('OK', 'OK', 'OK', 'SKIPDATA'),
      flags: fc.constantFrom(0, 1, 2, 3, 4, 16, 17, 18, 19, 24, 25, 27, 63),
      withReply: fc.boolean(),
      replyFlags: fc.constantFrom(0, 16, 18, 19, 24, 17),
      pktSrc: fc.constantFrom(null, '10.0.0.99', '2001:db8::9'),
      pktDst: fc.constantFrom(null, '10.0.0.2', '192.0.2.44'),
    });
    const scenario = fc.record({
      records: fc.array(flowRecord, { minLength: 1, maxLength: 25 }),
      format: fc.constantFrom(DEFAULT_FIELDS, CUSTOM_FIELDS, PACKET_FORMAT),
      eniIds: fc.subarray(['eni-1', 'eni-2', 'eni-3']),
      ports: fc.constantFrom(
        [],
        [{ from: 22, to: 22 }],
        [
          { from: 80, to: 443 },
          { from: 8080, to: 8080 },
        ],
        [{ from: 1024, to: 65535 }],
      ),
    });

    // Act & Assess
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const records = s.records.flatMap(({ withReply, replyFlags, ...r }) => {
          // AWS names the service of an address (its published ranges): alike on every record.
          const flow = record({
            ...r,
            srcService: SERVICE_OF_ADDRESS.get(r.pktSrc ?? r.src) ?? null,
            dstService: SERVICE_OF_ADDRESS.get(r.pktDst ?? r.dst) ?? null,
          });
          return withReply ? [flow, flowReply(flow, { flags: replyFlags })] : [flow];
        });
        const options: InsightsQueryOptions = {
          fields: s.format,
          window: WINDOW,
          eniIds: s.eniIds,
          ports: s.ports,
        };
        expect(viaInsights(records, options)).toEqual(await viaSql(records, options));
      }),
      { numRuns: 150 },
    );
  });

  it('leaves out NODATA and SKIPDATA records, whose values are "-"', async () => {
    // Prepare
    const nodata = record({
      src: null,
      dst: null,
      sport: null,
      dport: null,
      protocol: null,
      packets: null,
      bytes: null,
      action: null,
      status: 'NODATA',
      flags: null,
    });
    const records = [record({}), nodata, { ...nodata, status: 'SKIPDATA' }];
    const options = { fields: CUSTOM_FIELDS, window: WINDOW };

    // Act
    const insights = viaInsights(records, options);

    // Assess
    expect(insights).toHaveLength(1);
    expect(insights).toEqual(await viaSql(records, options));
  });
});
