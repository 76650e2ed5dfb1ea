import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseRpmVerify } from '../../src/host/rpm-verify.js';
import { PROJECT } from '../helpers.js';

test('parses rpm -Va lines: flags, missing, attribute markers', () => {
  const { entries, bad } = parseRpmVerify(readFileSync(path.join(PROJECT, 'test/fixtures/files-packages/rpm-Va.txt')));
  assert.deepEqual(
    entries.map((e) => [e.path.toString(), e.flags, e.attr, e.digestDiffers, e.missing]),
    [
      ['/etc/ssh/sshd_config', 'S.5....T.', 'c', true, false],
      ['/usr/bin/ps', '..5......', null, true, false],
      ['/usr/lib64/libkeyutils.so.1.9', 'missing', null, false, true],
      ['/usr/bin/passwd', '.M.......', null, false, false],
      ['/etc/sysconfig/iptables', 'missing', 'c', false, true],
      ['/usr/share/doc/foo/README', '.......T.', 'd', false, false],
    ],
  );
  assert.equal(entries[3]!.modeDiffers, true);
  assert.equal(bad.length, 1);
  assert.match(bad[0]!.text, /^error: rpmdb/);
});

test('a missing file with an errno keeps the path clean; invalid UTF-8 paths keep their bytes', () => {
  const out = Buffer.concat([Buffer.from('missing     /root/x (Permission denied)\n..5......    /usr/bin/'), Buffer.from([0xff]), Buffer.from('\n')]);
  const { entries } = parseRpmVerify(out);
  assert.equal(entries[0]!.path.toString(), '/root/x');
  assert.equal(entries[0]!.error, 'Permission denied');
  assert.deepEqual([...entries[1]!.path.subarray(-1)], [0xff]);
});

test('property: any bytes parse without throwing', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => void parseRpmVerify(Buffer.from(b))));
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => void parseRpmVerify(Buffer.from(s))));
});
