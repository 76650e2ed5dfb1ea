import assert from 'node:assert/strict';
import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loginsCollector } from '../../src/collectors/logins.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { buildAccountsLogsRoot, fixture } from '../fixtures/accounts-logs/build-root.js';
import { tempDir } from '../helpers.js';

type Row = Record<string, unknown> & { kind: string; source: string };

test('wtmp (utmpdump-written), gzip rotation, torn btmp and a 1 TiB sparse lastlog', async (t) => {
  const dir = tempDir(t);
  const root = buildAccountsLogsRoot(dir);
  const out = path.join(dir, 'out');
  const { rows, manifest } = await runCollector<Row>(loginsCollector, out, { root, settings: { logMaxBytes: 64 * 1024 } });
  const file = (source: string) => rows.find((r) => r.kind === 'file' && r.source === source)!;
  const records = (source: string) => rows.filter((r) => r.kind === 'record' && r.source === source);

  const wtmp = records('/var/log/wtmp');
  assert.deepEqual(wtmp.map((r) => r.recordType), ['BOOT_TIME', 'USER_PROCESS', 'USER_PROCESS', 'DEAD_PROCESS', 'USER_PROCESS', 'RUN_LVL']);
  assert.deepEqual(wtmp[1], {
    ...wtmp[1],
    user: 'root',
    line: 'pts/0',
    host: '203.0.113.66',
    address: '203.0.113.66',
    pid: 4242,
    time: '2026-11-23T09:14:07.123Z',
    offset: 384,
  });
  const wf = file('/var/log/wtmp');
  assert.deepEqual([wf.records, wf.trailingBytes, wf.timeOrderBreaks, wf.copied, wf.parsedWhole], [6, 0, 1, true, true]);

  const gz = file('/var/log/wtmp.1.gz');
  assert.deepEqual([gz.compression, gz.records, gz.bytesParsed], ['gzip', 3, 3 * 384]);
  assert.equal(records('/var/log/wtmp.1.gz')[2]!.user, 'deploy');

  const btmp = file('/var/log/btmp');
  assert.deepEqual([btmp.records, btmp.trailingBytes], [2, 284]);
  assert.deepEqual(records('/var/log/btmp').map((r) => [r.user, r.line, r.host]), [
    ['admin', 'ssh:notty', '198.51.100.23'],
    ['oracle', 'ssh:notty', '198.51.100.23'],
  ]);

  const ll = rows.filter((r) => r.kind === 'lastlog');
  assert.deepEqual(ll.map((r) => [r.uid, r.user, r.line, r.host, r.time]), [
    [0, 'root', 'pts/2', '198.51.100.9', '2026-11-23T02:13:20.000Z'],
    [1000, 'alice', 'lastlog', 'localhost', '2026-11-23T13:15:10.000Z'],
  ]);
  assert.equal(file('/var/log/lastlog').size, 2 ** 40);
  const llCopy = manifest.artifacts.find((a) => a.source === '/var/log/lastlog')!;
  assert.deepEqual([llCopy.size, llCopy.truncatedAt, llCopy.sourceSize], [65536, 65536, 2 ** 40]);

  assert.match(String(file('/var/lib/lastlog/lastlog2.db').note), /not parsed/);
  assert.ok(statSync(path.join(out, 'files/var/lib/lastlog/lastlog2.db')).size === 4096);
  assert.deepEqual(readFileSync(path.join(out, 'files/var/log/wtmp')), fixture('wtmp.bin'));
  assert.deepEqual(manifest.errors, []);
});

test('zeroed records, a wtmp linked to /dev/null, a torn gzip, a wtmp over the cap', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const wtmp = fixture('wtmp.bin');
  writeFileSync(path.join(root, 'var/log/wtmp'), Buffer.concat([wtmp.subarray(0, 384), Buffer.alloc(384 * 2), wtmp.subarray(384 * 3)]));
  symlinkSync('/dev/null', path.join(root, 'var/log/btmp'));
  const gz = gzipSync(wtmp);
  writeFileSync(path.join(root, 'var/log/wtmp.2.gz'), gz.subarray(0, gz.length - 30));
  writeFileSync(path.join(root, 'var/log/wtmp-20261101'), Buffer.concat([wtmp, wtmp, wtmp]));
  const { rows } = await runCollector<Row>(loginsCollector, path.join(dir, 'out'), { root, settings: { logMaxBytes: 4 * 384 } });
  const file = (source: string) => rows.find((r) => r.kind === 'file' && r.source === source)!;
  const w = file('/var/log/wtmp');
  // the cap (4 records) stops parsing: records 0 and 3 are real, 1 and 2 zeroed
  assert.deepEqual([w.records, w.zeroRecords, w.parsedWhole], [4, 2, false]);
  assert.deepEqual(rows.filter((r) => r.kind === 'record' && r.source === '/var/log/wtmp').map((r) => r.offset), [0, 3 * 384]);
  const b = file('/var/log/btmp');
  assert.deepEqual([b.linkTarget, b.targetKind, b.copied], ['/dev/null', 'missing', false]);
  const torn = file('/var/log/wtmp.2.gz');
  assert.equal(torn.parsedWhole, false);
  assert.match(String(torn.note), /decompression failed|parsing stopped/);
  const big = file('/var/log/wtmp-20261101');
  assert.deepEqual([big.records, big.parsedWhole, big.bytesParsed], [4, false, 4 * 384]);
});
