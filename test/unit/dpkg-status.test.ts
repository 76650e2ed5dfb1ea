import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { hasFilesOnDisk, parseConffiles, parseDeb822, parseDiversions, parseDpkgStatus } from '../../src/host/dpkg-status.js';
import { PROJECT } from '../helpers.js';

const fixture = readFileSync(path.join(PROJECT, 'test/fixtures/files-packages/dpkg-status'), 'utf8');

test('parses packages, versions, architectures and states', () => {
  const { packages, bad } = parseDpkgStatus(fixture);
  assert.deepEqual(bad, []);
  assert.deepEqual(
    packages.map((p) => [p.name, p.version, p.arch, p.state]),
    [
      ['procps', '2:4.0.2-3', 'amd64', 'installed'],
      ['libc6', '2.36-9+deb12u4', 'amd64', 'installed'],
      ['oldpkg', '1.0', 'all', 'config-files'],
      ['half', '0.1~rc1', 'amd64', 'half-configured'],
    ],
  );
  assert.equal(packages[1]!.multiArch, 'same');
  assert.deepEqual(packages.map((p) => hasFilesOnDisk(p.state)), [true, true, false, true]);
});

test('multi-line fields keep their lines; conffiles carry the obsolete flag', () => {
  const procps = parseDpkgStatus(fixture).packages[0]!;
  assert.equal(procps.fields.get('description')!.split('\n').length, 5);
  assert.ok(procps.fields.get('description')!.includes('\n\n'), 'a lone " ." is an empty line');
  assert.deepEqual(procps.conffiles, [
    { path: '/etc/init.d/procps', md5: 'd4b0d48b3e2b6bd8ad7e8e2e5e2d0b0a', obsolete: false },
    { path: '/etc/sysctl.conf', md5: '0abf3a2b4d5e6f708192a3b4c5d6e7f8', obsolete: false },
    { path: '/etc/sysctl.d/README.sysctl', md5: '48e64ce233c8aba8e0693adf8cf4c464', obsolete: true },
  ]);
});

test('CRLF line ends (a status file edited on Windows) parse the same', () => {
  const crlf = parseDpkgStatus(fixture.replace(/\n/g, '\r\n'));
  const lf = parseDpkgStatus(fixture);
  assert.deepEqual(crlf.bad, []);
  assert.deepEqual(
    crlf.packages.map((p) => [p.name, p.version, p.status, p.conffiles]),
    lf.packages.map((p) => [p.name, p.version, p.status, p.conffiles]),
  );
});

test('garbage is reported by line, a paragraph without Package too', () => {
  const { packages, bad } = parseDpkgStatus('Package: a\nStatus: install ok installed\nthis is junk\n\nVersion: 1\n\n continuation without field\n');
  assert.deepEqual(packages.map((p) => p.name), ['a']);
  assert.deepEqual(bad.sort((x, y) => x - y), [3, 5, 7]);
});

test('conffile paths with spaces, and remove-on-upgrade', () => {
  assert.deepEqual(parseConffiles(' /etc/a b.conf 0123456789abcdef0123456789abcdef remove-on-upgrade\n /etc/c newconffile\n junk'), [
    { path: '/etc/a b.conf', md5: '0123456789abcdef0123456789abcdef', obsolete: true },
    { path: '/etc/c', md5: 'newconffile', obsolete: false },
  ]);
});

test('diversions: records of three lines', () => {
  const { diversions, trailingLines } = parseDiversions('/usr/bin/ls\n/usr/bin/ls.distrib\n:\n/bin/sh\n/bin/sh.distrib\ndash\n/dangling\n');
  assert.deepEqual(diversions, [
    { from: '/usr/bin/ls', to: '/usr/bin/ls.distrib', by: ':' },
    { from: '/bin/sh', to: '/bin/sh.distrib', by: 'dash' },
  ]);
  assert.equal(trailingLines, 1);
});

test('property: any text parses without throwing', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 2000 }), (s) => {
      const { packages } = parseDpkgStatus(s);
      for (const p of packages) assert.equal(typeof p.name, 'string');
      parseDeb822(s);
      parseDiversions(s);
    }),
  );
  fc.assert(fc.property(fc.array(fc.constantFrom('Package: x\n', 'Conffiles:\n', ' /etc/x 1\n', '\r\n', '\n', ' .\n', 'Status: a b\n', ':\n')), (parts) => void parseDpkgStatus(parts.join(''))));
});
