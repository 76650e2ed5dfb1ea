import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compressionOf, openLog, type ContentStatus } from '../../src/host/compressed.js';
import { Host } from '../../src/host/host.js';
import { buildRoot } from '../fixture-root.js';
import { tempDir } from '../helpers.js';

async function content(host: Host, p: string, cap: number) {
  const log = await openLog(host, p);
  const status: ContentStatus = { bytes: 0, capped: false, error: null };
  const parts: Buffer[] = [];
  try {
    for await (const c of log.content(cap, status)) parts.push(c);
  } finally {
    await log.close();
  }
  return { data: Buffer.concat(parts), status, compression: log.compression };
}

test('compression by magic bytes, not by name', () => {
  assert.equal(compressionOf(gzipSync('x')), 'gzip');
  assert.equal(compressionOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0])), 'xz');
  assert.equal(compressionOf(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(compressionOf(Buffer.from('Nov 23 10:00:00')), null);
  assert.equal(compressionOf(Buffer.alloc(0)), null);
});

test('plain and gzip content, multi-member gzip, caps and torn streams', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const host = await Host.open({ root });
  const w = (name: string, data: Buffer | string) => writeFileSync(path.join(root, 'var/log', name), data);
  w('plain', 'a\nb\n');
  w('plain.gz', 'not gzip at all'); // the name lies
  w('two.gz', Buffer.concat([gzipSync('first\n'), gzipSync('second\n')]));
  const big = gzipSync(Buffer.alloc(100_000, 0x61));
  w('big.gz', big);
  w('torn.gz', big.subarray(0, big.length - 10));
  w('data.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));

  assert.deepEqual((await content(host, '/var/log/plain', 100)).data.toString(), 'a\nb\n');
  const lie = await content(host, '/var/log/plain.gz', 100);
  assert.deepEqual([lie.compression, lie.data.toString()], [null, 'not gzip at all']);
  assert.equal((await content(host, '/var/log/two.gz', 100)).data.toString(), 'first\nsecond\n');
  const capped = await content(host, '/var/log/big.gz', 1000);
  assert.deepEqual([capped.data.length, capped.status.capped, capped.status.error], [1000, true, null]);
  const plainCapped = await content(host, '/var/log/plain', 2);
  assert.deepEqual([plainCapped.data.toString(), plainCapped.status.capped], ['a\n', true]);
  const torn = await content(host, '/var/log/torn.gz', 1e9);
  assert.match(String(torn.status.error), /unexpected end of file/);
  const xz = await content(host, '/var/log/data.xz', 100);
  assert.deepEqual([xz.compression, xz.data.length], ['xz', 0]);
  const log = await openLog(host, '/var/log/plain');
  assert.equal((await log.readAt(2, 10)).toString(), 'b\n');
  await log.close();
});

test('property: any bytes behind a gzip magic give content or an error, never a throw', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const host = await Host.open({ root });
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, valid) => {
      const body = valid ? gzipSync(Buffer.from(bytes)).subarray(0, 10 + bytes.length) : Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from(bytes)]);
      writeFileSync(path.join(root, 'var/log/x.gz'), body);
      const r = await content(host, '/var/log/x.gz', 1000);
      assert.ok(r.data.length <= 1000);
    }),
    { numRuns: 50 },
  );
});
