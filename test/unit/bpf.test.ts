import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bpfCollector, bpftoolRow } from '../../src/collectors/bpf.js';

test('a bpftool prog object becomes a row', () => {
  const row = bpftoolRow('prog', {
    id: 42,
    type: 'kprobe',
    name: 'hide_pid',
    tag: 'a04f5eef06a7f555',
    gpl_compatible: true,
    loaded_at: 1795000000,
    uid: 0,
    map_ids: [7, 8],
    pids: [{ pid: 1234, comm: 'kworker/0:1' }, { bogus: true }],
    pinned: ['/sys/fs/bpf/x'],
  });
  assert.deepEqual(
    [row.kind, row.bpfId, row.bpfType, row.name, row.tag, row.loadedAt, row.uid, row.mapIds, row.pids, row.pinnedPaths, row.path],
    ['prog', 42, 'kprobe', 'hide_pid', 'a04f5eef06a7f555', new Date(1795000000 * 1000).toISOString(), 0, [7, 8], [{ pid: 1234, comm: 'kworker/0:1' }], ['/sys/fs/bpf/x'], '/sys/fs/bpf/x'],
  );
  assert.ok(bpfCollector.row.safeParse(row).success);
});

test('property: any JSON object from bpftool gives a row that matches the declaration', () => {
  fc.assert(
    fc.property(fc.constantFrom('prog', 'map', 'link') as fc.Arbitrary<'prog' | 'map' | 'link'>, fc.dictionary(fc.constantFrom('id', 'type', 'name', 'tag', 'loaded_at', 'uid', 'pids', 'pinned', 'map_ids', 'prog_id', 'x'), fc.jsonValue()), (kind, o) => {
      const r = bpfCollector.row.safeParse(bpftoolRow(kind, o as Record<string, unknown>));
      assert.ok(r.success, JSON.stringify(r.error?.issues[0]));
    }),
  );
});
