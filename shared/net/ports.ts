/**
 * Port-range algebra: inclusive ranges within 0..65535, combined as intervals (never expanded
 * into single ports).
 */
import { InvalidValueError } from '../errors';
import type { ValueOrigin } from './ip';

/** An inclusive port range; a single port has from === to. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export const MIN_PORT = 0;
export const MAX_PORT = 65535;

/** Every port: what '-1' and portless protocols admit. */
export const ALL_PORTS: PortRange = { from: MIN_PORT, to: MAX_PORT };

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_PORT && n <= MAX_PORT;
}

function assertRange(range: PortRange): void {
  if (!isPort(range.from) || !isPort(range.to) || range.from > range.to) {
    throw new InvalidValueError(`invalid port range ${range.from}-${range.to}`);
  }
}

/**
 * Sorts and merges ranges, joining overlapping and adjacent ones (22-22 + 23-25 → 22-25). The
 * result is sorted, disjoint and has a gap of at least one port between ranges.
 *
 * @throws InvalidValueError for a range outside 0..65535 or with from > to.
 * @example normalizeRanges([{ from: 23, to: 25 }, { from: 22, to: 22 }]) // [{ from: 22, to: 25 }]
 */
export function normalizeRanges(ranges: readonly PortRange[]): PortRange[] {
  ranges.forEach(assertRange);
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: { from: number; to: number }[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.from <= last.to + 1) {
      last.to = Math.max(last.to, range.to);
    } else {
      merged.push({ from: range.from, to: range.to });
    }
  }
  return merged;
}

/**
 * Whether any of the ranges contains the port (the ranges need not be normalized).
 *
 * @example rangesContain([{ from: 1024, to: 2048 }], 1500) // true
 */
export function rangesContain(ranges: readonly PortRange[], port: number): boolean {
  return ranges.some((range) => range.from <= port && port <= range.to);
}

/**
 * Whether `outer` contains every port of `inner`.
 *
 * @example rangeContainsRange({ from: 0, to: 65535 }, { from: 22, to: 22 }) // true
 */
export function rangeContainsRange(outer: PortRange, inner: PortRange): boolean {
  return outer.from <= inner.from && inner.to <= outer.to;
}

/**
 * Whether the union of `ranges` contains every port of `inner` (it may span several adjacent ranges).
 *
 * @example rangesContainRange([{ from: 20, to: 21 }, { from: 22, to: 30 }], { from: 21, to: 25 }) // true
 */
export function rangesContainRange(ranges: readonly PortRange[], inner: PortRange): boolean {
  return normalizeRanges(ranges).some((range) => rangeContainsRange(range, inner));
}

/**
 * Ports in both unions, normalized.
 *
 * @example intersectRanges([{ from: 0, to: 100 }], [{ from: 50, to: 200 }]) // [{ from: 50, to: 100 }]
 */
export function intersectRanges(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  const left = normalizeRanges(a);
  const right = normalizeRanges(b);
  const result: PortRange[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const x = left[i] as PortRange;
    const y = right[j] as PortRange;
    const from = Math.max(x.from, y.from);
    const to = Math.min(x.to, y.to);
    if (from <= to) result.push({ from, to });
    if (x.to < y.to) i++;
    else j++;
  }
  return result;
}

/**
 * Ports of `a` that are not in `b`, normalized.
 *
 * @example subtractRanges([{ from: 0, to: 65535 }], [{ from: 22, to: 22 }]) // [{ from: 0, to: 21 }, { from: 23, to: 65535 }]
 */
export function subtractRanges(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  const removed = normalizeRanges(b);
  const result: PortRange[] = [];
  let j = 0;
  for (const range of normalizeRanges(a)) {
    let from = range.from;
    // `removed` is sorted, so ranges ending before this one can be skipped for good.
    while (j < removed.length && (removed[j] as PortRange).to < from) j++;
    for (let k = j; k < removed.length && from <= range.to; k++) {
      const cut = removed[k] as PortRange;
      if (cut.from > range.to) break;
      if (cut.from > from) result.push({ from, to: cut.from - 1 });
      from = Math.max(from, cut.to + 1);
    }
    if (from <= range.to) result.push({ from, to: range.to });
  }
  return result;
}

/**
 * Number of distinct ports in the union.
 *
 * @example rangesSize([{ from: 0, to: 65535 }]) // 65536
 */
export function rangesSize(ranges: readonly PortRange[]): number {
  return normalizeRanges(ranges).reduce((sum, range) => sum + range.to - range.from + 1, 0);
}

/**
 * '22' for a single port, '1024-2048' for a range.
 *
 * @example formatPortRange({ from: 1024, to: 2048 }) // '1024-2048'
 */
export function formatPortRange(range: PortRange): string {
  return range.from === range.to ? String(range.from) : `${range.from}-${range.to}`;
}

/**
 * Parses a port list such as '22,443,1024-2048' (spaces allowed; '~' also separates a range, as
 * the seed writes '20000~30000'). Blank text is the empty list. The result is normalized.
 *
 * @throws InvalidValueError naming the offending item (70000, '5-3', 'abc', an empty item).
 * @example parsePortList('443, 22, 1024-2048') // [{ from: 22, to: 22 }, { from: 443, to: 443 }, { from: 1024, to: 2048 }]
 */
export function parsePortList(text: string, origin: ValueOrigin = {}): PortRange[] {
  if (text.trim() === '') return [];
  const ranges = text.split(',').map((raw) => {
    const item = raw.trim();
    const match = /^(\d{1,5})\s*(?:[-~]\s*(\d{1,5}))?$/.exec(item);
    const from = Number(match?.[1]);
    const to = match?.[2] === undefined ? from : Number(match[2]);
    if (match === null || !isPort(from) || !isPort(to) || from > to) {
      throw new InvalidValueError(
        `invalid port or port range '${item}' in '${text}' (expected N or N-M within 0-65535, N <= M)`,
        origin,
      );
    }
    return { from, to };
  });
  return normalizeRanges(ranges);
}
