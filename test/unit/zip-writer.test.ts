import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yauzl from 'yauzl';
import type { ByteWriter } from '../../src/evidence/archive/byte-writer.js';
import { ZipWriter } from '../../src/evidence/archive/zip-writer.js';
import { tempDir } from '../helpers.js';

class Collect implements ByteWriter {
  parts: Buffer[] = [];
  async write(c: Uint8Array) {
    this.parts.push(Buffer.from(c));
  }
  async close() {}
}

// An odd second and a time that local-time DOS fields would shift: both must survive.
const mtime = new Date('2026-11-23T23:59:59Z');

async function build(dir: string): Promise<string> {
  const out = new Collect();
  const z = new ZipWriter(out);
  await z.addEntry({ name: 'a.txt', mode: 0o100600, mtime }, [Buffer.from('hello\n')]);
  await z.addEntry({ name: 'files/tmp/ünïcödé.bin', mode: 0o100600, mtime }, [Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from('tail')]);
  await z.addEntry({ name: 'empty', mode: 0o100600, mtime }, []);
  await z.finish();
  const file = path.join(dir, 'x.zip');
  writeFileSync(file, Buffer.concat(out.parts));
  return file;
}

test('zip passes unzip -t and keeps UTF-8 names', async (t) => {
  const file = await build(tempDir(t));
  const res = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
  assert.match(res, /No errors detected/);
  const listing = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' });
  assert.deepEqual(listing.trim().split('\n'), ['a.txt', 'files/tmp/ünïcödé.bin', 'empty']);
});

test('zip keeps exact UTC mtime and Unix mode (read back by yauzl)', async (t) => {
  const file = await build(tempDir(t));
  const entries = await new Promise<yauzl.Entry[]>((resolve, reject) => {
    const list: yauzl.Entry[] = [];
    yauzl.open(file, { lazyEntries: false }, (err, zip) => {
      if (err || !zip) return reject(err);
      zip.on('entry', (e: yauzl.Entry) => list.push(e));
      zip.on('end', () => resolve(list));
      zip.on('error', reject);
    });
  });
  assert.equal(entries.length, 3);
  for (const e of entries) {
    assert.equal((e.externalFileAttributes >>> 16) & 0o7777, 0o600);
    const ut = e.extraFields.find((f) => f.id === 0x5455);
    assert.ok(ut, 'extended timestamp present');
    assert.equal(ut.data.readUInt32LE(1), mtime.getTime() / 1000);
  }
  assert.equal(entries[1]!.uncompressedSize, 3 * 1024 * 1024 + 4);
});
