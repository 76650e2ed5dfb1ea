import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { classifyPassword, daysToDate, parseGshadow, parseShadow, parseShells } from '../../src/host/shadow.js';
import { HASHES } from '../fixtures/accounts-logs/build-root.js';

const SHADOW = [
  'root:!:19000:0:99999:7:::',
  'daemon:*:19000:0:99999:7:::',
  `alice:${HASHES.yescrypt}:20000:0:99999:7:::`,
  'bob::20100:0:99999:7:::',
  `carol:!${HASHES.sha512}:20050:0:99999:7::20500:`,
  `toor:${HASHES.des}:20400:0:99999:7:::`,
  'svc:!!:0::::::',
  'broken-line',
  '# a comment',
  '',
].join('\r\n');

test('shadow facts: empty, locked, yescrypt, DES, forced change, expiry — CRLF file', () => {
  const { entries, bad } = parseShadow(SHADOW);
  assert.deepEqual(bad, [8]);
  const by = new Map(entries.map((e) => [e.name, e]));
  assert.deepEqual(by.get('root')!.password, { state: 'locked', scheme: null, lockedPrefix: true, length: 1 });
  assert.equal(by.get('daemon')!.password.state, 'no-password');
  assert.deepEqual(by.get('alice')!.password, { state: 'hash', scheme: 'yescrypt', lockedPrefix: false, length: HASHES.yescrypt.length });
  assert.equal(by.get('alice')!.lastChange, '2024-10-04');
  assert.equal(by.get('bob')!.password.state, 'empty');
  assert.deepEqual(by.get('carol')!.password, { state: 'locked', scheme: 'sha512', lockedPrefix: true, length: HASHES.sha512.length + 1 });
  assert.equal(by.get('carol')!.expires, '2026-02-16');
  assert.equal(by.get('toor')!.password.scheme, 'des');
  const svc = by.get('svc')!;
  assert.equal(svc.password.state, 'locked');
  assert.equal(svc.lastChange, '1970-01-01');
  assert.equal(svc.maxDays, null);
  assert.equal(svc.fieldCount, 9);
  assert.equal(by.get('root')!.fieldCount, 9, 'the CR of a CRLF line is not a field');
});

test('hash schemes by prefix and shape', () => {
  const cases: [string, string | null, string][] = [
    [HASHES.md5, 'md5', 'hash'],
    ['$5$rounds=1000$salt$abc', 'sha256', 'hash'],
    [HASHES.sha512, 'sha512', 'hash'],
    [HASHES.yescrypt, 'yescrypt', 'hash'],
    ['$gy$j9T$salt$hash', 'gost-yescrypt', 'hash'],
    ['$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234', 'bcrypt', 'hash'],
    ['$2y$10$x', 'bcrypt', 'hash'],
    ['$7$CU..../....salt$hash', 'scrypt', 'hash'],
    [HASHES.des, 'des', 'hash'],
    ['_J9..salt12345678901', 'bsdi', 'hash'],
    ['$9$future$thing', 'unknown', 'hash'],
    ['!!', null, 'locked'],
    ['!*', null, 'locked'],
    ['*', null, 'no-password'],
    ['*LK*', null, 'no-password'],
    ['x', null, 'no-password'],
    ['', null, 'empty'],
  ];
  for (const [field, scheme, state] of cases) {
    const p = classifyPassword(field);
    assert.equal(p.scheme, scheme, field);
    assert.equal(p.state, state, field);
  }
  assert.equal(classifyPassword('x', { inPasswd: true }).state, 'shadowed');
  assert.equal(classifyPassword(HASHES.md5, { inPasswd: true }).scheme, 'md5');
});

test('gshadow: admins and members; shells: comments and CRLF skipped', () => {
  const { entries, bad } = parseGshadow('sudo:!:root:alice,toor\nadm:::alice\r\n:x::\n');
  assert.deepEqual(bad, [3]);
  assert.deepEqual(entries[0], { line: 1, name: 'sudo', password: { state: 'locked', scheme: null, lockedPrefix: true, length: 1 }, admins: ['root'], members: ['alice', 'toor'], fieldCount: 4 });
  assert.equal(entries[1]!.password.state, 'empty');
  assert.deepEqual(parseShells('# shells\n/bin/sh\r\n\n  /bin/bash  \n'), ['/bin/sh', '/bin/bash']);
});

test('daysToDate: epoch day numbers, absent and absurd values', () => {
  assert.equal(daysToDate(0), '1970-01-01');
  assert.equal(daysToDate(20400), '2025-11-08');
  assert.equal(daysToDate(null), null);
  assert.equal(daysToDate(1e12), null);
});

test('property: any text parses without throwing and no password field leaves the parser', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ minLength: 14, maxLength: 40 }), fc.string({ maxLength: 30 }))), (lines) => {
      const text = lines.map(([name, pw, rest]) => `${name}:$6$${pw}:${rest}`).join('\n');
      const out = JSON.stringify(parseShadow(text));
      for (const [, pw] of lines) assert.ok(!out.includes(`$6$${pw}`));
      parseGshadow(text);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const text = Buffer.from(bytes).toString('latin1');
      const { entries } = parseShadow(text);
      for (const e of entries) assert.ok(e.lastChange === null || /^\d{4,}-\d\d-\d\d$/.test(e.lastChange) || e.lastChange.startsWith('+') || e.lastChange.startsWith('-'));
      parseGshadow(text);
      parseShells(text);
    }),
  );
});
