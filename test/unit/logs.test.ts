import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { logsCollector } from '../../src/collectors/logs.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { buildAccountsLogsRoot } from '../fixtures/accounts-logs/build-root.js';
import { tempDir } from '../helpers.js';

type Row = Record<string, unknown> & { path: string };
const CAP = 64 * 1024;

test('logs: year boundary, RFC 3339, gzip, torn gzip, NULs, over the cap, web, audit, journal', async (t) => {
  const dir = tempDir(t);
  const root = buildAccountsLogsRoot(dir);
  const out = path.join(dir, 'out');
  const { rows, manifest } = await runCollector<Row>(logsCollector, out, { root, settings: { logMaxBytes: CAP } });
  const row = (p: string) => rows.find((r) => r.path === p)!;
  const pick = (p: string, keys: string[]) => keys.map((k) => row(p)[k]);

  assert.deepEqual(pick('/var/log/auth.log', ['category', 'firstTime', 'lastTime', 'timeFormat', 'yearInferred', 'timesLocal', 'lineCount']), [
    'auth',
    '2025-12-31T23:59:58.000',
    '2026-01-01T00:00:03.000',
    'rfc3164',
    true,
    true,
    3,
  ]);
  assert.deepEqual(pick('/var/log/auth.log.1', ['firstTime', 'lastTime', 'timesLocal']), ['2025-12-30T10:00:00.123Z', '2025-12-30T11:00:00.000Z', false]);
  assert.deepEqual(pick('/var/log/auth.log.2.gz', ['compression', 'lineCount', 'scannedWhole', 'firstTime', 'lastTime']), [
    'gzip',
    50,
    true,
    '2025-12-24T08:00:00.000',
    '2025-12-24T08:00:49.000',
  ]);
  // .gz copied as is, byte for byte
  assert.deepEqual(readFileSync(path.join(out, 'files/var/log/auth.log.2.gz')), readFileSync(path.join(root, 'var/log/auth.log.2.gz')));
  assert.deepEqual(pick('/var/log/auth.log.3.gz', ['scannedWhole', 'lineCount', 'copied']), [false, null, true]);
  assert.match(String(row('/var/log/auth.log.3.gz').note), /decompression failed/);

  assert.deepEqual(pick('/var/log/syslog', ['allNul', 'nulBytes', 'nulRuns', 'firstTime']), [true, 4096, 1, null]);
  assert.deepEqual(pick('/var/log/syslog.1', ['allNul', 'nulBytes', 'nulRuns', 'firstTime', 'lastTime']), [false, 3010, 2, '2025-12-31T10:00:00.000', '2025-12-31T11:00:00.000']);
  assert.deepEqual(pick('/var/log/kern.log', ['empty', 'lineCount', 'copied']), [true, 0, true]);
  assert.deepEqual(pick('/var/log/daemon.log', ['kind', 'linkTarget', 'copied']), ['symlink', '/dev/null', false]);

  const big = row('/var/log/messages');
  assert.deepEqual([big.truncated, big.bytesCopied, big.lineCount, big.scannedWhole], [true, CAP, null, false]);
  assert.equal(big.lastTime, '2025-11-20T00:33:19.000', 'the last time is read from the end of a file over the cap');
  const copy = manifest.artifacts.find((a) => a.source === '/var/log/messages')!;
  assert.deepEqual([copy.size, copy.truncatedAt, copy.sourceSize], [CAP, CAP, big.size]);

  assert.deepEqual(pick('/var/log/audit/audit.log', ['category', 'timeFormat', 'firstTime', 'lastTime']), ['audit', 'audit', '2026-11-23T02:13:20.123Z', '2026-11-23T02:28:20.500Z']);
  assert.deepEqual(pick('/var/log/nginx/access.log', ['category', 'firstTime']), ['web', '2026-11-23T09:00:01.000Z']);
  assert.equal(row('/var/log/nginx/site1/access.log').timeFormat, 'clf');
  assert.equal(row('/var/log/apache2/error.log').timeFormat, 'apache-error');
  assert.equal(row('/var/log/dpkg.log').category, 'packages');

  const j = row('/var/log/journal/0123456789abcdef0123456789abcdef/system.journal');
  assert.deepEqual([j.category, j.entries, j.journalState, j.firstTime, j.lastTime, j.copied], ['journal', 2, 'offline', '2026-11-22T09:00:00.000Z', '2026-11-22T10:00:00.000Z', true]);
  assert.match(String(row('/var/log/journal/0123456789abcdef0123456789abcdef/user-1000@0001-0002.journal~').note), /no journal header/);
  assert.ok(!rows.some((r) => r.category === 'journal-export'), 'journalctl runs on a live host only');
  assert.deepEqual(manifest.errors, []);
});

test('journal files together are capped, newest first; a FIFO log is not opened', async (t) => {
  const dir = tempDir(t);
  const root = buildAccountsLogsRoot(dir);
  const jdir = path.join(root, 'var/log/journal/0123456789abcdef0123456789abcdef');
  const header = readFileSync(path.join(jdir, 'system.journal')).subarray(0, 272);
  for (let i = 0; i < 6; i++) writeFileSync(path.join(jdir, `system@${i}.journal`), Buffer.concat([header, Buffer.alloc(1000)]));
  execFileSync('mkfifo', [path.join(root, 'var/log/cron')]);
  writeFileSync(Buffer.from(`${root}/var/log/nginx/acc\xffess.log`, 'latin1'), 'x\n');
  const cap = 2000; // 4 x 2000 bytes for all journal files
  const { rows, manifest } = await runCollector<Row>(logsCollector, path.join(dir, 'out'), { root, settings: { logMaxBytes: cap } });
  assert.deepEqual(
    manifest.errors.map((e) => [e.path, e.code]),
    [['/var/log/nginx/acc\uFFFDess.log', 'EENCODING']],
    'a name Host cannot open is reported, not skipped silently',
  );
  const journals = rows.filter((r) => r.category === 'journal');
  const copied = journals.reduce((n, r) => n + Number(r.bytesCopied ?? 0), 0);
  assert.ok(copied <= 4 * cap, `${copied}`);
  assert.ok(journals.some((r) => r.copied === false && /capped/.test(String(r.note))));
  assert.equal(journals[0]!.path.endsWith('system.journal') || journals[0]!.path.includes('system@'), true);
  const cron = rows.find((r) => r.path === '/var/log/cron')!;
  assert.deepEqual([cron.kind, cron.copied], ['fifo', false]);
});

test('a gzip bomb costs no more than the cap', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  writeFileSync(path.join(root, 'var/log/syslog.2.gz'), gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x41)));
  const { rows } = await runCollector<Row>(logsCollector, path.join(dir, 'out'), { root, settings: { logMaxBytes: CAP } });
  const r = rows.find((x) => x.path === '/var/log/syslog.2.gz')!;
  assert.deepEqual([r.bytesScanned, r.scannedWhole, r.truncated], [CAP, false, false]);
});
