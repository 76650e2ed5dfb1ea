import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ElfFormatError, NO_PADDR, PT_LOAD, PT_NOTE, type ProgramHeader } from '../../src/acquire/memory/elf64.js';
import { osReleaseFromNotes, readKcoreLayout } from '../../src/acquire/memory/kcore-layout.js';
import { LimeFormatError, readLimeRecords } from '../../src/acquire/memory/lime-reader.js';
import { fromBuffer } from '../../src/acquire/memory/positioned-file.js';
import { physicalPieces } from '../../src/acquire/memory/segment-table.js';
import { DIRECT_MAP, writeKcore, type KcoreSpec } from '../fixtures/memory/kcore.js';
import { tempDir } from '../helpers.js';

const MiB = 1024 * 1024;
const TEXT = 0xffff_ffff_8100_0000n;
const VMALLOC = 0xffff_c900_0000_0000n;

const SPEC: KcoreSpec = {
  segments: [
    { vaddr: DIRECT_MAP + 0x1000n, paddr: 0x1000n, size: 0x9f000 },
    { vaddr: DIRECT_MAP + 0x100000n, paddr: 0x100000n, size: 3 * MiB },
    { vaddr: TEXT, paddr: 0x200000n, size: 0x10000, fill: 0xee },
    { vaddr: VMALLOC, paddr: null, size: 0x10000 },
  ],
  order: [2, 0, 3, 1],
  osrelease: '6.1.0-18-amd64',
};

async function layoutOf(t: { after(fn: () => void): void }, spec: KcoreSpec) {
  const file = path.join(tempDir(t), 'kcore');
  const built = await writeKcore(file, spec);
  return { built, layout: await readKcoreLayout(fromBuffer(await fsp.readFile(file))) };
}

describe('readKcoreLayout', () => {
  it('reads the program headers in file order, the notes and the kernel release', async (t) => {
    const { built, layout } = await layoutOf(t, SPEC);
    assert.equal(layout.extendedNumbering, false);
    assert.deepEqual(layout.phdrs.map((p) => p.type), [PT_NOTE, PT_LOAD, PT_LOAD, PT_LOAD, PT_LOAD]);
    assert.deepEqual(layout.phdrs.slice(1).map((p) => p.vaddr), [TEXT, DIRECT_MAP + 0x1000n, VMALLOC, DIRECT_MAP + 0x100000n]);
    assert.deepEqual(layout.phdrs.slice(1).map((p) => p.paddr), [0x200000n, 0x1000n, NO_PADDR, 0x100000n]);
    assert.equal(Number(layout.phdrs[4]!.offset), built.offsets[1]);
    assert.equal(osReleaseFromNotes(layout.notes), '6.1.0-18-amd64');
  });

  it('takes the header count from section header 0 when e_phnum is PN_XNUM', async (t) => {
    const plain = await layoutOf(t, SPEC);
    const extended = await layoutOf(t, { ...SPEC, extended: true });
    assert.equal(extended.layout.extendedNumbering, true);
    assert.equal(extended.layout.header.phnumField, 0xffff);
    assert.deepEqual(
      extended.layout.phdrs.map(({ offset: _o, ...p }) => p),
      plain.layout.phdrs.map(({ offset: _o, ...p }) => p),
    );
  });

  it('reads big-endian headers', async (t) => {
    const { layout } = await layoutOf(t, { ...SPEC, bigEndian: true });
    assert.equal(layout.header.littleEndian, false);
    assert.deepEqual(layout.phdrs.slice(1).map((p) => p.paddr), [0x200000n, 0x1000n, NO_PADDR, 0x100000n]);
    assert.equal(osReleaseFromNotes(layout.notes), '6.1.0-18-amd64');
  });

  it('refuses what is not an ELF64 core with a reason', async () => {
    await assert.rejects(readKcoreLayout(fromBuffer(Buffer.from('hello'))), /ELF header cut short/);
    await assert.rejects(readKcoreLayout(fromBuffer(Buffer.alloc(64))), /bad magic/);
    const elf32 = Buffer.alloc(64);
    elf32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    await assert.rejects(readKcoreLayout(fromBuffer(elf32)), /not ELF64/);
  });
});

function ph(index: number, paddr: bigint, size: number, vaddr: bigint, type = PT_LOAD): ProgramHeader {
  return { index, type, flags: 7, offset: BigInt(index * 0x1000_0000), vaddr, paddr, filesz: BigInt(size), memsz: BigInt(size), align: 4096n };
}

