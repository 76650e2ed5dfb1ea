import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { UTMP_RECORD_SIZE, parseUtmp } from '../../src/host/utmp.js';
import { PROJECT } from '../helpers.js';

// utmp.bin was written by util-linux `utmpdump -r < utmp.txt`, an independent writer.
const fixture = readFileSync(path.join(PROJECT, 'test/fixtures/utmp/utmp.bin'));

test('parses every record utmpdump wrote', () => {
  const { records, trailingBytes } = parseUtmp(fixture);
  assert.equal(trailingBytes, 0);
  assert.deepEqual(records.map((r) => r.type), ['BOOT_TIME', 'RUN_LVL', 'LOGIN_PROCESS', 'USER_PROCESS', 'USER_PROCESS', 'DEAD_PROCESS']);
  const root = records[3]!;
  assert.equal(root.user, 'root');
  assert.equal(root.line, 'pts/0');
  assert.equal(root.host, '203.0.113.66');
  assert.equal(root.address, '203.0.113.66');
  assert.equal(root.pid, 4242);
  assert.equal(root.time, '2026-11-23T09:14:07.123Z');
  assert.equal(root.offset, 3 * UTMP_RECORD_SIZE);
  assert.equal(records[4]!.address, '2001:db8:0:0:0:0:0:7');
  assert.equal(records[0]!.host, '6.1.0-28-amd64');
});

test('a torn last record is counted, not parsed', () => {
  const { records, trailingBytes } = parseUtmp(fixture.subarray(0, fixture.length - 100));
  assert.equal(records.length, 5);
  assert.equal(trailingBytes, UTMP_RECORD_SIZE - 100);
});

test('hostile bytes in string fields are kept, not trusted', () => {
  const rec = Buffer.from(fixture.subarray(3 * UTMP_RECORD_SIZE, 4 * UTMP_RECORD_SIZE));
  rec.write('ev\u001b[2Jil\n', 44, 'latin1');
  rec[53] = 0xff;
  const [r] = parseUtmp(rec).records;
  assert.ok(r!.user.startsWith('ev\u001b[2Jil\n'));
  assert.ok(r!.user.includes('\uFFFD'));
});

test('property: any bytes parse without throwing, into whole records', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: UTMP_RECORD_SIZE * 3 + 50 }), (bytes) => {
      const { records, trailingBytes } = parseUtmp(Buffer.from(bytes));
      assert.equal(records.length * UTMP_RECORD_SIZE + trailingBytes, bytes.length);
      for (const r of records) {
        assert.equal(typeof r.user, 'string');
        assert.ok(r.time === null || !Number.isNaN(Date.parse(r.time)));
      }
    }),
  );
});
