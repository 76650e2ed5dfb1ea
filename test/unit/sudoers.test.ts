import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { includedirReads, parseSudoers, splitTop, type SudoersAlias, type SudoersDefaults, type SudoersInclude, type SudoersSpec } from '../../src/host/sudoers.js';
import { PROJECT } from '../helpers.js';

test("Debian's default sudoers", () => {
  const text = readFileSync(path.join(PROJECT, 'test/fixtures/persistence-b/sudoers.debian'), 'utf8');
  const { entries, bad } = parseSudoers(text);
  assert.deepEqual(bad, []);
  const specs = entries.filter((e): e is SudoersSpec => e.kind === 'spec');
  assert.deepEqual(
    specs.map((s) => [s.users, s.specs[0]!.runAsUsers, s.specs[0]!.runAsGroups, s.specs[0]!.command]),
    [
      [['root'], ['ALL'], ['ALL'], 'ALL'],
      [['%sudo'], ['ALL'], ['ALL'], 'ALL'],
    ],
  );
  const defaults = entries.filter((e): e is SudoersDefaults => e.kind === 'defaults');
  assert.ok(defaults.some((d) => d.settings[0]?.startsWith('secure_path=')));
  const inc = entries.find((e): e is SudoersInclude => e.kind === 'include');
  assert.deepEqual([inc?.directive, inc?.path], ['@includedir', '/etc/sudoers.d']);
});

