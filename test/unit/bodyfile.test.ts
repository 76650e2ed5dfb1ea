import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bodyfileLine, escapeBodyfileName, parseBodyfileLine, unescapeBodyfileName, type BodyfileRecord } from '../../src/host/bodyfile.js';

const rec = (name: Buffer): BodyfileRecord => ({
  md5: '0', name, inode: '1234', mode: '-rwsr-xr-x', uid: 0, gid: 0, size: 10n, atime: 1, mtime: 2, ctime: 3, crtime: 0,
});

test('a plain line has the eleven mactime 3.x fields', () => {
  assert.equal(bodyfileLine(rec(Buffer.from('/usr/bin/ps'))), '0|/usr/bin/ps|1234|-rwsr-xr-x|0|0|10|1|2|3|0');
});

test('newline, pipe, backslash, escape sequences and invalid UTF-8 in a name cannot shift columns', () => {
  const name = Buffer.concat([Buffer.from('/tmp/a|b\nc\\d\u001b[31mé'), Buffer.from([0xff, 0xc3])]);
  const line = bodyfileLine(rec(name));
  assert.equal(line.split('|').length, 11);
  assert.ok(!line.includes('\n'));
  assert.equal(line.split('|')[1], '/tmp/a\\x7cb\\x0ac\\x5cd\\x1b[31mé\\xff\\xc3');
  assert.deepEqual(parseBodyfileLine(line)!.name, name);
});

test('a line that does not have eleven numeric-ish fields does not parse', () => {
  assert.equal(parseBodyfileLine('0|x|1|m|0|0|a|1|2|3|4'), null);
  assert.equal(parseBodyfileLine('0|x|1'), null);
});

test('property: any name round-trips and the line always has eleven fields', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const name = Buffer.from(bytes);
      const line = bodyfileLine(rec(name));
      assert.equal(line.split('|').length, 11);
      assert.ok(!/[\n\r]/.test(line));
      assert.deepEqual(unescapeBodyfileName(escapeBodyfileName(name)), name);
      assert.deepEqual(parseBodyfileLine(line)!.name, name);
    }),
  );
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void parseBodyfileLine(s)));
});
