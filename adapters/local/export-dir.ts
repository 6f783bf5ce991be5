/**
 * The offline inventory source: an export directory of AWS CLI JSON files (design.md, "Offline
 * export directory"). Required: security-groups.json, network-interfaces.json, flow-logs.json;
 * optional: vpcs.json, network-acls.json, prefix-lists.json.
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