test('NOPASSWD ALL, several command groups, tag inheritance, runas with groups, digests, uids and continuation lines', () => {
  const text = [
    'bob ALL=(ALL) NOPASSWD: ALL',
    'alice, %wheel , #1001 web01,web02 = (root, www-data : adm) NOPASSWD: SETENV: /usr/bin/systemctl restart nginx, /bin/journalctl, PASSWD: /bin/su : db01 = (postgres) ALL',
    '#1002 ALL=(ALL:ALL) CWD=/tmp TIMEOUT=5m ALL',
    'deploy ALL=(root) NOPASSWD: sha256:Zm9vYmFy /usr/local/bin/deploy.sh, !/usr/bin/passwd root',
    'carol ALL = /usr/bin/vim \\',
    '   /etc/hosts, /usr/bin/less # a comment',
    'Defaults:bob !requiretty, env_keep += "LD_PRELOAD PYTHONPATH"',
    'Defaults@web01 log_output',
    'Defaults>root !set_logname',
    'Defaults!/usr/bin/less noexec',
    'Cmnd_Alias SHELLS = /bin/sh, /bin/bash : EDITORS = /usr/bin/vim',
    'User_Alias ADMINS = alice, bob',
    '#include /etc/sudoers.local',
    '#includedir /etc/sudoers.d',
    '@include "/etc/sudo with space"',
    '# just a comment',
    'this is not sudoers',
    'eve ALL=',
  ].join('\n');
  const { entries, bad } = parseSudoers(text);
  assert.deepEqual(
    bad.map((b) => b.line),
    [17, 18],
  );
  const specs = entries.filter((e): e is SudoersSpec => e.kind === 'spec');
  const [bob, multi, uid, deploy, carol] = specs;
  assert.deepEqual(bob!.users, ['bob']);
  assert.deepEqual(bob!.specs, [{ hosts: ['ALL'], runAsUsers: ['ALL'], runAsGroups: null, tags: ['NOPASSWD'], options: [], digest: null, command: 'ALL' }]);

  assert.deepEqual(multi!.users, ['alice', '%wheel', '#1001']);
  assert.deepEqual(
    multi!.specs.map((s) => [s.hosts, s.runAsUsers, s.runAsGroups, s.tags, s.command]),
    [
      [['web01', 'web02'], ['root', 'www-data'], ['adm'], ['NOPASSWD', 'SETENV'], '/usr/bin/systemctl restart nginx'],
      [['web01', 'web02'], ['root', 'www-data'], ['adm'], ['NOPASSWD', 'SETENV'], '/bin/journalctl'],
      [['web01', 'web02'], ['root', 'www-data'], ['adm'], ['SETENV', 'PASSWD'], '/bin/su'],
      [['db01'], ['postgres'], null, [], 'ALL'],
    ],
  );
  assert.deepEqual(uid!.users, ['#1002']);
  assert.deepEqual(uid!.specs[0]!.options, ['CWD=/tmp', 'TIMEOUT=5m']);
  assert.equal(deploy!.specs[0]!.digest, 'sha256:Zm9vYmFy');
  assert.equal(deploy!.specs[0]!.command, '/usr/local/bin/deploy.sh');
  assert.equal(deploy!.specs[1]!.command, '!/usr/bin/passwd root');
  assert.deepEqual(deploy!.specs[1]!.tags, ['NOPASSWD'], 'tags carry over to the next command');
  assert.equal(carol!.line, 5);
  assert.deepEqual(
    carol!.specs.map((s) => [s.runAsUsers, s.command]),
    [
      [null, '/usr/bin/vim    /etc/hosts'],
      [null, '/usr/bin/less'],
    ],
  );

  const defaults = entries.filter((e): e is SudoersDefaults => e.kind === 'defaults');
  assert.deepEqual(
    defaults.map((d) => [d.scope, d.binding, d.settings]),
    [
      ['user', 'bob', ['!requiretty', 'env_keep += "LD_PRELOAD PYTHONPATH"']],
      ['host', 'web01', ['log_output']],
      ['runas', 'root', ['!set_logname']],
      ['command', '/usr/bin/less', ['noexec']],
    ],
  );
  const aliases = entries.filter((e): e is SudoersAlias => e.kind === 'alias');
  assert.deepEqual(
    aliases.map((a) => [a.aliasType, a.name, a.members]),
    [
      ['Cmnd_Alias', 'SHELLS', ['/bin/sh', '/bin/bash']],
      ['Cmnd_Alias', 'EDITORS', ['/usr/bin/vim']],
      ['User_Alias', 'ADMINS', ['alice', 'bob']],
    ],
  );
  const includes = entries.filter((e): e is SudoersInclude => e.kind === 'include');
  assert.deepEqual(
    includes.map((i) => [i.directive, i.path]),
    [
      ['#include', '/etc/sudoers.local'],
      ['#includedir', '/etc/sudoers.d'],
      ['@include', '/etc/sudo with space'],
    ],
  );
});

test('CRLF line endings parse like LF', () => {
  const { entries, bad } = parseSudoers('bob ALL=(ALL) NOPASSWD: ALL\r\nDefaults env_reset\r\n');
  assert.deepEqual(bad, []);
  assert.equal((entries[0] as SudoersSpec).specs[0]!.command, 'ALL');
});

test('#includedir skips names with a dot or ending in ~', () => {
  assert.equal(includedirReads('90-cloud-init-users'), true);
  assert.equal(includedirReads('evil.conf'), false);
  assert.equal(includedirReads('backup~'), false);
});

test('splitTop respects quotes, escapes and parentheses', () => {
  assert.deepEqual(splitTop('a, "b, c", d\\, e, (f, g)', ','), ['a', '"b, c"', 'd\\, e', '(f, g)']);
});

test('property: any text parses without throwing; every entry has a line inside the text', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('a ALL=(b:c) NOPASSWD: /x, /y : h = ALL', 'Defaults:x y', 'Cmnd_Alias A = b : C = d', '#include x', '\\', 'u h=(')), { maxLength: 10 }),
      (lines) => {
        const text = lines.join('\n');
        const { entries, bad } = parseSudoers(text);
        const total = text.split('\n').length;
        for (const e of [...entries, ...bad]) assert.ok(e.line >= 1 && e.line <= total);
      },
    ),
  );
});
