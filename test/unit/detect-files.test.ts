import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RowOf } from '../../src/detect/rows.js';
import { FILE_RULES } from '../../src/detect/rules/files.js';
import { deceptiveName, randomLookingName } from '../../src/detect/signs/names.js';
import { checkCases, detect, row, type RuleCases } from './detect-cases.js';

const walked = { type: 'file' as const, mode: '-rwxr-xr-x', perm: '0755', uid: 0, gid: 0, owner: 'root', group: 'root', size: 100, inode: '1', links: 1, mtime: '2026-11-22T10:00:00.000000000Z' };
const tmp = (path: string, f: Partial<RowOf<'temp-files'>> = {}) =>
  row('temp-files', { place: '/tmp', depth: 1, path, ...walked, hidden: path.split('/').pop()!.startsWith('.'), inHiddenDir: false, contentKind: 'elf', ...f });
const scan = (path: string, f: Partial<RowOf<'file-scan'>> = {}) => row('file-scan', { reasons: ['setuid'], path, ...walked, mode: '-rwsr-xr-x', perm: '4755', contentKind: 'elf', ...f });
const pkg = (path: string, f: Partial<RowOf<'packages'>> = {}) =>
  row('packages', { kind: 'file', manager: 'dpkg', package: 'procps', path, result: 'changed', conffile: false, expectedMd5: 'a'.repeat(32), actualMd5: 'b'.repeat(32), ...f });
const attr = (path: string, f: Partial<RowOf<'file-attributes'>> = {}) => row('file-attributes', { path, area: 'cron', type: 'file', flags: '----i---------e-------', immutable: true, appendOnly: false, ...f });
const hist = (f: Partial<RowOf<'shell-history'>>) => row('shell-history', { user: 'root', uid: 0, home: '/root', present: true, path: '/root/.bash_history', format: 'bash', kind: 'file', targetKind: 'file', size: 2000, empty: false, copied: true, ...f });
const loginFile = (source: string, f: Partial<RowOf<'logins'>>) => row('logins', { kind: 'file', source, size: 3840, records: 10, zeroRecords: 0, trailingBytes: 0, parsedWhole: true, ...f });
const log = (path: string, f: Partial<RowOf<'logs'>>) => row('logs', { path, category: 'auth', kind: 'file', targetKind: 'file', size: 5000, copied: true, empty: false, nulBytes: 0, nulRuns: 0, allNul: false, ...f });
const rec = (source: string, f: Partial<RowOf<'logins'>>) => row('logins', { kind: 'record', source, recordType: 'USER_PROCESS', user: 'root', ...f });
const lastlog = (time: string) => row('logins', { kind: 'lastlog', source: '/var/log/lastlog', uid: 0, user: 'root', host: '203.0.113.9', time });

