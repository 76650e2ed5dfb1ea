import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { expandKeysPath, expandSshdConfig, parseSshdConfig, parseSshdLine, splitSshdArgs } from '../../src/host/sshd-config.js';
import { PROJECT } from '../helpers.js';

const dir = path.join(PROJECT, 'test/fixtures/persistence-b/sshd');
const files: Record<string, string> = {
  '/etc/ssh/sshd_config': readFileSync(path.join(dir, 'sshd_config'), 'utf8'),
  '/etc/ssh/sshd_config.d/10-ldap.conf': readFileSync(path.join(dir, 'sshd_config.d/10-ldap.conf'), 'utf8'),
  '/etc/ssh/match.d/extra.conf': readFileSync(path.join(dir, 'match.d/extra.conf'), 'utf8'),
};
const io = {
  read: async (p: string) => files[p] ?? null,
  glob: async (pattern: string) => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    return Object.keys(files).filter((f) => re.test(f)).sort();
  },
};

test('Include is read where it stands, Match conditions follow directives into included files', async () => {
  const { directives, bad, files: read } = await expandSshdConfig('/etc/ssh/sshd_config', io);
  assert.deepEqual(read, ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/10-ldap.conf', '/etc/ssh/match.d/extra.conf']);
  const akf = directives.filter((d) => d.key === 'authorizedkeysfile');
  assert.deepEqual(
    akf.map((d) => [d.file, d.line, d.match, d.args]),
    [
      ['/etc/ssh/sshd_config.d/10-ldap.conf', 1, null, ['/etc/ssh/authorized/%u', '.ssh/authorized_keys']],
      ['/etc/ssh/sshd_config', 10, null, ['.ssh/authorized_keys', '.ssh/authorized_keys2']],
      ['/etc/ssh/sshd_config', 21, 'User backup', ['/var/lib/backup/keys/%u', '/etc/ssh/keys/%u with space']],
      ['/etc/ssh/match.d/extra.conf', 1, 'Group admins Address 10.0.0.0/8', ['/opt/admin/%h/keys']],
    ],
  );
  const cmd = directives.find((d) => d.key === 'authorizedkeyscommand' && d.match === null && d.args[0] !== 'none');
  assert.deepEqual(cmd?.args, ['/usr/local/sbin/keys-from-ldap', '%u']);
  assert.deepEqual(bad, [{ file: '/etc/ssh/match.d/extra.conf', line: 2, reason: 'unterminated quote' }]);
});

test('an Include loop is reported, not followed forever', async () => {
  const loop = { read: async () => 'Include /etc/ssh/sshd_config\nPort 22\n', glob: async (p: string) => [p] };
  const { directives, bad } = await expandSshdConfig('/etc/ssh/sshd_config', loop);
  assert.equal(directives.filter((d) => d.key === 'port').length, 1);
  assert.match(bad[0]!.reason, /loops/);
});

test('argument splitting as OpenSSH argv_split does it', () => {
  assert.deepEqual(splitSshdArgs('a "b c" d\\ e \'f g\' # comment'), ['a', 'b c', 'd e', 'f g']);
  assert.deepEqual(splitSshdArgs('x#y'), ['x#y']);
  assert.equal(splitSshdArgs('"open'), null);
  assert.deepEqual(parseSshdLine('  Keyword = value  ', 3), { line: 3, keyword: 'Keyword', key: 'keyword', args: ['value'], raw: '  Keyword = value  ' });
  assert.equal(parseSshdLine('   # just a comment', 1), null);
  assert.deepEqual(parseSshdConfig('Port 22\r\n').lines[0]?.args, ['22']);
});

test('AuthorizedKeysFile tokens and relative paths', () => {
  const u = { name: 'alice', uid: 1001, home: '/home/alice/' };
  assert.equal(expandKeysPath('.ssh/authorized_keys', u), '/home/alice/.ssh/authorized_keys');
  assert.equal(expandKeysPath('/etc/ssh/keys/%u.%U', u), '/etc/ssh/keys/alice.1001');
  assert.equal(expandKeysPath('%h/k%%', u), '/home/alice//k%');
  assert.equal(expandKeysPath('.ssh/k', { name: 'root', uid: 0, home: '/' }), '/.ssh/k');
});

test('property: any text parses without throwing into lines or bad lines', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('Match User x', 'Include a', 'A="b c"')), { maxLength: 15 }), (lines) => {
      const text = lines.join('\n');
      const { lines: parsed, bad } = parseSshdConfig(text);
      const counted = text.split('\n').filter((l) => {
        const t = l.replace(/[ \t\r\n]+$/, '').replace(/^[ \t]+/, '');
        return t !== '' && !t.startsWith('#');
      }).length;
      assert.equal(parsed.length + bad.length, counted);
      for (const l of parsed) assert.equal(l.key, l.keyword.toLowerCase());
    }),
  );
});
