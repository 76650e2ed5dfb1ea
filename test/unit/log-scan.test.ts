import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LogScanner, lastStampIn, scanLog } from '../../src/host/log-scan.js';
import { stampToIso } from '../../src/host/syslog-time.js';

test('counts lines, NUL bytes and runs; finds first and last stamps', () => {
  const buf = Buffer.concat([
    Buffer.alloc(3000),
    Buffer.from('Dec 31 10:00:00 web01 a\nDec 31 10:00:01 web01 b\n'),
    Buffer.alloc(10),
    Buffer.from('Dec 31 11:00:00 web01 kernel: after\nno stamp here'),
  ]);
  const s = scanLog(buf);
  assert.equal(s.bytes, buf.length);
  assert.equal(s.lines, 4);
  assert.equal(s.nulBytes, 3010);
  assert.equal(s.nulRuns, 2);
  assert.equal(stampToIso(s.firstStamp!, 2025), '2025-12-31T10:00:00.000');
  assert.equal(stampToIso(s.lastStamp!, 2025), '2025-12-31T11:00:00.000');
});

test('an all-NUL log and an empty one', () => {
  const z = scanLog(Buffer.alloc(100_000));
  assert.deepEqual([z.nulBytes, z.nulRuns, z.firstStamp, z.lastStamp], [100_000, 1, null, null]);
  assert.deepEqual(scanLog(Buffer.alloc(0)), { bytes: 0, lines: 0, nulBytes: 0, nulRuns: 0, firstStamp: null, lastStamp: null });
});

test('a big log: the last stamp comes from the end, not the first window', () => {
  let text = '';
  for (let i = 0; i < 5000; i++) text += `2026-11-23T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z host line ${i}\n`;
  const s = new LogScanner();
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += 7777) s.push(buf.subarray(i, i + 7777));
  const r = s.finish();
  assert.equal(r.lines, 5000);
  assert.equal(stampToIso(r.firstStamp!), '2026-11-23T10:00:00.000Z');
  assert.equal(stampToIso(r.lastStamp!), '2026-11-23T10:23:19.000Z');
  assert.equal(lastStampIn(buf.subarray(buf.length - 100), false)?.second, 19);
});

test('property: chunking does not change the facts', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant('Nov 23 10:00:01 h x\n'), fc.constant('\0\0'), fc.constant('\n'), fc.string({ maxLength: 20 })), { maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
      (parts, cuts) => {
        const buf = Buffer.from(parts.join(''), 'latin1');
        const whole = scanLog(buf);
        const s = new LogScanner();
        let at = 0;
        for (let i = 0; at < buf.length; i++) {
          const n = cuts[i % cuts.length]!;
          s.push(buf.subarray(at, at + n));
          at += n;
        }
        const chunked = s.finish();
        assert.deepEqual(chunked, whole);
        assert.equal(whole.nulBytes, [...buf].filter((b) => b === 0).length);
      },
    ),
  );
});
