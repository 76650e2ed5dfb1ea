import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { pamExecCommand, parsePamFile, type PamRule } from '../../src/host/pam-conf.js';
import { PROJECT } from '../helpers.js';

test("Debian's common-auth: [value=action] controls and a plain stack", () => {
  const text = readFileSync(path.join(PROJECT, 'test/fixtures/persistence-b/pam-common-auth.debian'), 'utf8');
  const { entries, bad } = parsePamFile(text);
  assert.deepEqual(bad, []);
  const rules = entries.filter((e): e is PamRule => e.kind === 'rule');
  assert.deepEqual(
    rules.map((r) => [r.type, r.control, r.module]),
    [
      ['auth', '[success=1 default=ignore]', 'pam_unix.so'],
      ['auth', 'requisite', 'pam_deny.so'],
      ['auth', 'required', 'pam_permit.so'],
      ['auth', 'optional', 'pam_cap.so'],
    ],
  );
  assert.deepEqual(rules[0]!.controlActions, [
    { value: 'success', action: '1' },
    { value: 'default', action: 'ignore' },
  ]);
  assert.deepEqual(rules[0]!.args, ['nullok']);
});

test('backdoor shapes: pam_succeed_if uid >= 0, pam_exec with a script, @include, quiet types, bracketed args, continuation', () => {
  const text = [
    'auth sufficient pam_succeed_if.so uid >= 0',
    'auth optional pam_exec.so quiet expose_authtok log=/tmp/.l /usr/local/bin/.pwlog.sh --user',
    '@include common-auth # trailing comment',
    '-session optional pam_systemd.so',
    'session required pam_mysql.so [query=select user from t where a = 1] \\',
    '   debug',
    'Account   Required   /lib/security/../../tmp/pam_evil.so',
    'auth [success=done new_authtok_reqd=ok default=die] pam_unix.so',
    'auth include system-auth',
    'bogus required pam_x.so',
    'auth [unterminated pam_x.so',
    'auth required',
    'session optional pam_x.so arg#notacomment\r',
  ].join('\n');
  const { entries, bad } = parsePamFile(text);
  assert.deepEqual(
    bad.map((b) => [b.line, b.reason.split(' ')[0]]),
    [
      [10, 'unknown'],
      [11, 'unterminated'],
      [12, 'fewer'],
    ],
  );
  const [succeed, exec, inc, quiet, mysql, evil, bracket, include, hashArg] = entries as PamRule[];
  assert.deepEqual([succeed!.type, succeed!.control, succeed!.module, succeed!.args, succeed!.argsRaw], ['auth', 'sufficient', 'pam_succeed_if.so', ['uid', '>=', '0'], 'uid >= 0']);
  assert.deepEqual(pamExecCommand(exec!.args), ['/usr/local/bin/.pwlog.sh', '--user']);
  assert.deepEqual(inc, { kind: 'include', line: 3, target: 'common-auth', raw: '@include common-auth # trailing comment' });
  assert.equal(quiet!.quietIfMissing, true);
  assert.equal(quiet!.type, 'session');
  assert.deepEqual(mysql!.args, ['query=select user from t where a = 1', 'debug']);
  assert.equal(mysql!.line, 5);
  assert.equal(evil!.type, 'account', 'types are case-insensitive');
  assert.equal(evil!.module, '/lib/security/../../tmp/pam_evil.so');
  assert.deepEqual(bracket!.controlActions?.map((a) => a.action), ['done', 'ok', 'die']);
  assert.equal(include!.control, 'include');
  assert.equal(include!.module, 'system-auth');
  assert.deepEqual(hashArg!.args, ['arg'], 'Linux-PAM cuts the line at any #');
});

test('/etc/pam.conf has the service first', () => {
  const { entries } = parsePamFile('sshd auth required pam_unix.so\n', { pamConf: true });
  assert.equal((entries[0] as PamRule).service, 'sshd');
  assert.equal((entries[0] as PamRule).module, 'pam_unix.so');
});

test('property: any text parses without throwing; every rule has a known type', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('auth [a=b', 'auth required x.so [a\\] b]', '-auth optional x.so', 'x\\')), { maxLength: 10 }), fc.boolean(), (lines, pamConf) => {
      const { entries } = parsePamFile(lines.join('\n'), { pamConf });
      for (const e of entries) if (e.kind === 'rule') assert.ok(['auth', 'account', 'password', 'session'].includes(e.type));
    }),
  );
});
