import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { KEY_TYPES, optionValue, parseAuthorizedKeyLine, parseAuthorizedKeys, parseKeyOptions } from '../../src/host/authorized-keys.js';
import { PROJECT } from '../helpers.js';

// Keys made by ssh-keygen; the fingerprints below are what `ssh-keygen -lf` printed for this very file.
const fixture = readFileSync(path.join(PROJECT, 'test/fixtures/persistence-b/authorized_keys'), 'utf8');
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIM7LDx5CubZ8aMAXDl9MDJeNlSlgTCVygrf3yOmDUJjk';

test('keys, options with quoted commas and escaped quotes, CRLF, and fingerprints as ssh-keygen prints them', () => {
  const { keys, bad } = parseAuthorizedKeys(fixture);
  assert.deepEqual(
    keys.map((k) => [k.line, k.keyType, k.fingerprint, k.comment]),
    [
      [2, 'ssh-ed25519', 'SHA256:337NwcSu6mnnnFkk2lETCULE1gjBVPrOz7JPjYS/ZTw', 'alice@laptop'],
      [3, 'ssh-rsa', 'SHA256:qWDZ4SBl5b/Q2LZau90yoFoRFAy5udcyGFclVlPIzlQ', 'deploy key'],
      [4, 'ecdsa-sha2-nistp256', 'SHA256:GSuj5N1PtkHP7NB8qLo0IdXJ0tWfhkinyPUhc/0fBLM', ''],
    ],
  );
  const forced = keys[1]!;
  assert.deepEqual(forced.options, [
    { name: 'command', value: '/usr/local/bin/backup.sh --tag="a,b c"' },
    { name: 'from', value: '10.0.0.1,192.168.1.0/24' },
    { name: 'no-pty', value: null },
    { name: 'no-port-forwarding', value: null },
  ]);
  assert.equal(optionValue(forced.options, 'command'), '/usr/local/bin/backup.sh --tag="a,b c"');
  assert.equal(optionValue(forced.options, 'from'), '10.0.0.1,192.168.1.0/24');
  assert.equal(optionValue(keys[2]!.options, 'environment'), 'LD_PRELOAD=/tmp/.x.so');
  assert.equal(optionValue(keys[0]!.options, 'command'), null);
  assert.deepEqual(
    bad.map((b) => b.line),
    [6, 7, 8, 9],
  );
  assert.match(bad.find((b) => b.line === 7)!.reason, /base64/);
  assert.match(bad.find((b) => b.line === 8)!.reason, /unterminated/);
  assert.match(bad.find((b) => b.line === 9)!.reason, /ssh-ed25519.*not ssh-rsa/);
});

test('option list details sshd cares about', () => {
  assert.deepEqual(parseKeyOptions('no-pty'), [{ name: 'no-pty', value: null }]);
  assert.deepEqual(parseKeyOptions('Command="a\\"b",X11-forwarding'), [
    { name: 'Command', value: 'a"b' },
    { name: 'X11-forwarding', value: null },
  ]);
  assert.equal(optionValue(parseKeyOptions('Command="x"')!, 'command'), 'x', 'option names are case-insensitive');
  assert.equal(parseKeyOptions('command=unquoted'), null);
  assert.equal(parseKeyOptions('no-pty,'), null);
  assert.equal(parseKeyOptions(',no-pty'), null);
  assert.equal(parseKeyOptions('command="open'), null);
});

test('a comment keeps inner spaces and a key type alone is a bad line', () => {
  const r = parseAuthorizedKeyLine(`  ssh-ed25519 ${ED25519}   two  words  `, 5);
  assert.ok(r && 'key' in r);
  assert.equal(r.key.comment, 'two  words');
  const b = parseAuthorizedKeyLine('ssh-ed25519', 1);
  assert.ok(b && 'bad' in b);
  assert.equal(parseAuthorizedKeyLine('   # comment', 1), null);
  assert.equal(parseAuthorizedKeyLine('\r', 1), null);
});

test('a carriage return inside a comment is kept, not taken as the end of the line', () => {
  const r = parseAuthorizedKeyLine(`ssh-ed25519 ${ED25519} ok\rhidden`, 1);
  assert.ok(r && 'key' in r);
  assert.equal(r.key.comment, 'ok\rhidden');
});

const keyLine = fc
  .tuple(
    fc.option(fc.array(fc.oneof(fc.constantFrom('no-pty', 'restrict', 'cert-authority'), fc.string().map((s) => `command="${s.replace(/\\/g, '').replace(/"/g, '\\"')}"`)), { minLength: 1, maxLength: 3 })),
    fc.constantFrom(...KEY_TYPES),
    fc.string(),
  )
  .map(([opts, type, comment]) => `${opts ? `${opts.join(',')} ` : ''}${type} ${ED25519} ${comment}`);

test('property: any text parses without throwing; every non-blank, non-comment line is a key or a bad line', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), keyLine), { maxLength: 12 }), (lines) => {
      const text = lines.join('\n');
      const { keys, bad } = parseAuthorizedKeys(text);
      const counted = text.split('\n').filter((l) => {
        const s = l.replace(/\r$/, '').replace(/^[ \t]+/, '');
        return s !== '' && !s.startsWith('#');
      }).length;
      assert.equal(keys.length + bad.length, counted);
      for (const k of keys) assert.match(k.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    }),
  );
});

test('property: option values survive quoting with escaped quotes and commas', () => {
  fc.assert(
    fc.property(fc.string().filter((s) => !s.includes('\\')), (value) => {
      const quoted = `command="${value.replace(/"/g, '\\"')}",no-pty`;
      const r = parseAuthorizedKeyLine(`${quoted} ssh-ed25519 ${ED25519} c`, 1);
      // sshd splits the option list at the first unquoted blank; values with blanks are fine inside quotes
      assert.ok(r && 'key' in r, JSON.stringify(value));
      assert.equal(optionValue(r.key.options, 'command'), value);
    }),
  );
});
