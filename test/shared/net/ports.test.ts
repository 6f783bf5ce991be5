import fc from 'fast-check';
import { InvalidValueError } from '../../../shared/errors';
import {
  ALL_PORTS,
  formatPortRange,
  intersectRanges,
  normalizeRanges,
  type PortRange,
  parsePortList,
  rangeContainsRange,
  rangesContain,
  rangesContainRange,
  rangesSize,
  subtractRanges,
} from '../../../shared/net/ports';

/** Ranges within 0..300 (plus the top of the port space), so random sets overlap and touch. */
const smallRange: fc.Arbitrary<PortRange> = fc
  .tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 20 }))
  .map(([from, length]) => ({ from, to: from + length }));
const edgeRange: fc.Arbitrary<PortRange> = fc.oneof(
  smallRange,
  fc.integer({ min: 65500, max: 65535 }).map((from) => ({ from, to: 65535 })),
);
const rangeList = fc.array(edgeRange, { maxLength: 12 });
const probes = fc.array(fc.oneof(fc.integer({ min: 0, max: 330 }), fc.integer({ min: 65490, max: 65535 })), {
  minLength: 30,
  maxLength: 30,
});

function expectNormalized(ranges: readonly PortRange[]): void {
  ranges.forEach((range, i) => {
    expect(range.from).toBeLessThanOrEqual(range.to);
    const next = ranges[i + 1];
    // Sorted, disjoint and not adjacent: at least one port between neighbours.
    if (next !== undefined) expect(next.from).toBeGreaterThan(range.to + 1);
  });
}

describe('normalizeRanges', () => {
  it('merges adjacent ranges (22-22 + 23-25 → 22-25)', () => {
    expect(
      normalizeRanges([
        { from: 23, to: 25 },
        { from: 22, to: 22 },
      ]),
    ).toEqual([{ from: 22, to: 25 }]);
  });

  it('merges overlapping and nested ranges and sorts the rest', () => {
    const ranges = [
      { from: 1000, to: 2000 },
      { from: 80, to: 80 },
      { from: 1500, to: 3000 },
      { from: 1600, to: 1700 },
      { from: 443, to: 443 },
    ];
    expect(normalizeRanges(ranges)).toEqual([
      { from: 80, to: 80 },
      { from: 443, to: 443 },
      { from: 1000, to: 3000 },
    ]);
  });

  it('keeps ranges separated by one port apart', () => {
    expect(
      normalizeRanges([
        { from: 22, to: 22 },
        { from: 24, to: 24 },
      ]),
    ).toEqual([
      { from: 22, to: 22 },
      { from: 24, to: 24 },
    ]);
  });

  it('handles the bounds 0-65535 and 1-65535', () => {
    expect(
      normalizeRanges([
        { from: 1, to: 65535 },
        { from: 0, to: 0 },
      ]),
    ).toEqual([ALL_PORTS]);
    expect(normalizeRanges([{ from: 1, to: 65535 }])).toEqual([{ from: 1, to: 65535 }]);
  });

  it('returns nothing for nothing and does not mutate its input', () => {
    const input = [
      { from: 5, to: 6 },
      { from: 1, to: 2 },
    ];
    expect(normalizeRanges([])).toEqual([]);
    normalizeRanges(input);
    expect(input).toEqual([
      { from: 5, to: 6 },
      { from: 1, to: 2 },
    ]);
  });

  it.each([[{ from: 5, to: 3 }], [{ from: -1, to: 3 }], [{ from: 0, to: 65536 }], [{ from: 1.5, to: 3 }]])(
    'throws InvalidValueError for %j',
    (range) => {
      expect(() => normalizeRanges([range])).toThrow(InvalidValueError);
    },
  );

  it('preserves membership and yields sorted, disjoint, non-adjacent ranges', () => {
    fc.assert(
      fc.property(rangeList, probes, (ranges, ports) => {
        const normalized = normalizeRanges(ranges);
        expectNormalized(normalized);
        for (const port of ports) expect(rangesContain(normalized, port)).toBe(rangesContain(ranges, port));
      }),
    );
  });
});

