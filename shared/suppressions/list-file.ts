/**
 * The reading every reviewed list file shares (the suppressions file, the egress allow-list):
 * YAML or JSON, `version: 1` and a list of entries that each carry an id, an owner, a reason and
 * an expiry date; validated whole, so a malformed entry fails the file with the file, the line,
 * the entry (index and id) and the field named — a half-applied list would hide or resurface
 * things silently.
 */
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors';
import { parsePortList } from '../net/ports';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * Epoch milliseconds of 00:00 UTC of an ISO date, or undefined when it is not a calendar date.
 *
 * @example isoDateStart('2027-02-30') // undefined
 */
export function isoDateStart(text: string): number | undefined {
  const match = ISO_DATE.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  // Date.UTC rolls 2027-02-30 over to March; a round trip catches it.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return ms;
}

/**
 * Whether an entry expiring on `expires` (inclusive, UTC) is still active at `now`.
 *
 * @example activeUntil('2026-12-31', new Date('2026-12-31T23:59:59Z')) // true
 */
export function activeUntil(expires: string, now: Date): boolean {
  const start = isoDateStart(expires);
  return start !== undefined && now.getTime() < start + DAY_MS;
}

/**
 * Whether a value reads as a port list ('22', '1000-2000', '22,443' or a number).
 *
 * @example isPortList('80,443') // true
 */
export function isPortList(value: string | number): boolean {
  try {
    return parsePortList(String(value)).length > 0;
  } catch {
    return false;
  }
}

/**
 * A port-list field: a number or text such as '22', '1000-2000' or '22,443', checked.
 *
 * @example z.strictObject({ ports: portListField().optional().describe('Ports.') })
 */
export const portListField = () =>
  z
    .union([z.string(), z.int()], { error: 'expected a port or port range such as 22 or 1000-2000' })
    .refine(isPortList, {
      error: 'not a port or port range (expected e.g. 22 or 1000-2000, within 0-65535)',
    });

/** A trimmed, non-empty string field. */
export const nonEmpty = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `${what} must not be empty` });

/** The words a list's schema uses for its entries' fields. */
export interface ReviewedEntryWords {
  /** What one entry is: 'suppression', 'allow-list entry'. */
  readonly noun: string;
  readonly owner: string;
  readonly reason: string;
}

/**
 * The fields every entry of a reviewed list starts with: its id, who accepted it, why, and until
 * when.
 *
 * @example z.strictObject({ ...reviewedEntryFields({ noun: 'suppression', owner: 'Who accepted the risk.', reason: 'Why.' }), match })
 */
export const reviewedEntryFields = ({ noun, owner, reason }: ReviewedEntryWords) => ({
  id: nonEmpty('id').describe(`Unique id of the ${noun}; reports name it.`),
  owner: nonEmpty('owner').describe(owner),
  reason: nonEmpty('reason').describe(reason),
  expires: z
    .string({ error: (iss) => (iss.input === undefined ? undefined : 'not a date (expected YYYY-MM-DD)') })
    .refine((text) => isoDateStart(text) !== undefined, { error: 'not a date (expected YYYY-MM-DD)' })
    .describe(`ISO date (YYYY-MM-DD, UTC); the ${noun} is active through the end of that day.`),
});

/**
 * A reviewed list file (version 1) as a zod schema: `version`, then the list under `key`, each
 * entry the reviewed fields (worded by `words`) and what it matches.
 *
 * @example const suppressionsFileSchema = reviewedListFileSchema('suppressions', { noun: 'suppression', owner: '…', reason: '…' }, matchSchema)
 */
export const reviewedListFileSchema = <K extends string, M extends z.ZodType>(
  key: K,
  words: ReviewedEntryWords,
  match: M,
) => {
  const entry = z.strictObject({ ...reviewedEntryFields(words), match });
  const version = z
    .literal(1, { error: 'unsupported version (expected 1)' })
    .describe('File format version.');
  return z.strictObject({ version, [key]: z.array(entry) } as { version: typeof version } & {
    [P in K]: z.ZodArray<typeof entry>;
  });
};

/**
 * An AWS resource id selector (`sg-…`, `vpc-…`); the caller describes what it narrows.
 *
 * @example awsIdField('sg', 'security group') // accepts 'sg-0a1b', rejects 'vpc-0a1b' with "not a security group id (sg-…)"
 */
