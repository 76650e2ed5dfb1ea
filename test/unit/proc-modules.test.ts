import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeTaint, moduleNameOfFile, parseProcModules } from '../../src/host/proc-modules.js';
import { PROJECT } from '../helpers.js';

const fixture = readFileSync(path.join(PROJECT, 'test/fixtures/persistence-b/proc-modules.txt'), 'utf8');

test('/proc/modules: deps with trailing comma, states, taint letters, unprivileged zero addresses, refcount "-"', () => {
  const { modules, bad } = parseProcModules(fixture);
  assert.deepEqual(bad, [9]);
  const vbox = modules.find((m) => m.name === 'vboxdrv')!;
  assert.deepEqual(vbox, { line: 3, name: 'vboxdrv', size: 700416, refcount: 2, deps: ['vboxnetadp', 'vboxnetflt'], state: 'Live', address: '0x0000000000000000', taint: 'OE' });
  assert.equal(modules.find((m) => m.name === 'nf_tables')!.taint, '');
  assert.equal(modules.find((m) => m.name === 'nf_tables')!.address, '0xffffffffc0a00000');
  assert.deepEqual(
    modules.map((m) => m.state),
    ['Live', 'Live', 'Live', 'Live', 'Live', 'Loading', 'Unloading', 'Live'],
  );
  assert.equal(modules.find((m) => m.name === 'nolife')!.refcount, null);
});

test('sizes beyond what a number holds exactly are bad lines, not wrong numbers', () => {
  assert.deepEqual(parseProcModules('m 99999999999999999999 0 - Live 0x0\n').bad, [1]);
});

test('taint value decoding', () => {
  assert.deepEqual(decodeTaint(0n), []);
  assert.deepEqual(decodeTaint(4096n + 8192n), ['O', 'E']);
  assert.deepEqual(decodeTaint(1n | (1n << 9n)), ['P', 'W']);
  assert.deepEqual(decodeTaint(1n << 40n), ['bit40']);
});

test('module names from file names', () => {
  assert.equal(moduleNameOfFile('snd-hda-intel.ko.xz'), 'snd_hda_intel');
  assert.equal(moduleNameOfFile('xfs.ko'), 'xfs');
  assert.equal(moduleNameOfFile('nvidia.ko.zst'), 'nvidia');
  assert.equal(moduleNameOfFile('modules.dep'), null);
});

test('property: any text parses without throwing; every non-blank line is a module or bad', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constant('m 1 0 - Live 0x0 (O)')), { maxLength: 10 }), (lines) => {
      const text = lines.join('\n');
      const { modules, bad } = parseProcModules(text);
      assert.equal(modules.length + bad.length, text.split('\n').filter((l) => l.trim() !== '').length);
    }),
  );
});
