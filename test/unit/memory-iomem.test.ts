import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergeRanges, parseIomem } from '../../src/acquire/memory/iomem.js';

/** This machine's /proc/iomem (a Firecracker VM), and nesting seen on hosts with virtio-mem and kmem (daxctl). */
const FIRECRACKER = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-000fffff : Reserved
  000de000-000defff : AMZNC10C:00
  000f0000-000fffff : System ROM
00100000-bfffffff : System RAM
  01000000-02276f47 : Kernel code
  02400000-02e0cfff : Kernel rodata
  03000000-0327c17f : Kernel data
  03b32000-03c55fff : Kernel bss
c0001000-eebfffff : PCI Bus 0000:00
fec00000-fec003ff : IOAPIC 0
100000000-63fffffff : System RAM
4000000000-7fffffffff : PCI Bus 0000:00
`;

const NESTED = `00001000-0009ffff : System RAM
140000000-1bfffffff : virtio0
  140000000-147ffffff : System RAM (virtio_mem)
  150000000-157ffffff : System RAM (virtio_mem)
1c0000000-23fffffff : Persistent Memory
  1c0000000-1ffffffff : dax0.0
    1c0000000-1ffffffff : System RAM (kmem)
240000000-27fffffff : System RAM
  240000000-240ffffff : System RAM (kmem)
280000000-280ffffff : System RAM
`;

describe('parseIomem', () => {
  it('takes top-level System RAM with the inclusive end made exclusive', () => {
    const m = parseIomem(FIRECRACKER);
    assert.equal(m.zeroed, false);
    assert.equal(m.badLines, 0);
    assert.deepEqual(m.ram, [
      { start: 0x1000, end: 0x9fc00 },
      { start: 0x100000, end: 0xc0000000 },
      { start: 0x100000000, end: 0x640000000 },
    ]);
  });

  it('takes System RAM at any depth, qualifiers included, and joins nested and touching ranges', () => {
    assert.deepEqual(parseIomem(NESTED).ram, [
      { start: 0x1000, end: 0xa0000 },
      { start: 0x140000000, end: 0x148000000 },
      { start: 0x150000000, end: 0x158000000 },
      // kmem two levels down inside persistent memory
      { start: 0x1c0000000, end: 0x200000000 },
      // RAM with a kmem nested inside it, and RAM touching it: one range
      { start: 0x240000000, end: 0x281000000 },
    ]);
  });

  it('recognises the all-zero map an unprivileged reader gets', () => {
    const zeros = FIRECRACKER.replace(/[0-9a-f]+-[0-9a-f]+/g, (m) => m.replace(/[0-9a-f]/g, '0'));
    const m = parseIomem(zeros);
    assert.equal(m.zeroed, true);
    assert.deepEqual(m.ram, []);
  });

  it('does not take names that only start like System RAM, and counts lines it cannot read', () => {
    const m = parseIomem('00001000-00001fff : System RAMdisk\n00002000-00002fff : system ram\nnot a line\n00003000-00003fff : System RAM\n');
    assert.deepEqual(m.ram, [{ start: 0x3000, end: 0x4000 }]);
    assert.equal(m.badLines, 1);
  });
});

describe('parseIomem on arbitrary input (property)', () => {
  const line = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc
      .record({
        indent: fc.nat({ max: 3 }),
        start: fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
        len: fc.bigInt({ min: 0n, max: 1n << 40n }),
        name: fc.constantFrom('System RAM', 'System RAM (virtio_mem)', 'Reserved', 'Kernel code', 'PCI Bus 0000:00'),
      })
      .map(({ indent, start, len, name }) => `${'  '.repeat(indent)}${start.toString(16)}-${(start + len).toString(16)} : ${name}`),
  );

  it('never throws; RAM is sorted, disjoint, non-touching and below 2^52', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        const m = parseIomem(lines.join('\n'));
        for (const [i, r] of m.ram.entries()) {
          assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start < r.end && r.end <= 2 ** 52);
          if (i > 0) assert.ok(m.ram[i - 1]!.end < r.start);
        }
      }),
    );
  });

  it('every RAM byte it reports was inside some System RAM line, and merging changes no coverage', () => {
    const range = fc.record({ start: fc.nat({ max: 1 << 20 }), len: fc.integer({ min: 1, max: 1 << 12 }) }).map(({ start, len }) => ({ start, end: start + len }));
    fc.assert(
      fc.property(fc.array(range, { maxLength: 20 }), fc.nat({ max: (1 << 20) + (1 << 12) }), (ranges, probe) => {
        const inAny = ranges.some((r) => probe >= r.start && probe < r.end);
        const merged = mergeRanges(ranges);
        assert.equal(merged.some((r) => probe >= r.start && probe < r.end), inAny);
        const text = ranges.map((r) => `${r.start.toString(16)}-${(r.end - 1).toString(16)} : System RAM`).join('\n');
        assert.deepEqual(parseIomem(text).ram, merged);
      }),
    );
  });
});
