import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseJournalHeader } from '../../src/host/journal-header.js';
import { exportFacts } from '../../src/collectors/logs.js';
import { fixture } from '../fixtures/accounts-logs/build-root.js';

// journal-header.bin: the first 272 bytes of a file systemd-journal-remote (systemd 252) wrote from journal.export.
test('reads the header systemd wrote', () => {
  const h = parseJournalHeader(fixture('journal-header.bin'))!;
  assert.equal(h.state, 'offline');
  assert.equal(h.entries, 2);
  assert.equal(h.firstTime, '2026-11-22T09:00:00.000Z');
  assert.equal(h.lastTime, '2026-11-22T10:00:00.000Z');
  assert.equal(h.tailBootId, '0123456789abcdef0123456789abcdef');
  assert.equal(h.headerSize, 264);
});

test('no signature or too short: null', () => {
  assert.equal(parseJournalHeader(Buffer.from('not a journal')), null);
  assert.equal(parseJournalHeader(fixture('journal-header.bin').subarray(0, 100)), null);
  const bad = Buffer.from(fixture('journal-header.bin'));
  bad[0] = 0x41;
  assert.equal(parseJournalHeader(bad), null);
});

test('journalctl export facts: entries and first/last realtime', () => {
  assert.deepEqual(exportFacts(fixture('journal.export')), { entries: 2, firstTime: '2026-11-22T09:00:00.000Z', lastTime: '2026-11-22T10:00:00.000Z' });
  assert.deepEqual(exportFacts(Buffer.alloc(0)), { entries: 0, firstTime: null, lastTime: null });
});

test('property: any bytes after a valid signature parse without throwing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const buf = Buffer.concat([Buffer.from('LPKSHHRH'), Buffer.from(bytes)]);
      const h = parseJournalHeader(buf);
      if (h) for (const t of [h.firstTime, h.lastTime]) assert.ok(t === null || !Number.isNaN(Date.parse(t)));
      exportFacts(buf);
    }),
  );
});
