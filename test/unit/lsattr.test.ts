import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseLsattr } from '../../src/host/lsattr.js';
import { tempDir } from '../helpers.js';

const b = (s: string) => Buffer.from(s);

test('parses lsattr -d lines and finds i and a', () => {
  const args = [b('/etc/passwd'), b('/root/.bash_history'), b('/gone'), b('/var/spool/cron/crontabs/root')];
  const out = b('--------------e------- /etc/passwd\n-----a--------e------- /root/.bash_history\n----i---------e------- /var/spool/cron/crontabs/root\n');
  const { entries, missing, unmatched } = parseLsattr(out, args);
  assert.deepEqual(
    entries.map((e) => [e.path.toString(), e.immutable, e.appendOnly]),
    [
      ['/etc/passwd', false, false],
      ['/root/.bash_history', false, true],
      ['/var/spool/cron/crontabs/root', true, false],
    ],
  );
  assert.deepEqual(missing.map(String), ['/gone']);
  assert.deepEqual(unmatched, []);
});

test('the indexed-directory flag I is not the immutable flag i', () => {
  const { entries } = parseLsattr(b('---------I----e------- /etc/cron.d\n'), [b('/etc/cron.d')]);
  assert.equal(entries[0]!.immutable, false);
});

test('real lsattr output for a file made immutable and one append-only (root, ext4)', (t) => {
  const dir = tempDir(t);
  const imm = path.join(dir, 'authorized keys\nwith newline');
  const app = path.join(dir, '.bash_history');
  writeFileSync(imm, 'ssh-ed25519 AAAA x\n');
  writeFileSync(app, 'id\n');
  const set = spawnSync('chattr', ['+i', imm]);
  if (set.status !== 0) return t.skip(`chattr +i not possible here: ${set.stderr.toString().trim()}`);
  try {
    spawnSync('chattr', ['+a', app]);
    const run = spawnSync('/usr/bin/lsattr', ['-d', imm, app, dir]);
    const { entries, missing } = parseLsattr(run.stdout, [b(imm), b(app), b(dir)]);
    assert.deepEqual(missing, []);
    assert.deepEqual(entries.map((e) => [e.immutable, e.appendOnly]), [[true, false], [false, true], [false, false]]);
  } finally {
    // before the temporary directory is removed: an immutable file cannot be deleted
    spawnSync('chattr', ['-i', imm]);
    spawnSync('chattr', ['-a', app]);
  }
});

test('property: any output and arguments parse without throwing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 5 }), (out, args) => {
      const r = parseLsattr(Buffer.from(out), args.map((a) => Buffer.from(a)));
      assert.equal(r.entries.length + r.missing.length, args.length);
    }),
  );
});