export const awsIdField = (prefix: 'sg' | 'vpc', noun: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-z]+$`, 'i'), { error: `not a ${noun} id (${prefix}-…)` });

type Format = 'json' | 'yaml';

function detectFormat(text: string, file: string): Format {
  const lower = file.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

/** 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function parseJsonText(text: string, file: string, yamlErrorOffset: number | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8 names the position only for some errors; the YAML reading of the same text locates the rest.
    const position = /position (\d+)/.exec(message)?.[1];
    const offset = position !== undefined ? Number(position) : yamlErrorOffset;
    throw new InputError(
      `invalid JSON: ${message}`,
      { file, ...(offset !== undefined ? { line: lineAt(text, offset) } : {}) },
      { cause: error },
    );
  }
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Per-parse messages: 'required' for a missing field, the offending value for a bad enum. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'invalid_value' && issue.values.length > 1) {
    return `unknown value '${String(issue.input)}' (expected one of ${issue.values.join(', ')})`;
  }
  return undefined;
};

interface Problem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** "suppressions[2] (partner-cidr): expires" for an issue path. */
function describePath(path: readonly PropertyKey[], raw: unknown, listKey: string): string {
  if (path[0] === listKey && typeof path[1] === 'number') {
    const entries = (raw as Record<string, unknown>)[listKey];
    const entry = Array.isArray(entries) ? (entries[path[1]] as { id?: unknown } | undefined) : undefined;
    const id = typeof entry?.id === 'string' && entry.id.trim() !== '' ? ` (${entry.id})` : '';
    const rest = path.slice(2).map(String).join('.');
    return `${listKey}[${path[1]}]${id}${rest ? `: ${rest}` : ''}`;
  }
  return path.map(String).join('.');
}

/** Entry index of a problem path; file-level problems sort first. */
function entryIndex(path: readonly PropertyKey[], listKey: string): number {
  return path[0] === listKey && typeof path[1] === 'number' ? path[1] : -1;
}

/** Second and later uses of an id, checked on the raw entries so they show beside other problems. */
function duplicateIds(raw: unknown, listKey: string): Problem[] {
  const entries = (raw as Record<string, unknown>)[listKey];
  if (!Array.isArray(entries)) return [];
  const firstIndex = new Map<string, number>();
  const problems: Problem[] = [];
  entries.forEach((entry: unknown, index) => {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || id.trim() === '') return;
    const first = firstIndex.get(id.trim());
    if (first === undefined) firstIndex.set(id.trim(), index);
    else
      problems.push({
        path: [listKey, index, 'id'],
        message: `duplicate id (also ${listKey}[${first}])`,
      });
  });
  return problems;
}

/** Line of the deepest node that exists along an issue path (a missing field names its entry). */
function lineOfPath(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * Parses and validates a list file (YAML or JSON, by extension, else by content) against its
 * schema, whose entries live under `listKey`; ids must be unique.
 *
 * @throws InputError naming the file, the line when known, the entry (index and id) and the field,
 *   e.g. `suppressions.yaml: line 14: suppressions[2] (partner-cidr): expires: not a date (expected YYYY-MM-DD)`.
 * @example parseListFile('version: 1\nsuppressions: []\n', 'suppressions.yaml', suppressionsFileSchema, 'suppressions')
 */
export function parseListFile<T>(text: string, file: string, schema: z.ZodType<T>, listKey: string): T {
  const format = detectFormat(text, file);
  const lineCounter = new LineCounter();
  // JSON is YAML too: the YAML document maps schema errors back to lines for both formats.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  let raw: unknown;
  if (format === 'json') {
    raw = parseJsonText(text, file, doc.errors[0]?.pos[0]);
  } else {
    const syntax = doc.errors[0];
    if (syntax !== undefined) {
      throw new InputError(
        `invalid YAML: ${syntax.message}`,
        { file, line: lineAt(text, syntax.pos[0]) },
        { cause: syntax },
      );
    }
    raw = doc.toJS();
  }
  if (raw === null || raw === undefined) {
    throw new InputError(`empty file (expected version: 1 and a ${listKey} list)`, { file });
  }

  const result = schema.safeParse(raw, { error: errorMap });
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => ({ path: issue.path, message: issueMessage(issue) }))),
    ...duplicateIds(raw, listKey),
  ].sort((a, b) => entryIndex(a.path, listKey) - entryIndex(b.path, listKey));
  if (!result.success || problems.length > 0) {
    const located = problems.map((problem) => ({
      field: describePath(problem.path, raw, listKey),
      message: problem.message,
      line: doc.errors.length === 0 ? lineOfPath(doc, lineCounter, problem.path) : undefined,
    }));
    const [first, ...others] = located;
    if (first === undefined) throw new InputError(`invalid ${listKey} file`, { file });
    const more =
      others.length > 0 ? `; also ${others.map((o) => `${o.field}: ${o.message}`).join('; ')}` : '';
    throw new InputError(`${first.message}${more}`, {
      file,
      ...(first.line !== undefined ? { line: first.line } : {}),
      field: first.field,
    });
  }
  return result.data;
}
