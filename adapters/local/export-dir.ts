/**
 * The offline inventory source: an export directory of AWS CLI JSON files (design.md, "Offline
 * export directory"). Required: security-groups.json, network-interfaces.json, flow-logs.json;
 * optional: vpcs.json, network-acls.json, prefix-lists.json, and cloudtrail-events.json (the
 * security-group change history, read by readRuleChanges).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { ExportFormatError, InputError } from '../../shared/errors';
import {
  buildInventory,
  EXPORT_FILES,
  flowLogsFile,
  flowLogsFromJson,
  networkAclsFile,
  networkAclsFromJson,
  networkInterfacesFile,
  networkInterfacesFromJson,
  prefixListsFile,
  prefixListsFromJson,
  securityGroupsFile,
  securityGroupsFromJson,
  validateAwsJson,
  vpcsFile,
  vpcsFromJson,
} from '../../shared/inventory/aws-json';
import type { Inventory } from '../../shared/model/inventory';
import type { CloudTrailLookupEvent, RuleChangeHistory } from '../../shared/model/rule-change';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A text file of the export (or a settings, suppressions or report file) as a string. UTF-8, with
 * or without a byte-order mark, is read as is; UTF-16 with a byte-order mark (what Windows
 * PowerShell 5.1's `>` writes) is decoded; anything else fails with the file named and a hint, not
 * with an unreadable JSON error about a NUL character.
 *
 * @example readTextFile('export/security-groups.json').startsWith('{') // true
 */
export function readTextFile(file: string): string {
  const bytes = readFileSync(file);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const hint =
    "re-save it as UTF-8 (PowerShell: add '| Out-File -Encoding utf8', or use the AWS CLI from cmd or bash)";
  if (bytes.length >= 2 && (bytes[0] === 0 || bytes[1] === 0)) {
    throw new ExportFormatError(`not UTF-8 text: it looks like UTF-16 without a byte-order mark; ${hint}`, {
      file,
    });
  }
  try {
    return UTF8.decode(bytes);
  } catch (error) {
    throw new ExportFormatError(
      `not UTF-8 text (an invalid byte sequence); ${hint}`,
      { file },
      { cause: error },
    );
  }
}

/**
 * Parses JSON text; a syntax error names the file, line and column.
 *
 * @example parseJsonFile('{"a":1}', 'x.json') // { a: 1 }
 */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    let line: number | undefined;
    let column: number | undefined;
    if (position?.[1]) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset);
      line = before.split('\n').length;
      column = offset - before.lastIndexOf('\n');
    }
    throw new ExportFormatError(
      `malformed JSON${column !== undefined ? ` at column ${column}` : ''}: ${message.replace(/^.*?: /, '')}`,
      { file, ...(line !== undefined ? { line } : {}) },
      { cause: error },
    );
  }
}

function readExportFile<T extends z.ZodType>(
  directory: string,
  name: string,
  schema: T,
  required: boolean,
): z.infer<T> | undefined {
  const file = path.join(directory, name);
  if (!existsSync(file)) {
    if (required) {
      throw new ExportFormatError(
        `missing required file (write it with 'aws ec2 ${describeCommand(name)} --output json > ${name}')`,
        { file },
      );
    }
    return undefined;
  }
  const json = parseJsonFile(readTextFile(file), file);
  try {
    return validateAwsJson(schema, json, file);
  } catch (error) {
    if (error instanceof InputError) throw new ExportFormatError(error.message, {}, { cause: error });
    throw error;
  }
}

function describeCommand(name: string): string {
  return `describe-${name.replace(/\.json$/, '').replace('prefix-lists', 'managed-prefix-lists')}`;
}

/**
 * Reads an export directory into the core's inventory.
 *
 * @example const inventory = readExportDirectory('examples/sample-account');
 */
