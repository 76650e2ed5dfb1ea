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

/** A batch as the hashed output hands it over: its own ArrayBuffer, maybe longer than the bytes in it. */
const batchOf = (bytes: Uint8Array, spare = 0) => {
  const b = new ArrayBuffer(bytes.length + spare);
  new Uint8Array(b).set(bytes);
  return b;
};

test('off-thread SHA-256 equals node:crypto over batches of every size, only the bytes given counted', async () => {
  const sizes = [0, 1, 511, 512, 1024 * 1024 - 1, 1, 1024 * 1024, 3 * 1024 * 1024 + 7, 512, 0, 65536];
  const chunks = sizes.map((n) => randomBytes(n));
  const h = new OffThreadHash();
  for (const c of chunks) await h.update(batchOf(c, 100), c.length);
  assert.equal(await h.digest(), reference(chunks));
});

test('a batch is the worker\'s until it comes back, whole, to be filled again', async () => {
  const h = new OffThreadHash();
  const batch = batchOf(Buffer.from('first'), 1000);
  const pending = h.update(batch, 5);
  assert.equal(batch.byteLength, 0, 'detached while the worker holds it');
  const back = await pending;
  assert.equal(back.byteLength, 1005);
  new Uint8Array(back).set(Buffer.from('XXXXX'));
  assert.equal(await h.digest(), reference([Buffer.from('first')]));
});

test('batches in flight are answered in order', async () => {
  const h = new OffThreadHash();
  const parts = Array.from({ length: 8 }, (_, i) => randomBytes(200_000 + i));
  const backs = await Promise.all(parts.map((p) => h.update(batchOf(p), p.length)));
  assert.deepEqual(
    backs.map((b) => b.byteLength),
    parts.map((p) => p.length),
  );
  assert.equal(await h.digest(), reference(parts));
});

test('property: any split of any bytes gives the same digest', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 20 }), async (parts) => {
      const h = new OffThreadHash();
      for (const p of parts) await h.update(batchOf(p), p.length);
      assert.equal(await h.digest(), reference(parts));
    }),
    { numRuns: 30 },
  );
});
