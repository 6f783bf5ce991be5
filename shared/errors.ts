/**
 * Typed errors of the core. Each has a set `name` (Step Functions Retry/Catch and the CLI match
 * on it) and keeps `cause` through ErrorOptions.
 */

/** Bad input: names the file, and the line or field, where it was found. */
export class InputError extends Error {
  override readonly name: string = 'InputError';
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;

  constructor(
    message: string,
    where: { file?: string; line?: number; field?: string } = {},
    options?: ErrorOptions,
  ) {
    const place = [where.file, where.line !== undefined ? `line ${where.line}` : undefined, where.field]
      .filter((p) => p !== undefined && p !== '')
      .join(': ');
    super(place ? `${place}: ${message}` : message, options);
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }
}

/** A CIDR, IP address, port list or protocol that does not parse. */
export class InvalidValueError extends InputError {
  override readonly name = 'InvalidValueError';
}

/**
 * An integer option within its bounds, or an InvalidValueError naming the option.
 *
 * @example integerOption('concurrency', 4, 1) // 4
 * @example integerOption('maxRetries', 11, 0, 10) // throws 'maxRetries: maxRetries must be an integer from 0 to 10, got 11'
 */
export function integerOption(field: string, value: number, min: number, max?: number): number {
  if (Number.isInteger(value) && value >= min && (max === undefined || value <= max)) return value;
  const bounds =
    max !== undefined
      ? `an integer from ${min} to ${max}`
      : min === 1
        ? 'a positive integer'
        : `an integer of at least ${min}`;
  throw new InvalidValueError(`${field} must be ${bounds}, got ${value}`, { field });
}

/** An export directory that is missing a required file or holds malformed JSON. */
export class ExportFormatError extends InputError {
  override readonly name = 'ExportFormatError';
}

/** Flow-log files whose format cannot be determined or read. */
export class FlowLogFormatError extends InputError {
  override readonly name = 'FlowLogFormatError';
}

/** The analysis window holds no flow-log records (or no files at all). */
export class EmptyWindowError extends Error {
  override readonly name = 'EmptyWindowError';
}