export function readExportDirectory(directory: string): Inventory {
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new ExportFormatError('export directory not found', { file: directory });
  }
  const sgJson = readExportFile(directory, EXPORT_FILES.securityGroups, securityGroupsFile, true);
  const eniJson = readExportFile(directory, EXPORT_FILES.networkInterfaces, networkInterfacesFile, true);
  const flowJson = readExportFile(directory, EXPORT_FILES.flowLogs, flowLogsFile, true);
  const vpcJson = readExportFile(directory, EXPORT_FILES.vpcs, vpcsFile, false);
  const naclJson = readExportFile(directory, EXPORT_FILES.networkAcls, networkAclsFile, false);
  const plJson = readExportFile(directory, EXPORT_FILES.prefixLists, prefixListsFile, false);
  const file = (name: string) => path.join(directory, name);
  return buildInventory({
    securityGroups: sgJson ? securityGroupsFromJson(sgJson, file(EXPORT_FILES.securityGroups)) : [],
    networkInterfaces: eniJson ? networkInterfacesFromJson(eniJson) : [],
    flowLogs: flowJson ? flowLogsFromJson(flowJson, file(EXPORT_FILES.flowLogs)) : [],
    vpcs: vpcJson ? vpcsFromJson(vpcJson) : [],
    networkAcls: naclJson ? networkAclsFromJson(naclJson) : [],
    prefixLists: plJson ? prefixListsFromJson(plJson) : [],
  });
}

/** The export's CloudTrail events: `aws cloudtrail lookup-events` output, pages as one `{"Events": [...]}`. */
export const CLOUDTRAIL_EVENTS_FILE = 'cloudtrail-events.json';

/** The JSON documents of a file: one, or several written one after another (CLI pages). */
function jsonDocuments(text: string, file: string): unknown[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return [JSON.parse(body)];
  } catch {
    // Pages concatenated as printed: split at each top-level closing brace.
    const documents: unknown[] = [];
    let depth = 0;
    let inString = false;
    let start = -1;
    for (let i = 0; i < body.length; i += 1) {
      const c = body[i];
      if (inString) {
        if (c === '\\') i += 1;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) start = i;
        depth += 1;
      } else if (c === '}') {
        depth -= 1;
        if (depth === 0) documents.push(parseJsonFile(body.slice(start, i + 1), file));
      }
    }
    if (documents.length === 0 || depth !== 0) return [parseJsonFile(body, file)];
    return documents;
  }
}

function epochOf(value: unknown, file: string, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms =
    typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new ExportFormatError(`${field} is not an ISO 8601 time`, { file, field });
  return Math.floor(ms / 1000);
}

/**
 * The security-group change history of an export directory, or undefined without
 * cloudtrail-events.json. `sg-audit export` adds `StartTime`/`EndTime` (the period scanned),
 * `Complete` and `Warnings`; a file the AWS CLI wrote lacks them, so its period is unknown and no
 * rule is called older than it.
 *
 * @example readRuleChanges('export')?.events.length // 42
 */
export function readRuleChanges(directory: string): RuleChangeHistory | undefined {
  const file = path.join(directory, CLOUDTRAIL_EVENTS_FILE);
  if (!existsSync(file)) return undefined;
  const documents = jsonDocuments(readTextFile(file), file).flatMap((d) => (Array.isArray(d) ? d : [d]));
  const events: CloudTrailLookupEvent[] = [];
  const warnings: string[] = [];
  let start: number | undefined;
  let end: number | undefined;
  let complete = true;
  for (const document of documents) {
    const page = document as Record<string, unknown> | null;
    if (page === null || typeof page !== 'object' || !Array.isArray(page.Events)) {
      throw new ExportFormatError('expected {"Events": [...]} (aws cloudtrail lookup-events output)', {
        file,
        field: 'Events',
      });
    }
    for (const event of page.Events) {
      if (event !== null && typeof event === 'object') events.push(event as CloudTrailLookupEvent);
    }
    start ??= epochOf(page.StartTime, file, 'StartTime');
    end ??= epochOf(page.EndTime, file, 'EndTime');
    if (page.Complete === false) complete = false;
    if (Array.isArray(page.Warnings)) warnings.push(...page.Warnings.filter((w) => typeof w === 'string'));
  }
  if (start === undefined) {
    warnings.push(
      `${CLOUDTRAIL_EVENTS_FILE} does not say which period it covers (no StartTime): rules no event in it names are 'unknown', never 'before' a date (sg-audit export writes the period)`,
    );
  }
  return {
    source: 'cloudtrail-export',
    events,
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    complete,
    warnings,
  };
}