const CASES: RuleCases[] = [
  {
    rule: 'files.setid-temp-or-home',
    fires: [[tmp('/tmp/.bash', { mode: '-rwsr-xr-x', perm: '4755' })], [scan('/home/bob/bin/sh')], [scan('/var/tmp/x', { perm: '2755', mode: '-rwxr-sr-x' })]],
    quiet: [[scan('/usr/bin/passwd')], [tmp('/tmp/x', { perm: '0755' })], [scan('/tmp/d', { type: 'dir', perm: '1777' })], [scan('/tmp/img/usr/bin/su')], [scan('/home/bob/chroot/usr/lib/openssh/ssh-keysign')]],
  },
  {
    rule: 'files.exec-hidden-in-temp',
    fires: [[tmp('/dev/shm/.x', { place: '/dev/shm' })], [tmp('/tmp/.ICE-unix/.s/run', { hidden: false, inHiddenDir: true, contentKind: 'script' })]],
    quiet: [[tmp('/tmp/.lock', { contentKind: null })], [tmp('/tmp/build/a.out')], [tmp('/tmp/ci/p/.git/hooks/pre-commit.sample', { hidden: false, inHiddenDir: true, contentKind: 'script' })], [tmp('/tmp/.git/hooks/x', { hidden: false, inHiddenDir: true })]],
  },
  {
    rule: 'files.exec-deceptive-name',
    fires: [[tmp('/tmp/...')], [tmp('/var/tmp/sshd ')], [scan('/usr/bin/ss\u0443'), tmp('/tmp/l\u200bs')]],
    quiet: [[tmp('/tmp/run.sh', { contentKind: 'script' })], [tmp('/tmp/...', { contentKind: null })], [scan('/usr/bin/passwd')]],
  },
  {
    rule: 'files.exec-system-name-in-temp',
    fires: [[tmp('/tmp/sshd')], [tmp('/dev/shm/.systemd', { place: '/dev/shm' })]],
    quiet: [[tmp('/tmp/sshd', { contentKind: null })], [tmp('/tmp/myapp')], [tmp('/tmp/img/root/usr/sbin/sshd')]],
  },
  {
    rule: 'files.package-rootkit-target-changed',
    fires: [[pkg('/usr/bin/ps')], [pkg('/usr/lib/x86_64-linux-gnu/security/pam_unix.so', { package: 'libpam-modules' })], [pkg('/lib/x86_64-linux-gnu/libkeyutils.so.1', { result: 'not-regular' })]],
    quiet: [[pkg('/usr/bin/ps', { conffile: true })], [pkg('/usr/bin/ps', { result: 'missing' })], [pkg('/usr/bin/nano', { package: 'nano' })], [row('packages', { kind: 'package', manager: 'dpkg', package: 'procps' })]],
  },
  {
    rule: 'files.package-file-changed',
    fires: [[pkg('/usr/bin/nano', { package: 'nano' })]],
    quiet: [[pkg('/usr/bin/ps')], [pkg('/etc/nanorc', { package: 'nano', conffile: true })]],
  },
  {
    rule: 'files.immutable',
    fires: [[attr('/var/spool/cron/crontabs/root')], [attr('/root/.ssh/authorized_keys', { area: 'ssh' })]],
    quiet: [[attr('/etc/resolv.conf', { area: 'network' })], [attr('/etc/crontab', { immutable: false })], [attr('/etc/crontab', { immutable: null, flags: null })]],
  },
  {
    rule: 'files.history-to-null',
    fires: [[hist({ kind: 'symlink', linkTarget: '/dev/null', targetKind: 'char-device', size: null })]],
    quiet: [[hist({})], [hist({ present: false, kind: null, targetKind: null })]],
  },
  {
    rule: 'files.history-emptied',
    fires: [[hist({ size: 0, empty: true, ctime: '2026-11-22T10:00:00Z' })]],
    quiet: [[hist({})], [hist({ kind: 'symlink', linkTarget: '/dev/null', targetKind: 'char-device', empty: true })]],
  },
  {
    rule: 'files.login-records-zeroed',
    fires: [[loginFile('/var/log/wtmp', { zeroRecords: 3 })]],
    quiet: [[loginFile('/var/log/wtmp', {})], [loginFile('/var/log/wtmp', { zeroRecords: null, parsedWhole: false })]],
  },
  {
    rule: 'files.login-records-torn',
    fires: [[loginFile('/var/log/wtmp', { trailingBytes: 120 })]],
    quiet: [[loginFile('/var/log/wtmp', {})], [loginFile('/var/log/btmp', { trailingBytes: null })]],
  },
  {
    rule: 'files.log-to-null',
    fires: [[log('/var/log/auth.log', { kind: 'symlink', linkTarget: '/dev/null', targetKind: 'char-device', copied: false })], [loginFile('/var/log/wtmp', { linkTarget: '/dev/null', targetKind: 'char-device' })]],
    quiet: [[log('/var/log/auth.log', {})], [loginFile('/var/log/wtmp', {})], [log('/var/log/syslog', { kind: 'symlink', linkTarget: '/var/log/messages', targetKind: 'file', category: 'syslog' })]],
  },
  {
    rule: 'files.log-wiped',
    fires: [[log('/var/log/auth.log', { nulBytes: 4096, nulRuns: 1 })], [log('/var/log/nginx/access.log', { category: 'web', nulBytes: 9000, nulRuns: 1, allNul: true })]],
    quiet: [[log('/var/log/auth.log', {})], [log('/var/log/journal/x/system.journal', { category: 'journal', nulBytes: 900, nulRuns: 30 })]],
  },
  {
    rule: 'files.auth-log-emptied',
    fires: [[log('/var/log/auth.log', { size: 0, empty: true })], [log('/var/log/secure', { size: 0, empty: true })]],
    quiet: [[log('/var/log/auth.log.1', { size: 0, empty: true })], [log('/var/log/auth.log', {})], [log('/var/log/kern.log', { category: 'kernel', size: 0, empty: true })]],
  },
  {
    rule: 'files.wtmp-missing-logins',
    fires: [
      [rec('/var/log/wtmp', { time: '2026-11-20T09:00:00Z' }), loginFile('/var/log/wtmp', {}), lastlog('2026-11-22T23:10:00Z')],
      [loginFile('/var/log/wtmp', { size: 0, records: 0 }), lastlog('2026-11-22T23:10:00Z')],
    ],
    quiet: [
      [rec('/var/log/wtmp', { time: '2026-11-22T23:10:00Z' }), loginFile('/var/log/wtmp', {}), lastlog('2026-11-22T23:10:00Z')],
      [rec('/var/log/wtmp.1', { time: '2026-11-22T23:10:00Z' }), loginFile('/var/log/wtmp', { size: 0, records: 0 }), lastlog('2026-11-22T23:10:00Z')],
      [loginFile('/var/log/wtmp', { parsedWhole: false }), lastlog('2026-11-22T23:10:00Z')],
      [loginFile('/var/log/wtmp', { size: 0, records: 0 })],
    ],
  },
];

checkCases(FILE_RULES, CASES);

test('one file seen by two collectors is one finding', () => {
  const found = detect([tmp('/tmp/.rootsh', { mode: '-rwsr-xr-x', perm: '4755', sha256: 'c'.repeat(64) }), scan('/tmp/.rootsh', { sha256: 'c'.repeat(64) })]).filter((f) => f.id === 'files.setid-temp-or-home');
  assert.equal(found.length, 1);
});

test('names: deceptive names are told from ordinary ones, whatever the bytes', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,30}[a-z0-9]$/), (name) => {
      assert.equal(deceptiveName(name), null);
      assert.notEqual(deceptiveName(`${name} `), null);
    }),
  );
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (name) => void deceptiveName(name)));
  assert.ok(randomLookingName('qdsgmxqbqr') && randomLookingName('fdfgchjldj'));
  assert.ok(!randomLookingName('networking') && !randomLookingName('postgresql') && !randomLookingName('backup'));
});
