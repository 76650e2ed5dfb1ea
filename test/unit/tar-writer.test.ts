import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import tar from 'tar-stream';
import type { ByteWriter } from '../../src/evidence/archive/byte-writer.js';
import { TarWriter } from '../../src/evidence/archive/tar-writer.js';
import { tempDir } from '../helpers.js';

class Collect implements ByteWriter {
  parts: Buffer[] = [];
  async write(c: Uint8Array) {
    this.parts.push(Buffer.from(c));
  }
  async close() {}
  get bytes() {
    return Buffer.concat(this.parts);
  }
}

const mtime = new Date('2026-11-23T10:00:07Z');
const names = [
  'manifest.json',
  `files/${'deep/'.repeat(40)}long-name.txt`,
  'files/tmp/ünïcödé 名前.sh',
  'files/tmp/new\nline',
  'files/tmp/%FF-escaped',
];

async function build(): Promise<Buffer> {
  const out = new Collect();
  const w = new TarWriter(out);
  for (const [i, name] of names.entries()) await w.addBuffer({ name, mode: 0o600, mtime }, Buffer.from(`body ${i}\n`.repeat(i * 100 + 1)));
  await w.finish();
  return out.bytes;
}

test('tar writer output reads back with tar-stream: names, sizes, bodies, mtime', async () => {
  const bytes = await build();
  assert.equal(bytes.length % 512, 0);
  const extract = tar.extract();
  Readable.from([bytes]).pipe(extract);
  const seen: { name: string; body: string; mtime?: Date; mode?: number }[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    seen.push({ name: entry.header.name, body: Buffer.concat(chunks).toString(), mtime: entry.header.mtime, mode: entry.header.mode });
  }
  assert.deepEqual(seen.map((s) => s.name), names);
  seen.forEach((s, i) => {
    assert.equal(s.body, `body ${i}\n`.repeat(i * 100 + 1));
    assert.equal(s.mtime?.getTime(), mtime.getTime());
    assert.equal(s.mode, 0o600);
  });
});

test('tar writer output lists identically with GNU tar', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'x.tar');
  writeFileSync(file, await build());
  const listed = execFileSync('tar', ['--list', '--quoting-style=literal', '-f', file], { encoding: 'utf8' });
  // GNU tar prints a newline inside a name literally, so compare after joining
  assert.equal(listed, `${names.join('\n')}\n`);
  const verbose = execFileSync('tar', ['-tvf', file, '--utc'], { encoding: 'utf8' });
  assert.match(verbose, /-rw------- 0\/0 .* 2026-11-23 10:00 manifest\.json/);
});

test('sizes past the 8 GiB octal limit go into a pax header', async () => {
  const out = new Collect();
  const w = new TarWriter(out);
  await w.header({ name: 'acquired/mem.lime', size: 9 * 1024 ** 3, mode: 0o600, mtime });
  const pax = out.bytes.subarray(512, 1024).toString();
  assert.match(pax, /^\d+ size=9663676416\n/);
  assert.equal(out.bytes[156], 'x'.charCodeAt(0));
});
