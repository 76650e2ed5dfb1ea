/**
 * Physical memory end to end below the CLI: a synthetic kcore-format file
 * (shuffled program headers, a vmalloc segment without a physical address, a
 * kernel-text alias holding different bytes, RAM nested under a device, RAM
 * the kcore does not map, and a segment cut short by the end of the file,
 * which reads as an unreadable region) goes through the real case writer, and
 * the image is compared byte for byte with the truth built from the pattern.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LIME_HEADER_BYTES, type ImageFormat } from '../../src/acquire/memory/image-format.js';
import { readLimeRecords } from '../../src/acquire/memory/lime-reader.js';
import { acquireImage, prepareImage } from '../../src/acquire/memory/physical.js';
import { fromBuffer } from '../../src/acquire/memory/positioned-file.js';
import { PhysicalSidecar } from '../../src/acquire/memory/sidecar.js';
import { CaseWriter } from '../../src/evidence/case-writer.js';
import { Manifest } from '../../src/evidence/manifest.js';
import { Host } from '../../src/host/host.js';
import { buildCaseHeader } from '../../src/pipeline/case-header.js';
import { ramBytes } from '../fixtures/memory/kcore.js';
import { HOLE, IOMEM, RECORDS, expectedImage, syntheticKcore } from '../fixtures/memory/scenario.js';
import { PROJECT, tempDir } from '../helpers.js';

const MiB = 1024 * 1024;

async function acquire(t: { after(fn: () => void): void }, format: ImageFormat, maxBytes: number | null = null) {
  const dir = tempDir(t);
  const { kcore, iomem } = await syntheticKcore(dir);
  const out = path.join(dir, 'case');
  const header = await buildCaseHeader(await Host.open(), { caseId: 't', examiner: undefined, commandLine: ['t'], version: '0.0.0', codeRoot: PROJECT });
  const opts = { source: kcore, iomemFile: iomem, format, maxBytes };
  const prep = await prepareImage(opts);
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6, archiveHash: false }, header);
  try {
    const result = await acquireImage(writer, prep, { ...opts, signal: new AbortController().signal, progress: null });
    await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
    const image = await fsp.readFile(path.join(out, result.path));
    const sidecar = PhysicalSidecar.parse(JSON.parse(await fsp.readFile(path.join(out, `${result.path}.json`), 'utf8')));
    const manifest = Manifest.parse(JSON.parse(await fsp.readFile(path.join(out, 'manifest.json'), 'utf8')));
    return { result, image, sidecar, manifest };
  } finally {
    await prep.source.close();
  }
}

describe('physical memory from a kcore-format file', () => {
  it('writes LiME equal byte for byte to the truth, with the alias, vmalloc and unmapped RAM left out', async (t) => {
    const { result, image, sidecar, manifest } = await acquire(t, 'lime');
    assert.equal(result.path, 'acquired/memory.lime');
    assert.equal(image.length, expectedImage('lime').length);
    assert.ok(image.equals(expectedImage('lime')), 'image differs from the truth');
    assert.equal(image.indexOf(Buffer.alloc(64, 0xee)), -1, 'the kernel-text alias was read');
    assert.equal(image.indexOf(Buffer.alloc(64, 0xaa)), -1, 'the vmalloc segment was read');

    const records = await readLimeRecords(fromBuffer(image), image.length);
    assert.deepEqual(records.map((r) => [r.start, r.end + 1]), RECORDS.map((r) => [r.start, r.end]));
    assert.equal(records[0]!.dataOffset, LIME_HEADER_BYTES);

    const sha = createHash('sha256').update(image).digest('hex');
    assert.equal(result.sha256, sha);
    assert.equal(sidecar.image.sha256, sha);
    assert.equal(manifest.artifacts.find((a) => a.path === 'acquired/memory.lime')?.sha256, sha);
    assert.ok(manifest.artifacts.some((a) => a.path === 'acquired/memory.lime.json'));
  });

  it('records the hole, the segment table, the unmapped RAM and the image kernel in the sidecar', async (t) => {
    const { sidecar, result } = await acquire(t, 'lime');
    assert.deepEqual(sidecar.holes, [{ address: '0x980000', length: HOLE.end - HOLE.start, code: 'EOF' }]);
    assert.equal(result.holes, 1);
    assert.equal(sidecar.status, 'complete');
    assert.deepEqual(
      sidecar.segments.map((s) => [s.vaddr, s.use]),
      [
        ['0x0', 'not-loadable'],
        ['0xffffc90000000000', 'no-physical-address'],
        ['0xffff888000800000', 'ram'],
        ['0xffffffff81000000', 'alias'],
        ['0xffff888000600000', 'ram'],
        ['0xffff888000001000', 'ram'],
        ['0xffff888000100000', 'ram'],
      ],
    );
    assert.deepEqual(sidecar.unmapped, [{ start: '0xa00000', end: '0xa0ffff', bytes: 0x10000 }]);
    assert.deepEqual(sidecar.ranges.map((r) => r.end), ['0x9fbff', '0x3fffff', '0x6fffff', '0x9fffff']);
    assert.equal(sidecar.kernel.imageRelease, '6.1.0-18-amd64');
    assert.equal(sidecar.source.kind, 'file');
    assert.equal(sidecar.iomem.text, IOMEM);
  });

  for (const format of ['padded', 'raw'] as const) {
    it(`writes the ${format} layout equal to the truth`, async (t) => {
      const { image, result } = await acquire(t, format);
      assert.equal(result.path, `acquired/memory.${format}`);
      assert.ok(image.equals(expectedImage(format)), `${format} image differs from the truth`);
    });
  }

  it('stops at --max-size, cutting the last record short', async (t) => {
    const { image, sidecar } = await acquire(t, 'lime', 0x9ec00 + MiB);
    const records = await readLimeRecords(fromBuffer(image), image.length);
    assert.deepEqual(records.map((r) => [r.start, r.end + 1]), [[0x1000, 0x9fc00], [0x100000, 0x200000]]);
    assert.equal(sidecar.truncated, true);
    assert.ok(image.subarray(image.length - MiB).equals(ramBytes(0x100000, MiB)));
  });

  it('refuses a FILE without --iomem, and an iomem of zeros, in one line before writing anything', async (t) => {
    const dir = tempDir(t);
    const { kcore } = await syntheticKcore(dir);
    await assert.rejects(prepareImage({ source: kcore, iomemFile: undefined, format: 'lime', maxBytes: null }), /needs --iomem/);
    const zeros = path.join(dir, 'iomem-zeros');
    await fsp.writeFile(zeros, IOMEM.replace(/[0-9a-f]{8}-[0-9a-f]{8}/g, '00000000-00000000'));
    await assert.rejects(prepareImage({ source: kcore, iomemFile: zeros, format: 'lime', maxBytes: null }), /every address as zero.*CAP_SYS_ADMIN/);
  });
});
