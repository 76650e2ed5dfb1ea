import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseGetcap } from '../../src/host/getcap.js';

const b = (s: string) => Buffer.from(s);

test('matches getcap lines to the arguments, in order, both output styles', () => {
  const args = [b('/usr/bin/ping'), b('/usr/bin/ls'), b('/opt/x'), b('/tmp/a b')];
  const out = b('/usr/bin/ping cap_net_raw=ep\n/opt/x = cap_setuid+ep\n/tmp/a b cap_sys_admin,cap_setuid=eip\n');
  const { entries, unmatched } = parseGetcap(out, args);
  assert.deepEqual(
    entries.map((e) => [e.path.toString(), e.caps]),
    [
      ['/usr/bin/ping', 'cap_net_raw=ep'],
      ['/opt/x', 'cap_setuid+ep'],
      ['/tmp/a b', 'cap_sys_admin,cap_setuid=eip'],
    ],
  );
  assert.deepEqual(unmatched, []);
});

test('a name that is a prefix of another, and a name with a newline, are not confused', () => {
  const args = [b('/tmp/a'), b('/tmp/a b'), b('/tmp/x\ny')];
  const { entries } = parseGetcap(b('/tmp/a b cap_setuid=ep\n/tmp/x\ny cap_net_raw=ep\n'), args);
  assert.deepEqual(entries.map((e) => e.path.toString()), ['/tmp/a b', '/tmp/x\ny']);
});

test('output that matches no argument is returned, not dropped', () => {
  const { entries, unmatched } = parseGetcap(b('/etc/evil cap_sys_admin=ep\n'), [b('/usr/bin/ping')]);
  assert.deepEqual(entries, []);
  assert.deepEqual(unmatched, ['/etc/evil cap_sys_admin=ep']);
});

test('property: any output and arguments parse without throwing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 5 }), (out, args) => {
      const r = parseGetcap(Buffer.from(out), args.map((a) => Buffer.from(a)));
      assert.ok(r.entries.length <= args.length);
    }),
  );
});
