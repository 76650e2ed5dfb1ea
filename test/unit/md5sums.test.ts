import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseMd5sums } from '../../src/host/md5sums.js';
import { PROJECT } from '../helpers.js';

test('parses md5sum lines into absolute paths', () => {
  const { entries, bad } = parseMd5sums(readFileSync(path.join(PROJECT, 'test/fixtures/files-packages/md5sums-procps')));
  assert.deepEqual(bad, []);
  assert.deepEqual(
    entries.map((e) => [e.md5, e.path.toString()]),
    [
      ['3b2c5e0b2b1f0d6d64c6b0e37cb0d6cb', '/bin/ps'],
      ['5b0ed9b6e8d0a7ad1c5dd63c6c1e6d11', '/usr/bin/free'],
      ['d41d8cd98f00b204e9800998ecf8427e', '/usr/share/doc/procps/copyright'],
    ],
  );
});

test('binary marker, CRLF, upper-case hex, spaces and invalid UTF-8 in names', () => {
  const data = Buffer.concat([
    Buffer.from('3B2C5E0B2B1F0D6D64C6B0E37CB0D6CB *usr/bin/a b\r\n'),
    Buffer.from('3b2c5e0b2b1f0d6d64c6b0e37cb0d6cb  usr/lib/'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('.so\nnot a line\n\n3b2c5e0b2b1f0d6d64c6b0e37cb0d6cb  \n'),
  ]);
  const { entries, bad } = parseMd5sums(data);
  assert.equal(entries[0]!.path.toString(), '/usr/bin/a b');
  assert.equal(entries[0]!.md5, '3b2c5e0b2b1f0d6d64c6b0e37cb0d6cb');
  assert.deepEqual([...entries[1]!.path.subarray(9, 11)], [0xff, 0xfe]);
  assert.deepEqual(bad, [3, 5]);
});

test('property: any bytes parse without throwing; every entry is absolute with a 32-digit md5', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
      for (const e of parseMd5sums(Buffer.from(bytes)).entries) {
        assert.match(e.md5, /^[0-9a-f]{32}$/);
        assert.equal(e.path[0], 0x2f);
      }
    }),
  );
});
