import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { inferYears, parseLogTime, stampToIso, timeSpan } from '../../src/host/syslog-time.js';
import { AUTH_LOG } from '../fixtures/accounts-logs/build-root.js';

const iso = (line: string) => {
  const s = parseLogTime(line);
  return s ? [s.format, stampToIso(s)] : null;
};

test('formats Linux hosts write, with and without a zone', () => {
  assert.deepEqual(iso('2026-11-23T10:00:01.123456+01:00 web01 sshd[1]: x'), ['rfc3339', '2026-11-23T09:00:01.123Z']);
  assert.deepEqual(iso('2026-11-23T10:00:01Z host x'), ['rfc3339', '2026-11-23T10:00:01.000Z']);
  assert.deepEqual(iso('<34>1 2026-11-23T10:00:01.5-05:00 host app - - - msg'), ['rfc5424', '2026-11-23T15:00:01.500Z']);
  assert.deepEqual(iso('2026-11-23 12:57:00 status installed nmap'), ['iso-space', '2026-11-23T12:57:00.000']);
  assert.deepEqual(iso('2026-05-20 12:00:00.123 UTC [123] LOG:  database system is ready'), ['iso-space', '2026-05-20T12:00:00.123Z']);
  assert.deepEqual(iso('type=USER_LOGIN msg=audit(1795400000.123:42): pid=1'), ['audit', '2026-11-23T02:13:20.123Z']);
  assert.deepEqual(iso('1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200'), ['clf', '2026-11-23T09:00:01.000Z']);
  assert.deepEqual(iso('[Mon Nov 23 10:00:03.123456 2026] [core:error] x'), ['apache-error', '2026-11-23T10:00:03.123']);
  assert.deepEqual(iso('2026/11/23 10:00:02 [error] 77#77: x'), ['nginx-error', '2026-11-23T10:00:02.000']);
  assert.deepEqual(iso('Start-Date: 2026-11-23  12:57:00'), ['apt', '2026-11-23T12:57:00.000']);
  const classic = parseLogTime('Nov  3 07:04:05 web01 CRON[1]: x')!;
  assert.equal(classic.format, 'rfc3164');
  assert.equal(classic.year, null);
  assert.equal(stampToIso(classic), null);
  assert.equal(stampToIso(classic, 2026), '2026-11-03T07:04:05.000');
  assert.equal(parseLogTime('<13>Nov 23 10:00:01 host x')!.day, 23);
});

test('not timestamps: junk, impossible dates, NUL prefix is skipped', () => {
  for (const l of ['', 'hello', 'Nov 31 10:00:00 x', 'Foo 12 10:00:00', '2026-02-30T00:00:00Z', '2026-11-23T25:00:00Z', 'Nov 23 10:61:00', '2026-11-23T10:00:00+99:00']) {
    assert.equal(parseLogTime(l), null, l);
  }
  assert.equal(parseLogTime('\0\0\0Nov 23 10:00:01 host x')!.month, 11);
  assert.notEqual(parseLogTime('Feb 29 10:00:00 host x'), null, 'Feb 29 exists in some year');
});

test('year inference across the year boundary (Dec 31 -> Jan 1), from the mtime', () => {
  const lines = AUTH_LOG.trim().split('\n');
  const span = timeSpan(parseLogTime(lines[0]!), parseLogTime(lines.at(-1)!), new Date('2026-01-01T00:00:05Z'));
  assert.deepEqual(span, { firstTime: '2025-12-31T23:59:58.000', lastTime: '2026-01-01T00:00:03.000', format: 'rfc3164', yearInferred: true, local: true });
  // the same file looked at months later (mtime unchanged) gives the same years
  assert.deepEqual(inferYears(parseLogTime(lines[0]!), parseLogTime(lines.at(-1)!), new Date('2026-01-01T00:00:05Z')), { first: 2025, last: 2026 });
  // a host ahead of UTC: local Jan 1 00:30 written at 2025-12-31T20:30Z
  assert.deepEqual(inferYears(null, parseLogTime('Jan  1 00:30:00 h x'), new Date('2025-12-31T20:30:00Z')), { first: null, last: 2026 });
  // Feb 29 falls back to a leap year
  assert.equal(inferYears(null, parseLogTime('Feb 29 10:00:00 h x'), new Date('2027-01-10T00:00:00Z')).last, 2024);
});

test('stamps that carry a year keep it, whatever the mtime', () => {
  const s = parseLogTime('2020-01-01T00:00:00Z x')!;
  assert.deepEqual(inferYears(s, s, new Date('2026-01-01T00:00:00Z')), { first: 2020, last: 2020 });
});

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const classic = (d: Date) =>
  `${MON[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${[d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map((x) => String(x).padStart(2, '0')).join(':')} host app[1]: msg`;
const DAY = 86_400_000;

test('property: any line parses to a stamp or null, never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), (line) => {
      const s = parseLogTime(line);
      if (s) assert.ok(stampToIso(s, s.year ?? 2000) === null || typeof stampToIso(s, s.year ?? 2000) === 'string');
    }),
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void parseLogTime(Buffer.from(bytes).toString('latin1'))));
});

test('property: classic syslog round-trips and its years are inferred right for spans under a year', () => {
  fc.assert(
    fc.property(
      fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }),
      fc.integer({ min: 0, max: 360 * 86_400 }),
      fc.integer({ min: -14 * 3600_000, max: 300 * DAY }),
      (lastDate, span, gap) => {
        const last = new Date(Math.floor(lastDate.getTime() / 1000) * 1000);
        const first = new Date(last.getTime() - span * 1000);
        // wall-clock times are written as if UTC; the mtime is a real instant up to 14 h before (zones ahead of UTC) or long after
        const mtime = new Date(last.getTime() + gap);
        const s = timeSpan(parseLogTime(classic(first)), parseLogTime(classic(last)), mtime);
        assert.equal(s.lastTime, last.toISOString().replace('Z', ''));
        assert.equal(s.firstTime, first.toISOString().replace('Z', ''));
      },
    ),
  );
});
