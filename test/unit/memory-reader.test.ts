/**
 * The chunked reader against real read errors: [vvar] gives EIO on every page
 * of /proc/PID/mem, [vdso] right after it reads fine. One large read across
 * both fails as a whole; the page-by-page retry must keep every vdso byte and
 * zero-fill and log exactly the vvar pages.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { describe, it } from 'node:test';
import { HoleLog, readPieces } from '../../src/acquire/memory/chunked-read.js';
import { fromBuffer, fromHandle } from '../../src/acquire/memory/positioned-file.js';
import { parseMaps } from '../../src/acquire/memory/proc-maps.js';
import { markerChild } from '../fixtures/memory/child.js';

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('readPieces', () => {
  it('retries a failed large read page by page: vvar pages become EIO holes, vdso bytes are kept', async (t) => {
    const child = await markerChild(t, 4096);
    const { mappings } = parseMaps(await fsp.readFile(`/proc/${child.pid}/maps`));
    const names = mappings.map((m) => m.path.toString());
    const first = names.findIndex((n) => n.startsWith('[vvar'));
    const vdso = names.indexOf('[vdso]');
    assert.ok(first >= 0 && vdso > first, 'this kernel maps [vvar] before [vdso]');
    const span = mappings.slice(first, vdso + 1);
    for (let i = 1; i < span.length; i++) assert.equal(span[i]!.start, span[i - 1]!.end, 'vvar and vdso are contiguous');
    const start = Number(span[0]!.start);
    const vdsoStart = Number(mappings[vdso]!.start);
    const end = Number(mappings[vdso]!.end);

    const fh = await fsp.open(`/proc/${child.pid}/mem`, 'r');
    t.after(() => fh.close());
    const holes = new HoleLog();
    const out = Buffer.concat(await collect(readPieces(fromHandle(fh), [{ address: start, position: start, length: end - start }], { holes })));

    assert.equal(out.length, end - start);
    assert.deepEqual(holes.holes, [{ address: start, length: vdsoStart - start, code: 'EIO' }]);
    assert.ok(out.subarray(0, vdsoStart - start).equals(Buffer.alloc(vdsoStart - start)));
    const direct = Buffer.alloc(end - vdsoStart);
    await fh.read(direct, 0, direct.length, vdsoStart);
    assert.ok(out.subarray(vdsoStart - start).equals(direct));
    assert.equal(out.subarray(vdsoStart - start, vdsoStart - start + 4).toString('latin1'), '\x7fELF');
  });

  it('yields buffers that never span two pieces and stay valid after later reads (never reused), and zero-fills a source that ends early', async () => {
    const src = Buffer.alloc(10_000, 7);
    const holes = new HoleLog();
    const chunks = await collect(
      readPieces(fromBuffer(src), [{ address: 0x1000, position: 0, length: 5000 }, { address: 0x9000, position: 8000, length: 4000 }], { holes, chunkBytes: 3000 }),
    );
    assert.deepEqual(chunks.map((c) => c.length), [3000, 2000, 3000, 1000]);
    assert.deepEqual(holes.holes, [{ address: 0x9000 + 2000, length: 2000, code: 'EOF' }]);
    assert.ok(Buffer.concat(chunks).subarray(0, 7000).equals(Buffer.alloc(7000, 7)));
    assert.ok(Buffer.concat(chunks).subarray(7000).equals(Buffer.alloc(2000)));
  });
});
