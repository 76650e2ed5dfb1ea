import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RowOf } from '../../src/detect/rows.js';
import { ACCOUNT_RULES, FAILURES_BEFORE_SUCCESS } from '../../src/detect/rules/accounts.js';
import { checkCases, detect, row, type RuleCases } from './detect-cases.js';

function acct(f: Partial<RowOf<'accounts'>>) {
  return row('accounts', {
    kind: 'account',
    file: '/etc/passwd',
    line: 20,
    name: 'alice',
    uid: 1000,
    gid: 1000,
    shell: '/bin/bash',
    loginShell: true,
    passwdField: 'shadowed',
    inShadow: true,
    passwordState: 'hash',
    passwordScheme: 'yescrypt',
    passwordLocked: false,
    lastChange: '2025-01-10',
    ...f,
  });
}

const rec = (source: string, f: Partial<RowOf<'logins'>>) => row('logins', { kind: 'record', source, offset: 0, recordType: 'USER_PROCESS', user: 'root', line: 'ssh:notty', ...f });
const failures = (n: number, address: string, from = Date.parse('2026-11-22T01:00:00Z')) =>
  Array.from({ length: n }, (_, i) => rec('/var/log/btmp', { recordType: 'LOGIN_PROCESS', address, host: address, time: new Date(from + i * 2000).toISOString(), offset: i * 384 }));
const login = (address: string, time: string, user = 'root') => rec('/var/log/wtmp', { address, host: address, time, user, line: 'pts/0' });

const CASES: RuleCases[] = [
  {
    rule: 'accounts.uid0-extra',
    fires: [[acct({ name: 'sysadm', uid: 0, gid: 0 })]],
    quiet: [[acct({ name: 'root', uid: 0, gid: 0 })], [acct({ kind: 'group', name: 'toor', uid: null, gid: 0, file: '/etc/group' })]],
  },
  {
    rule: 'accounts.empty-password',
    fires: [[acct({ passwordState: 'empty' })], [acct({ passwdField: 'empty', passwordState: null })]],
    quiet: [[acct({})], [acct({ passwordState: 'locked' })]],
  },
  {
    rule: 'accounts.passwd-hash',
    fires: [[acct({ name: 'svc', passwdField: 'hash', passwdScheme: 'md5' })]],
    quiet: [[acct({})]],
  },
  {
    rule: 'accounts.system-password',
    fires: [[acct({ name: 'www-data', uid: 33, shell: '/usr/sbin/nologin', loginShell: false, passwordState: 'hash' })], [acct({ name: 'nobody', uid: 65534, passwordState: 'hash' })]],
    quiet: [[acct({ name: 'www-data', uid: 33, passwordState: 'locked' })], [acct({ name: 'daemon', uid: 1, passwordState: 'no-password' })], [acct({ name: 'mysql', uid: 110, passwordState: 'hash', passwordLocked: true })]],
  },
  {
    rule: 'accounts.system-login-shell',
    fires: [[acct({ name: 'postgres', uid: 105, loginShell: true, passwordState: 'locked' })]],
    quiet: [[acct({ name: 'sshd', uid: 106, shell: '/usr/sbin/nologin', loginShell: false, passwordState: 'locked' })], [acct({})]],
  },
  {
    rule: 'accounts.recent',
    fires: [[acct({ name: 'backup2', uid: 1001, lastChange: '2026-11-21' })], [acct({ name: 'root', uid: 0, lastChange: '2026-11-23' })]],
    quiet: [[acct({ lastChange: '2026-10-01' })], [acct({ name: 'mysql', uid: 110, lastChange: '2026-11-22' })], [acct({ lastChange: null })]],
  },
  {
    rule: 'logins.success-after-failures',
    fires: [[...failures(FAILURES_BEFORE_SUCCESS, '203.0.113.50'), login('203.0.113.50', '2026-11-22T01:05:00Z')], [login('203.0.113.51', '2026-11-22T03:00:00Z'), ...failures(40, '203.0.113.51')]],
    quiet: [
      [...failures(FAILURES_BEFORE_SUCCESS - 1, '203.0.113.50'), login('203.0.113.50', '2026-11-22T01:05:00Z')],
      [...failures(30, '203.0.113.50'), login('198.51.100.9', '2026-11-22T01:05:00Z')],
      [login('203.0.113.50', '2026-11-22T00:59:00Z'), ...failures(30, '203.0.113.50')],
    ],
  },
];

checkCases(ACCOUNT_RULES, CASES);

test('a guessed password names the wtmp file, the account, the address and how many failures came first', () => {
  const f = detect([...failures(25, '203.0.113.50'), login('203.0.113.50', '2026-11-22T01:05:00Z', 'deploy')]).find((x) => x.id === 'logins.success-after-failures');
  assert.ok(f);
  assert.equal(f.severity, 'critical');
  assert.equal(f.evidence.path, '/var/log/wtmp');
  assert.equal(f.evidence.user, 'deploy');
  assert.equal(f.evidence.address, '203.0.113.50');
  assert.equal(f.evidence.failures, 25);
  assert.equal(f.evidence.firstFailure, '2026-11-22T01:00:00.000Z');
  assert.equal(f.ts, '2026-11-22T01:05:00.000Z');
});
