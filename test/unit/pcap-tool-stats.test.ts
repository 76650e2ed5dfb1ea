import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseToolStats } from '../../src/acquire/pcap/tool-stats.js';
import { PROJECT } from '../helpers.js';

const fixture = (name: string) => readFileSync(path.join(PROJECT, 'test/fixtures/pcap', name), 'utf8');

test('tcpdump 4.99: the three counters it prints at exit, singular and plural', () => {
  assert.deepEqual(parseToolStats('tcpdump', fixture('tcpdump-exit.txt')), { captured: 5, receivedByFilter: 5, droppedByKernel: 0, droppedByInterface: null, droppedByTool: null });
  assert.deepEqual(parseToolStats('tcpdump', fixture('tcpdump-exit-one.txt')), { captured: 1, receivedByFilter: 1, droppedByKernel: 0, droppedByInterface: null, droppedByTool: null });
  const withIf = `${fixture('tcpdump-exit.txt')}7 packets dropped by interface\n`;
  assert.equal(parseToolStats('tcpdump', withIf).droppedByInterface, 7);
});

test('dumpcap 4.0: the captured count (after a carriage return) and the per-interface breakdown', () => {
  assert.deepEqual(parseToolStats('dumpcap', fixture('dumpcap-exit.txt')), { captured: 3, receivedByFilter: 3, droppedByKernel: 0, droppedByInterface: 0, droppedByTool: 0 });
  const busy = "Capturing on 'eth0'\nFile: -\n\rPackets captured: 90\nPackets received/dropped on interface 'eth0': 100/10 (pcap:4/dumpcap:3/flushed:2/ps_ifdrop:1) (90.0%)\n";
  assert.deepEqual(parseToolStats('dumpcap', busy), { captured: 90, receivedByFilter: 100, droppedByKernel: 4, droppedByInterface: 1, droppedByTool: 5 });
});

test('a tool killed before it could print statistics: every counter is unknown, not zero', () => {
  for (const tool of ['tcpdump', 'dumpcap'] as const) {
    const s = parseToolStats(tool, 'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n');
    assert.deepEqual(s, { captured: null, receivedByFilter: null, droppedByKernel: null, droppedByInterface: null, droppedByTool: null });
  }
});
