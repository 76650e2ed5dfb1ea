import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseFstab, parseMountinfo } from '../../src/host/mountinfo.js';

const sample = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,errors=remount-ro',
  '24 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '31 22 0:27 / /tmp/with\\040space rw,nosuid - tmpfs tmpfs rw,size=1024k',
  '40 24 0:30 / /proc/4242 rw - tmpfs none rw',
  'garbage line',
].join('\n');

test('parses mountinfo, unescapes octal, reports bad lines', () => {
  const { mounts, bad } = parseMountinfo(sample);
  assert.equal(mounts.length, 4);
  assert.deepEqual(bad, [5]);
  assert.equal(mounts[0]!.fsType, 'ext4');
  assert.equal(mounts[0]!.superOptions, 'rw,errors=remount-ro');
  assert.deepEqual(mounts[1]!.optionalFields, ['shared:12']);
  assert.equal(mounts[2]!.mountPoint, '/tmp/with space');
  assert.equal(mounts[3]!.mountPoint, '/proc/4242');
});

test('parses fstab, skipping comments', () => {
  const rows = parseFstab('# comment\nUUID=abc / ext4 errors=remount-ro 0 1\n\n/dev/sdb1\t/mnt/x\\040y\txfs\n');
  assert.deepEqual(rows, [
    { source: 'UUID=abc', mountPoint: '/', fsType: 'ext4', options: 'errors=remount-ro' },
    { source: '/dev/sdb1', mountPoint: '/mnt/x y', fsType: 'xfs', options: 'defaults' },
  ]);
});

test('property: any text parses without throwing; every line is a mount or a bad line', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('1 2 3 4 5 6 - a b c', '1 2 3 4 5 6 7 - a b')), { maxLength: 20 }), (lines) => {
      const text = lines.join('\n');
      const { mounts, bad } = parseMountinfo(text);
      const nonEmpty = text.split('\n').filter((l) => l.trim() !== '').length;
      assert.equal(mounts.length + bad.length, nonEmpty);
    }),
  );
});