describe('rangesContain', () => {
  it('contains the bounds and nothing outside them', () => {
    const ranges = [{ from: 1024, to: 2048 }];
    expect(rangesContain(ranges, 1024)).toBe(true);
    expect(rangesContain(ranges, 2048)).toBe(true);
    expect(rangesContain(ranges, 1023)).toBe(false);
    expect(rangesContain(ranges, 2049)).toBe(false);
  });

  it('contains 0 and 65535 in the full range only when they are in it', () => {
    expect(rangesContain([ALL_PORTS], 0)).toBe(true);
    expect(rangesContain([ALL_PORTS], 65535)).toBe(true);
    expect(rangesContain([{ from: 1, to: 65535 }], 0)).toBe(false);
  });

  it('contains nothing when empty', () => {
    expect(rangesContain([], 22)).toBe(false);
  });
});

describe('rangeContainsRange', () => {
  it('contains itself and inner ranges, not overhanging ones', () => {
    expect(rangeContainsRange(ALL_PORTS, { from: 22, to: 22 })).toBe(true);
    expect(rangeContainsRange({ from: 20, to: 30 }, { from: 20, to: 30 })).toBe(true);
    expect(rangeContainsRange({ from: 20, to: 30 }, { from: 19, to: 25 })).toBe(false);
    expect(rangeContainsRange({ from: 1, to: 65535 }, ALL_PORTS)).toBe(false);
  });
});

describe('rangesContainRange', () => {
  it('contains a range spanning adjacent ranges', () => {
    expect(
      rangesContainRange(
        [
          { from: 20, to: 21 },
          { from: 22, to: 30 },
        ],
        { from: 21, to: 25 },
      ),
    ).toBe(true);
  });

  it('does not contain a range across a gap', () => {
    expect(
      rangesContainRange(
        [
          { from: 20, to: 21 },
          { from: 23, to: 30 },
        ],
        { from: 21, to: 25 },
      ),
    ).toBe(false);
  });
});

describe('intersectRanges', () => {
  it('keeps the ports in both', () => {
    expect(intersectRanges([{ from: 0, to: 100 }], [{ from: 50, to: 200 }])).toEqual([{ from: 50, to: 100 }]);
    expect(
      intersectRanges(
        [ALL_PORTS],
        [
          { from: 443, to: 443 },
          { from: 22, to: 22 },
        ],
      ),
    ).toEqual([
      { from: 22, to: 22 },
      { from: 443, to: 443 },
    ]);
  });

  it('is empty for disjoint or empty inputs', () => {
    expect(intersectRanges([{ from: 0, to: 10 }], [{ from: 11, to: 20 }])).toEqual([]);
    expect(intersectRanges([], [ALL_PORTS])).toEqual([]);
  });

  it('agrees with membership in both', () => {
    fc.assert(
      fc.property(rangeList, rangeList, probes, (a, b, ports) => {
        const both = intersectRanges(a, b);
        expectNormalized(both);
        for (const port of ports) {
          expect(rangesContain(both, port)).toBe(rangesContain(a, port) && rangesContain(b, port));
        }
      }),
    );
  });
});

