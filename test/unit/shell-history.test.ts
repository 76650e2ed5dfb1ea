import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { shellHistoryCollector } from '../../src/collectors/shell-history.js';
import { runCollector } from '../collector-harness.js';
import { buildAccountsLogsRoot } from '../fixtures/accounts-logs/build-root.js';
import { tempDir } from '../helpers.js';

type Row = Record<string, unknown> & { path: string };

test('histories: /dev/null link, empty zsh, zsh extended, fish, bash timestamps, orphan home', async (t) => {
  const dir = tempDir(t);
  const root = buildAccountsLogsRoot(dir);
  mkdirSync(path.join(root, 'home/dave/.bash_history'), { recursive: true });
  const out = path.join(dir, 'out');
  const { rows, manifest } = await runCollector<Row>(shellHistoryCollector, out, { root, settings: { logMaxBytes: 40 } });
  const row = (p: string) => rows.find((r) => r.path === p)!;

  const rootHist = row('/root/.bash_history');
  assert.deepEqual([rootHist.user, rootHist.kind, rootHist.linkTarget, rootHist.copied], ['root', 'symlink', '/dev/null', false]);
  const bob = row('/home/bob/.zsh_history');
  assert.deepEqual([bob.user, bob.empty, bob.lineCount, bob.sha256], [
    'bob',
    true,
    0,
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ]);
  const zext = row('/home/bob/.zhistory');
  assert.deepEqual([zext.timestamps, zext.firstTime, zext.lastTime], [2, '2026-11-21T22:26:40.000Z', '2026-11-21T22:28:20.000Z']);
  const fish = row('/home/carol/.local/share/fish/fish_history');
  assert.deepEqual([fish.format, fish.timestamps, fish.lastTime, fish.truncated], ['fish', 1, '2026-11-20T18:40:00.000Z', true], 'capped at 40 bytes: only the first stamp is in');
  const alice = row('/home/alice/.bash_history');
  assert.equal(alice.truncated, true);
  assert.equal(alice.firstTime, '2026-11-23T02:13:20.000Z');
  assert.equal(readFileSync(path.join(out, 'files/home/alice/.bash_history')).length, 40);
  const orphan = row('/home/orphan/.bash_history');
  assert.deepEqual([orphan.user, orphan.lineCount], [null, 2]);
  assert.deepEqual([row('/home/dave/.bash_history').kind, row('/home/dave/.bash_history').copied], ['directory', false]);
  assert.ok(!rows.some((r) => r.present === false && r.user === 'alice'));
  assert.deepEqual(manifest.errors, []);
});

test('an account with a login shell and no history gives a present=false row; nologin accounts do not', async (t) => {
  const dir = tempDir(t);
  const root = buildAccountsLogsRoot(dir);
  mkdirSync(path.join(root, 'home/erin'), { recursive: true });
  mkdirSync(path.join(root, 'var/www'), { recursive: true });
  appendFileSync(path.join(root, 'etc/passwd'), 'admin2:x:0:0::/root/:/bin/bash\n');
  const { rows } = await runCollector<Row>(shellHistoryCollector, path.join(dir, 'out'), { root });
  const none = rows.filter((r) => r.present === false);
  assert.deepEqual(none.map((r) => r.home), ['/home/erin']);
  assert.equal(none[0]!.user, null);
  assert.equal(rows.filter((r) => r.path === '/root/.bash_history').length, 1, '/root/ and /root are one home');
});
