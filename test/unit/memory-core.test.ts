import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EM_X86_64, layoutCore } from '../../src/acquire/memory/core-layout.js';
import { fileNote } from '../../src/acquire/memory/core-notes.js';
import { PT_NOTE, parseNotes } from '../../src/acquire/memory/elf64.js';
import { readKcoreLayout } from '../../src/acquire/memory/kcore-layout.js';
import { fromBuffer } from '../../src/acquire/memory/positioned-file.js';
import { kernelRegion, parseMaps, parseMapsLine, parseSmapsRss } from '../../src/acquire/memory/proc-maps.js';
import { tempDir } from '../helpers.js';

describe('layoutCore', () => {
  it('uses extended numbering past 65,534 segments, and readelf and our parser agree on the count', async (t) => {
    const segments = Array.from({ length: 70_000 }, (_, i) => ({ vaddr: 0x10000 + i * 0x1000, memsz: 0x1000, filesz: 0, flags: 4 }));
    const layout = layoutCore(EM_X86_64, segments, Buffer.alloc(0));
    assert.equal(layout.size, layout.head.length, 'no segment has bytes');
    const file = path.join(tempDir(t), 'core');
    writeFileSync(file, layout.head);
    const parsed = await readKcoreLayout(fromBuffer(layout.head));
    assert.equal(parsed.extendedNumbering, true);
    assert.equal(parsed.phdrs.length, 70_001);
    assert.equal(parsed.phdrs[0]!.type, PT_NOTE);
    assert.equal(parsed.phdrs[70_000]!.vaddr, BigInt(0x10000 + 69_999 * 0x1000));
    assert.match(execFileSync('readelf', ['-h', file], { encoding: 'utf8' }), /Number of program headers:\s+65535 \(70001\)/);
  });

  it('places each segment page-aligned after the notes, in order', () => {
    const layout = layoutCore(EM_X86_64, [{ vaddr: 0x1000, memsz: 0x2000, filesz: 0x2000, flags: 6 }, { vaddr: 0x9000, memsz: 0x1000, filesz: 0x1000, flags: 5 }], Buffer.alloc(100, 1));
    assert.deepEqual(layout.offsets, [0x1000, 0x3000]);
    assert.equal(layout.size, 0x4000);
  });
});

describe('fileNote', () => {
  it('writes count, page size, triples with the offset in pages, then NUL-terminated names', () => {
    const [note] = parseNotes(fileNote([{ start: 0x400000n, end: 0x401000n, offset: 0x2000n, path: Buffer.from('/usr/bin/x (deleted)') }], 4096), true);
    assert.equal(note!.name, 'CORE');
    const d = note!.desc;
    assert.deepEqual([d.readBigUInt64LE(0), d.readBigUInt64LE(8), d.readBigUInt64LE(16), d.readBigUInt64LE(24), d.readBigUInt64LE(32)], [1n, 4096n, 0x400000n, 0x401000n, 2n]);
    assert.equal(d.subarray(40).toString(), '/usr/bin/x (deleted)\0');
  });
});

describe('parseMaps', () => {
  const MAPS = [
    '55d0c8a00000-55d0c8a28000 r--p 00000000 fd:01 1835101                    /usr/bin/bash',
    '7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 ',
    '7f1c2b000000-7f1c2b001000 r-xp 00001000 00:19 4242                       /tmp/a b (deleted)',
    '7ffd5e1f0000-7ffd5e1f4000 r--p 00000000 00:00 0                          [vvar]',
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  ].join('\n');

  it('keeps paths with spaces and the deleted suffix as bytes, and addresses above 2^63', () => {
    const { mappings, badLines } = parseMaps(Buffer.from(`${MAPS}\n`));
    assert.equal(badLines, 0);
    assert.equal(mappings[2]!.path.toString(), '/tmp/a b (deleted)');
    assert.equal(mappings[1]!.path.length, 0);
    assert.equal(mappings[4]!.start, 0xffffffffff600000n);
    assert.deepEqual(mappings.map((m) => kernelRegion(m.path) !== null), [false, false, false, true, true]);
  });

  it('reads Rss per mapping from smaps', () => {
    const smaps = '7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 \nSize:                132 kB\nRss:                  12 kB\n7f1c2b000000-7f1c2b001000 r-xp 00001000 00:19 4242 /x\nRss:                   0 kB\n';
    assert.deepEqual([...parseSmapsRss(Buffer.from(smaps))], [[0x7f1c2a000000n, 12 * 1024], [0x7f1c2b000000n, 0]]);
  });

  it('never throws on arbitrary bytes, and gives back any path without a newline', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const { mappings } = parseMaps(Buffer.from(bytes));
        for (const m of mappings) assert.ok(m.end > m.start);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }).filter((b) => !b.includes(10) && b[0] !== 32), fc.bigInt({ min: 0n, max: 1n << 47n }), (name, start) => {
        const line = Buffer.concat([Buffer.from(`${start.toString(16)}-${(start + 4096n).toString(16)} rw-p 00000000 00:00 7 `), Buffer.from(name)]);
        const m = parseMapsLine(line.toString('latin1'));
        assert.ok(m && m.path.equals(Buffer.from(name)) && m.start === start);
      }),
    );
  });
});