describe('physicalPieces (the alias rule)', () => {
  it('drops the kernel text mapping of RAM the direct map already covers, and segments with no physical address', () => {
    const { pieces, table } = physicalPieces([
      ph(0, 0n, 0x100, 0n, PT_NOTE),
      ph(1, 0x200000n, 0x10000, TEXT),
      ph(2, 0x1000n, 0x9f000, DIRECT_MAP + 0x1000n),
      ph(3, NO_PADDR, 0x10000, VMALLOC),
      ph(4, 0x100000n, 3 * MiB, DIRECT_MAP + 0x100000n),
    ]);
    assert.deepEqual(table.map((r) => r.use), ['not-loadable', 'alias', 'ram', 'no-physical-address', 'ram']);
    assert.deepEqual(pieces, [
      { start: 0x1000, end: 0xa0000, position: 2 * 0x1000_0000, segment: 2 },
      { start: 0x100000, end: 0x400000, position: 4 * 0x1000_0000, segment: 4 },
    ]);
  });

  it('keeps the part of a smaller segment that nothing larger covers, at the right file position', () => {
    const { pieces, table } = physicalPieces([ph(1, 0x1000n, 0x3000, DIRECT_MAP), ph(2, 0x3000n, 0x2000, TEXT)]);
    assert.deepEqual(table.map((r) => [r.use, r.usedBytes]), [['ram', 0x3000], ['partial-alias', 0x1000]]);
    assert.deepEqual(pieces.at(-1), { start: 0x4000, end: 0x5000, position: 2 * 0x1000_0000 + 0x1000, segment: 2 });
  });

  it('refuses a kcore that records no physical addresses (every segment at 0)', () => {
    assert.throws(() => physicalPieces([ph(1, 0n, 0x1000, DIRECT_MAP), ph(2, 0n, 0x2000, TEXT)]), ElfFormatError);
  });
});

describe('parsers on arbitrary bytes (property)', () => {
  const valid = Buffer.alloc(64 + 3 * 56);
  valid.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  valid.writeBigUInt64LE(64n, 32);
  valid.writeUInt16LE(56, 54);
  valid.writeUInt16LE(3, 56);

  it('readKcoreLayout either parses or throws ElfFormatError, from random bytes and from mutated headers', async () => {
    const mutated = fc
      .array(fc.record({ at: fc.nat({ max: valid.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 12 })
      .map((edits) => {
        const b = Buffer.from(valid);
        for (const e of edits) b[e.at] = e.byte;
        return b;
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)), mutated), async (bytes) => {
        try {
          const l = await readKcoreLayout(fromBuffer(bytes));
          assert.ok(l.phdrs.length <= 1 << 20);
        } catch (err) {
          assert.ok(err instanceof ElfFormatError, String(err));
        }
      }),
    );
  });

  it('physicalPieces: disjoint sorted pieces, each inside its segment, covering exactly the union of physical segments', () => {
    const seg = fc.record({
      paddr: fc.oneof(fc.constant(NO_PADDR), fc.bigInt({ min: 1n, max: 0x10000n })),
      size: fc.integer({ min: 0, max: 0x4000 }),
      vaddr: fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
    });
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 12 }), fc.nat({ max: 0x14000 }), (segs, probe) => {
        const phdrs = segs.map((s, i) => ph(i, s.paddr, s.size, s.vaddr));
        const { pieces, table } = physicalPieces(phdrs);
        for (const [i, p] of pieces.entries()) {
          assert.ok(p.start < p.end);
          if (i > 0) assert.ok(pieces[i - 1]!.end <= p.start);
          const src = phdrs[p.segment]!;
          assert.ok(BigInt(p.start) >= src.paddr && BigInt(p.end) <= src.paddr + src.filesz);
          assert.equal(p.position, Number(src.offset) + p.start - Number(src.paddr));
        }
        const covered = phdrs.some((s) => s.paddr !== NO_PADDR && BigInt(probe) >= s.paddr && BigInt(probe) < s.paddr + s.filesz);
        assert.equal(pieces.some((p) => probe >= p.start && probe < p.end), covered);
        assert.equal(table.reduce((n, r) => n + r.usedBytes, 0), pieces.reduce((n, p) => n + p.end - p.start, 0));
      }),
    );
  });

  it('readLimeRecords either returns ordered records that fit the file or throws LimeFormatError', async () => {
    const header = fc.record({ start: fc.bigInt({ min: 0n, max: 0x100n }), len: fc.bigInt({ min: 0n, max: 0x40n }), junk: fc.boolean() }).map(({ start, len, junk }) => {
      const h = Buffer.alloc(32 + Number(len) + (junk ? 1 : 0));
      h.writeUInt32LE(0x4c694d45, 0);
      h.writeUInt32LE(1, 4);
      h.writeBigUInt64LE(start, 8);
      h.writeBigUInt64LE(start + len - 1n < 0n ? 0n : start + len - 1n, 16);
      return h;
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)), fc.array(header, { maxLength: 5 }).map((hs) => Buffer.concat(hs))), async (bytes) => {
        try {
          const rs = await readLimeRecords(fromBuffer(bytes), bytes.length);
          for (const [i, r] of rs.entries()) {
            assert.ok(r.start <= r.end && r.dataOffset + r.end - r.start + 1 <= bytes.length);
            if (i > 0) assert.ok(rs[i - 1]!.end < r.start);
          }
        } catch (err) {
          assert.ok(err instanceof LimeFormatError, String(err));
        }
      }),
    );
  });
});
