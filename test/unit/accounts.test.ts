import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { accountsCollector } from '../../src/collectors/accounts.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { HASHES, buildAccountsLogsRoot } from '../fixtures/accounts-logs/build-root.js';
import { tempDir } from '../helpers.js';

type Row = Record<string, unknown> & { kind: string; name: string | null };

test('accounts on a Debian-like image with an intruder\'s edits', async (t) => {
  const dir = tempDir(t);
  const root = buildAccountsLogsRoot(dir);
  const out = path.join(dir, 'out');
  const { rows, manifest } = await runCollector<Row>(accountsCollector, out, { root });
  const account = (name: string) => rows.find((r) => r.kind === 'account' && r.name === name)!;

  const toor = account('toor');
  assert.equal(toor.uid, 0);
  assert.deepEqual(toor.sameId, ['root']);
  assert.equal(toor.lineEndsWithCR, true);
  assert.equal(toor.shell, '/bin/bash\r', 'glibc keeps the CR in the shell field');
  assert.equal(toor.shellExists, false);
  assert.equal(toor.passwordScheme, 'des');
  assert.deepEqual(toor.groups, ['sudo']);
  assert.equal(toor.lastChange, '2025-11-08');

  assert.equal(account('root').passwordState, 'locked');
  assert.equal(account('bob').passwordState, 'empty');
  assert.equal(account('alice').passwordScheme, 'yescrypt');
  assert.deepEqual(account('alice').groups, ['adm', 'sudo']);
  assert.equal(account('alice').homeKind, 'directory');
  const carol = account('carol');
  assert.deepEqual([carol.passwordState, carol.passwordScheme, carol.passwordLocked, carol.expires], ['locked', 'sha512', true, '2026-02-16']);
  assert.deepEqual([carol.shellListed, carol.loginShell, carol.shellExists], [false, false, false]);
  const svc = account('svc');
  assert.deepEqual([svc.passwdField, svc.passwdScheme, svc.inShadow, svc.homeKind], ['hash', 'md5', false, 'missing']);
  const daemon = account('daemon');
  assert.deepEqual([daemon.shellNologin, daemon.loginShell, daemon.passwordState], [true, false, 'no-password']);

  const sudo = rows.find((r) => r.kind === 'group' && r.name === 'sudo')!;
  assert.deepEqual([sudo.members, sudo.passwordState], [['alice', 'toor'], 'locked']);
  assert.ok(rows.some((r) => r.kind === 'shadow-only' && r.name === 'ghost'));
  assert.ok(rows.some((r) => r.kind === 'malformed' && r.file === '/etc/passwd' && r.raw === 'this line is broken' && r.line === 9));
  const badShadow = rows.find((r) => r.kind === 'malformed' && r.file === '/etc/shadow')!;
  assert.equal(badShadow.raw, null);

  // hashes stay out of rows; the raw shadow is evidence in the bundle, 0600
  const jsonl = readFileSync(path.join(out, 'collectors/accounts.jsonl'), 'utf8');
  for (const h of Object.values(HASHES)) assert.ok(!jsonl.includes(h), h);
  const shadowCopy = path.join(out, 'files/etc/shadow');
  assert.ok(readFileSync(shadowCopy, 'utf8').includes(HASHES.yescrypt));
  assert.equal(statSync(shadowCopy).mode & 0o777, 0o600);
  for (const f of ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/shells', '/etc/passwd-']) {
    assert.ok(manifest.artifacts.some((a) => a.source === f), f);
  }
  assert.deepEqual(manifest.errors, []);
});

test('names with invalid UTF-8 keep their bytes; no shadow file means unknown password facts', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  writeFileSync(
    path.join(root, 'etc/passwd'),
    Buffer.concat([Buffer.from('ev'), Buffer.from([0xff, 0x1b]), Buffer.from(`il:x:0:0::/:/bin/sh\nbad:${HASHES.sha512}:0:0:/root:/bin/sh\n`)]),
  );
  rmSync(path.join(root, 'etc/shadow'), { force: true });
  const { rows } = await runCollector<Row>(accountsCollector, path.join(dir, 'out'), { root });
  assert.equal(rows.length, 2);
  assert.deepEqual([rows[1]!.kind, rows[1]!.raw], ['malformed', 'bad:<sha512 hash withheld>:0:0:/root:/bin/sh']);
  assert.equal(rows[0]!.name, 'ev%FF\u001bil');
  assert.equal(Buffer.from(rows[0]!.nameBase64 as string, 'base64').toString('latin1'), 'ev\xff\x1bil');
  assert.equal(rows[0]!.inShadow, null);
  assert.equal(rows[0]!.shellListed, null, 'no /etc/shells');
});
