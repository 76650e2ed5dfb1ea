import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressLine } from '../../src/acquire/pcap/progress.js';

test('the progress line: bytes, packets, rate, file and time left (or until stopped)', () => {
  assert.equal(progressLine({ bytes: 12_345_678, packets: 45_678, file: 3, leftMs: 44_100 }, 1_250_000), 'pcap: 12.3 MB, 45,678 packets, 1.3 MB/s, file 3, 45 s left');
  assert.equal(progressLine({ bytes: 2_500_000_000, packets: 1, file: 1, leftMs: null }, 0), 'pcap: 2500 MB, 1 packet, 0.0 MB/s, file 1, until stopped');
  assert.match(progressLine({ bytes: 0, packets: 0, file: 1, leftMs: -500 }, 0), /, 0 s left$/);
});
