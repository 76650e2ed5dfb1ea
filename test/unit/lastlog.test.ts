import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LASTLOG_RECORD_SIZE, lastlogOffset, parseLastlogRecord } from '../../src/host/lastlog.js';
import { fixture } from '../fixtures/accounts-logs/build-root.js';

// lastlog-record.bin: the record shadow's `lastlog -S -u cloudsdk` (uid 1000) wrote, cut from the sparse file at 1000*292.
const record = fixture('lastlog-record.bin');

test('parses the record written by shadow\'s lastlog', () => {
  assert.equal(record.length, LASTLOG_RECORD_SIZE);
  assert.deepEqual(parseLastlogRecord(record), { time: '2026-11-23T13:15:10.000Z', seconds: 1795439710, line: 'lastlog', host: 'localhost' });
  assert.equal(lastlogOffset(1000), 292_000);
});

test('an all-zero record (never logged in) and a short read are null', () => {
  assert.equal(parseLastlogRecord(Buffer.alloc(LASTLOG_RECORD_SIZE)), null);
  assert.equal(parseLastlogRecord(record.subarray(0, 100)), null);
});

test('hostile bytes in line and host are kept; a zero time with text is still a record', () => {
  const r = Buffer.alloc(LASTLOG_RECORD_SIZE);
  r.write('pts/\u001b[2J', 4, 'latin1');
  r[36] = 0xff;
  const p = parseLastlogRecord(r)!;
  assert.equal(p.time, null);
  assert.equal(p.line, 'pts/\u001b[2J');
  assert.equal(p.host, '\uFFFD');
});

test('property: any bytes parse without throwing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: LASTLOG_RECORD_SIZE + 10 }), (bytes) => {
      const p = parseLastlogRecord(Buffer.from(bytes));
      if (p) assert.ok(p.time === null || !Number.isNaN(Date.parse(p.time)));
    }),
  );
});
