import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Collector } from '../../src/collectors/collector.js';
import { accountsCollector } from '../../src/collectors/accounts.js';
import { loginsCollector } from '../../src/collectors/logins.js';
import { logsCollector } from '../../src/collectors/logs.js';
import { shellHistoryCollector } from '../../src/collectors/shell-history.js';
import { runCollector } from '../collector-harness.js';
import { buildAccountsLogsRoot } from '../fixtures/accounts-logs/build-root.js';
import { tempDir } from '../helpers.js';

const ALL: Collector[] = [loginsCollector, accountsCollector, shellHistoryCollector, logsCollector];

test('every collector of the area on a Debian-like image, with and without a saved /proc, hostile files included', async (t) => {
  const dir = tempDir(t);
  const root = buildAccountsLogsRoot(dir);
  // hostile additions: a symlink loop among web logs, a FIFO as a history file, a log link escaping the root
  symlinkSync('loop', path.join(root, 'var/log/nginx/loop'));
  execFileSync('mkfifo', [path.join(root, 'home/alice/.mysql_history')]);
  symlinkSync('/../../../../etc/shadow', path.join(root, 'var/log/secure'));
  const proc = path.join(dir, 'proc');
  mkdirSync(proc);
  for (const withProc of [false, true]) {
    for (const c of ALL) {
      const out = path.join(dir, `out-${c.name}-${withProc}`);
      const { rows, manifest } = await runCollector<Record<string, unknown>>(c, out, { root, ...(withProc ? { proc } : {}), settings: { logMaxBytes: 64 * 1024 } });
      const run = manifest.collectors.find((r) => r.name === c.name)!;
      assert.equal(run.status, 'ok', c.name);
      assert.ok(rows.length > 0, c.name);
      assert.deepEqual(manifest.errors, [], c.name);
      for (const r of rows) assert.ok(c.row.safeParse(r).success, `${c.name}: ${JSON.stringify(r)}`);
      // nothing from outside the image: the escaping link resolves inside the root, where there is no such file
      assert.ok(!manifest.artifacts.some((a) => a.source === '/etc/shadow' && c.name === 'logs'));
    }
  }
  const { rows } = await runCollector<Record<string, unknown>>(logsCollector, path.join(dir, 'again'), { root });
  const loop = rows.find((r) => r.path === '/var/log/nginx/loop')!;
  assert.deepEqual([loop.kind, loop.copied], ['symlink', false]);
  const secure = rows.find((r) => r.path === '/var/log/secure')!;
  assert.deepEqual([secure.linkTarget, secure.targetKind, secure.copied], ['/../../../../etc/shadow', 'file', true]);
  const hist = await runCollector<Record<string, unknown>>(shellHistoryCollector, path.join(dir, 'hist'), { root });
  const fifo = hist.rows.find((r) => r.path === '/home/alice/.mysql_history')!;
  assert.deepEqual([fifo.kind, fifo.copied], ['fifo', false]);
});

test('each collector live on this machine', async (t) => {
  const dir = tempDir(t);
  for (const c of ALL) {
    const started = Date.now();
    const { rows, manifest } = await runCollector<Record<string, unknown>>(c, path.join(dir, c.name), { settings: { logMaxBytes: 16 * 1024 * 1024 } });
    const run = manifest.collectors.find((r) => r.name === c.name)!;
    assert.equal(run.status, 'ok', `${c.name}: ${JSON.stringify(manifest.errors)}`);
    assert.ok(rows.length > 0, `${c.name} gave no rows`);
    for (const r of rows) assert.ok(c.row.safeParse(r).success, `${c.name}: ${JSON.stringify(r)}`);
    t.diagnostic(`${c.name}: ${rows.length} rows, ${manifest.artifacts.length} artifacts, ${Date.now() - started} ms`);
  }
  const accounts = await runCollector<Record<string, unknown>>(accountsCollector, path.join(dir, 'accounts-2'));
  assert.ok(accounts.rows.some((r) => r.kind === 'account' && r.uid === 0 && r.name === 'root'));
  if (existsSync('/usr/bin/journalctl') && process.getuid?.() === 0) {
    const logs = await runCollector<Record<string, unknown>>(logsCollector, path.join(dir, 'logs-2'), { settings: { logMaxBytes: 1024 * 1024 } });
    assert.ok(logs.rows.some((r) => r.category === 'journal-export'));
    assert.ok(logs.manifest.tools.some((x) => x.path.endsWith('/journalctl') && x.sha256));
  }
});