describe('subtractRanges', () => {
  it('cuts a port out of the full range', () => {
    expect(subtractRanges([ALL_PORTS], [{ from: 22, to: 22 }])).toEqual([
      { from: 0, to: 21 },
      { from: 23, to: 65535 },
    ]);
  });

  it('cuts the edges 0 and 65535', () => {
    expect(
      subtractRanges(
        [ALL_PORTS],
        [
          { from: 0, to: 0 },
          { from: 65535, to: 65535 },
        ],
      ),
    ).toEqual([{ from: 1, to: 65534 }]);
  });

  it('cuts several holes out of one range, and whole ranges', () => {
    const result = subtractRanges(
      [
        { from: 0, to: 100 },
        { from: 200, to: 210 },
      ],
      [
        { from: 10, to: 20 },
        { from: 30, to: 40 },
        { from: 195, to: 215 },
      ],
    );
    expect(result).toEqual([
      { from: 0, to: 9 },
      { from: 21, to: 29 },
      { from: 41, to: 100 },
    ]);
  });

  it('leaves the input when nothing is removed and nothing when everything is', () => {
    expect(subtractRanges([{ from: 5, to: 6 }], [])).toEqual([{ from: 5, to: 6 }]);
    expect(subtractRanges([{ from: 5, to: 6 }], [ALL_PORTS])).toEqual([]);
  });

  it('agrees with membership in the first and not the second', () => {
    fc.assert(
      fc.property(rangeList, rangeList, probes, (a, b, ports) => {
        const rest = subtractRanges(a, b);
        expectNormalized(rest);
        for (const port of ports) {
          expect(rangesContain(rest, port)).toBe(rangesContain(a, port) && !rangesContain(b, port));
        }
      }),
    );
  });
});

describe('rangesSize', () => {
  it('counts distinct ports of the union', () => {
    expect(rangesSize([ALL_PORTS])).toBe(65536);
    expect(rangesSize([{ from: 1, to: 65535 }])).toBe(65535);
    expect(
      rangesSize([
        { from: 22, to: 22 },
        { from: 22, to: 23 },
      ]),
    ).toBe(2);
    expect(rangesSize([])).toBe(0);
  });

  it('is the size of the intersection plus the size of the difference', () => {
    fc.assert(
      fc.property(rangeList, rangeList, (a, b) => {
        expect(rangesSize(intersectRanges(a, b)) + rangesSize(subtractRanges(a, b))).toBe(rangesSize(a));
      }),
    );
  });
});

describe('formatPortRange', () => {
  it('writes a single port and a range', () => {
    expect(formatPortRange({ from: 22, to: 22 })).toBe('22');
    expect(formatPortRange({ from: 1024, to: 2048 })).toBe('1024-2048');
    expect(formatPortRange(ALL_PORTS)).toBe('0-65535');
  });

  it('round-trips through parsePortList', () => {
    fc.assert(
      fc.property(edgeRange, (range) => {
        expect(parsePortList(formatPortRange(range))).toEqual([range]);
      }),
    );
  });
});

describe('parsePortList', () => {
  it('parses single ports and ranges, normalized', () => {
    expect(parsePortList('22,443,1024-2048')).toEqual([
      { from: 22, to: 22 },
      { from: 443, to: 443 },
      { from: 1024, to: 2048 },
    ]);
  });

  it('accepts spaces and the seed’s ~ separator', () => {
    expect(parsePortList(' 443 , 22, 1024 - 2048,20000~30000 ')).toEqual([
      { from: 22, to: 22 },
      { from: 443, to: 443 },
      { from: 1024, to: 2048 },
      { from: 20000, to: 30000 },
    ]);
  });

  it('merges adjacent items and accepts the bounds', () => {
    expect(parsePortList('0,1-65535')).toEqual([ALL_PORTS]);
  });

  it('returns nothing for blank text', () => {
    expect(parsePortList('  ')).toEqual([]);
  });

  it.each(['70000', '5-3', 'abc', '22,,443', '-1', '22-', '1-65536', '22;443'])(
    'throws InvalidValueError naming the item of %j',
    (text) => {
      expect(() => parsePortList(text)).toThrow(InvalidValueError);
    },
  );

  it('names the offending item and the origin', () => {
    expect(() => parsePortList('22,70000', { field: '--ports' })).toThrow(
      /--ports: invalid port or port range '70000'/,
    );
    expect(() => parsePortList('5-3')).toThrow("'5-3'");
    expect(() => parsePortList('22, abc')).toThrow("'abc'");
  });
});
