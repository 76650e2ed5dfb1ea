import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { BATCH, BATCHES, ArchiveOutput, type Destination } from '../../src/evidence/archive/archive-output.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A destination that records what it got; `delay` keeps each send pending for a while. */
function recorder(opts: { delayMs?: number; failAt?: number } = {}) {
  const sends: Buffer[] = [];
  const state = { inFlight: 0, maxInFlight: 0, ended: null as boolean | null };
  const dest: Destination = {
    async send(bytes) {
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      state.inFlight--;
      if (opts.failAt !== undefined && sends.length === opts.failAt) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      sends.push(Buffer.from(bytes));
    },
    async end(ok) {
      state.ended = ok;
    },
  };
  return { dest, sends, state };
}

test('every byte arrives once, in order, one send at a time, and the digest is the SHA-256 of them all', async () => {
  const data = randomBytes(3 * BATCH + 12_345);
  const { dest, sends, state } = recorder();
  const out = new ArchiveOutput(dest, true);
  let off = 0;
  for (const size of [1, 511, BATCH - 1, 2, BATCH + 7, 100_000]) {
    await out.write(data.subarray(off, off + size));
    off += size;
  }
  await out.write(data.subarray(off));
  await out.close();
  assert.equal(state.ended, true);
  assert.equal(state.maxInFlight, 1);
  assert.ok(sends.every((s) => s.length <= BATCH));
  assert.ok(Buffer.concat(sends).equals(data));
  assert.equal(await out.digest(), sha256(data));
});

test('a chunk may be changed once write() resolves: its bytes were taken', async () => {
  const { dest, sends } = recorder({ delayMs: 5 });
  const out = new ArchiveOutput(dest, true);
  const chunk = Buffer.from('evidence');
  await out.write(chunk);
  chunk.write('XXXXXXXX');
  await out.close();
  assert.equal(Buffer.concat(sends).toString(), 'evidence');
  assert.equal(await out.digest(), sha256(Buffer.from('evidence')));
});

test('a slow destination holds write() back: never more than the batches in memory', async () => {
  const { dest, sends } = recorder({ delayMs: 2 });
  const out = new ArchiveOutput(dest, true);
  const chunk = randomBytes(256 * 1024);
  let maxAhead = 0;
  for (let i = 1; i <= 64; i++) {
    await out.write(chunk);
    const sent = sends.reduce((n, s) => n + s.length, 0);
    maxAhead = Math.max(maxAhead, i * chunk.length - sent);
  }
  await out.close();
  assert.ok(maxAhead <= BATCHES * BATCH, `${maxAhead} bytes accepted and not yet sent`);
  assert.equal(
    sends.reduce((n, s) => n + s.length, 0),
    64 * chunk.length,
  );
});

test('a failed send refuses everything after it and reaches close(), which still ends the destination', async () => {
  const { dest, sends, state } = recorder({ failAt: 1 });
  const out = new ArchiveOutput(dest, true);
  const chunk = randomBytes(BATCH);
  let failed: unknown = null;
  try {
    for (let i = 0; i < 20; i++) await out.write(chunk);
    await out.close();
  } catch (err) {
    failed = err;
  }
  assert.match(String(failed), /no space left/);
  assert.equal(sends.length, 1, 'nothing is sent past the hole');
  if (state.ended === null) await out.close().catch(() => undefined);
  assert.equal(state.ended, false);
});

test('property: any split of any bytes is sent and hashed unchanged', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 70_000 }), { maxLength: 40 }), async (parts) => {
      const { dest, sends } = recorder();
      const out = new ArchiveOutput(dest, true);
      for (const p of parts) await out.write(p);
      await out.close();
      const all = Buffer.concat(parts);
      assert.ok(Buffer.concat(sends).equals(all));
      assert.equal(await out.digest(), sha256(all));
    }),
    { numRuns: 25 },
  );
});
