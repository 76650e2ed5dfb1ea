import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { OffThreadHash } from '../../src/evidence/archive/off-thread-hash.js';

const reference = (chunks: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
};

test('off-thread SHA-256 equals node:crypto over chunks of every size, batch boundaries included', async () => {
  const sizes = [0, 1, 511, 512, 1024 * 1024 - 1, 1, 1024 * 1024, 3 * 1024 * 1024 + 7, 512, 0, 65536];
  const chunks = sizes.map((n) => randomBytes(n));
  const h = new OffThreadHash();
  for (const c of chunks) await h.update(c);
  assert.equal(await h.digest(), reference(chunks));
});

test('many more batches than may be in flight: update waits instead of queueing without bound', async () => {
  const chunk = randomBytes(1024 * 1024);
  const chunks = Array.from({ length: 40 }, () => chunk);
  const h = new OffThreadHash();
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  for (const c of chunks) {
    await h.update(c);
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  }
  assert.equal(await h.digest(), reference(chunks));
  assert.ok(peak < 16 * 1024 * 1024, `array buffers grew by ${peak} bytes for 40 MiB hashed`);
});

test('a caller may change a chunk after update resolves: the bytes were taken', async () => {
  const chunk = Buffer.from('first');
  const h = new OffThreadHash();
  await h.update(chunk);
  chunk.write('XXXXX');
  assert.equal(await h.digest(), reference([Buffer.from('first')]));
});

test('property: any split of any bytes gives the same digest', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 20 }), async (parts) => {
      const h = new OffThreadHash();
      for (const p of parts) await h.update(p);
      assert.equal(await h.digest(), reference(parts));
    }),
    { numRuns: 30 },
  );
});
