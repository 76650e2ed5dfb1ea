import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseBinfmtD, parseBinfmtEntry, parseRegistration } from '../../src/host/binfmt.js';
import { PROJECT } from '../helpers.js';

const fixture = (n: string) => readFileSync(path.join(PROJECT, 'test/fixtures/persistence-b', n), 'utf8');

test('a kernel handler entry (qemu-user with OCF flags) and an extension handler', () => {
  assert.deepEqual(parseBinfmtEntry(fixture('binfmt-qemu-aarch64.txt')), {
    enabled: true,
    interpreter: '/usr/bin/qemu-aarch64-static',
    flags: 'OCF',
    offset: 0,
    magic: '7f454c460201010000000000000000000200b700',
    mask: 'ffffffffffffff00fffffffffffffffffeffffff',
    extension: null,
  });
  const ext = parseBinfmtEntry(fixture('binfmt-ext.txt'));
  assert.deepEqual([ext.enabled, ext.interpreter, ext.flags, ext.extension, ext.magic], [false, '/tmp/.x/run', '', '.jpg', null]);
});

test('binfmt.d registrations: any separator, escapes kept, missing flags, comments, bad lines', () => {
  const text = [
    '# python',
    ':python3.11:M::\\xa7\\x0d\\x0d\\x0a::/usr/bin/python3.11:',
    '; another comment',
    '|jpg|E||jpg||/tmp/.x/run|C',
    ':short:M::7f45',
    ':nointerp:M::\\x7fELF::/bin/sh',
  ].join('\n');
  const { registrations, bad } = parseBinfmtD(text);
  assert.deepEqual(bad, [5]);
  assert.deepEqual(
    registrations.map((r) => [r.line, r.name, r.type, r.magic, r.interpreter, r.flags]),
    [
      [2, 'python3.11', 'M', '\\xa7\\x0d\\x0d\\x0a', '/usr/bin/python3.11', ''],
      [4, 'jpg', 'E', 'jpg', '/tmp/.x/run', 'C'],
      [6, 'nointerp', 'M', '\\x7fELF', '/bin/sh', ''],
    ],
  );
});

test('property: any text parses without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
      parseBinfmtEntry(s);
      const { registrations, bad } = parseBinfmtD(s);
      for (const r of [...registrations.map((x) => x.line), ...bad]) assert.ok(r >= 1);
      const one = parseRegistration(s, 1);
      if (one) assert.ok(one.type === 'M' || one.type === 'E');
    }),
  );
});
